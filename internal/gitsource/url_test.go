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
	"net/url"
	"strings"
	"testing"
)

func TestValidateURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		valid   bool
		display string
		sshPath string
	}{
		{name: "https is valid", url: "https://github.com/org/repo.git", valid: true, display: "https://github.com/org/repo.git"},
		{name: "plain http is valid", url: "http://gitea.gitea.svc:3000/org/repo", valid: true, display: "http://gitea.gitea.svc:3000/org/repo"},
		{name: "ssh with user and port is valid", url: "ssh://git@127.0.0.1:2222/repo.git", valid: true, display: "ssh://127.0.0.1:2222/repo.git", sshPath: "/repo.git"},
		{name: "ssh home path loses its slash", url: "ssh://git@host/~alice/repo.git", valid: true, sshPath: "~alice/repo.git"},
		{name: "scp-like is ssh", url: "git@github.com:org/repo.git", valid: true, display: "github.com:org/repo.git", sshPath: "org/repo.git"},
		{name: "scp-like with an IPv6 host is ssh", url: "git@[::1]:repo.git", valid: true, display: "[::1]:repo.git", sshPath: "repo.git"},
		{name: "empty is invalid", url: ""},
		{name: "file url is invalid", url: "file:///srv/git/repo.git"},
		{name: "git protocol is invalid", url: "git://github.com/org/repo.git"},
		{name: "ftp is invalid", url: "ftp://host/repo.git"},
		{name: "local path is invalid", url: "/srv/git/repo.git"},
		{name: "relative path is invalid", url: "./repo:x"},
		{name: "password in https userinfo is invalid", url: "https://user:" + canaryPassword + "@github.com/org/repo.git"},
		{name: "token as https username is invalid", url: "https://" + canaryToken + "@github.com/org/repo.git"},
		{name: "password in ssh userinfo is invalid", url: "ssh://git:" + canaryPassword + "@host/repo.git"},
		{name: "password in scp-like userinfo is invalid", url: "git:" + canaryPassword + "@host:repo.git"},
		{name: "password in an unparsable url is invalid", url: "https://user:" + canaryPassword + "@host:port/x"},
		{name: "empty host is invalid", url: "https:///repo.git"},
		{name: "no path is invalid", url: "https://github.com/"},
		{name: "query is invalid", url: "https://github.com/org/repo.git?x=1"},
		{name: "control characters are invalid", url: "https://github.com/org/repo.git\n"},
		{name: "an option in place of the url is invalid", url: "--upload-pack=touch /tmp/pwned"},
		{name: "an option as the ssh host is invalid", url: "ssh://-oProxyCommand=touch%20pwned/repo.git"},
		{name: "an option as the scp-like host is invalid", url: "git@-oProxyCommand=x:repo.git"},
		{name: "git's ext transport is invalid", url: "ext::sh -c touch% /tmp/pwned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateURL(tt.url)
			if !tt.valid {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("ValidateURL(%q) = %v, want ErrInvalid", tt.url, err)
				}
				for _, s := range []string{canaryPassword, canaryToken} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q repeats the credential", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateURL(%q) = %v", tt.url, err)
			}
			r, _ := parseRemote(tt.url)
			if tt.display != "" && r.display != tt.display {
				t.Errorf("display %q, want %q", r.display, tt.display)
			}
			if tt.sshPath != "" && r.path != tt.sshPath {
				t.Errorf("ssh path %q, want %q", r.path, tt.sshPath)
			}
		})
	}
}

func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/org/repo.git", "ssh://git@host:22/x", "git@host:x", "file:///x",
		"https://u:p@h/x", "u:p@h:x", "[::1]:x", "http://h/x?y#z", "", // gitseal:allow placeholder credentials in a URL that must be refused
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := ValidateURL(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		r, err := parseRemote(raw)
		if err != nil {
			t.Fatal(err)
		}
		// An accepted URL's display form carries no password.
		if u, perr := url.Parse(raw); perr == nil && u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" && strings.Contains(r.display, ":"+p+"@") {
				t.Errorf("display %q holds the password", r.display)
			}
		}
		if r.scheme != "http" && r.scheme != "https" && r.scheme != "ssh" {
			t.Errorf("accepted scheme %q", r.scheme)
		}
	})
}
