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
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestMatchHost(t *testing.T) {
	hashed := knownhosts.HashHostname("[git.example.com]:2222")
	tests := []struct {
		name     string
		patterns []string
		host     string
		want     bool
	}{
		{"plain name matches on port 22", []string{"github.com"}, "github.com", true},
		{"names match case-insensitively", []string{"GitHub.com"}, "github.com", true},
		{"plain name does not match another port", []string{"127.0.0.1"}, "[127.0.0.1]:2222", false},
		{"bracketed name matches its port", []string{"[127.0.0.1]:2222"}, "[127.0.0.1]:2222", true},
		{"bracketed name does not match port 22", []string{"[127.0.0.1]:2222"}, "127.0.0.1", false},
		{"star matches a run", []string{"*.example.com"}, "git.example.com", true},
		{"star does not make a suffix match", []string{"*.example.com"}, "example.com", false},
		{"question mark matches one character", []string{"git?.example.com"}, "git1.example.com", true},
		{"one of a list matches", []string{"gitlab.com", "github.com"}, "github.com", true},
		{"negation wins over a match", []string{"*.example.com", "!evil.example.com"}, "evil.example.com", false},
		{"negation alone matches nothing", []string{"!evil.example.com"}, "good.example.com", false},
		{"hashed name matches", []string{hashed}, "[git.example.com]:2222", true},
		{"hashed name does not match another", []string{hashed}, "git.example.com", false},
		{"malformed hash matches nothing", []string{"|1|!!|!!"}, "git.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchHost(tt.patterns, tt.host); got != tt.want {
				t.Errorf("matchHost(%q, %q) = %v, want %v", tt.patterns, tt.host, got, tt.want)
			}
		})
	}
}

func TestKnownHostsCallback(t *testing.T) {
	good, _ := newClientKey(t)
	other, _ := newClientKey(t)
	data := "# comment\n\n" +
		knownhosts.Line([]string{"[127.0.0.1]:2222"}, good.PublicKey()) + "\n" +
		"@cert-authority * " + string(ssh.MarshalAuthorizedKey(other.PublicKey()))
	db, err := parseKnownHosts([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	keys := db.keys("127.0.0.1:2222")
	if len(keys) != 1 {
		t.Fatalf("found %d keys for the host, want 1 (cert-authority lines are ignored)", len(keys))
	}
	if algos := hostKeyAlgorithms(keys); len(algos) != 1 || algos[0] != ssh.KeyAlgoED25519 {
		t.Errorf("host key algorithms %v, want only ed25519", algos)
	}
	cb := db.callback(keys)
	if err := cb("127.0.0.1:2222", nil, good.PublicKey()); err != nil {
		t.Errorf("the known key is refused: %v", err)
	}
	if err := cb("127.0.0.1:2222", nil, other.PublicKey()); !errors.Is(err, errHostKey) {
		t.Errorf("another key: %v, want errHostKey", err)
	}
	if keys := db.keys("127.0.0.1:22"); len(keys) != 0 {
		t.Errorf("found %d keys for port 22, want none", len(keys))
	}
}

func FuzzParseKnownHosts(f *testing.F) {
	f.Add([]byte("github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"))
	f.Add([]byte("@revoked * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n# c\n"))
	f.Add([]byte("|1|c2FsdA==|aGFzaA== ssh-rsa AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := parseKnownHosts(data)
		if err != nil {
			return
		}
		_ = db.keys("[127.0.0.1]:2222")
		_ = db.keys("github.com:22")
	})
}
