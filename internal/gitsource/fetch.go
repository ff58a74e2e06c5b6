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
	"errors"
	"io"
	"math"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// fetcher holds what one Fetch needs after validation.
type fetcher struct {
	remote  remote
	opts    Options
	secrets []string

	budget    int64                // bytes of objects, compressed or not, a fetch may bring
	httpAuth  transport.AuthMethod // http(s); nil is anonymous
	sshConfig *ssh.ClientConfig    // ssh
}

// session is one git-upload-pack conversation with the remote.
type session interface {
	advertisedRefs(ctx context.Context) (*packp.AdvRefs, error)
	// uploadPack sends the request and returns the response, decoded up to
	// the start of the (possibly multiplexed) packfile.
	uploadPack(ctx context.Context, req *packp.UploadPackRequest) (*packp.UploadPackResponse, error)
	close()
}

// fetched is the revision, with its objects in memory.
type fetched struct {
	objects *memory.Storage
	commit  plumbing.Hash
	tree    *object.Tree
	name    string // the branch or tag of the revision; empty for a commit ref
	// unchanged: the ref points at Options.UnlessCommit; nothing was fetched.
	unchanged bool
}

// prepareAuth checks the credentials against the URL before any
// connection is made.
func (f *fetcher) prepareAuth() error {
	a := f.opts.Auth
	if f.remote.scheme != "ssh" {
		if a == nil {
			return nil
		}
		switch {
		case a.BearerToken != "" && (a.Username != "" || a.Password != ""):
			return f.fail(ErrInvalid, "auth: a bearer token cannot be combined with username or password")
		case a.Password != "" && a.Username == "":
			return f.fail(ErrInvalid, "auth: a password needs a username")
		case a.Username == "" && a.BearerToken == "":
			return nil
		case f.remote.scheme == "http" && !f.remote.loopback:
			return f.fail(ErrInvalid, "credentials over plain http to a host that is not loopback")
		case a.BearerToken != "":
			f.httpAuth = &githttp.TokenAuth{Token: a.BearerToken}
		default:
			f.httpAuth = &githttp.BasicAuth{Username: a.Username, Password: a.Password}
		}
		return nil
	}

	if a == nil || len(a.KnownHosts) == 0 {
		return f.fail(ErrAuth, "known_hosts is empty, so the ssh host key cannot be verified")
	}
	db, err := parseKnownHosts(a.KnownHosts)
	if err != nil {
		return f.fail(ErrInvalid, "known_hosts: "+err.Error())
	}
	keys := db.keys(f.remote.addr())
	if len(keys) == 0 {
		return f.fail(ErrAuth, "known_hosts has no key for "+knownhosts.Normalize(f.remote.addr()))
	}
	if len(a.SSHPrivateKey) == 0 {
		return f.fail(ErrInvalid, "auth: ssh needs a private key (identity)")
	}
	signer, err := a.signer()
	if err != nil {
		return f.fail(ErrInvalid, "identity: "+err.Error())
	}
	f.sshConfig = &ssh.ClientConfig{
		User:              f.remote.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   db.callback(keys),
		HostKeyAlgorithms: hostKeyAlgorithms(keys),
	}
	return nil
}

func (f *fetcher) open(ctx context.Context) (session, error) {
	if f.remote.scheme == "ssh" {
		return f.openSSH(ctx)
	}
	return f.openHTTP()
}

// fetch resolves the ref and fetches its objects. proceed is called once
// the server has said where the ref points (want: the commit, or an
// annotated tag), before anything is downloaded: false stops the fetch,
// which then returns only the resolved want and name, with unchanged set;
// an error fails it.
func (f *fetcher) fetch(ctx context.Context, proceed func(want plumbing.Hash, name string) (bool, error)) (*fetched, error) {
	var (
		want plumbing.Hash
		name string
	)
	stopped := false
	objects, err := f.withSession(ctx, func(s session, ar *packp.AdvRefs) (*memory.Storage, error) {
		var err error
		if want, name, err = f.resolve(ar); err != nil {
			return nil, err
		}
		ok, err := proceed(want, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			stopped = true
			return nil, nil
		}
		return f.fetchPack(ctx, s, ar, []plumbing.Hash{want}, true)
	})
	if err == nil && stopped {
		return &fetched{commit: want, name: name, unchanged: true}, nil
	}
	if err != nil && f.opts.Ref.Commit != "" && ctx.Err() == nil && isRefusedWant(err) {
		// The server serves only what it advertises over this transport:
		// take every branch and tag, whole, and look for the commit there.
		objects, err = f.withSession(ctx, func(s session, ar *packp.AdvRefs) (*memory.Storage, error) {
			return f.fetchPack(ctx, s, ar, allRefs(ar), false)
		})
	}
	if err != nil {
		return nil, err
	}
	if f.opts.Ref.Commit != "" {
		if _, err := objects.EncodedObject(plumbing.AnyObject, want); err != nil {
			return nil, failf(ErrNotFound, "commit %s is in the history of no branch or tag of the remote", want)
		}
	}
	commit, err := peel(objects, want)
	if err != nil {
		return nil, err
	}
	if f.opts.AllowedSigners != nil {
		if err := verifyCommit(commit, f.opts.AllowedSigners); err != nil {
			return nil, err
		}
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, failf(ErrUnavailable, "the server sent an incomplete pack: tree of %s is missing", commit.Hash)
	}
	return &fetched{objects: objects, commit: commit.Hash, tree: tree, name: name}, nil
}

// withSession runs one upload-pack conversation: it reads the advertised
// refs and hands them to do.
func (f *fetcher) withSession(ctx context.Context, do func(session, *packp.AdvRefs) (*memory.Storage, error)) (*memory.Storage, error) {
	s, err := f.open(ctx)
	if err != nil {
		return nil, err
	}
	defer s.close()
	ar, err := s.advertisedRefs(ctx)
	if err != nil {
		return nil, err
	}
	return do(s, ar)
}

// resolve finds the object to ask for, and the name of the revision.
func (f *fetcher) resolve(ar *packp.AdvRefs) (want plumbing.Hash, name string, err error) {
	ref := f.opts.Ref
	switch {
	case ref.Branch != "":
		h, ok := ar.References["refs/heads/"+ref.Branch]
		if !ok {
			return want, "", failf(ErrNotFound, "no branch %q on the remote", ref.Branch)
		}
		return h, ref.Branch, nil
	case ref.Tag != "":
		h, ok := ar.References["refs/tags/"+ref.Tag]
		if !ok {
			return want, "", failf(ErrNotFound, "no tag %q on the remote", ref.Tag)
		}
		return h, ref.Tag, nil
	case ref.SemVer != "":
		return resolveRange(ar, ref.SemVer)
	case ref.Commit != "":
		return plumbing.NewHash(ref.Commit), "", nil
	}
	if ar.Head == nil {
		return want, "", failf(ErrNotFound, "the remote has no HEAD")
	}
	name = "HEAD"
	for _, v := range ar.Capabilities.Get(capability.SymRef) {
		if from, to, ok := strings.Cut(v, ":"); ok && from == "HEAD" {
			if branch, ok := strings.CutPrefix(to, "refs/heads/"); ok {
				name = branch
			}
		}
	}
	return *ar.Head, name, nil
}

// resolveRange picks the newest advertised tag that satisfies the range.
func resolveRange(ar *packp.AdvRefs, r string) (want plumbing.Hash, name string, err error) {
	c, err := parseRange(r)
	if err != nil {
		return want, "", failf(ErrInvalid, "%v", err)
	}
	var tags []string
	for ref := range ar.References {
		if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
			tags = append(tags, tag)
		}
	}
	tag, ok := newestTag(c, tags)
	if !ok {
		return want, "", failf(ErrNotFound, "none of the %d tags on the remote satisfies the range", len(tags))
	}
	return ar.References["refs/tags/"+tag], tag, nil
}

// allRefs lists every branch and tag the remote advertises.
func allRefs(ar *packp.AdvRefs) []plumbing.Hash {
	seen := map[plumbing.Hash]bool{}
	var wants []plumbing.Hash
	for name, h := range ar.References {
		if (strings.HasPrefix(name, "refs/heads/") || strings.HasPrefix(name, "refs/tags/")) && !seen[h] {
			seen[h] = true
			wants = append(wants, h)
		}
	}
	plumbing.HashesSort(wants)
	return wants
}

// isRefusedWant reports whether the server refused to serve an object it
// did not advertise.
func isRefusedWant(err error) bool {
	var line *pktline.ErrorLine
	if errors.As(err, &line) {
		return true
	}
	// git says "not our ref", JGit "want … not valid".
	s := err.Error()
	return strings.Contains(s, "not our ref") || strings.Contains(s, "not valid")
}

// fetchPack asks for wants (at depth 1 if shallow and the server can) and
// returns the objects the server sent.
func (f *fetcher) fetchPack(ctx context.Context, s session, ar *packp.AdvRefs, wants []plumbing.Hash, shallow bool) (*memory.Storage, error) {
	if len(wants) == 0 {
		return nil, failf(ErrNotFound, "the remote has no branches or tags")
	}
	req := packp.NewUploadPackRequestFromCapabilities(ar.Capabilities)
	req.Wants = wants
	// A thin pack would refer to objects this empty storage does not have.
	req.Capabilities.Delete(capability.ThinPack)
	if shallow && ar.Capabilities.Supports(capability.Shallow) {
		req.Depth = packp.DepthCommits(1)
		if err := req.Capabilities.Set(capability.Shallow); err != nil {
			return nil, err
		}
	}
	if ar.Capabilities.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return nil, err
		}
	}
	resp, err := s.uploadPack(ctx, req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Close() }()

	var pack io.Reader = resp
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		pack = sideband.NewDemuxer(sideband.Sideband64k, resp)
	case req.Capabilities.Supports(capability.Sideband):
		pack = sideband.NewDemuxer(sideband.Sideband, resp)
	}
	limited := &budgetReader{r: pack, left: f.budget}
	objects, err := unpack(ctx, limited, f.budget)
	if err != nil {
		if limited.exceeded {
			return nil, failf(ErrTooLarge, "the pack exceeds %d bytes", f.budget)
		}
		return nil, err
	}
	return objects, nil
}

// objectBudget bounds the bytes fetched, compressed and inflated alike:
// room for the tree's content, and for some history where it must come
// too.
func objectBudget(maxBytes int64) int64 {
	const slack = 16 << 20
	if maxBytes > (math.MaxInt64-slack)/4 {
		return math.MaxInt64
	}
	return 4*maxBytes + slack
}

// peel follows annotated tags from h to the commit.
func peel(objects *memory.Storage, h plumbing.Hash) (*object.Commit, error) {
	for range 8 {
		obj, err := object.GetObject(objects, h)
		if err != nil {
			return nil, failf(ErrNotFound, "object %s is not in what the server sent", h)
		}
		switch o := obj.(type) {
		case *object.Commit:
			return o, nil
		case *object.Tag:
			h = o.Target
		default:
			return nil, failf(ErrNotFound, "%s is a %s, not a commit", h, obj.Type())
		}
	}
	return nil, failf(ErrNotFound, "tag chain at %s is too long", h)
}

// budgetReader fails once more than left bytes are read.
type budgetReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left < int64(len(p))-1 {
		p = p[:b.left+1] // one byte over tells a pack that is too large
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		b.exceeded = true
		return 0, errors.New("pack budget exceeded")
	}
	return n, err
}
