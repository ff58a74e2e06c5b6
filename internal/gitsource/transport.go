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
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh"
)

// httpSession speaks smart HTTP through go-git, with an HTTP client of its
// own: standard TLS verification, the proxy from the environment, and no
// connection kept once the fetch is over.
type httpSession struct {
	transport *http.Transport
	session   transport.UploadPackSession
}

func (f *fetcher) openHTTP() (session, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if a := f.opts.Auth; a != nil && len(a.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(a.CABundle) {
			return nil, failf(ErrInvalid, "%s holds no PEM certificate", secretCA)
		}
		tlsConfig.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       tlsConfig,
	}
	ep, err := transport.NewEndpoint(f.remote.httpURL)
	if err != nil {
		return nil, failf(ErrInvalid, "url cannot be parsed")
	}
	client := githttp.NewClient(&http.Client{Transport: tr, CheckRedirect: sameOrigin})
	s, err := client.NewUploadPackSession(ep, f.httpAuth)
	if err != nil {
		return nil, err
	}
	return &httpSession{transport: tr, session: s}, nil
}

var errRedirect = errors.New("a redirect to another host or scheme was refused")

// sameOrigin follows a redirect only to the same scheme, host and port, so
// that credentials never go to another host or over plain http.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return errRedirect
	}
	return nil
}

func (s *httpSession) advertisedRefs(ctx context.Context) (*packp.AdvRefs, error) {
	return s.session.AdvertisedReferencesContext(ctx)
}

func (s *httpSession) uploadPack(ctx context.Context, req *packp.UploadPackRequest) (*packp.UploadPackResponse, error) {
	return s.session.UploadPack(ctx, req)
}

func (s *httpSession) close() {
	_ = s.session.Close()
	s.transport.CloseIdleConnections()
}

// sshSession runs git-upload-pack over an ssh connection that this package
// dials itself, so that the context bounds every step, the handshake
// included: when ctx ends, the connection is closed under whatever waits
// on it.
type sshSession struct {
	conn    net.Conn
	stop    func() bool
	client  *ssh.Client
	session *ssh.Session
	stdin   io.WriteCloser
	stdout  io.Reader
	stderr  *headBuffer
}

func (f *fetcher) openSSH(ctx context.Context) (session, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", f.remote.addr())
	if err != nil {
		return nil, err
	}
	s := &sshSession{conn: conn, stderr: &headBuffer{max: 4096}}
	s.stop = context.AfterFunc(ctx, func() { _ = conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, f.remote.addr(), f.sshConfig)
	if err != nil {
		s.close()
		return nil, err
	}
	s.client = ssh.NewClient(c, chans, reqs)
	if s.session, err = s.client.NewSession(); err != nil {
		s.close()
		return nil, err
	}
	if s.stdin, err = s.session.StdinPipe(); err != nil {
		s.close()
		return nil, err
	}
	if s.stdout, err = s.session.StdoutPipe(); err != nil {
		s.close()
		return nil, err
	}
	s.session.Stderr = s.stderr
	if err := s.session.Start("git-upload-pack " + shellQuote(f.remote.path)); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *sshSession) advertisedRefs(context.Context) (*packp.AdvRefs, error) {
	ar := packp.NewAdvRefs()
	if err := ar.Decode(s.stdout); err != nil {
		if errors.Is(err, packp.ErrEmptyAdvRefs) {
			return nil, transport.ErrEmptyRemoteRepository
		}
		return nil, s.remoteError(err)
	}
	if ar.IsEmpty() {
		return nil, transport.ErrEmptyRemoteRepository
	}
	return ar, nil
}

func (s *sshSession) uploadPack(_ context.Context, req *packp.UploadPackRequest) (*packp.UploadPackResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	// As git does over a full-duplex connection: wants, haves, done, and
	// then the response.
	var buf bytes.Buffer
	if err := req.UploadRequest.Encode(&buf); err != nil {
		return nil, err
	}
	if err := req.UploadHaves.Encode(&buf, true); err != nil {
		return nil, err
	}
	if err := pktline.NewEncoder(&buf).Encodef("done\n"); err != nil {
		return nil, err
	}
	if _, err := s.stdin.Write(buf.Bytes()); err != nil {
		return nil, s.remoteError(err)
	}
	if err := s.stdin.Close(); err != nil {
		return nil, s.remoteError(err)
	}
	resp := packp.NewUploadPackResponse(req)
	if err := resp.Decode(io.NopCloser(s.stdout)); err != nil {
		return nil, s.remoteError(err)
	}
	return resp, nil
}

// remoteError adds what git-upload-pack wrote to standard error before it
// stopped, waiting for it to stop: the context bounds the wait.
func (s *sshSession) remoteError(err error) error {
	_ = s.session.Wait()
	return &remoteError{err: err, stderr: s.stderr.String()}
}

func (s *sshSession) close() {
	s.stop()
	if s.session != nil {
		_ = s.session.Close()
	}
	if s.client != nil {
		_ = s.client.Close()
	}
	_ = s.conn.Close()
}

// shellQuote quotes a path for the remote shell as git's sq_quote does.
func shellQuote(s string) string {
	var b bytes.Buffer
	b.WriteByte('\'')
	for i := range len(s) {
		if c := s[i]; c == '\'' || c == '!' {
			b.WriteString(`'\`)
			b.WriteByte(c)
			b.WriteByte('\'')
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// headBuffer keeps the first max bytes written to it: enough of a
// message, and no more memory for a chatty server.
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *headBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (t *headBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
