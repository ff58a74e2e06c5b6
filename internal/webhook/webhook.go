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

// Package webhook receives push events from Git servers and decides which
// GitSyncs they concern: it verifies each provider's signature, reads the
// pushed repository and refs from the payload, and serves the endpoint.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Provider names a kind of Git server by how it signs and shapes its push
// events. It is the value of a receiver Secret's LabelReceiver.
type Provider string

// Providers.
const (
	// GitHub signs the body with HMAC-SHA256 in X-Hub-Signature-256
	// ("sha256=<hex>"); the event is in X-GitHub-Event (push, ping).
	GitHub Provider = "github"
	// GitLab sends the secret itself in X-Gitlab-Token; the event is in
	// X-Gitlab-Event (Push Hook, Tag Push Hook).
	GitLab Provider = "gitlab"
	// Gitea signs the body with HMAC-SHA256 in X-Gitea-Signature (bare
	// hex); the event is in X-Gitea-Event (push).
	Gitea Provider = "gitea"
	// Forgejo is Gitea's format under X-Forgejo-Signature and
	// X-Forgejo-Event.
	Forgejo Provider = "forgejo"
	// Bitbucket (Cloud and Data Center) signs the body with HMAC-SHA256 in
	// X-Hub-Signature ("sha256=<hex>"); the event is in X-Event-Key
	// (repo:push on Cloud, repo:refs_changed on Data Center).
	Bitbucket Provider = "bitbucket"
	// Generic is for scripts and CI: HMAC-SHA256 of the body in
	// X-Signature ("sha256=<hex>"), and a body of GenericPush.
	Generic Provider = "generic"
)

// ParseProvider reads a receiver Secret's label value.
func ParseProvider(s string) (Provider, error) {
	switch p := Provider(s); p {
	case GitHub, GitLab, Gitea, Forgejo, Bitbucket, Generic:
		return p, nil
	}
	return "", fmt.Errorf("unknown webhook provider %q: use github, gitlab, gitea, forgejo, bitbucket or generic", s)
}

// GenericPush is the body a Generic receiver accepts. An empty body, or an
// empty field, matches every repository or every ref.
type GenericPush struct {
	// URL of the repository, in any of the forms a GitSync accepts.
	URL string `json:"url,omitempty"`
	// Ref pushed: refs/heads/<branch> or refs/tags/<tag>.
	Ref string `json:"ref,omitempty"`
}

// Errors of Verify. Callers answer ErrUnauthorized with 401 and nothing
// more, and ErrBadPayload with 400.
var (
	ErrUnauthorized = errors.New("missing or wrong signature")
	ErrBadPayload   = errors.New("signed payload is not a push event of the expected shape")
)

// Event is what a verified request says.
type Event struct {
	// Push is false for a verified request that is not a push (a ping, an
	// issue comment): nothing to sync.
	Push bool
	// URLs are the repository's URLs as the payload gives them, in every
	// form it has (https, ssh, scp-like).
	URLs []string
	// Refs are the full names of the refs pushed (refs/heads/main,
	// refs/tags/v1).
	Refs []string
	// DefaultBranch is the repository's default branch, when the payload
	// says.
	DefaultBranch string
	// AnyURL and AnyRef match every repository and every ref (a Generic
	// push that names none).
	AnyURL, AnyRef bool
}

// Verify checks that a request to a receiver of provider p with secret
// token is signed by the Git server, in constant time, and reads the push
// from its body. It returns ErrUnauthorized when the provider's event or
// signature header is missing or the signature is wrong (an empty token
// verifies nothing), and ErrBadPayload when a signed push cannot be read.
func Verify(p Provider, token []byte, h http.Header, body []byte) (Event, error) {
	if len(token) == 0 {
		return Event{}, ErrUnauthorized
	}
	var ok bool
	var event string
	switch p {
	case GitHub:
		ok, event = signedHex(token, body, h.Get("X-Hub-Signature-256"), "sha256="), h.Get("X-GitHub-Event")
	case GitLab:
		ok, event = equalToken(token, h.Get("X-Gitlab-Token")), h.Get("X-Gitlab-Event")
	case Gitea:
		ok, event = signedHex(token, body, h.Get("X-Gitea-Signature"), ""), h.Get("X-Gitea-Event")
	case Forgejo:
		ok, event = signedHex(token, body, h.Get("X-Forgejo-Signature"), ""), h.Get("X-Forgejo-Event")
	case Bitbucket:
		ok, event = signedHex(token, body, h.Get("X-Hub-Signature"), "sha256="), h.Get("X-Event-Key")
	case Generic:
		ok, event = signedHex(token, body, h.Get("X-Signature"), "sha256="), "push"
	}
	if !ok || event == "" {
		return Event{}, ErrUnauthorized
	}
	if !isPush(p, event) {
		return Event{}, nil
	}
	payload, err := formPayload(h, body)
	var e Event
	switch {
	case err != nil:
	case p == GitHub || p == Gitea || p == Forgejo:
		e, err = parseGitHub(payload)
	case p == GitLab:
		e, err = parseGitLab(payload)
	case p == Bitbucket:
		e, err = parseBitbucket(payload)
	case p == Generic:
		e, err = parseGeneric(payload)
	}
	if err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	e.Push = true
	return e, nil
}

// isPush says whether a provider's event names a push.
func isPush(p Provider, event string) bool {
	switch p {
	case GitHub, Gitea, Forgejo, Generic:
		return event == "push"
	case GitLab:
		return event == "Push Hook" || event == "Tag Push Hook"
	case Bitbucket:
		return event == "repo:push" || event == "repo:refs_changed"
	}
	return false
}

// signedHex reports whether header is prefix followed by the hex
// HMAC-SHA256 of body under token.
func signedHex(token, body []byte, header, prefix string) bool {
	sig, ok := strings.CutPrefix(header, prefix)
	if !ok || sig == "" {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, token)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// equalToken compares a token sent in the clear with the secret, in time
// that depends on neither's content nor length.
func equalToken(token []byte, header string) bool {
	if header == "" {
		return false
	}
	want, got := sha256.Sum256(token), sha256.Sum256([]byte(header))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1
}

// formPayload returns the JSON of a body that GitHub or Gitea sent as a
// form (payload=<json>), or the body itself.
func formPayload(h http.Header, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("form body does not parse")
	}
	return []byte(form.Get("payload")), nil
}

// githubPush is the part of a GitHub, Gitea or Forgejo push event read here.
type githubPush struct {
	Ref        string `json:"ref"`
	Repository struct {
		CloneURL      string `json:"clone_url"`
		SSHURL        string `json:"ssh_url"`
		GitURL        string `json:"git_url"`
		HTMLURL       string `json:"html_url"`
		URL           string `json:"url"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
}

func parseGitHub(body []byte) (Event, error) {
	var p githubPush
	if err := json.Unmarshal(body, &p); err != nil {
		return Event{}, errors.New("body is not JSON")
	}
	r := p.Repository
	return event([]string{r.CloneURL, r.SSHURL, r.GitURL, r.HTMLURL, r.URL}, []string{p.Ref}, r.DefaultBranch)
}

// gitlabPush is the part of a GitLab push or tag push event read here.
type gitlabPush struct {
	Ref     string `json:"ref"`
	Project struct {
		GitHTTPURL    string `json:"git_http_url"`
		GitSSHURL     string `json:"git_ssh_url"`
		WebURL        string `json:"web_url"`
		DefaultBranch string `json:"default_branch"`
	} `json:"project"`
	Repository struct {
		GitHTTPURL string `json:"git_http_url"`
		GitSSHURL  string `json:"git_ssh_url"`
		Homepage   string `json:"homepage"`
	} `json:"repository"`
}

func parseGitLab(body []byte) (Event, error) {
	var p gitlabPush
	if err := json.Unmarshal(body, &p); err != nil {
		return Event{}, errors.New("body is not JSON")
	}
	urls := []string{p.Project.GitHTTPURL, p.Project.GitSSHURL, p.Project.WebURL,
		p.Repository.GitHTTPURL, p.Repository.GitSSHURL, p.Repository.Homepage}
	return event(urls, []string{p.Ref}, p.Project.DefaultBranch)
}

// bitbucketRef is a ref in a Bitbucket Cloud push change.
type bitbucketRef struct {
	Type string `json:"type"` // branch or tag
	Name string `json:"name"`
}

// bitbucketPush is the part of a Bitbucket Cloud repo:push or Data Center
// repo:refs_changed event read here.
type bitbucketPush struct {
	Push struct { // Cloud
		Changes []struct {
			New *bitbucketRef `json:"new"`
			Old *bitbucketRef `json:"old"`
		} `json:"changes"`
	} `json:"push"`
	Changes []struct { // Data Center
		RefID string `json:"refId"`
	} `json:"changes"`
	Repository struct {
		Links struct {
			HTML  struct{ Href string }   `json:"html"`
			Clone []struct{ Href string } `json:"clone"`
		} `json:"links"`
	} `json:"repository"`
}

func parseBitbucket(body []byte) (Event, error) {
	var p bitbucketPush
	if err := json.Unmarshal(body, &p); err != nil {
		return Event{}, errors.New("body is not JSON")
	}
	urls := []string{p.Repository.Links.HTML.Href}
	for _, c := range p.Repository.Links.Clone {
		urls = append(urls, c.Href)
	}
	var refs []string
	for _, c := range p.Push.Changes {
		ref := c.New
		if ref == nil { // deleted
			ref = c.Old
		}
		switch {
		case ref == nil || ref.Name == "":
		case ref.Type == "branch":
			refs = append(refs, "refs/heads/"+ref.Name)
		case ref.Type == "tag":
			refs = append(refs, "refs/tags/"+ref.Name)
		}
	}
	for _, c := range p.Changes {
		refs = append(refs, c.RefID)
	}
	return event(urls, refs, "")
}

func parseGeneric(body []byte) (Event, error) {
	var p GenericPush
	if len(strings.TrimSpace(string(body))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return Event{}, errors.New(`body is not {"url": ..., "ref": ...}`)
		}
	}
	e := Event{AnyURL: p.URL == "", AnyRef: p.Ref == ""}
	if !e.AnyURL {
		if _, ok := NormalizeURL(p.URL); !ok {
			return Event{}, errors.New("url is not a repository URL")
		}
		e.URLs = []string{p.URL}
	}
	if !e.AnyRef {
		if !isRef(p.Ref) {
			return Event{}, errors.New("ref is not refs/heads/<branch> or refs/tags/<tag>")
		}
		e.Refs = []string{p.Ref}
	}
	return e, nil
}

// event keeps the non-empty URLs and refs, and fails when a push names no
// repository or no ref.
func event(urls, refs []string, defaultBranch string) (Event, error) {
	e := Event{DefaultBranch: defaultBranch}
	for _, u := range urls {
		if _, ok := NormalizeURL(u); ok {
			e.URLs = append(e.URLs, u)
		}
	}
	for _, r := range refs {
		if isRef(r) {
			e.Refs = append(e.Refs, r)
		}
	}
	switch {
	case len(e.URLs) == 0:
		return Event{}, errors.New("no repository URL")
	case len(e.Refs) == 0:
		return Event{}, errors.New("no branch or tag ref")
	}
	return e, nil
}

func isRef(r string) bool {
	name, ok := strings.CutPrefix(r, "refs/heads/")
	if !ok {
		name, ok = strings.CutPrefix(r, "refs/tags/")
	}
	return ok && name != ""
}
