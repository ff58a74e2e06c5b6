/*
Copyright 2026 The gitseal Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package gitsource

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitseal/gitseal/test/gitserver"
)

func TestFetchHTTP(t *testing.T) {
	f := newFixture(t)
	var requests atomic.Int64
	url := gitserver.ServeHTTP(t, f.root, gitserver.HTTPOptions{Requests: &requests}) + "/repo.git"

	tests := []struct {
		name         string
		ref          Ref
		wantCommit   string
		wantRevision string
		wantFiles    map[string]string
	}{
		{"default branch is main at its tip", Ref{}, f.tip, "main@sha1:" + f.tip, tipFiles},
		{"named branch is its tip", Ref{Branch: "dev"}, f.devTip, "dev@sha1:" + f.devTip, devFiles},
		{"annotated tag is the commit it points to", Ref{Tag: "v1.0.0"}, f.second, "v1.0.0@sha1:" + f.second, secondFiles},
		{"commit behind the tip is fetched", Ref{Commit: f.first}, f.first, "sha1:" + f.first, firstFiles},
		{"commit in upper case is the same commit", Ref{Commit: upper(f.first)}, f.first, "sha1:" + f.first, firstFiles},
		{"commit at a branch tip is fetched", Ref{Commit: f.devTip}, f.devTip, "sha1:" + f.devTip, devFiles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := requests.Load()
			c, dir, err := fetchInto(t, Options{URL: url, Ref: tt.ref})
			if err != nil {
				t.Fatal(err)
			}
			if c.Commit != tt.wantCommit || c.Revision != tt.wantRevision {
				t.Errorf("got %+v, want commit %s revision %s", c, tt.wantCommit, tt.wantRevision)
			}
			equalTrees(t, readTree(t, dir), tt.wantFiles)
			if requests.Load() == before {
				t.Error("the server saw no request")
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestFetchHTTPAuth(t *testing.T) {
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "private")
	tip := repo.Commit(t, map[string]string{"secret.yaml": "sealed\n"}, "init")
	basicURL := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{Username: "deploy", Password: canaryPassword}) + "/private.git"
	bearerURL := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{BearerToken: canaryToken}) + "/private.git"

	tests := []struct {
		name    string
		url     string
		auth    *Auth
		wantErr error
	}{
		{"right basic credentials fetch", basicURL, &Auth{Username: "deploy", Password: canaryPassword}, nil},
		{"wrong basic password is refused", basicURL, &Auth{Username: "deploy", Password: canaryPassword + "x"}, ErrAuth},
		{"wrong username is refused", basicURL, &Auth{Username: "nobody", Password: canaryPassword}, ErrAuth},
		{"no credentials are refused", basicURL, nil, ErrAuth},
		{"right bearer token fetches", bearerURL, &Auth{BearerToken: canaryToken}, nil},
		{"wrong bearer token is refused", bearerURL, &Auth{BearerToken: canaryToken + "x"}, ErrAuth},
		{"basic credentials for a bearer server are refused", bearerURL, &Auth{Username: "deploy", Password: canaryPassword}, ErrAuth},
		{"bearer token with a password is invalid", bearerURL, &Auth{Username: "deploy", Password: canaryPassword, BearerToken: canaryToken}, ErrInvalid},
		{"password without username is invalid", basicURL, &Auth{Password: canaryPassword}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, dir, err := fetchInto(t, Options{URL: tt.url, Auth: tt.auth})
			if tt.wantErr != nil {
				checkErr(t, err, tt.wantErr, canaryPassword+"x", canaryToken+"x")
				checkEmpty(t, dir)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Commit != tip {
				t.Errorf("commit %s, want %s", c.Commit, tip)
			}
			equalTrees(t, readTree(t, dir), map[string]string{"secret.yaml": "sealed\n"})
		})
	}
}

func TestFetchCredentialsOverPlainHTTPToRemoteHostAreInvalid(t *testing.T) {
	// Refused before any connection: the host does not exist.
	for _, auth := range []*Auth{
		{Username: "u", Password: canaryPassword},
		{BearerToken: canaryToken},
	} {
		_, dir, err := fetchInto(t, Options{URL: "http://git.example.invalid/repo.git", Auth: auth})
		checkErr(t, err, ErrInvalid)
		checkEmpty(t, dir)
	}
}

func TestFetchNotFound(t *testing.T) {
	f := newFixture(t)
	gitserver.NewRepo(t, f.root, "empty")
	base := gitserver.ServeHTTP(t, f.root, gitserver.HTTPOptions{})
	const absent = "0123456789abcdef0123456789abcdef01234567"

	tests := []struct {
		name string
		url  string
		ref  Ref
	}{
		{"missing repository", base + "/nope.git", Ref{}},
		{"empty repository", base + "/empty.git", Ref{}},
		{"missing branch", base + "/repo.git", Ref{Branch: "nope"}},
		{"missing tag", base + "/repo.git", Ref{Tag: "v9.9.9"}},
		{"missing commit", base + "/repo.git", Ref{Commit: absent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir, err := fetchInto(t, Options{URL: tt.url, Ref: tt.ref})
			checkErr(t, err, ErrNotFound)
			checkEmpty(t, dir)
		})
	}
}

func TestFetchInvalid(t *testing.T) {
	f := newFixture(t)
	url := gitserver.ServeHTTP(t, f.root, gitserver.HTTPOptions{}) + "/repo.git"

	tests := []struct {
		name string
		opts Options
	}{
		{"empty url", Options{}},
		{"file url", Options{URL: "file:///srv/repo.git"}},
		{"ftp url", Options{URL: "ftp://127.0.0.1/repo.git"}},
		{"password in url", Options{URL: "https://user:" + canaryPassword + "@127.0.0.1/x"}},
		{"token as url username", Options{URL: "https://" + canaryToken + "@127.0.0.1/x"}},
		{"two refs", Options{URL: url, Ref: Ref{Branch: "main", Tag: "v1.0.0"}}},
		{"short commit", Options{URL: url, Ref: Ref{Commit: f.tip[:12]}}},
		{"bad branch name", Options{URL: url, Ref: Ref{Branch: "a..b"}}},
		{"negative limit", Options{URL: url, MaxFiles: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir, err := fetchInto(t, tt.opts)
			checkErr(t, err, ErrInvalid)
			checkEmpty(t, dir)
		})
	}

	t.Run("directory not empty", func(t *testing.T) {
		dir := t.TempDir()
		if err := writeFile(dir, "keep.txt"); err != nil {
			t.Fatal(err)
		}
		_, err := Fetch(context.Background(), Options{URL: url}, dir)
		checkErr(t, err, ErrInvalid)
	})
	t.Run("directory missing", func(t *testing.T) {
		_, err := Fetch(context.Background(), Options{URL: url}, t.TempDir()+"/missing")
		checkErr(t, err, ErrInvalid)
	})
}

func TestFetchLimits(t *testing.T) {
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "big")
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("dir%d/file%d.yaml", i%3, i)] = fmt.Sprintf("content %d\n", i)
	}
	files["large.bin"] = string(make([]byte, 4096))
	repo.Commit(t, files, "many files")
	url := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{}) + "/big.git"

	tests := []struct {
		name     string
		maxFiles int
		maxBytes int64
		wantErr  error
	}{
		{"within both limits", 21, 5000, nil},
		{"one file too many", 20, 0, ErrTooLarge},
		{"one byte too many", 0, size(files) - 1, ErrTooLarge},
		{"exactly the limits", 21, size(files), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir, err := fetchInto(t, Options{URL: url, MaxFiles: tt.maxFiles, MaxBytes: tt.maxBytes})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				equalTrees(t, readTree(t, dir), files)
				return
			}
			checkErr(t, err, tt.wantErr)
			checkEmpty(t, dir)
		})
	}
}

func size(files map[string]string) int64 {
	var n int64
	for _, c := range files {
		n += int64(len(c))
	}
	return n
}

func TestFetchStopsAtTheObjectBudget(t *testing.T) {
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "big")
	repo.Commit(t, map[string]string{"big.txt": string(make([]byte, 64<<10))}, "big")
	url := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{}) + "/big.git"
	rem, err := parseRemote(url)
	if err != nil {
		t.Fatal(err)
	}
	f := &fetcher{remote: rem, opts: Options{URL: url}, budget: 1 << 10}
	_, err = f.fetch(context.Background(), func(plumbing.Hash, string) (bool, error) { return true, nil })
	var fl *failure
	if !errors.As(err, &fl) || !errors.Is(fl.kind, ErrTooLarge) {
		t.Fatalf("fetch beyond the budget: %v, want a too-large failure", err)
	}
}

// TestFetchStopsABlobThatClaimsTwoGiB: git's own server sends a pack of
// about 2 MB whose blob inflates to 2 GiB of zeros, stored whole or as a
// delta that copies a 64 KiB blob over and over. The fetch fails as too
// large at once, having allocated a few MiB, not gigabytes. (RELIABILITY:
// Git, byte budget and total deadline; C4, one repository cannot exhaust
// the controller's memory.)
func TestFetchStopsABlobThatClaimsTwoGiB(t *testing.T) {
	blob := gitserver.NewZeroBlob(2 << 30)
	root := t.TempDir()
	base := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{})
	for _, asDelta := range []bool{false, true} {
		name := map[bool]string{false: "whole", true: "delta"}[asDelta]
		gitserver.NewZeroBlobRepo(t, root, name, blob, asDelta)
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, dir, err := fetchInto(t, Options{URL: base + "/" + name + ".git", Timeout: 20 * time.Second})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			checkErr(t, err, ErrTooLarge)
			checkEmpty(t, dir)
			if took > 10*time.Second {
				t.Errorf("the fetch took %v", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("the fetch allocated %d MiB", alloc>>20)
			}
		})
	}
}

func TestFetchSkipsSubmodules(t *testing.T) {
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "x")
	repo.Commit(t, map[string]string{"app.yaml": "app\n"}, "with a submodule",
		gitserver.Submodule("vendor/lib", "0123456789abcdef0123456789abcdef01234567"))
	url := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{}) + "/x.git"
	_, dir, err := fetchInto(t, Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	equalTrees(t, readTree(t, dir), map[string]string{"app.yaml": "app\n"})
}

func TestFetchWritesNothingExecutable(t *testing.T) {
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "x")
	repo.Commit(t, map[string]string{"run.sh": "#!/bin/sh\n"}, "script", gitserver.Executable("run.sh"))
	url := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{}) + "/x.git"
	_, dir, err := fetchInto(t, Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	equalTrees(t, readTree(t, dir), map[string]string{"run.sh": "#!/bin/sh\n"}) // readTree fails on x bits
}

func TestFetchSymlinks(t *testing.T) {
	files := map[string]string{"base/app.yaml": "app\n", "x/y.txt": "y\n"}
	tests := []struct {
		name    string
		links   []gitserver.Extra
		wantErr error
		want    map[string]string
	}{
		{
			name:  "links inside the checkout are written",
			links: []gitserver.Extra{gitserver.Symlink("prod/app.yaml", "../base/app.yaml"), gitserver.Symlink("basedir", "base")},
			want:  map[string]string{"prod/app.yaml": "-> ../base/app.yaml", "basedir": "-> base"},
		},
		{name: "relative link out of the checkout is refused", links: []gitserver.Extra{gitserver.Symlink("passwd", "../../etc/passwd")}, wantErr: ErrRefused},
		{name: "absolute link is refused", links: []gitserver.Extra{gitserver.Symlink("passwd", "/etc/passwd")}, wantErr: ErrRefused},
		{name: "dangling link is refused", links: []gitserver.Extra{gitserver.Symlink("gone", "base/missing.yaml")}, wantErr: ErrRefused},
		{
			// l1 leads back to the root, and l2's dots climb from there.
			name: "chain of links that climbs out is refused",
			links: []gitserver.Extra{
				gitserver.Symlink("a/b/l1", "../../x"),
				gitserver.Symlink("a/b/l2", "l1/../.."),
			},
			wantErr: ErrRefused,
		},
		{name: "link loop is refused", links: []gitserver.Extra{gitserver.Symlink("p", "q"), gitserver.Symlink("q", "p")}, wantErr: ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			repo := gitserver.NewRepo(t, root, "links")
			repo.Commit(t, files, "links", tt.links...)
			url := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{}) + "/links.git"
			_, dir, err := fetchInto(t, Options{URL: url})
			if tt.wantErr != nil {
				checkErr(t, err, tt.wantErr)
				checkEmpty(t, dir)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for k, v := range files {
				want[k] = v
			}
			for k, v := range tt.want {
				want[k] = v
			}
			equalTrees(t, readTree(t, dir), want)
		})
	}
}

func TestFetchTimeoutAndCancel(t *testing.T) {
	addr := hangingServer(t)
	_, key := newClientKey(t)
	signer, _ := newClientKey(t)
	sshAuth := &Auth{
		SSHPrivateKey: key,
		KnownHosts:    []byte(gitserver.KnownHostsLine(addr, signer.PublicKey()) + "\n"),
	}
	tests := []struct {
		name string
		url  string
		auth *Auth
	}{
		{"http server that never answers", "http://" + addr + "/repo.git", nil},
		{"ssh server that never completes the handshake", "ssh://git@" + addr + "/repo.git", sshAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name+" times out", func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			start := time.Now()
			_, dir, err := fetchInto(t, Options{URL: tt.url, Auth: tt.auth, Timeout: 300 * time.Millisecond})
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("fetch returned after %v", elapsed)
			}
			checkErr(t, err, ErrUnavailable)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %q does not wrap context.DeadlineExceeded", err)
			}
			checkEmpty(t, dir)
			waitForGoroutines(t, baseline)
		})
		t.Run(tt.name+" is cancelled", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			_, err := Fetch(ctx, Options{URL: tt.url, Auth: tt.auth}, t.TempDir())
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("fetch returned after %v", elapsed)
			}
			checkErr(t, err, ErrUnavailable)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %q does not wrap context.Canceled", err)
			}
		})
	}
}

// waitForGoroutines fails if the number of goroutines does not come back
// to baseline: a fetch that returned must have stopped everything it began.
func waitForGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after the fetch, %d before:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFetchUntrustedTLSCertificateIsAuthError(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unreachable", http.StatusTeapot)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, dir, err := fetchInto(t, Options{URL: srv.URL + "/repo.git", Auth: &Auth{BearerToken: canaryToken}})
	checkErr(t, err, ErrAuth)
	checkEmpty(t, dir)
}

func TestFetchScrubsWhatTheServerEchoes(t *testing.T) {
	// A hostile server answers with the credentials it was sent, in an ERR
	// line that go-git quotes.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
		msg := "ERR you sent " + r.Header.Get("Authorization") + "\n"
		_, _ = fmt.Fprintf(w, "%04x%s", len(msg)+4, msg)
	}))
	t.Cleanup(srv.Close)
	_, _, err := fetchInto(t, Options{URL: srv.URL + "/repo.git", Auth: &Auth{BearerToken: canaryToken}})
	checkErr(t, err, ErrUnavailable)
	_, _, err = fetchInto(t, Options{URL: srv.URL + "/repo.git", Auth: &Auth{Username: "u", Password: canaryPassword}})
	checkErr(t, err, ErrUnavailable, base64.StdEncoding.EncodeToString([]byte("u:"+canaryPassword)))
}

func TestFetchHTTPSWithThePrivateAuthorityFromCABundle(t *testing.T) {
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "env")
	tip := repo.Commit(t, map[string]string{"a.yaml": "a\n"}, "init")
	base, ca := gitserver.ServeHTTPS(t, root, gitserver.HTTPOptions{BearerToken: canaryToken})

	c, dir, err := fetchInto(t, Options{URL: base + "/env.git", Auth: &Auth{BearerToken: canaryToken, CABundle: ca}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Commit != tip {
		t.Errorf("commit %s, want %s", c.Commit, tip)
	}
	equalTrees(t, readTree(t, dir), map[string]string{"a.yaml": "a\n"})

	_, dir, err = fetchInto(t, Options{URL: base + "/env.git", Auth: &Auth{BearerToken: canaryToken}})
	checkErr(t, err, ErrAuth) // the system's authorities do not know it
	checkEmpty(t, dir)

	_, _, err = fetchInto(t, Options{URL: base + "/env.git", Auth: &Auth{BearerToken: canaryToken, CABundle: []byte("not pem")}})
	checkErr(t, err, ErrInvalid)
}

func TestFetchCredentialsDoNotFollowARedirectToAnotherHost(t *testing.T) {
	root := t.TempDir()
	gitserver.NewRepo(t, root, "env").Commit(t, map[string]string{"a.yaml": "a\n"}, "init")
	var elsewhereAuthorized atomic.Int64
	elsewhere := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{Authorized: &elsewhereAuthorized})
	// The same loopback server under another host name: only the host
	// differs, which is what must stop the credentials.
	elsewhere = strings.Replace(elsewhere, "127.0.0.1", "localhost", 1)
	redirecting := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{RedirectTo: elsewhere})

	_, dir, err := fetchInto(t, Options{URL: redirecting + "/env.git", Auth: &Auth{BearerToken: canaryToken}})
	checkErr(t, err, ErrRefused)
	checkEmpty(t, dir)
	if n := elsewhereAuthorized.Load(); n != 0 {
		t.Errorf("the other host received %d requests with credentials", n)
	}
}

// TestFetchGivesUpOnAServerThatTrickles: a server that answers one byte a
// second never finishes a fetch; the total deadline ends it.
func TestFetchGivesUpOnAServerThatTrickles(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
		for range 60 {
			if _, err := w.Write([]byte("0")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	}))
	t.Cleanup(srv.Close)
	start := time.Now()
	_, dir, err := fetchInto(t, Options{URL: srv.URL + "/repo.git", Timeout: 1500 * time.Millisecond})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("fetch returned after %v", elapsed)
	}
	checkErr(t, err, ErrUnavailable)
	checkEmpty(t, dir)
}

// TestFetchRefusesACorruptPack: a pack whose bytes were changed on the way
// fails, and nothing is written.
func TestFetchRefusesACorruptPack(t *testing.T) {
	root := t.TempDir()
	gitserver.NewRepo(t, root, "env").Commit(t, map[string]string{"a.yaml": strings.Repeat("content ", 500)}, "init")
	backend := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{})
	var corrupted atomic.Bool
	corrupting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, backend+r.URL.RequestURI(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		req.ContentLength = r.ContentLength
		req.Header.Del("Accept-Encoding") // to see the pack, not a compressed stream
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		if strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			if i := bytes.Index(body, []byte("PACK")); i >= 0 && len(body) > i+200 {
				body[i+150] ^= 0xff // inside the compressed objects
				corrupted.Store(true)
			}
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	}))
	t.Cleanup(corrupting.Close)
	_, dir, err := fetchInto(t, Options{URL: corrupting.URL + "/env.git"})
	if !corrupted.Load() {
		t.Fatalf("the test server found no pack to corrupt (fetch: %v)", err)
	}
	checkErr(t, err, ErrUnavailable)
	checkEmpty(t, dir)
}

// TestFetchUnlessCommit: when the ref still points at UnlessCommit, the
// fetch stops after the server's ref list: one request, nothing written,
// Unchanged set. When it points elsewhere, the fetch is as usual.
func TestFetchUnlessCommit(t *testing.T) {
	f := newFixture(t)
	var requests atomic.Int64
	url := gitserver.ServeHTTP(t, f.root, gitserver.HTTPOptions{Requests: &requests}) + "/repo.git"

	c, dir, err := fetchInto(t, Options{URL: url, UnlessCommit: f.tip})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Unchanged || c.Commit != f.tip || c.Revision != "main@sha1:"+f.tip {
		t.Errorf("got %+v, want main unchanged at %s", c, f.tip)
	}
	if files := readTree(t, dir); len(files) != 0 {
		t.Errorf("an unchanged fetch wrote %d files", len(files))
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("an unchanged fetch sent %d requests, want only the ref list", n)
	}

	c, dir, err = fetchInto(t, Options{URL: url, Ref: Ref{Branch: "dev"}, UnlessCommit: f.tip})
	if err != nil {
		t.Fatal(err)
	}
	if c.Unchanged || c.Commit != f.devTip {
		t.Errorf("got %+v, want dev fetched at %s", c, f.devTip)
	}
	equalTrees(t, readTree(t, dir), devFiles)

	if _, _, err := fetchInto(t, Options{URL: url, UnlessCommit: "main"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("UnlessCommit that is no SHA-1: err = %v, want ErrInvalid", err)
	}
}
