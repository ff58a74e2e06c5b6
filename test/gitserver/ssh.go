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
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ServeSSH serves the bare repositories under root over SSH on 127.0.0.1 to
// the holder of the private key for authorized, and returns the server's
// URL (ssh://git@127.0.0.1:PORT; the repository <root>/x.git is at
// url+"/x.git") and its freshly generated ed25519 host key. Only exec
// requests for git-upload-pack '<path>' with path inside root are served,
// by running git upload-pack; everything else is refused. The server, its
// connections and its git processes stop when the test ends.
func ServeSSH(t testing.TB, root string, authorized ssh.PublicKey) (url string, hostKey ssh.PublicKey) {
	t.Helper()
	git := gitPath(t)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gitserver: generate host key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("gitserver: host key signer: %v", err)
	}
	want := authorized.Marshal()
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), want) {
				return nil, nil
			}
			return nil, errors.New("unknown public key")
		},
	}
	config.AddHostKey(signer)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gitserver: listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &sshServer{
		git:    git,
		root:   root,
		env:    gitEnv(t.TempDir()),
		config: config,
		ctx:    ctx,
		conns:  map[net.Conn]struct{}{},
	}
	s.wg.Go(func() { s.accept(ln) })
	t.Cleanup(func() {
		cancel()
		_ = ln.Close()
		s.closeConns()
		s.wg.Wait()
	})
	return "ssh://git@" + ln.Addr().String(), signer.PublicKey()
}

// KnownHostsLine returns the known_hosts line that accepts key for the
// server at addr (host:port; a port other than 22 is written as
// [host]:port).
func KnownHostsLine(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, key)
}

type sshServer struct {
	git    string
	root   string
	env    []string
	config *ssh.ServerConfig
	ctx    context.Context

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (s *sshServer) accept(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		if !s.track(conn) {
			_ = conn.Close()
			return
		}
		s.wg.Go(func() {
			defer s.untrack(conn)
			s.serveConn(conn)
		})
	}
}

func (s *sshServer) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.conns[conn] = struct{}{}
	return true
}

func (s *sshServer) untrack(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, conn)
	_ = conn.Close()
}

func (s *sshServer) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for conn := range s.conns {
		_ = conn.Close()
	}
}

func (s *sshServer) serveConn(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	sconn, chans, reqs, err := ssh.NewServerConn(conn, s.config)
	if err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	defer func() { _ = sconn.Close() }()
	s.wg.Go(func() { ssh.DiscardRequests(reqs) })
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels are served")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Go(func() { s.serveSession(ch, chReqs) })
	}
}

// serveSession answers the first exec request of a session and ends it.
func (s *sshServer) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() {
		_ = ch.Close()
		// Requests must be serviced until the channel is gone.
		s.wg.Go(func() { ssh.DiscardRequests(reqs) })
	}()
	for req := range reqs {
		if req.Type != "exec" {
			// env, pty-req and the like: refused, but the session goes on.
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			_ = req.Reply(false, nil)
			return
		}
		dir, err := s.uploadPackDir(payload.Command)
		if err != nil {
			_ = req.Reply(true, nil)
			_, _ = fmt.Fprintf(ch.Stderr(), "gitserver: %v\n", err)
			sendExitStatus(ch, 128)
			return
		}
		_ = req.Reply(true, nil)
		sendExitStatus(ch, s.uploadPack(ch, dir))
		return
	}
}

// uploadPackDir returns the repository that an exec command
// git-upload-pack '<path>' names, refusing any other command and any path
// outside root.
func (s *sshServer) uploadPackDir(command string) (string, error) {
	arg, ok := strings.CutPrefix(command, "git-upload-pack ")
	if !ok {
		return "", errors.New("only git-upload-pack is served")
	}
	path, err := shellUnquote(strings.TrimSpace(arg))
	if err != nil {
		return "", err
	}
	rel := filepath.Clean(strings.TrimPrefix(filepath.FromSlash(path), string(filepath.Separator)))
	if !filepath.IsLocal(rel) {
		return "", errors.New("repository path leaves the server root")
	}
	return filepath.Join(s.root, rel), nil
}

// uploadPack runs git upload-pack for dir with the channel as its standard
// streams and returns its exit status.
func (s *sshServer) uploadPack(ch ssh.Channel, dir string) uint32 {
	cmd := exec.CommandContext(s.ctx, s.git, "upload-pack", "--timeout=30", dir) //nolint:gosec // G204: dir was checked to be inside the server root.
	cmd.Env = s.env
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 128
	}
	if err := cmd.Start(); err != nil {
		_, _ = fmt.Fprintf(ch.Stderr(), "gitserver: start git upload-pack: %v\n", err)
		return 128
	}
	// Not waited for: the copy ends when the client closes its side or the
	// channel closes, which may be after git has exited.
	go func() {
		_, _ = io.Copy(stdin, ch)
		_ = stdin.Close()
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		return uint32(exit.ExitCode()) //nolint:gosec // G115: exit codes are 0..255.
	default:
		return 128
	}
}

func sendExitStatus(ch ssh.Channel, status uint32) {
	_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
}

// shellUnquote undoes git's sq_quote: a single-quoted string in which a
// quote or an exclamation mark closes the quotes, is escaped with a
// backslash and reopens them.
func shellUnquote(s string) (string, error) {
	var b strings.Builder
	for {
		rest, ok := strings.CutPrefix(s, "'")
		if !ok {
			return "", errors.New("path is not single-quoted")
		}
		end := strings.IndexByte(rest, '\'')
		if end < 0 {
			return "", errors.New("unterminated quote in path")
		}
		b.WriteString(rest[:end])
		s = rest[end+1:]
		if s == "" {
			return b.String(), nil
		}
		if len(s) < 3 || s[0] != '\\' || (s[1] != '\'' && s[1] != '!') {
			return "", errors.New("unexpected text after quoted path")
		}
		b.WriteByte(s[1])
		s = s[2:]
	}
}
