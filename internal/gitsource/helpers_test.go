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
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gitseal/gitseal/test/gitserver"
)

// Canaries: strings that must never appear in an error message.
const (
	canaryPassword   = "canary-password-5d1f"
	canaryToken      = "canary-token-5d1f"
	canaryPassphrase = "canary-passphrase-5d1f"
)

// sentinels are the errors every Fetch error wraps exactly one of.
var sentinels = []error{ErrInvalid, ErrAuth, ErrNotFound, ErrTooLarge, ErrRefused, ErrUnavailable, ErrVerification}

// fetchInto runs Fetch into a new empty directory.
func fetchInto(t *testing.T, opts Options) (*Checkout, string, error) {
	t.Helper()
	dir := t.TempDir()
	c, err := Fetch(context.Background(), opts, dir)
	return c, dir, err
}

// checkErr fails unless err wraps want and exactly one sentinel, and none
// of the canaries (nor the given secrets) appear in its message.
func checkErr(t *testing.T, err, want error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %q does not wrap %v", err, want)
	}
	t.Logf("error: %v", err)
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("error %q wraps %d sentinels, want exactly 1", err, n)
	}
	for _, s := range append(secrets, canaryPassword, canaryToken, canaryPassphrase) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds the secret %q", err, s)
		}
	}
}

// readTree returns the regular files under dir, path to content, and fails
// on anything executable or a .git entry.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Name() == ".git" {
			t.Errorf("%s: a .git entry was written", rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			got[filepath.ToSlash(rel)] = "-> " + target
		case d.Type().IsRegular():
			if info.Mode().Perm()&0o111 != 0 {
				t.Errorf("%s is executable (%v)", rel, info.Mode())
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func writeFile(dir, name string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600)
}

func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s holds %d entries after a failed fetch, want none", dir, len(entries))
	}
}

func equalTrees(t *testing.T, got, want map[string]string) {
	t.Helper()
	for p, w := range want {
		if g, ok := got[p]; !ok {
			t.Errorf("%s is missing", p)
		} else if g != w {
			t.Errorf("%s = %q, want %q", p, g, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s was written but is not in the revision", p)
		}
	}
}

// newClientKey generates an ed25519 key, returned as its signer and as an
// OpenSSH private key.
func newClientKey(t *testing.T) (ssh.Signer, []byte) {
	t.Helper()
	s, k, err := generateKey("")
	if err != nil {
		t.Fatal(err)
	}
	return s, k
}

// encryptedClientKey is an ed25519 key whose OpenSSH form is encrypted with
// canaryPassphrase. It is made once: every use of the passphrase runs
// bcrypt, which takes seconds under the race detector.
var encryptedClientKey = sync.OnceValues(func() (key encryptedKey, err error) {
	key.signer, key.pem, err = generateKey(canaryPassphrase)
	return key, err
})

type encryptedKey struct {
	signer ssh.Signer
	pem    []byte
}

func newEncryptedClientKey(t *testing.T) (ssh.Signer, []byte) {
	t.Helper()
	k, err := encryptedClientKey()
	if err != nil {
		t.Fatal(err)
	}
	return k.signer, k.pem
}

func generateKey(passphrase string) (ssh.Signer, []byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte(passphrase))
	}
	if err != nil {
		return nil, nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, err
	}
	return signer, pem.EncodeToMemory(block), nil
}

// hangingServer accepts connections and never answers, until the test
// ends. It returns host:port.
func hangingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// fixture is a repository with a known history, served over HTTP and SSH.
type fixture struct {
	repo *gitserver.Repo
	root string

	first, second, tip string // commits on main, oldest first
	devTip             string // the tip of branch dev
}

var firstFiles = map[string]string{
	"README.md":                   "first\n",
	"deploy/base/deployment.yaml": "kind: Deployment\n",
}

var secondFiles = map[string]string{
	"README.md":                      "second\n",
	"deploy/base/deployment.yaml":    "kind: Deployment\nreplicas: 2\n",
	"deploy/prod/kustomization.yaml": "resources: [../base]\n",
}

var tipFiles = map[string]string{
	"README.md":   "tip\n",
	"a/b/c/d.txt": "deep\n",
}

var devFiles = map[string]string{"dev.txt": "dev\n"}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{root: root, repo: gitserver.NewRepo(t, root, "repo")}
	f.first = f.repo.Commit(t, firstFiles, "first")
	f.second = f.repo.Commit(t, secondFiles, "second")
	f.repo.Tag(t, "v1.0.0", f.second)
	f.devTip = f.repo.Commit(t, devFiles, "dev")
	f.repo.Branch(t, "dev", f.devTip)
	f.tip = f.repo.Commit(t, tipFiles, "tip") // main moves on from dev's tip
	return f
}
