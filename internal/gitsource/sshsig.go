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
	"crypto/sha256"
	"crypto/sha512"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"
)

// ParseAllowedSigners reads the SSH public keys whose signatures a fetch
// accepts, in authorized_keys format (one key a line; comments and options
// are ignored). Errors wrap ErrInvalid.
func ParseAllowedSigners(data []byte) ([]ssh.PublicKey, error) {
	var keys []ssh.PublicKey
	for rest := data; len(bytes.TrimSpace(rest)) > 0; {
		key, _, _, next, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: allowed signers: not a list of ssh public keys", ErrInvalid)
		}
		keys = append(keys, key)
		rest = next
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: allowed signers: no key", ErrInvalid)
	}
	return keys, nil
}

// verifyCommit checks that commit carries an SSH signature (git's
// gpg.format=ssh) by one of allowed, over the commit as git signs it.
func verifyCommit(commit *object.Commit, allowed []ssh.PublicKey) error {
	if commit.PGPSignature == "" {
		return failf(ErrVerification, "commit %s is not signed", commit.Hash)
	}
	message, err := signedPayload(commit)
	if err != nil {
		return failf(ErrVerification, "commit %s cannot be encoded: %v", commit.Hash, err)
	}
	if _, err := verifySSHSignature(message, commit.PGPSignature, "git", allowed); err != nil {
		return failf(ErrVerification, "commit %s: %v", commit.Hash, err)
	}
	return nil
}

// signedPayload is what git signs: the commit object without its gpgsig
// header.
func signedPayload(commit *object.Commit) ([]byte, error) {
	enc := &plumbing.MemoryObject{}
	if err := commit.EncodeWithoutSignature(enc); err != nil {
		return nil, err
	}
	r, err := enc.Reader()
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// sshsigMagic starts every SSH signature (OpenSSH PROTOCOL.sshsig).
const sshsigMagic = "SSHSIG"

// verifySSHSignature verifies an armored SSH signature of message in
// namespace, made by one of allowed, and returns the key that made it.
func verifySSHSignature(message []byte, armored, namespace string, allowed []ssh.PublicKey) (ssh.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(armored)))
	if block == nil || block.Type != "SSH SIGNATURE" {
		return nil, errors.New("the signature is not an SSH signature (a PGP one?)")
	}
	var sig struct {
		Magic     [6]byte
		Version   uint32
		PublicKey []byte
		Namespace string
		Reserved  string
		HashAlg   string
		Signature []byte
	}
	if err := ssh.Unmarshal(block.Bytes, &sig); err != nil || string(sig.Magic[:]) != sshsigMagic || sig.Version != 1 {
		return nil, errors.New("the SSH signature is malformed")
	}
	if sig.Namespace != namespace {
		return nil, fmt.Errorf("the SSH signature is for %q, not %q", sig.Namespace, namespace)
	}
	pub, err := ssh.ParsePublicKey(sig.PublicKey)
	if err != nil {
		return nil, errors.New("the SSH signature's public key is malformed")
	}
	if !contains(allowed, pub) {
		return nil, fmt.Errorf("signed by %s, which is not an allowed signer", ssh.FingerprintSHA256(pub))
	}
	var digest []byte
	switch sig.HashAlg {
	case "sha256":
		h := sha256.Sum256(message)
		digest = h[:]
	case "sha512":
		h := sha512.Sum512(message)
		digest = h[:]
	default:
		return nil, fmt.Errorf("the SSH signature uses the unknown hash %q", sig.HashAlg)
	}
	signed := ssh.Marshal(struct {
		Magic     [6]byte
		Namespace string
		Reserved  string
		HashAlg   string
		Hash      []byte
	}{sig.Magic, sig.Namespace, sig.Reserved, sig.HashAlg, digest})
	var s ssh.Signature
	if err := ssh.Unmarshal(sig.Signature, &s); err != nil {
		return nil, errors.New("the SSH signature is malformed")
	}
	if err := pub.Verify(signed, &s); err != nil {
		return nil, fmt.Errorf("the signature by %s does not verify", ssh.FingerprintSHA256(pub))
	}
	return pub, nil
}

func contains(keys []ssh.PublicKey, k ssh.PublicKey) bool {
	want := k.Marshal()
	for _, a := range keys {
		if bytes.Equal(a.Marshal(), want) {
			return true
		}
	}
	return false
}
