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

package gitserver

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"encoding/pem"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// SignedCopy writes a copy of commit signed with key the way `git commit -S`
// signs with gpg.format=ssh (an SSHSIG signature, namespace "git", over the
// commit without its signature), points branch at it in the bare
// repository, and returns its SHA-1. The work tree is not changed.
func (r *Repo) SignedCopy(t testing.TB, commit string, key ssh.Signer, branch string) string {
	t.Helper()
	git := gitPath(t)
	raw := []byte(runGit(t, git, r.env, "", "--git-dir", r.Dir, "cat-file", "commit", commit))
	header, message, _ := bytes.Cut(raw, []byte("\n\n"))
	digest := sha512.Sum512(raw)
	magic := [6]byte{'S', 'S', 'H', 'S', 'I', 'G'}
	signed := ssh.Marshal(struct {
		Magic     [6]byte
		Namespace string
		Reserved  string
		HashAlg   string
		Hash      []byte
	}{magic, "git", "", "sha512", digest[:]})
	sig, err := key.Sign(rand.Reader, signed)
	if err != nil {
		t.Fatalf("gitserver: sign: %v", err)
	}
	blob := ssh.Marshal(struct {
		Magic     [6]byte
		Version   uint32
		PublicKey []byte
		Namespace string
		Reserved  string
		HashAlg   string
		Signature []byte
	}{magic, 1, key.PublicKey().Marshal(), "git", "", "sha512", ssh.Marshal(sig)})
	armored := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "SSH SIGNATURE", Bytes: blob})))
	withSig := string(header) + "\ngpgsig " + strings.ReplaceAll(armored, "\n", "\n ") + "\n\n" + string(message)
	hash := strings.TrimSpace(runGitInput(t, git, r.env, withSig, "--git-dir", r.Dir, "hash-object", "-t", "commit", "-w", "--stdin"))
	runGit(t, git, r.env, "", "--git-dir", r.Dir, "update-ref", "refs/heads/"+branch, hash)
	return hash
}
