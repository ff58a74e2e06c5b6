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

package gitserver

import (
	"crypto/subtle"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/cgi" //nolint:gosec // G504: httpoxy is fixed since Go 1.6.3, and git http-backend is what this test server is for.
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// HTTPOptions configures ServeHTTP. With Username (and Password) or
// BearerToken set, a request without those credentials gets 401; with both
// set, either is accepted.
type HTTPOptions struct {
	Username, Password string
	BearerToken        string
	// Requests, when set, counts every request the server receives,
	// including refused ones.
	Requests *atomic.Int64
	// Authorized, when set, counts the requests that carried an
	// Authorization header, whether or not it was right.
	Authorized *atomic.Int64
	// UploadPacks, when set, counts the pack downloads: the POST requests
	// to git-upload-pack, whether or not they were served.
	UploadPacks *atomic.Int64
	// RedirectTo, when set, answers every request with a redirect to the
	// same path under this base URL instead of serving it.
	RedirectTo string
}

// ServeHTTP serves the bare repositories under root over Git's smart HTTP
// protocol with git http-backend on 127.0.0.1, and returns the base URL:
// the repository <root>/x.git is at baseURL+"/x.git". The server stops when
// the test ends.
func ServeHTTP(t testing.TB, root string, opts HTTPOptions) string {
	t.Helper()
	srv := httptest.NewServer(handler(t, root, opts))
	t.Cleanup(srv.Close)
	return srv.URL
}

// ServeHTTPS is ServeHTTP over TLS, with a certificate for 127.0.0.1 from
// a test authority, whose certificate it returns in PEM for the client to
// trust.
func ServeHTTPS(t testing.TB, root string, opts HTTPOptions) (baseURL string, caPEM []byte) {
	t.Helper()
	srv := httptest.NewTLSServer(handler(t, root, opts))
	t.Cleanup(srv.Close)
	return srv.URL, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func handler(t testing.TB, root string, opts HTTPOptions) http.Handler {
	backend := &cgi.Handler{
		Path: gitPath(t),
		Args: []string{"http-backend"},
		Dir:  root,
		// git's complaints about missing repositories are the point of
		// some tests, not news.
		Stderr: io.Discard,
		Env: append(gitEnv(t.TempDir()),
			"GIT_PROJECT_ROOT="+root,
			"GIT_HTTP_EXPORT_ALL=1",
		),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if opts.Requests != nil {
			opts.Requests.Add(1)
		}
		if opts.Authorized != nil && req.Header.Get("Authorization") != "" {
			opts.Authorized.Add(1)
		}
		if opts.UploadPacks != nil && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/git-upload-pack") {
			opts.UploadPacks.Add(1)
		}
		if opts.RedirectTo != "" {
			http.Redirect(w, req, opts.RedirectTo+req.URL.RequestURI(), http.StatusTemporaryRedirect) //nolint:gosec // G710: redirecting elsewhere is what the option is for, in tests.
			return
		}
		if !opts.authorized(req) {
			w.Header().Set("WWW-Authenticate", `Basic realm="gitserver"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, req)
	})
}

func (o HTTPOptions) authorized(req *http.Request) bool {
	basic := o.Username != "" || o.Password != ""
	if !basic && o.BearerToken == "" {
		return true
	}
	if basic {
		user, pass, ok := req.BasicAuth()
		if ok && equal(user, o.Username) && equal(pass, o.Password) {
			return true
		}
	}
	return o.BearerToken != "" && equal(req.Header.Get("Authorization"), "Bearer "+o.BearerToken)
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
