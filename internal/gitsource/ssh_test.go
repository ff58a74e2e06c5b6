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
	"net/url"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gitseal/gitseal/test/gitserver"
)

func TestFetchSSH(t *testing.T) {
	t.Parallel() // with TestAuthFromSecret: both wait for bcrypt
	f := newFixture(t)
	signer, key := newClientKey(t)
	encSigner, encKey := newEncryptedClientKey(t)
	_, strangerKey := newClientKey(t)

	base, hostKey := gitserver.ServeSSH(t, f.root, signer.PublicKey())
	encBase, encHostKey := gitserver.ServeSSH(t, f.root, encSigner.PublicKey())
	addr, encAddr := hostOf(t, base), hostOf(t, encBase)
	knownHosts := []byte("# the test server\n" + gitserver.KnownHostsLine(addr, hostKey) + "\n")
	otherHostKey, _ := newClientKey(t)
	port := addr[strings.LastIndex(addr, ":")+1:]

	tests := []struct {
		name         string
		url          string
		ref          Ref
		auth         *Auth
		wantRevision string
		wantFiles    map[string]string
	}{
		{
			name: "default branch over ssh", url: base + "/repo.git",
			auth:         &Auth{SSHPrivateKey: key, KnownHosts: knownHosts},
			wantRevision: "main@sha1:" + f.tip, wantFiles: tipFiles,
		},
		{
			name: "tag over ssh", url: base + "/repo.git", ref: Ref{Tag: "v1.0.0"},
			auth:         &Auth{SSHPrivateKey: key, KnownHosts: knownHosts},
			wantRevision: "v1.0.0@sha1:" + f.second, wantFiles: secondFiles,
		},
		{
			// git upload-pack refuses unadvertised commits over ssh: the
			// fallback fetches the whole history.
			name: "commit behind the tip over ssh", url: base + "/repo.git", ref: Ref{Commit: f.first},
			auth:         &Auth{SSHPrivateKey: key, KnownHosts: knownHosts},
			wantRevision: "sha1:" + f.first, wantFiles: firstFiles,
		},
		{
			name: "encrypted key with its passphrase", url: encBase + "/repo.git", ref: Ref{Branch: "dev"},
			auth: &Auth{
				SSHPrivateKey: encKey, SSHPassphrase: []byte(canaryPassphrase),
				KnownHosts: []byte(gitserver.KnownHostsLine(encAddr, encHostKey)),
			},
			wantRevision: "dev@sha1:" + f.devTip, wantFiles: devFiles,
		},
		{
			name: "hashed known_hosts entry among others", url: base + "/repo.git",
			auth: &Auth{SSHPrivateKey: key, KnownHosts: []byte(
				knownhosts.Line([]string{"github.com"}, otherHostKey.PublicKey()) + "\n" +
					knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(addr))}, hostKey) + "\n")},
			wantRevision: "main@sha1:" + f.tip, wantFiles: tipFiles,
		},
		{
			name: "wildcard known_hosts entry", url: base + "/repo.git",
			auth: &Auth{SSHPrivateKey: key, KnownHosts: []byte(
				knownhosts.Line([]string{"[127.0.0.*]:" + port}, hostKey))},
			wantRevision: "main@sha1:" + f.tip, wantFiles: tipFiles,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, dir, err := fetchInto(t, Options{URL: tt.url, Ref: tt.ref, Auth: tt.auth})
			if err != nil {
				t.Fatal(err)
			}
			if c.Revision != tt.wantRevision {
				t.Errorf("revision %s, want %s", c.Revision, tt.wantRevision)
			}
			equalTrees(t, readTree(t, dir), tt.wantFiles)
		})
	}

	failures := []struct {
		name    string
		url     string
		ref     Ref
		auth    *Auth
		wantErr error
	}{
		{
			name: "mismatching host key is refused", url: base + "/repo.git", wantErr: ErrAuth,
			auth: &Auth{SSHPrivateKey: key, KnownHosts: []byte(gitserver.KnownHostsLine(addr, otherHostKey.PublicKey()))},
		},
		{
			name: "known_hosts for another host is refused", url: base + "/repo.git", wantErr: ErrAuth,
			auth: &Auth{SSHPrivateKey: key, KnownHosts: []byte(knownhosts.Line([]string{"127.0.0.1"}, hostKey))},
		},
		{
			name: "negated known_hosts entry is refused", url: base + "/repo.git", wantErr: ErrAuth,
			auth: &Auth{SSHPrivateKey: key, KnownHosts: []byte(
				knownhosts.Line([]string{"[127.0.0.*]:" + port, "!" + knownhosts.Normalize(addr)}, hostKey))},
		},
		{
			name: "revoked host key is refused", url: base + "/repo.git", wantErr: ErrAuth,
			auth: &Auth{SSHPrivateKey: key, KnownHosts: knownHosts2(knownHosts,
				"@revoked * "+string(ssh.MarshalAuthorizedKey(hostKey)))},
		},
		{name: "empty known_hosts is refused", url: base + "/repo.git", wantErr: ErrAuth, auth: &Auth{SSHPrivateKey: key}},
		{name: "no auth at all is refused", url: base + "/repo.git", wantErr: ErrAuth},
		{
			name: "unknown client key is refused", url: base + "/repo.git", wantErr: ErrAuth,
			auth: &Auth{SSHPrivateKey: strangerKey, KnownHosts: knownHosts},
		},
		{
			name: "missing identity is invalid", url: base + "/repo.git", wantErr: ErrInvalid,
			auth: &Auth{KnownHosts: knownHosts},
		},
		{
			name: "missing repository is not found", url: base + "/nope.git", wantErr: ErrNotFound,
			auth: &Auth{SSHPrivateKey: key, KnownHosts: knownHosts},
		},
		{
			name: "missing commit is not found", url: base + "/repo.git", ref: Ref{Commit: strings.Repeat("ab", 20)}, wantErr: ErrNotFound,
			auth: &Auth{SSHPrivateKey: key, KnownHosts: knownHosts},
		},
		{
			name: "missing branch is not found", url: base + "/repo.git", ref: Ref{Branch: "nope"}, wantErr: ErrNotFound,
			auth: &Auth{SSHPrivateKey: key, KnownHosts: knownHosts},
		},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			_, dir, err := fetchInto(t, Options{URL: tt.url, Ref: tt.ref, Auth: tt.auth})
			var secrets []string
			if tt.auth != nil {
				secrets = append(secrets, string(tt.auth.SSHPrivateKey), string(tt.auth.SSHPassphrase))
			}
			checkErr(t, err, tt.wantErr, secrets...)
			checkEmpty(t, dir)
		})
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func knownHosts2(a []byte, b string) []byte {
	return append(append([]byte{}, a...), b...)
}

func TestFetchLeavesNoGoroutines(t *testing.T) {
	f := newFixture(t)
	signer, key := newClientKey(t)
	sshBase, hostKey := gitserver.ServeSSH(t, f.root, signer.PublicKey())
	httpBase := gitserver.ServeHTTP(t, f.root, gitserver.HTTPOptions{})
	sshAuth := &Auth{SSHPrivateKey: key, KnownHosts: []byte(gitserver.KnownHostsLine(hostOf(t, sshBase), hostKey))}

	tests := []struct {
		name string
		opts Options
	}{
		{"http fetch", Options{URL: httpBase + "/repo.git"}},
		{"http fetch of a commit with fallback", Options{URL: httpBase + "/repo.git", Ref: Ref{Commit: strings.Repeat("ab", 20)}}},
		{"ssh fetch", Options{URL: sshBase + "/repo.git", Auth: sshAuth}},
		{"ssh fetch of a commit with fallback", Options{URL: sshBase + "/repo.git", Ref: Ref{Commit: f.first}, Auth: sshAuth}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			_, _, _ = fetchInto(t, tt.opts)
			waitForGoroutines(t, baseline)
		})
	}
}
