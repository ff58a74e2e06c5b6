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
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/gitseal/gitseal/test/gitserver"
)

// decodeCommit reads a raw commit object, as `git cat-file commit` prints it.
func decodeCommit(t testing.TB, raw []byte) *object.Commit {
	t.Helper()
	obj := &plumbing.MemoryObject{}
	obj.SetType(plumbing.CommitObject)
	if _, err := obj.Write(raw); err != nil {
		t.Fatal(err)
	}
	var c object.Commit
	if err := c.Decode(obj); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestVerifyCommitWithARealSSHSignature checks the commit in testdata, signed
// by git 2.39 with gpg.format=ssh (ssh-keygen -Y sign, OpenSSH 9.2), against
// its signer's key: the interop vector for the SSHSIG format.
func TestVerifyCommitWithARealSSHSignature(t *testing.T) {
	raw, err := os.ReadFile("testdata/ssh-signed-commit")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile("testdata/ssh-signer.pub")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ParseAllowedSigners(pub)
	if err != nil {
		t.Fatal(err)
	}
	stranger, _, _ := generateKey("")

	tests := []struct {
		name    string
		raw     []byte
		allowed []ssh.PublicKey
		wantErr string
	}{
		{"the signer's signature verifies", raw, signer, ""},
		{"another key is not an allowed signer", raw, []ssh.PublicKey{stranger.PublicKey()}, "not an allowed signer"},
		{"a changed message does not verify", bytes.Replace(raw, []byte("\nsigned\n"), []byte("\nsigned!\n"), 1), signer, "does not verify"},
		{"a changed author does not verify", bytes.Replace(raw, []byte("author t <t@e>"), []byte("author u <t@e>"), 1), signer, "does not verify"},
		{"an unsigned commit is refused", unsigned(raw), signer, "is not signed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifyCommit(decodeCommit(t, tt.raw), tt.allowed)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrVerification) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrVerification saying %q", err, tt.wantErr)
			}
		})
	}
}

// unsigned drops the gpgsig header and its continuation lines.
func unsigned(raw []byte) []byte {
	var out []string
	in := false
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		switch {
		case strings.HasPrefix(line, "gpgsig "):
			in = true
		case in && strings.HasPrefix(line, " "):
		default:
			in = false
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, ""))
}

func TestParseAllowedSigners(t *testing.T) {
	a, _, _ := generateKey("")
	b, _, _ := generateKey("")
	lines := "# deploy keys\n" + string(ssh.MarshalAuthorizedKey(a.PublicKey())) + "\n" + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(b.PublicKey()))) + " ci@example.com\n"
	keys, err := ParseAllowedSigners([]byte(lines))
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %d, err %v", len(keys), err)
	}
	for _, bad := range []string{"", "# only a comment\n", "not a key\n"} {
		if _, err := ParseAllowedSigners([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseAllowedSigners(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// TestFetchVerifiesTheCommitSignature fetches a branch whose tip is signed,
// in this test, the way git signs with gpg.format=ssh, and one whose tip is
// not: only an allowed signer's commit is written.
func TestFetchVerifiesTheCommitSignature(t *testing.T) {
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "env")
	plain := repo.Commit(t, map[string]string{"a.yaml": "a\n"}, "unsigned")
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	signed := repo.SignedCopy(t, plain, key, "signed")
	base := gitserver.ServeHTTP(t, root, gitserver.HTTPOptions{})
	allowed := []ssh.PublicKey{key.PublicKey()}

	c, dir, err := fetchInto(t, Options{URL: base + "/env.git", Ref: Ref{Branch: "signed"}, AllowedSigners: allowed})
	if err != nil {
		t.Fatal(err)
	}
	if c.Commit != signed {
		t.Errorf("commit %s, want %s", c.Commit, signed)
	}
	equalTrees(t, readTree(t, dir), map[string]string{"a.yaml": "a\n"})

	_, dir, err = fetchInto(t, Options{URL: base + "/env.git", AllowedSigners: allowed})
	checkErr(t, err, ErrVerification)
	checkEmpty(t, dir)
}

// FuzzVerifySSHSignature feeds arbitrary signature text to the verifier,
// seeded with the real signature of testdata: parsing it must never panic.
func FuzzVerifySSHSignature(f *testing.F) {
	raw, err := os.ReadFile("testdata/ssh-signed-commit")
	if err != nil {
		f.Fatal(err)
	}
	pub, err := os.ReadFile("testdata/ssh-signer.pub")
	if err != nil {
		f.Fatal(err)
	}
	allowed, err := ParseAllowedSigners(pub)
	if err != nil {
		f.Fatal(err)
	}
	commit := decodeCommit(f, raw)
	message, err := signedPayload(commit)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(commit.PGPSignature)
	f.Add("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n")
	f.Fuzz(func(t *testing.T, armored string) {
		_, _ = verifySSHSignature(message, armored, "git", allowed)
	})
}
