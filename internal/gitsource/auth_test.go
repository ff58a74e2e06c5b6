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
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestAuthFromSecret(t *testing.T) {
	t.Parallel() // with TestFetchSSH: both wait for bcrypt
	signer, key := newClientKey(t)
	_, encKey := newEncryptedClientKey(t)
	pub := ssh.MarshalAuthorizedKey(signer.PublicKey())
	known := []byte(knownhosts.Line([]string{"github.com"}, signer.PublicKey()))

	tests := []struct {
		name    string
		data    map[string][]byte
		want    *Auth
		wantKey string // the key the error must name
	}{
		{name: "empty secret is anonymous", data: map[string][]byte{}, want: &Auth{}},
		{
			name: "username and password are basic auth",
			data: map[string][]byte{"username": []byte("deploy"), "password": []byte(canaryPassword)},
			want: &Auth{Username: "deploy", Password: canaryPassword},
		},
		{
			name: "username alone is basic auth",
			data: map[string][]byte{"username": []byte(canaryToken)},
			want: &Auth{Username: canaryToken},
		},
		{
			name: "bearer token alone",
			data: map[string][]byte{"bearerToken": []byte(canaryToken)},
			want: &Auth{BearerToken: canaryToken},
		},
		{
			name: "identity and known hosts are ssh, and identity.pub and unknown keys are ignored",
			data: map[string][]byte{"identity": key, "identity.pub": pub, "known_hosts": known, "unrelated": []byte("x")},
			want: &Auth{SSHPrivateKey: key, KnownHosts: known},
		},
		{
			name: "password is the passphrase of an identity",
			data: map[string][]byte{"identity": encKey, "password": []byte(canaryPassphrase), "known_hosts": known},
			want: &Auth{SSHPrivateKey: encKey, SSHPassphrase: []byte(canaryPassphrase), KnownHosts: known},
		},
		{
			name: "empty values count as absent",
			data: map[string][]byte{"username": {}, "password": {}, "identity": {}},
			want: &Auth{},
		},
		{
			name:    "ca.crt that is not PEM is invalid",
			data:    map[string][]byte{"bearerToken": []byte(canaryToken), "ca.crt": []byte("not a certificate")},
			wantKey: "ca.crt",
		},
		{
			name:    "password without username is invalid",
			data:    map[string][]byte{"password": []byte(canaryPassword)},
			wantKey: "password",
		},
		{
			name:    "bearer token with username is invalid",
			data:    map[string][]byte{"username": []byte("deploy"), "bearerToken": []byte(canaryToken)},
			wantKey: "bearerToken",
		},
		{
			name:    "identity that is not a key is invalid",
			data:    map[string][]byte{"identity": []byte(canaryToken)},
			wantKey: "identity",
		},
		{
			name:    "encrypted identity without passphrase is invalid",
			data:    map[string][]byte{"identity": encKey},
			wantKey: "identity",
		},
		{
			name:    "encrypted identity with the wrong passphrase is invalid",
			data:    map[string][]byte{"identity": encKey, "password": []byte(canaryPassword)},
			wantKey: "identity",
		},
		{
			name:    "known hosts that do not parse are invalid",
			data:    map[string][]byte{"identity": key, "known_hosts": []byte("github.com ssh-ed25519 !!!" + canaryToken)},
			wantKey: "known_hosts",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := AuthFromSecret(tt.data)
			if tt.wantKey != "" {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v, want ErrInvalid", err)
				}
				if !strings.Contains(err.Error(), "key "+tt.wantKey) {
					t.Errorf("error %q does not name key %s", err, tt.wantKey)
				}
				for _, v := range tt.data {
					if len(v) > 0 && strings.Contains(err.Error(), string(v)) {
						t.Errorf("error %q holds the value %q", err, v)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Username != tt.want.Username || got.Password != tt.want.Password ||
				got.BearerToken != tt.want.BearerToken ||
				!bytes.Equal(got.SSHPrivateKey, tt.want.SSHPrivateKey) ||
				!bytes.Equal(got.SSHPassphrase, tt.want.SSHPassphrase) ||
				!bytes.Equal(got.KnownHosts, tt.want.KnownHosts) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	f := &fetcher{secrets: (&Auth{Username: "u", Password: canaryPassword, SSHPrivateKey: []byte("-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQ\n-----END KEY-----\n")}).secrets()}
	tests := []struct {
		name, in, want string
	}{
		{"userinfo is stripped from urls", `Get "https://u:` + canaryPassword + `@host/x/info/refs": EOF`, `Get "https://host/x/info/refs": EOF`},
		{"a token in the username is stripped", "ssh://tok@host/x and http://a@b/c", "ssh://host/x and http://b/c"},
		{"a bare secret is redacted", "you sent " + canaryPassword, "you sent [redacted]"},
		{"basic auth as sent is redacted", "Basic dTpjYW5hcnktcGFzc3dvcmQtNWQxZg==", "Basic [redacted]"},
		{"a line of the key is redacted", "key AAAAB3NzaC1yc2EAAAADAQABAAABAQ leaked", "key [redacted] leaked"},
		{"control characters become spaces", "a\nb\x1b[31mc", "a b [31mc"},
		{"an @ outside a url stays", "user@host: denied", "user@host: denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.scrub(tt.in); got != tt.want {
				t.Errorf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	long := f.scrub(strings.Repeat("x", 2*maxDetail))
	if len(long) > maxDetail+len("…") {
		t.Errorf("scrub kept %d bytes, want at most %d", len(long), maxDetail)
	}
}
