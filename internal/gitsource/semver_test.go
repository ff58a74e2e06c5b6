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
	"errors"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/test/gitserver"
)

func TestNewestTag(t *testing.T) {
	tags := []string{"v1.0.0", "v1.2.0", "v2.0.0-rc.1", "v1.10.0", "junk", "v1.9", "1.1.0", "v3.0.0.1", "vv4.0.0"}
	tests := []struct {
		name   string
		rng    string
		tags   []string
		want   string
		wantOK bool
	}{
		{"range picks the highest version, not the last by name", ">=1.0.0 <2.0.0", tags, "v1.10.0", true},
		{"tilde keeps the minor version", "~1.2", tags, "v1.2.0", true},
		{"caret keeps the major version", "^1", tags, "v1.10.0", true},
		{"pre-release is left out unless the range names one", ">=2.0.0", tags, "", false},
		{"range that names a pre-release accepts it", ">=2.0.0-0", tags, "v2.0.0-rc.1", true},
		{"tag without the v prefix is a version", "1.1.x", tags, "1.1.0", true},
		{"names that are no strict version are skipped", ">=3.0.0", tags, "", false},
		{"exact version picks that tag", "1.0.0", tags, "v1.0.0", true},
		{"wildcard or a later range picks the newest of the wildcard", "1.x || >=3.0.0", tags, "v1.10.0", true},
		{"or of two ranges picks the newest of both", "<1.1.0 || >=1.9.0 <1.10.0", tags, "v1.0.0", true},
		{"equal versions pick the first name, whatever the order", "1.0.0", []string{"v1.0.0", "1.0.0"}, "1.0.0", true},
		{"equal versions in the other order pick the same name", "1.0.0", []string{"1.0.0", "v1.0.0"}, "1.0.0", true},
		{"no tags is no match", "*", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseRange(tt.rng)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := newestTag(c, tt.tags)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("newestTag(%q) = %q, %v; want %q, %v", tt.rng, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSemVerRefThatDoesNotParseIsInvalid(t *testing.T) {
	for _, r := range []string{"not a range", ">=1.0.0 <", string(make([]byte, maxRangeLength+1))} {
		if err := (Ref{SemVer: r}).validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("range %q: got %v, want ErrInvalid", r, err)
		}
	}
	if err := (Ref{SemVer: "^1", Tag: "v1.0.0"}).validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("semver with tag: got %v, want ErrInvalid", err)
	}
}

// TestFetchSemVer fetches the newest tag in a range from a real git
// server, and a tag pushed later once it is the newest.
func TestFetchSemVer(t *testing.T) {
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "repo")
	commits := map[string]string{}
	for _, tag := range []string{"v1.0.0", "v1.2.0", "v2.0.0-rc.1", "v1.10.0", "junk"} {
		commits[tag] = repo.Commit(t, map[string]string{"version.txt": tag + "\n"}, tag)
		repo.Tag(t, tag, commits[tag])
	}
	url := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{}) + "/repo.git"

	fetch := func(t *testing.T, rng, wantTag string) {
		t.Helper()
		c, dir, err := fetchInto(t, Options{URL: url, Ref: Ref{SemVer: rng}})
		if err != nil {
			t.Fatal(err)
		}
		if want := wantTag + "@sha1:" + commits[wantTag]; c.Revision != want || c.Commit != commits[wantTag] {
			t.Errorf("got %+v, want revision %s", c, want)
		}
		equalTrees(t, readTree(t, dir), map[string]string{"version.txt": wantTag + "\n"})
	}
	for _, tt := range []struct{ rng, want string }{
		{">=1.0.0 <2.0.0", "v1.10.0"},
		{"~1.2", "v1.2.0"},
		{">=2.0.0-0", "v2.0.0-rc.1"},
	} {
		t.Run(tt.rng, func(t *testing.T) { fetch(t, tt.rng, tt.want) })
	}

	t.Run("no tag in range is not found and names the range", func(t *testing.T) {
		_, dir, err := fetchInto(t, Options{URL: url, Ref: Ref{SemVer: ">=3.0.0"}})
		checkErr(t, err, ErrNotFound)
		if want := `semver range ">=3.0.0"`; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name the range %s", err, want)
		}
		checkEmpty(t, dir)
	})

	t.Run("a newer tag pushed later is chosen", func(t *testing.T) {
		commits["v1.11.0"] = repo.Commit(t, map[string]string{"version.txt": "v1.11.0\n"}, "v1.11.0")
		repo.Tag(t, "v1.11.0", commits["v1.11.0"])
		fetch(t, ">=1.0.0 <2.0.0", "v1.11.0")
	})
}
