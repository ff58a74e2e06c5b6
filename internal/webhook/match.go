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
	"net/url"
	"regexp"
	"strings"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// scpLike is git's short ssh form, [user@]host:path, where host may be a
// bracketed IPv6 address (as internal/gitsource reads it).
var scpLike = regexp.MustCompile(`^(?:[^@/:\[\]\s]+@)?(\[[^\]/\s]+\]|[^@/:\[\]\s]+):(.+)$`)

// NormalizeURL reduces a repository URL to "host/path", lower case, so that
// the https, ssh and scp-like forms of one repository compare equal: the
// scheme, user, port, a trailing ".git" and slashes are dropped. It reports
// false for what is not a repository URL.
//
// Dropping the port makes ssh://git@host:2222/g/r match https://host/g/r,
// as one server's two protocols; at worst two servers on one host with
// the same path both get a sync, which only costs a fetch.
func NormalizeURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	var host, path string
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", false
		}
		host, path = u.Hostname(), u.Path
	} else if m := scpLike.FindStringSubmatch(raw); m != nil {
		host, path = strings.Trim(m[1], "[]"), m[2]
	}
	path = strings.Trim(path, "/")
	path = strings.TrimSuffix(path, ".git")
	path = strings.TrimRight(path, "/")
	if host == "" || path == "" {
		return "", false
	}
	return strings.ToLower(host + "/" + path), true
}

// Triggers decides whether a push starts a sync of a GitSync with spec:
// its repository must be one of the push's URLs, and it must follow a ref
// the push moved. A GitSync without a ref follows the default branch: a
// push to it, or to any branch when the payload does not say which is the
// default, triggers it; a tag push does not. A GitSync with a semver range
// is triggered by the push of any tag, since only a fetch tells whether
// the tag is the newest in the range. A GitSync pinned to a commit is never
// triggered, since no push changes what it applies.
func Triggers(e Event, spec *gitsealv1alpha1.GitSyncSpec) bool {
	if !e.Push || !matchesURL(e, spec.URL) {
		return false
	}
	if e.AnyRef {
		return true
	}
	var want string
	switch ref := spec.Ref; {
	case ref == nil || (ref.Branch == "" && ref.Tag == "" && ref.Commit == "" && ref.SemVer == ""):
		for _, r := range e.Refs {
			if branch, ok := strings.CutPrefix(r, "refs/heads/"); ok && (e.DefaultBranch == "" || branch == e.DefaultBranch) {
				return true
			}
		}
		return false
	case ref.Branch != "":
		want = "refs/heads/" + ref.Branch
	case ref.Tag != "":
		want = "refs/tags/" + ref.Tag
	case ref.SemVer != "":
		for _, r := range e.Refs {
			if strings.HasPrefix(r, "refs/tags/") {
				return true
			}
		}
		return false
	default:
		return false
	}
	for _, r := range e.Refs {
		if r == want {
			return true
		}
	}
	return false
}

func matchesURL(e Event, specURL string) bool {
	if e.AnyURL {
		return true
	}
	want, ok := NormalizeURL(specURL)
	if !ok {
		return false
	}
	for _, u := range e.URLs {
		if got, ok := NormalizeURL(u); ok && got == want {
			return true
		}
	}
	return false
}
