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
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// failure is an error whose sentinel is already decided. Its detail is
// written by this package or already scrubbed.
type failure struct {
	kind   error
	detail string
}

func (e *failure) Error() string { return e.detail }

// Unwrap lets errors.Is find the sentinel before fail has wrapped it.
func (e *failure) Unwrap() error { return e.kind }

func failf(kind error, format string, args ...any) error {
	return &failure{kind: kind, detail: fmt.Sprintf(format, args...)}
}

// fail builds the error Fetch returns: the URL without userinfo, the ref,
// the sentinel and the scrubbed detail.
func (f *fetcher) fail(kind error, detail string) error {
	return fmt.Errorf("fetch %s (%s): %w: %s", f.remote.display, f.opts.Ref, kind, f.scrub(detail))
}

// failCtx classifies err, which a fetch step returned while ctx was in
// force: a timeout or cancellation wins over what it caused.
func (f *fetcher) failCtx(ctx context.Context, err error) error {
	var fl *failure
	if errors.As(err, &fl) {
		return f.fail(fl.kind, fl.detail)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("fetch %s (%s): %w: %w", f.remote.display, f.opts.Ref, ErrUnavailable, cerr)
	}
	detail, kind := classify(err)
	return f.fail(kind, detail)
}

// classify picks the sentinel for an error of go-git, x/crypto/ssh or the
// network, and says what happened. The detail may quote the server and is
// scrubbed by fail.
func classify(err error) (detail string, kind error) {
	var (
		errLine  *pktline.ErrorLine
		remote   *remoteError
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	for _, e := range causes(err) {
		switch {
		case errors.Is(e, transport.ErrRepositoryNotFound):
			return "repository not found", ErrNotFound
		case errors.Is(e, transport.ErrEmptyRemoteRepository):
			return "repository is empty", ErrNotFound
		case errors.Is(e, transport.ErrAuthenticationRequired), errors.Is(e, transport.ErrAuthorizationFailed):
			// Not the server's words: a hostile one could echo the
			// Authorization header back, encoded beyond what scrub sees.
			return "the server refused the credentials", ErrAuth
		case errors.Is(e, errHostKey):
			return e.Error(), ErrAuth
		case errors.Is(e, errRedirect) || strings.Contains(e.Error(), errRedirect.Error()):
			return errRedirect.Error(), ErrRefused
		case strings.Contains(e.Error(), "ssh: unable to authenticate"):
			return "the ssh server refused the private key", ErrAuth
		case errors.As(e, &verify), errors.As(e, &unknown), errors.As(e, &hostname), errors.As(e, &invalid):
			return "tls certificate verification failed: " + e.Error(), ErrAuth
		case errors.As(e, &remote) && remote.notFound():
			return "repository not found: " + remote.Error(), ErrNotFound
		case errors.As(e, &errLine) && isNotFoundText(errLine.Text):
			return "repository not found: " + errLine.Text, ErrNotFound
		}
	}
	return err.Error(), ErrUnavailable
}

// causes unwraps go-git's UnexpectedError and PermanentError, which have no
// Unwrap method, so that errors.Is and errors.As can see what they hold.
func causes(err error) []error {
	out := []error{err}
	for range 8 {
		var (
			unexpected *plumbing.UnexpectedError
			permanent  *plumbing.PermanentError
		)
		switch {
		case errors.As(err, &unexpected):
			err = unexpected.Err
		case errors.As(err, &permanent):
			err = permanent.Err
		default:
			return out
		}
		out = append(out, err)
	}
	return out
}

// remoteError is git-upload-pack failing on the far side of an ssh
// connection, with what it wrote to standard error.
type remoteError struct {
	err    error
	stderr string
}

func (e *remoteError) Error() string {
	if e.stderr == "" {
		return e.err.Error()
	}
	return strings.TrimSpace(e.stderr)
}

func (e *remoteError) Unwrap() error { return e.err }

func (e *remoteError) notFound() bool { return isNotFoundText(e.stderr) }

// isNotFoundText recognises the messages with which git and the common
// hosts say that a repository does not exist (or is not to be seen).
func isNotFoundText(s string) bool {
	for _, m := range []string{
		"does not appear to be a git repository",
		"Repository not found",
		"repository does not exist",
		"no such repository",
		"could not be found",
		"not a git repository",
	} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

var userinfoInURL = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s@]*@`)

const maxDetail = 512

// scrub makes text fit for an error message: no userinfo in URLs, none of
// the credentials, no control characters, and a bounded length.
func (f *fetcher) scrub(s string) string {
	s = userinfoInURL.ReplaceAllString(s, "$1")
	for _, secret := range f.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxDetail {
		s = strings.ToValidUTF8(s[:maxDetail], "") + "…"
	}
	return s
}
