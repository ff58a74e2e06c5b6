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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

const (
	token      = "canary-webhook-token-7f3a"
	otherToken = "another-receivers-token-19cd"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sign(key string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestVerify(t *testing.T) {
	ghPush := fixture(t, "github-push.json")
	ghPing := fixture(t, "github-ping.json")
	glPush := fixture(t, "gitlab-push.json")
	glTag := fixture(t, "gitlab-tag-push.json")
	giteaPush := fixture(t, "gitea-push.json")
	bbCloud := fixture(t, "bitbucket-cloud-push.json")
	bbDC := fixture(t, "bitbucket-dc-push.json")
	ghForm := []byte(url.Values{"payload": {string(ghPush)}}.Encode())
	generic := []byte(`{"url": "https://git.example.com/ops/env.git", "ref": "refs/tags/v2"}`)

	ghEvent := Event{Push: true, DefaultBranch: "main", Refs: []string{"refs/heads/main"}, URLs: []string{
		"https://github.com/Team-A/env.git", "git@github.com:Team-A/env.git", "git://github.com/Team-A/env.git",
		"https://github.com/Team-A/env", "https://github.com/Team-A/env",
	}}
	tests := []struct {
		name     string
		provider Provider
		token    string
		header   http.Header
		body     []byte
		want     Event
		wantErr  error
	}{
		{
			name: "github push signed with the receiver's token is read", provider: GitHub, token: token, body: ghPush,
			header: headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(token, ghPush)),
			want:   ghEvent,
		},
		{
			name: "github push sent as a form is read", provider: GitHub, token: token, body: ghForm,
			header: headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(token, ghForm), "Content-Type", "application/x-www-form-urlencoded"),
			want:   ghEvent,
		},
		{
			name: "github ping is verified and is no push", provider: GitHub, token: token, body: ghPing,
			header: headers("X-GitHub-Event", "ping", "X-Hub-Signature-256", "sha256="+sign(token, ghPing)),
		},
		{
			name: "github push without a signature is unauthorized", provider: GitHub, token: token, body: ghPush,
			header:  headers("X-GitHub-Event", "push"),
			wantErr: ErrUnauthorized,
		},
		{
			name: "github push with only the sha1 signature is unauthorized", provider: GitHub, token: token, body: ghPush,
			header:  headers("X-GitHub-Event", "push", "X-Hub-Signature", "sha1=0000"),
			wantErr: ErrUnauthorized,
		},
		{
			name: "github push signed with another receiver's token is unauthorized", provider: GitHub, token: token, body: ghPush,
			header:  headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(otherToken, ghPush)),
			wantErr: ErrUnauthorized,
		},
		{
			name: "github signature over another body is unauthorized", provider: GitHub, token: token, body: ghPush,
			header:  headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(token, ghPing)),
			wantErr: ErrUnauthorized,
		},
		{
			name: "github signature that is not hex is unauthorized", provider: GitHub, token: token, body: ghPush,
			header:  headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=zz"),
			wantErr: ErrUnauthorized,
		},
		{
			name: "github push without the event header is unauthorized", provider: GitHub, token: token, body: ghPush,
			header:  headers("X-Hub-Signature-256", "sha256="+sign(token, ghPush)),
			wantErr: ErrUnauthorized,
		},
		{
			name: "empty token verifies nothing, even a signature made with it", provider: GitHub, token: "", body: ghPush,
			header:  headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign("", ghPush)),
			wantErr: ErrUnauthorized,
		},
		{
			name: "signed push that is not JSON is a bad payload", provider: GitHub, token: token, body: []byte("not json"),
			header:  headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(token, []byte("not json"))),
			wantErr: ErrBadPayload,
		},
		{
			name: "signed push without a repository is a bad payload", provider: GitHub, token: token, body: []byte(`{"ref":"refs/heads/main"}`),
			header:  headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(token, []byte(`{"ref":"refs/heads/main"}`))),
			wantErr: ErrBadPayload,
		},
		{
			name: "gitlab push with the token is read", provider: GitLab, token: token, body: glPush,
			header: headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", token),
			want: Event{Push: true, DefaultBranch: "main", Refs: []string{"refs/heads/release"}, URLs: []string{
				"https://gitlab.example.com/platform/env.git", "ssh://git@gitlab.example.com:2222/platform/env.git", "https://gitlab.example.com/platform/env",
				"https://gitlab.example.com/platform/env.git", "ssh://git@gitlab.example.com:2222/platform/env.git", "https://gitlab.example.com/platform/env",
			}},
		},
		{
			name: "gitlab tag push is read", provider: GitLab, token: token, body: glTag,
			header: headers("X-Gitlab-Event", "Tag Push Hook", "X-Gitlab-Token", token),
			want: Event{Push: true, DefaultBranch: "main", Refs: []string{"refs/tags/v1.2.0"}, URLs: []string{
				"https://gitlab.example.com/platform/env.git", "git@gitlab.example.com:platform/env.git", "https://gitlab.example.com/platform/env",
			}},
		},
		{
			name: "gitlab push with a wrong token is unauthorized", provider: GitLab, token: token, body: glPush,
			header:  headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", otherToken),
			wantErr: ErrUnauthorized,
		},
		{
			name: "gitlab push with a prefix of the token is unauthorized", provider: GitLab, token: token, body: glPush,
			header:  headers("X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", token[:len(token)-1]),
			wantErr: ErrUnauthorized,
		},
		{
			name: "gitlab push with a github signature is unauthorized", provider: GitLab, token: token, body: glPush,
			header:  headers("X-Gitlab-Event", "Push Hook", "X-Hub-Signature-256", "sha256="+sign(token, glPush)),
			wantErr: ErrUnauthorized,
		},
		{
			name: "gitlab merge request event is verified and is no push", provider: GitLab, token: token, body: []byte(`{}`),
			header: headers("X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Token", token),
		},
		{
			name: "gitea push is read", provider: Gitea, token: token, body: giteaPush,
			header: headers("X-Gitea-Event", "push", "X-Gitea-Signature", sign(token, giteaPush)),
			want: Event{Push: true, DefaultBranch: "main", Refs: []string{"refs/heads/main"}, URLs: []string{
				"https://gitea.example.com/ops/env.git", "ssh://git@gitea.example.com:2222/ops/env.git", "https://gitea.example.com/ops/env",
			}},
		},
		{
			name: "forgejo push is read", provider: Forgejo, token: token, body: giteaPush,
			header: headers("X-Forgejo-Event", "push", "X-Forgejo-Signature", sign(token, giteaPush)),
			want: Event{Push: true, DefaultBranch: "main", Refs: []string{"refs/heads/main"}, URLs: []string{
				"https://gitea.example.com/ops/env.git", "ssh://git@gitea.example.com:2222/ops/env.git", "https://gitea.example.com/ops/env",
			}},
		},
		{
			name: "gitea signature to a forgejo receiver is unauthorized", provider: Forgejo, token: token, body: giteaPush,
			header:  headers("X-Gitea-Event", "push", "X-Gitea-Signature", sign(token, giteaPush)),
			wantErr: ErrUnauthorized,
		},
		{
			name: "gitea signature with a sha256= prefix is unauthorized", provider: Gitea, token: token, body: giteaPush,
			header:  headers("X-Gitea-Event", "push", "X-Gitea-Signature", "sha256="+sign(token, giteaPush)),
			wantErr: ErrUnauthorized,
		},
		{
			name: "bitbucket cloud push reads every change, a deleted tag by its old name", provider: Bitbucket, token: token, body: bbCloud,
			header: headers("X-Event-Key", "repo:push", "X-Hub-Signature", "sha256="+sign(token, bbCloud)),
			want:   Event{Push: true, Refs: []string{"refs/heads/prod", "refs/tags/old-tag"}, URLs: []string{"https://bitbucket.org/acme/env"}},
		},
		{
			name: "bitbucket data center push reads the clone links", provider: Bitbucket, token: token, body: bbDC,
			header: headers("X-Event-Key", "repo:refs_changed", "X-Hub-Signature", "sha256="+sign(token, bbDC)),
			want: Event{Push: true, Refs: []string{"refs/heads/main"}, URLs: []string{
				"ssh://git@bitbucket.example.com:7999/ops/env.git", "https://bitbucket.example.com/scm/ops/env.git",
			}},
		},
		{
			name: "bitbucket ping is verified and is no push", provider: Bitbucket, token: token, body: []byte(`{"test":true}`),
			header: headers("X-Event-Key", "diagnostics:ping", "X-Hub-Signature", "sha256="+sign(token, []byte(`{"test":true}`))),
		},
		{
			name: "bitbucket push with a wrong signature is unauthorized", provider: Bitbucket, token: token, body: bbCloud,
			header:  headers("X-Event-Key", "repo:push", "X-Hub-Signature", "sha256="+sign(otherToken, bbCloud)),
			wantErr: ErrUnauthorized,
		},
		{
			name: "generic push names a repository and a ref", provider: Generic, token: token, body: generic,
			header: headers("X-Signature", "sha256="+sign(token, generic)),
			want:   Event{Push: true, URLs: []string{"https://git.example.com/ops/env.git"}, Refs: []string{"refs/tags/v2"}},
		},
		{
			name: "generic empty body matches everything", provider: Generic, token: token, body: nil,
			header: headers("X-Signature", "sha256="+sign(token, nil)),
			want:   Event{Push: true, AnyURL: true, AnyRef: true},
		},
		{
			name: "generic ref that is a bare branch name is a bad payload", provider: Generic, token: token, body: []byte(`{"ref":"main"}`),
			header:  headers("X-Signature", "sha256="+sign(token, []byte(`{"ref":"main"}`))),
			wantErr: ErrBadPayload,
		},
		{
			name: "generic unknown field is a bad payload", provider: Generic, token: token, body: []byte(`{"repo":"x"}`),
			header:  headers("X-Signature", "sha256="+sign(token, []byte(`{"repo":"x"}`))),
			wantErr: ErrBadPayload,
		},
		{
			name: "generic without a signature is unauthorized", provider: Generic, token: token, body: generic,
			header:  headers(),
			wantErr: ErrUnauthorized,
		},
		{
			name: "unknown provider verifies nothing", provider: "svn", token: token, body: ghPush,
			header:  headers("X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256="+sign(token, ghPush)),
			wantErr: ErrUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.provider, []byte(tt.token), tt.header, tt.body)
			if !errors.Is(err, tt.wantErr) || (err != nil && tt.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !eventEqual(got, tt.want) {
				t.Errorf("event\n got %+v\nwant %+v", got, tt.want)
			}
			if err != nil {
				assertNoCanary(t, "error", err.Error())
			}
		})
	}
}

func eventEqual(a, b Event) bool {
	return a.Push == b.Push && a.DefaultBranch == b.DefaultBranch && a.AnyURL == b.AnyURL && a.AnyRef == b.AnyRef &&
		slices.Equal(a.URLs, b.URLs) && slices.Equal(a.Refs, b.Refs)
}

func assertNoCanary(t *testing.T, where, s string) {
	t.Helper()
	for _, c := range []string{token, otherToken} {
		if strings.Contains(s, c) {
			t.Errorf("%s holds the token %q", where, c)
		}
	}
}

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"https with .git is host and path", "https://github.com/Team-A/env.git", "github.com/team-a/env"},
		{"https without .git is the same", "https://GitHub.com/Team-A/env/", "github.com/team-a/env"},
		{"ssh with user and port is the same host and path", "ssh://git@gitlab.example.com:2222/platform/env.git", "gitlab.example.com/platform/env"},
		{"scp-like is the same host and path", "git@github.com:Team-A/env.git", "github.com/team-a/env"},
		{"scp-like without user is the same host and path", "github.com:Team-A/env", "github.com/team-a/env"},
		{"scp-like with a bracketed IPv6 host keeps the address", "git@[::1]:env.git", "::1/env"},
		{"git protocol is the same host and path", "git://github.com/Team-A/env.git", "github.com/team-a/env"},
		{"http user info is dropped", "https://user@git.example.com/a/b", "git.example.com/a/b"},
		{"nested groups keep their path", "https://gitlab.example.com/a/b/c.git", "gitlab.example.com/a/b/c"},
		{"no path is not a repository", "https://github.com/", ""},
		{"local path is not a repository", "/srv/git/env.git", ""},
		{"empty is not a repository", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NormalizeURL(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("NormalizeURL(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestTriggers(t *testing.T) {
	push := func(defaultBranch string, refs ...string) Event {
		return Event{Push: true, URLs: []string{"https://github.com/Team-A/env.git", "git@github.com:Team-A/env.git"}, Refs: refs, DefaultBranch: defaultBranch}
	}
	spec := func(url string, ref *gitsealv1alpha1.GitRef) *gitsealv1alpha1.GitSyncSpec {
		return &gitsealv1alpha1.GitSyncSpec{URL: url, Ref: ref}
	}
	const ssh = "ssh://git@github.com/team-a/env.git"
	tests := []struct {
		name  string
		event Event
		spec  *gitsealv1alpha1.GitSyncSpec
		want  bool
	}{
		{"push to the followed branch triggers", push("main", "refs/heads/prod"), spec(ssh, &gitsealv1alpha1.GitRef{Branch: "prod"}), true},
		{"push to another branch does not trigger", push("main", "refs/heads/dev"), spec(ssh, &gitsealv1alpha1.GitRef{Branch: "prod"}), false},
		{"push of a tag named like the branch does not trigger", push("main", "refs/tags/prod"), spec(ssh, &gitsealv1alpha1.GitRef{Branch: "prod"}), false},
		{"push of the followed tag triggers", push("main", "refs/tags/v1"), spec(ssh, &gitsealv1alpha1.GitRef{Tag: "v1"}), true},
		{"push of any tag triggers a GitSync with a semver range", push("main", "refs/heads/main", "refs/tags/v9.0.0-junk"), spec(ssh, &gitsealv1alpha1.GitRef{SemVer: "^1"}), true},
		{"push of a branch does not trigger a GitSync with a semver range", push("main", "refs/heads/main"), spec(ssh, &gitsealv1alpha1.GitRef{SemVer: "^1"}), false},
		{"push to the default branch triggers a GitSync without ref", push("main", "refs/heads/main"), spec(ssh, nil), true},
		{"push to another branch does not trigger a GitSync without ref", push("main", "refs/heads/dev"), spec(ssh, nil), false},
		{"push to any branch triggers a GitSync without ref when the default is unknown", push("", "refs/heads/dev"), spec(ssh, nil), true},
		{"tag push does not trigger a GitSync without ref", push("", "refs/tags/v1"), spec(ssh, &gitsealv1alpha1.GitRef{}), false},
		{"GitSync pinned to a commit is never triggered", push("main", "refs/heads/main"), spec(ssh, &gitsealv1alpha1.GitRef{Commit: "0123456789012345678901234567890123456789"}), false},
		{"push to another repository does not trigger", push("main", "refs/heads/main"), spec("https://github.com/team-a/other.git", nil), false},
		{"push to the same path on another host does not trigger", push("main", "refs/heads/main"), spec("https://gitlab.com/team-a/env.git", nil), false},
		{"one of several pushed refs triggers", push("main", "refs/heads/dev", "refs/heads/prod"), spec(ssh, &gitsealv1alpha1.GitRef{Branch: "prod"}), true},
		{"event that is no push never triggers", Event{URLs: []string{ssh}, Refs: []string{"refs/heads/main"}}, spec(ssh, nil), false},
		{"generic push of everything triggers a commit-pinned GitSync too", Event{Push: true, AnyURL: true, AnyRef: true}, spec(ssh, &gitsealv1alpha1.GitRef{Commit: "0123456789012345678901234567890123456789"}), true},
		{"generic push of a ref triggers GitSyncs of any repository following it", Event{Push: true, AnyURL: true, Refs: []string{"refs/heads/prod"}}, spec("https://x.example/y", &gitsealv1alpha1.GitRef{Branch: "prod"}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Triggers(tt.event, tt.spec); got != tt.want {
				t.Errorf("Triggers = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzVerify: no input panics, and a request signed with a token that the
// receiver doesn't hold is never accepted.
func FuzzVerify(f *testing.F) {
	for _, name := range []string{"github-push.json", "github-ping.json", "gitlab-push.json", "gitea-push.json", "bitbucket-cloud-push.json", "bitbucket-dc-push.json"} {
		f.Add(fixture(f, name), "push")
	}
	f.Add([]byte(`{"url":"git@h:p","ref":"refs/heads/x"}`), "repo:push")
	f.Fuzz(func(t *testing.T, body []byte, event string) {
		for _, p := range []Provider{GitHub, Gitea, Forgejo, Bitbucket, Generic} {
			h := headers("X-GitHub-Event", event, "X-Gitea-Event", event, "X-Forgejo-Event", event, "X-Event-Key", event,
				"X-Hub-Signature-256", "sha256="+sign(otherToken, body), "X-Hub-Signature", "sha256="+sign(otherToken, body),
				"X-Gitea-Signature", sign(otherToken, body), "X-Forgejo-Signature", sign(otherToken, body), "X-Signature", "sha256="+sign(otherToken, body))
			if _, err := Verify(p, []byte(token), h, body); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("%s: a wrongly signed request gave %v", p, err)
			}
			e, err := Verify(p, []byte(otherToken), h, body)
			if errors.Is(err, ErrUnauthorized) && event != "" {
				t.Fatalf("%s: a rightly signed request was unauthorized", p)
			}
			if err == nil && e.Push && !e.AnyURL && len(e.URLs) == 0 {
				t.Fatalf("%s: push without repository accepted", p)
			}
		}
	})
}

// FuzzNormalizeURL: no input panics, and what it accepts is lower case
// host/path.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{"https://github.com/a/b.git", "git@github.com:a/b", "ssh://git@h:22/a", "git@[::1]:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := NormalizeURL(raw)
		if ok && (got != strings.ToLower(got) || !strings.Contains(got, "/")) {
			t.Fatalf("NormalizeURL(%q) = %q", raw, got)
		}
	})
}
