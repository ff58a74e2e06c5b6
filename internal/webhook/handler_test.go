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

package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
)

// testHandler serves receivers "gh" (github, token) and "other" (github,
// otherToken), and counts the events it is asked to trigger.
type testHandler struct {
	srv      *httptest.Server
	mu       sync.Mutex
	logs     bytes.Buffer
	triggers []Event
}

func newTestHandler(t *testing.T, mutate func(*HandlerOptions)) *testHandler {
	th := &testHandler{}
	receivers := map[string]Receiver{
		"gh":    {Provider: GitHub, Token: []byte(token)},
		"other": {Provider: GitHub, Token: []byte(otherToken)},
	}
	opts := HandlerOptions{
		Receiver: func(_ context.Context, name string) (Receiver, bool, error) {
			r, ok := receivers[name]
			return r, ok, nil
		},
		Trigger: func(_ context.Context, e Event) (int, error) {
			th.mu.Lock()
			defer th.mu.Unlock()
			th.triggers = append(th.triggers, e)
			return 1, nil
		},
		RequestsPerSecond: 1000, Burst: 1000,
		Log: funcr.New(func(prefix, args string) {
			th.mu.Lock()
			defer th.mu.Unlock()
			fmt.Fprintln(&th.logs, prefix, args)
		}, funcr.Options{Verbosity: 10}),
	}
	if mutate != nil {
		mutate(&opts)
	}
	th.srv = httptest.NewServer(NewHandler(opts))
	t.Cleanup(th.srv.Close)
	return th
}

func (th *testHandler) post(t *testing.T, path string, h http.Header, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, th.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := th.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func githubHeaders(key string, body []byte) http.Header {
	return headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(key, body), "Content-Type", "application/json")
}

// TestHandler checks the answers of the endpoint. C5: neither the token nor
// the payload shows in a response or a log line.
func TestHandler(t *testing.T) {
	body := fixture(t, "github-push.json")
	th := newTestHandler(t, nil)
	const unauthorized = `{"error":"unauthorized"}` + "\n"

	tests := []struct {
		name       string
		path       string
		header     http.Header
		body       []byte
		wantStatus int
		wantBody   string
	}{
		{"signed push is accepted with the count", "/hook/gh", githubHeaders(token, body), body, http.StatusAccepted, `{"triggered":1}` + "\n"},
		{"unsigned push is unauthorized", "/hook/gh", headers("X-GitHub-Event", "push"), body, http.StatusUnauthorized, unauthorized},
		{"wrongly signed push is unauthorized", "/hook/gh", githubHeaders("guess", body), body, http.StatusUnauthorized, unauthorized},
		{"another receiver's signature is unauthorized", "/hook/gh", githubHeaders(otherToken, body), body, http.StatusUnauthorized, unauthorized},
		{"unknown receiver is unauthorized like a bad signature", "/hook/nope", githubHeaders(token, body), body, http.StatusUnauthorized, unauthorized},
		{"gitlab headers to a github receiver are unauthorized", "/hook/gh", headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", token), body, http.StatusUnauthorized, unauthorized},
		{"oversized body is refused before any check", "/hook/nope", githubHeaders(token, body), bytes.Repeat([]byte("x"), MaxBodyBytes+1), http.StatusRequestEntityTooLarge, `{"error":"request body too large"}` + "\n"},
		{"signed ping is accepted with nothing triggered", "/hook/gh", headers("X-GitHub-Event", "ping", "X-Hub-Signature-256", "sha256="+sign(token, body)), body, http.StatusAccepted, `{"triggered":0}` + "\n"},
		{"signed garbage is a bad request", "/hook/gh", githubHeaders(token, []byte("{")), []byte("{"), http.StatusBadRequest, `{"error":"` + ErrBadPayload.Error() + `"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := th.post(t, tt.path, tt.header, tt.body)
			if status != tt.wantStatus || got != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", status, got, tt.wantStatus, tt.wantBody)
			}
			assertNoCanary(t, "response", got)
		})
	}
	if len(th.triggers) != 1 || th.triggers[0].Refs[0] != "refs/heads/main" {
		t.Errorf("triggered %+v, want the one signed push", th.triggers)
	}
	logs := th.logs.String()
	assertNoCanary(t, "logs", logs)
	if strings.Contains(logs, "Team-A") || strings.Contains(logs, "refs/heads/main") {
		t.Errorf("logs hold the payload:\n%s", logs)
	}
	if !strings.Contains(logs, `"receiver"="gh"`) || !strings.Contains(logs, `"triggered"=1`) {
		t.Errorf("logs do not say which receiver triggered how many:\n%s", logs)
	}
}

func TestHandlerRateLimit(t *testing.T) {
	body := fixture(t, "github-push.json")
	th := newTestHandler(t, func(o *HandlerOptions) { o.RequestsPerSecond, o.Burst = 0.001, 2 })
	for i, want := range []int{http.StatusAccepted, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusTooManyRequests} {
		h := githubHeaders(token, body)
		if i == 1 {
			h = githubHeaders("guess", body) // unsigned requests count too
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, th.srv.URL+"/hook/gh", bytes.NewReader(body))
		req.Header = h
		resp, err := th.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
		if want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
}

func TestHandlerOnlyServesPostToANamedReceiver(t *testing.T) {
	th := newTestHandler(t, nil)
	for _, tt := range []struct{ method, path string }{{http.MethodGet, "/hook/gh"}, {http.MethodPost, "/hook/"}, {http.MethodPost, "/hook/gh/x"}} {
		req, _ := http.NewRequestWithContext(t.Context(), tt.method, th.srv.URL+tt.path, nil)
		resp, err := th.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("%s %s: %d", tt.method, tt.path, resp.StatusCode)
		}
	}
	if len(th.triggers) != 0 {
		t.Errorf("triggered %+v", th.triggers)
	}
}

// TestHandlerFailures: a failed lookup or sync request is the server's
// fault and says nothing more.
func TestHandlerFailures(t *testing.T) {
	body := fixture(t, "github-push.json")
	lookupFails := newTestHandler(t, func(o *HandlerOptions) {
		o.Receiver = func(context.Context, string) (Receiver, bool, error) {
			return Receiver{}, false, errors.New("cache not synced")
		}
	})
	if status, got := lookupFails.post(t, "/hook/gh", githubHeaders(token, body), body); status != http.StatusServiceUnavailable || strings.Contains(got, "cache") {
		t.Errorf("lookup failure: %d %q", status, got)
	}
	triggerFails := newTestHandler(t, func(o *HandlerOptions) {
		o.Trigger = func(context.Context, Event) (int, error) { return 1, errors.New("patch gitsyncs: forbidden") }
	})
	if status, got := triggerFails.post(t, "/hook/gh", githubHeaders(token, body), body); status != http.StatusInternalServerError || strings.Contains(got, "forbidden") {
		t.Errorf("trigger failure: %d %q", status, got)
	}
}
