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
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/gitseal/gitseal/test/gitserver"
)

// cacheServer serves the fixture over HTTP, accepting the basic
// credentials deploy/canaryPassword and the token canaryToken alike, and
// counts the pack downloads.
func cacheServer(t *testing.T, f *fixture) (url string, downloads *atomic.Int64) {
	t.Helper()
	downloads = &atomic.Int64{}
	base := gitserver.ServeHTTP(t, f.root, gitserver.HTTPOptions{
		Username: "deploy", Password: canaryPassword, BearerToken: canaryToken, UploadPacks: downloads,
	})
	return base + "/repo.git", downloads
}

var basicAuth = &Auth{Username: "deploy", Password: canaryPassword}

func newTestCache(t *testing.T, opts CacheOptions) *Cache {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	c := NewCache(opts)
	t.Cleanup(c.Close)
	return c
}

// TestCacheSharesOneDownload: fetches of one URL and ref at one commit,
// with the same owner and credentials, run at once, download the pack
// once and read one read-only checkout.
func TestCacheSharesOneDownload(t *testing.T) {
	f := newFixture(t)
	url, downloads := cacheServer(t, f)
	c := newTestCache(t, CacheOptions{})

	const n = 6
	shared := make([]*Shared, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			shared[i], errs[i] = c.Fetch(context.Background(), Options{URL: url, Auth: basicAuth}, "apps/git")
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if s := shared[i]; s.Dir != shared[0].Dir || s.Commit != f.tip || s.Revision != "main@sha1:"+f.tip || s.Unchanged {
			t.Errorf("fetch %d: %+v, want the tip in %s", i, s, shared[0].Dir)
		}
	}
	if got := downloads.Load(); got != 1 {
		t.Errorf("%d fetches of one commit downloaded %d packs, want 1", n, got)
	}
	equalTrees(t, readTree(t, shared[0].Dir), tipFiles)
	checkReadOnly(t, shared[0].Dir)

	// A fetch of the same commit by another ref shares it too, under its
	// own name.
	byCommit, err := c.Fetch(context.Background(), Options{URL: url, Auth: basicAuth, Ref: Ref{Commit: f.tip}}, "apps/git")
	if err != nil {
		t.Fatal(err)
	}
	if byCommit.Dir != shared[0].Dir || byCommit.Revision != "sha1:"+f.tip {
		t.Errorf("fetch by commit: %+v, want %s in %s", byCommit, "sha1:"+f.tip, shared[0].Dir)
	}
	byCommit.Release()
	for _, s := range shared {
		s.Release()
		s.Release() // twice is once
	}
	if got := downloads.Load(); got != 1 {
		t.Errorf("downloaded %d packs, want 1", got)
	}
	if _, err := os.Stat(shared[0].Dir); err != nil {
		t.Errorf("the checkout was removed as soon as it was released: %v", err)
	}
}

// checkReadOnly fails when a file or directory under dir is writable.
func checkReadOnly(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if info.Mode()&os.ModeSymlink == 0 && info.Mode().Perm()&0o222 != 0 {
			t.Errorf("%s is writable (%v)", p, info.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCacheNeverSharesBetweenOwnersOrCredentials: a fetch shares a
// checkout only with fetches of the same owner, credentials, signers and
// limits; any difference downloads again into a directory of its own.
func TestCacheNeverSharesBetweenOwnersOrCredentials(t *testing.T) {
	f := newFixture(t)
	url, downloads := cacheServer(t, f)
	signer, _ := newClientKey(t)
	first := Options{URL: url, Auth: basicAuth}
	tests := []struct {
		name  string
		opts  Options
		owner string
	}{
		{"another owner with the same credentials downloads again", first, "tenant/git"},
		{"other credentials of the same owner download again", Options{URL: url, Auth: &Auth{BearerToken: canaryToken}}, "apps/git"},
		{"the same password among other credentials downloads again", Options{URL: url, Auth: &Auth{Username: "deploy", Password: canaryPassword, KnownHosts: []byte("x")}}, "apps/git"},
		{"other file limits download again", Options{URL: url, Auth: basicAuth, MaxFiles: 100}, "apps/git"},
		{"other byte limits download again", Options{URL: url, Auth: basicAuth, MaxBytes: 1 << 20}, "apps/git"},
		{"required signers download again", Options{URL: url, Auth: basicAuth, AllowedSigners: []ssh.PublicKey{signer.PublicKey()}}, "apps/git"},
	}
	c := newTestCache(t, CacheOptions{MaxEntries: 20})
	base, err := c.Fetch(context.Background(), first, "apps/git")
	if err != nil {
		t.Fatal(err)
	}
	defer base.Release()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := downloads.Load()
			s, err := c.Fetch(context.Background(), tt.opts, tt.owner)
			if tt.opts.AllowedSigners != nil {
				checkErr(t, err, ErrVerification) // the fixture is not signed
			} else {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Release()
				if s.Dir == base.Dir {
					t.Errorf("shares %s", base.Dir)
				}
			}
			if got := downloads.Load() - before; got != 1 {
				t.Errorf("downloaded %d packs, want 1", got)
			}
		})
	}
}

// TestCacheNeverHidesAPush: a fetch after a push resolves the new commit
// and downloads it, even while the checkout of the old one is still in
// use, which stays as it was.
func TestCacheNeverHidesAPush(t *testing.T) {
	f := newFixture(t)
	url, downloads := cacheServer(t, f)
	c := newTestCache(t, CacheOptions{})
	opts := Options{URL: url, Auth: basicAuth}

	old, err := c.Fetch(context.Background(), opts, "apps/git")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Release()
	pushed := f.repo.Commit(t, map[string]string{"pushed.txt": "pushed\n"}, "push")
	s, err := c.Fetch(context.Background(), opts, "apps/git")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	if s.Commit != pushed || s.Dir == old.Dir {
		t.Errorf("after a push: commit %s in %s, want %s in a new directory", s.Commit, s.Dir, pushed)
	}
	equalTrees(t, readTree(t, s.Dir), map[string]string{"pushed.txt": "pushed\n"})
	equalTrees(t, readTree(t, old.Dir), tipFiles)
	if got := downloads.Load(); got != 2 {
		t.Errorf("downloaded %d packs, want 2", got)
	}

	// The ref has not moved since: nothing is downloaded.
	same, err := c.Fetch(context.Background(), Options{URL: url, Auth: basicAuth, UnlessCommit: pushed}, "apps/git")
	if err != nil {
		t.Fatal(err)
	}
	same.Release()
	if !same.Unchanged || same.Dir != "" || same.Revision != "main@sha1:"+pushed {
		t.Errorf("unless the commit applied: %+v, want Unchanged at %s", same, pushed)
	}
	if got := downloads.Load(); got != 2 {
		t.Errorf("downloaded %d packs, want still 2", got)
	}
}

// TestCacheDoesNotKeepFailures: a download that fails is reported to
// every fetch that waited for it, and the next fetch tries again; errors
// name no credentials (C5).
func TestCacheDoesNotKeepFailures(t *testing.T) {
	f := newFixture(t)
	url, downloads := cacheServer(t, f)
	c := newTestCache(t, CacheOptions{})
	opts := Options{URL: url, Auth: basicAuth, MaxFiles: 1}
	for range 2 {
		_, err := c.Fetch(context.Background(), opts, "apps/git")
		checkErr(t, err, ErrTooLarge, "deploy:"+canaryPassword)
	}
	if got := downloads.Load(); got != 2 {
		t.Errorf("downloaded %d packs, want 2: a failure is not kept", got)
	}
	_, err := c.Fetch(context.Background(), Options{URL: url, Auth: &Auth{Username: "deploy", Password: "wrong-" + canaryPassword}}, "apps/git")
	checkErr(t, err, ErrAuth, "wrong-"+canaryPassword)
	entries, err := os.ReadDir(c.opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("failed fetches left %d directories", len(entries))
	}
}

// TestCacheRemovesIdleCheckouts: a checkout no fetch uses is removed after
// the idle time, and at once when the cache holds more than its bounds,
// least recently used first; one in use is never removed.
func TestCacheRemovesIdleCheckouts(t *testing.T) {
	f := newFixture(t)
	url, _ := cacheServer(t, f)
	clock := clocktesting.NewFakeClock(time.Now())
	c := newTestCache(t, CacheOptions{MaxEntries: 2, Idle: time.Minute, Clock: clock})
	fetch := func(ref Ref) *Shared {
		t.Helper()
		s, err := c.Fetch(context.Background(), Options{URL: url, Auth: basicAuth, Ref: ref}, "apps/git")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	first, second, third := fetch(Ref{Commit: f.first}), fetch(Ref{Commit: f.second}), fetch(Ref{Commit: f.tip})
	// Three in use, over the bound of two: all stay.
	for _, s := range []*Shared{first, second, third} {
		exists(t, s.Dir, true)
	}
	first.Release()
	clock.Step(time.Second)
	second.Release()
	clock.Step(time.Second)
	third.Release()
	// The least recently used went at once.
	exists(t, first.Dir, false)
	exists(t, second.Dir, true)
	exists(t, third.Dir, true)

	clock.Step(59 * time.Second) // second idle for 60s, third for 59s
	eventually(t, func() bool { return !dirExists(second.Dir) })
	exists(t, third.Dir, true)
	clock.Step(time.Minute)
	eventually(t, func() bool { return !dirExists(third.Dir) })
}

// TestCacheBoundsItsBytes: idle checkouts beyond MaxBytes go at once.
func TestCacheBoundsItsBytes(t *testing.T) {
	f := newFixture(t)
	url, _ := cacheServer(t, f)
	c := newTestCache(t, CacheOptions{MaxBytes: 1})
	s, err := c.Fetch(context.Background(), Options{URL: url, Auth: basicAuth}, "apps/git")
	if err != nil {
		t.Fatal(err)
	}
	exists(t, s.Dir, true)
	s.Release()
	exists(t, s.Dir, false)
}

// TestCacheRetriesWhenTheLeaderGivesUp: a fetch waiting for another's
// download downloads itself when the other's context ends.
func TestCacheRetriesWhenTheLeaderGivesUp(t *testing.T) {
	f := newFixture(t)
	url, downloads := cacheServer(t, f)
	c := newTestCache(t, CacheOptions{})
	opts := Options{URL: url, Auth: basicAuth}

	// Another fetch has claimed the commit; the test plays its part.
	f2, err := newFetcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	e, lead, err := c.claim(newCacheKey(f2, "apps/git", plumbing.NewHash(f.tip)))
	if err != nil || !lead {
		t.Fatalf("claim: lead %v, %v", lead, err)
	}
	done := make(chan error, 1)
	var got *Shared
	go func() {
		var err error
		got, err = c.Fetch(context.Background(), opts, "apps/git")
		done <- err
	}()
	eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return e.users == 2
	})
	c.finish(e, "", "", 0, context.Canceled, true)
	c.release(e)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if got.Commit != f.tip || downloads.Load() != 1 {
		t.Errorf("after the leader gave up: %+v, %d downloads; want the tip, 1 download", got, downloads.Load())
	}
}

func TestCacheAfterCloseFails(t *testing.T) {
	f := newFixture(t)
	url, _ := cacheServer(t, f)
	c := newTestCache(t, CacheOptions{})
	s, err := c.Fetch(context.Background(), Options{URL: url, Auth: basicAuth}, "apps/git")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	exists(t, s.Dir, true) // in use
	s.Release()
	exists(t, s.Dir, false)
	if _, err := c.Fetch(context.Background(), Options{URL: url, Auth: basicAuth}, "apps/git"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("fetch after Close: %v, want ErrUnavailable", err)
	}
}

func TestCacheKey(t *testing.T) {
	key := func(url string, a *Auth) cacheKey {
		t.Helper()
		f, err := newFetcher(Options{URL: url, Auth: a})
		if err != nil {
			t.Fatal(err)
		}
		return newCacheKey(f, "o", [20]byte{})
	}
	sshAuth := &Auth{KnownHosts: []byte("h ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"), SSHPrivateKey: sshKeyPEM(t)}
	tests := []struct {
		name string
		a, b cacheKey
		same bool
	}{
		{"host case and a trailing slash name one repository",
			key("https://Git.Example.com/org/repo.git/", nil), key("https://git.example.com/org/repo.git", nil), true},
		{"another path is another repository",
			key("https://git.example.com/org/repo.git", nil), key("https://git.example.com/org/other.git", nil), false},
		{"http and https are other repositories",
			key("http://127.0.0.1/repo.git", nil), key("https://127.0.0.1/repo.git", nil), false},
		{"scp-like paths are relative and ssh:// paths absolute: other repositories",
			key("git@h:org/repo.git", sshAuth), key("ssh://git@h:22/org/repo.git", sshAuth), false /* relative vs absolute path */},
		{"ssh:// with the default port and without are one repository",
			key("ssh://git@h/org/repo.git", sshAuth), key("ssh://git@h:22/org/repo.git", sshAuth), true},
		{"another ssh user is another key",
			key("ssh://git@h/org/repo.git", sshAuth), key("ssh://deploy@h/org/repo.git", sshAuth), false},
		{"credentials split differently differ",
			key("https://h/r.git", &Auth{Username: "ab", Password: "c"}), key("https://h/r.git", &Auth{Username: "a", Password: "bc"}), false},
		{"no credentials and empty credentials differ",
			key("https://h/r.git", nil), key("https://h/r.git", &Auth{}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a == tt.b; got != tt.same {
				t.Errorf("%+v == %+v: %v, want %v", tt.a, tt.b, got, tt.same)
			}
		})
	}
	if signersHash(nil) == signersHash([]ssh.PublicKey{}) {
		t.Error("no verification and verification by no one hash alike")
	}
}

func sshKeyPEM(t *testing.T) []byte {
	t.Helper()
	_, pem := newClientKey(t)
	return pem
}

func exists(t *testing.T, dir string, want bool) {
	t.Helper()
	if got := dirExists(dir); got != want {
		t.Errorf("%s exists: %v, want %v", dir, got, want)
	}
}

func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for range 200 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 2s")
}

// TestSharedMemoComputesOncePerCheckout: what one fetch computed from a
// checkout, another fetch of it gets without computing; a failure is not
// kept, and another checkout computes its own.
func TestSharedMemoComputesOncePerCheckout(t *testing.T) {
	f := newFixture(t)
	url, _ := cacheServer(t, f)
	c := newTestCache(t, CacheOptions{})
	fetch := func(ref Ref) *Shared {
		t.Helper()
		s, err := c.Fetch(context.Background(), Options{URL: url, Auth: basicAuth, Ref: ref}, "apps/git")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Release)
		return s
	}
	calls := 0
	compute := func(v string, err error) func() (any, error) {
		return func() (any, error) { calls++; return v, err }
	}
	a, b := fetch(Ref{}), fetch(Ref{Commit: f.tip})
	if _, err := a.Memo(context.Background(), "build", compute("", errors.New("failed"))); err == nil {
		t.Fatal("the failure was not returned")
	}
	var got [3]any
	var err error
	if got[0], err = a.Memo(context.Background(), "build", compute("first", nil)); err != nil {
		t.Fatal(err)
	}
	if got[1], err = b.Memo(context.Background(), "build", compute("second", nil)); err != nil {
		t.Fatal(err)
	}
	if got[2], err = fetch(Ref{Commit: f.first}).Memo(context.Background(), "build", compute("other", nil)); err != nil {
		t.Fatal(err)
	}
	if got != [3]any{"first", "first", "other"} || calls != 3 {
		t.Errorf("memo: %v after %d computations, want [first first other] after 3", got, calls)
	}
}
