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

// Package gitsource fetches one revision of a Git repository into a
// directory for the GitSync controller: over HTTP(S) or SSH, shallowly,
// with the objects in memory and the files checked out under size limits.
package gitsource

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"
)

// Errors a caller branches on. Every error Fetch returns wraps exactly one
// of them.
var (
	// ErrInvalid: the URL, the options, the ref or the credentials are not
	// usable as given. Retrying does not help.
	ErrInvalid = errors.New("invalid")
	// ErrAuth: the server refused the credentials, or its identity could
	// not be verified (SSH host key, TLS certificate).
	ErrAuth = errors.New("authentication failed")
	// ErrNotFound: the repository, branch, tag or commit does not exist, no
	// tag satisfies a SemVer ref, or the repository is empty.
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: the revision has more files or bytes than the limits
	// allow.
	ErrTooLarge = errors.New("too large")
	// ErrRefused: the revision holds content that is not written, such as a
	// symbolic link that leaves the checkout or an unsafe path.
	ErrRefused = errors.New("refused")
	// ErrUnavailable: the fetch did not complete for another reason, such
	// as a network error, a timeout or a server error; a later try may
	// succeed. With a timeout or cancellation it also wraps the context's
	// error.
	ErrUnavailable = errors.New("unavailable")
	// ErrVerification: Options.AllowedSigners is set and the commit is not
	// signed, or not by an allowed signer.
	ErrVerification = errors.New("verification failed")
)

// Defaults for the zero values of Options.
const (
	DefaultTimeout  = 60 * time.Second
	DefaultMaxFiles = 10000
	DefaultMaxBytes = 64 << 20
)

// Ref selects the revision: at most one of Branch, Tag, Commit (a full
// 40-hex SHA-1) and SemVer. The zero Ref is the remote's default branch
// (its HEAD).
type Ref struct {
	Branch, Tag, Commit string
	// SemVer is a range, as github.com/Masterminds/semver reads it
	// (">=1.0.0 <2.0.0", "~1.2", "^1"): the newest tag that satisfies it,
	// among the tags the remote lists. A tag's name is its version, with
	// an optional leading "v"; names that are no version are ignored.
	SemVer string
}

// Options configures Fetch.
type Options struct {
	// URL is https://, http://, ssh:// or scp-like user@host:path; see
	// ValidateURL.
	URL string
	Ref Ref
	// Auth holds the credentials; nil fetches anonymously, which ssh does
	// not allow (it needs at least known hosts and an identity).
	Auth *Auth
	// Timeout bounds the whole fetch, checkout included. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxFiles bounds the files (and symbolic links) of the checked-out
	// tree. Zero means DefaultMaxFiles.
	MaxFiles int
	// MaxBytes bounds the bytes of file content of the checked-out tree.
	// Zero means DefaultMaxBytes. The pack received may be at most
	// 4×MaxBytes+16 MiB, and the objects it holds may take as much memory
	// once inflated: each is counted at the size its header claims before
	// it is inflated, so the fetch stops at the first object that does not
	// fit.
	MaxBytes int64
	// AllowedSigners, when not nil, requires the commit to carry an SSH
	// signature (git's gpg.format=ssh) by one of these keys; nothing is
	// written otherwise. See ParseAllowedSigners.
	AllowedSigners []ssh.PublicKey
	// UnlessCommit, a 40-hex SHA-1, stops the fetch as soon as the server
	// has said where the ref points: if it is this commit, nothing is
	// downloaded or written and the Checkout says Unchanged. A ref that
	// points elsewhere, or at an annotated tag, is fetched as usual.
	UnlessCommit string
}

// Checkout describes the revision that Fetch wrote.
type Checkout struct {
	// Commit is the commit's 40-hex SHA-1.
	Commit string
	// Revision names it the way Flux does: "main@sha1:<hex>" for a branch
	// (the default branch included, or "HEAD@sha1:<hex>" when the server
	// does not say which branch its HEAD is), "v1.2.0@sha1:<hex>" for a tag
	// (the commit it points to; for a SemVer ref, the tag it chose) and
	// "sha1:<hex>" for a commit ref.
	Revision string
	// Unchanged is set when the ref still points at Options.UnlessCommit:
	// then nothing was written.
	Unchanged bool
}

// Fetch writes the files of one revision of the repository at opts.URL into
// dir, which must exist and be empty.
//
// It fetches only what the revision needs: the ref's commit at depth 1,
// with the objects in memory and nothing written outside dir. A commit ref
// is asked for directly; a server that refuses to serve an unadvertised
// commit that way (git over SSH does by default) is asked for the full
// history of all branches and tags instead, and the commit looked up there.
// Submodules are not fetched: their entries are skipped.
//
// Credentials go over plain http:// only to a loopback host (ErrInvalid
// otherwise); https:// uses the system's roots. SSH needs known hosts with
// a key for the host and an identity, and refuses any other host key
// (ErrAuth).
//
// Only regular files, directories and symbolic links are written. Files get
// mode 0600 and directories 0700, so nothing is executable. A symbolic link
// is written only if its target, followed through the checkout, exists
// inside dir; an absolute, escaping, looping or dangling link refuses the
// whole revision with ErrRefused, as do entry names such as ".git" and "..".
// The limits are checked while writing, which stops at the first excess.
//
// Errors wrap exactly one of ErrInvalid, ErrAuth, ErrNotFound, ErrTooLarge,
// ErrRefused and ErrUnavailable. Their messages name the URL without
// userinfo and the ref, and hold no password, token, key or passphrase,
// even where the server echoes one. On error, dir is left empty.
func Fetch(ctx context.Context, opts Options, dir string) (*Checkout, error) {
	f, err := newFetcher(opts)
	if err != nil {
		return nil, err
	}
	out, err := openCheckoutDir(dir)
	if err != nil {
		return nil, f.fail(ErrInvalid, err.Error())
	}
	defer out.close()

	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	res, err := f.fetch(ctx, func(want plumbing.Hash, _ string) (bool, error) {
		return f.opts.UnlessCommit == "" || want.String() != f.opts.UnlessCommit, nil
	})
	if err != nil {
		return nil, f.failCtx(ctx, err)
	}
	if res.unchanged {
		return revision(res), nil
	}
	if _, err := f.write(ctx, res, out, false); err != nil {
		return nil, f.failCtx(ctx, err)
	}
	return revision(res), nil
}

// newFetcher validates opts and the credentials for Fetch and
// Cache.Fetch. Errors are as Fetch returns them.
func newFetcher(opts Options) (*fetcher, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	rem, err := parseRemote(o.URL)
	if err != nil {
		return nil, fmt.Errorf("fetch (%s): %w", o.Ref, err)
	}
	f := &fetcher{remote: rem, opts: o, secrets: o.Auth.secrets(), budget: objectBudget(o.MaxBytes)}
	if err := f.prepareAuth(); err != nil {
		return nil, err
	}
	return f, nil
}

// write writes the fetched tree into out, within the limits, and returns
// the bytes of content written. readOnly leaves files and directories
// without write permission. On error out is left empty.
func (f *fetcher) write(ctx context.Context, res *fetched, out *checkoutDir, readOnly bool) (int64, error) {
	w := &treeWriter{
		root:     out.root,
		objects:  res.objects,
		maxFiles: f.opts.MaxFiles,
		maxBytes: f.opts.MaxBytes,
		readOnly: readOnly,
	}
	if err := w.write(ctx, res.tree); err != nil {
		out.empty()
		return 0, err
	}
	return w.bytes, nil
}

// revision describes what fetch found.
func revision(res *fetched) *Checkout {
	c := &Checkout{Commit: res.commit.String(), Unchanged: res.unchanged}
	if res.name == "" {
		c.Revision = "sha1:" + c.Commit
	} else {
		c.Revision = res.name + "@sha1:" + c.Commit
	}
	return c
}

var commitPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// withDefaults validates opts and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Timeout < 0:
		return o, fmt.Errorf("%w options: negative timeout", ErrInvalid)
	case o.MaxFiles < 0:
		return o, fmt.Errorf("%w options: negative file limit", ErrInvalid)
	case o.MaxBytes < 0:
		return o, fmt.Errorf("%w options: negative byte limit", ErrInvalid)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if err := o.Ref.validate(); err != nil {
		return o, err
	}
	if o.UnlessCommit != "" && !commitPattern.MatchString(o.UnlessCommit) {
		return o, fmt.Errorf("%w options: UnlessCommit is not a 40-hex SHA-1", ErrInvalid)
	}
	o.Ref.Commit = strings.ToLower(o.Ref.Commit)
	return o, nil
}

func (r Ref) validate() error {
	set := 0
	for _, s := range []string{r.Branch, r.Tag, r.Commit, r.SemVer} {
		if s != "" {
			set++
		}
	}
	switch {
	case set > 1:
		return fmt.Errorf("%w ref: set at most one of branch, tag, commit and semver", ErrInvalid)
	case r.Branch != "" && !validRefName("refs/heads/"+r.Branch):
		return fmt.Errorf("%w ref: %q is not a valid branch name", ErrInvalid, r.Branch)
	case r.Tag != "" && !validRefName("refs/tags/"+r.Tag):
		return fmt.Errorf("%w ref: %q is not a valid tag name", ErrInvalid, r.Tag)
	case r.Commit != "" && !commitPattern.MatchString(strings.ToLower(r.Commit)):
		return fmt.Errorf("%w ref: commit %q is not a full 40-hex SHA-1", ErrInvalid, r.Commit)
	case r.SemVer != "":
		if _, err := parseRange(r.SemVer); err != nil {
			return fmt.Errorf("%w ref: %w", ErrInvalid, err)
		}
	}
	return nil
}

// String names the ref in error messages.
func (r Ref) String() string {
	switch {
	case r.Branch != "":
		return "branch " + r.Branch
	case r.Tag != "":
		return "tag " + r.Tag
	case r.Commit != "":
		return "commit " + r.Commit
	case r.SemVer != "":
		return fmt.Sprintf("semver range %q", r.SemVer)
	default:
		return "default branch"
	}
}
