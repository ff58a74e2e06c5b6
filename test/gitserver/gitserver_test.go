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
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestCommitReplacesTheTree(t *testing.T) {
	root := t.TempDir()
	r := NewRepo(t, root, "r")
	first := r.Commit(t, map[string]string{"a.txt": "a", "d/e/f.txt": "f"}, "first")
	second := r.Commit(t, map[string]string{"b.txt": "b"}, "second", Symlink("l", "b.txt"))
	if first == second || len(second) != 40 {
		t.Fatalf("commits %q and %q", first, second)
	}
	git := gitPath(t)
	got := runGit(t, git, r.env, "", "--git-dir", r.Dir, "ls-tree", "-r", "--name-only", "main")
	if got != "b.txt\nl\n" {
		t.Fatalf("tree of main = %q, want b.txt and l only", got)
	}
	r.Tag(t, "v1", first)
	r.Branch(t, "old", first)
	for _, ref := range []string{"v1^{commit}", "old"} {
		if got := strings.TrimSpace(runGit(t, git, r.env, "", "--git-dir", r.Dir, "rev-parse", ref)); got != first {
			t.Errorf("%s = %s, want %s", ref, got, first)
		}
	}
	empty := r.Commit(t, nil, "empty")
	if got := runGit(t, git, r.env, "", "--git-dir", r.Dir, "ls-tree", empty); got != "" {
		t.Errorf("empty commit has tree %q", got)
	}
}

func TestServeHTTPWithGitClone(t *testing.T) {
	root := t.TempDir()
	r := NewRepo(t, root, "r")
	r.Commit(t, map[string]string{"hello.txt": "hello"}, "init")
	var requests atomic.Int64
	base := ServeHTTP(t, root, HTTPOptions{Username: "u", Password: "p", Requests: &requests})

	u, err := url.Parse(base + "/r.git")
	if err != nil {
		t.Fatal(err)
	}
	if err := gitClone(t, r.env, u.String()); err == nil {
		t.Fatal("clone without credentials succeeded")
	}
	u.User = url.UserPassword("u", "p")
	if err := gitClone(t, r.env, u.String()); err != nil {
		t.Fatalf("clone with credentials: %v", err)
	}
	if requests.Load() < 3 {
		t.Errorf("counted %d requests, want at least 3", requests.Load())
	}
}

func gitClone(t *testing.T, env []string, u string) error {
	dst := filepath.Join(t.TempDir(), "clone")
	cmd := exec.Command(gitPath(t), "clone", "--quiet", u, dst)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return errors.New(stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(dst, "hello.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("cloned hello.txt = %q, %v", b, err)
	}
	return nil
}

func TestServeSSH(t *testing.T) {
	root := t.TempDir()
	r := NewRepo(t, root, "r")
	sha := r.Commit(t, map[string]string{"hello.txt": "hello"}, "init")
	client := newKey(t)
	u, hostKey := ServeSSH(t, root, client.PublicKey())
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	addr := parsed.Host
	line := KnownHostsLine(addr, hostKey)
	if !strings.HasPrefix(line, "[127.0.0.1]:") {
		t.Fatalf("known_hosts line %q does not name a non-22 port in brackets", line)
	}

	tests := []struct {
		name       string
		command    string
		wantStatus int
		wantOut    string
	}{
		{"upload-pack advertises main", "git-upload-pack '/r.git'", 0, sha + " HEAD"},
		{"receive-pack is refused", "git-receive-pack '/r.git'", 128, ""},
		{"path outside the root is refused", "git-upload-pack '/../r.git'", 128, ""},
		{"unquoted path is refused", "git-upload-pack /r.git", 128, ""},
		{"missing repository fails", "git-upload-pack '/nope.git'", 128, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
				User:            "git",
				Auth:            []ssh.AuthMethod{ssh.PublicKeys(client)},
				HostKeyCallback: ssh.FixedHostKey(hostKey),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			sess, err := conn.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			sess.Stdout = &stdout
			sess.Stdin = strings.NewReader("0000") // flush: upload-pack ends after its advertisement
			err = sess.Run(tt.command)
			status := 0
			var exit *ssh.ExitError
			if errors.As(err, &exit) {
				status = exit.ExitStatus()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus {
				t.Errorf("exit status %d, want %d", status, tt.wantStatus)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("output %q does not contain %q", stdout.String(), tt.wantOut)
			}
		})
	}

	t.Run("unknown client key is refused", func(t *testing.T) {
		_, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
			User:            "git",
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(newKey(t))},
			HostKeyCallback: ssh.FixedHostKey(hostKey),
		})
		if err == nil {
			t.Fatal("handshake with an unknown key succeeded")
		}
	})

	t.Run("known_hosts line verifies the host key", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(file, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cb, err := knownhosts.New(file)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
			User:            "git",
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(client)},
			HostKeyCallback: cb,
		})
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.Close()
	})
}

func TestShellUnquote(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "plain path", in: `'/r.git'`, want: "/r.git"},
		{name: "escaped quote", in: `'/it'\''s.git'`, want: "/it's.git"},
		{name: "escaped bang", in: `'/a'\!'b'`, want: "/a!b"},
		{name: "unquoted is an error", in: `/r.git`, wantErr: true},
		{name: "unterminated is an error", in: `'/r.git`, wantErr: true},
		{name: "trailing text is an error", in: `'/a' '/b'`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := shellUnquote(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("shellUnquote(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func newKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
