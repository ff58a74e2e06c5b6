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
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"
	"k8s.io/utils/clock"
)

// Defaults for the zero values of CacheOptions.
const (
	DefaultCacheEntries   = 8
	DefaultCacheIdle      = 30 * time.Second
	DefaultCacheDownloads = 2
)

// CacheOptions configures NewCache.
type CacheOptions struct {
	// Dir holds the checkouts; empty means the system's temporary
	// directory.
	Dir string
	// MaxEntries and MaxBytes bound the checkouts kept while no fetch uses
	// them: the least recently used go first. A checkout in use is never
	// removed, so while many are in use the cache may hold more. Zero
	// means DefaultCacheEntries and 4×DefaultMaxBytes.
	MaxEntries int
	MaxBytes   int64
	// Idle is how long a checkout no fetch uses is kept. Zero means
	// DefaultCacheIdle.
	Idle time.Duration
	// MaxDownloads bounds the revisions downloaded at once, whose objects
	// are held in memory. Zero means DefaultCacheDownloads.
	MaxDownloads int
	// Clock times the idle checkouts; nil is the real clock.
	Clock clock.WithDelayedExecution
}

// Cache shares checkouts between fetches of the same revision: one
// download per repository, commit and credentials, however many fetches
// ask for it at once or shortly after each other. Every fetch still asks
// the server where its ref points (one ref listing), so a fetch never gets
// a commit older than the one the ref points to when it starts.
//
// A Cache is safe for concurrent use. Its zero value is not usable: call
// NewCache.
type Cache struct {
	opts      CacheOptions
	downloads chan struct{}

	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
	idle    clock.Timer // the next sweep of idle entries, when one is due
}

// NewCache returns an empty cache.
func NewCache(opts CacheOptions) *Cache {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultCacheEntries
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 4 * DefaultMaxBytes
	}
	if opts.Idle <= 0 {
		opts.Idle = DefaultCacheIdle
	}
	if opts.MaxDownloads <= 0 {
		opts.MaxDownloads = DefaultCacheDownloads
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Cache{
		opts:      opts,
		downloads: make(chan struct{}, opts.MaxDownloads),
		entries:   map[cacheKey]*cacheEntry{},
	}
}

// Shared is a checkout that a Cache holds for the fetches that use it.
type Shared struct {
	Checkout
	// Dir holds the revision's files; it is empty when Unchanged. Nothing
	// may write under it: other fetches read it too, and its files and
	// directories have no write permission.
	Dir string

	entry   *cacheEntry
	release func()
}

// Memo returns what compute returned for key the first time it succeeded
// on this checkout, by this fetch or by another sharing it, and computes
// it otherwise; while one computes a key, the others wait for it (or for
// ctx). Values live as long as the checkout, and are shared: they must be
// read-only. It suits what is derived from the checkout's files alone,
// such as a build. A failure is returned to its caller only, and not kept.
func (s *Shared) Memo(ctx context.Context, key string, compute func() (any, error)) (any, error) {
	if s.entry == nil {
		return compute()
	}
	s.entry.memoMu.Lock()
	if s.entry.memo == nil {
		s.entry.memo = map[string]*memoCell{}
	}
	cell := s.entry.memo[key]
	if cell == nil {
		cell = &memoCell{lock: make(chan struct{}, 1)}
		s.entry.memo[key] = cell
	}
	s.entry.memoMu.Unlock()

	select {
	case cell.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-cell.lock }()
	if cell.done {
		return cell.value, nil
	}
	v, err := compute()
	if err != nil {
		return nil, err
	}
	cell.value, cell.done = v, true
	return v, nil
}

// memoCell is one value of Shared.Memo; holding lock computes or reads it.
type memoCell struct {
	lock  chan struct{}
	done  bool
	value any
}

// Release tells the cache that the caller is done with Dir; it may be
// removed from then on. Calling it again does nothing.
func (s *Shared) Release() {
	if s.release != nil {
		s.release()
	}
}

// cacheKey is what two fetches must share to share a checkout: the
// repository, the object the ref resolved to, who fetches it and with
// which credentials (a hash: the key is kept in memory only, but never
// holds a secret), the signers required, and the limits.
type cacheKey struct {
	url         string
	want        plumbing.Hash
	owner       string
	credentials [sha256.Size]byte
	signers     [sha256.Size]byte
	maxFiles    int
	maxBytes    int64
}

// cacheEntry is one checkout, under way or written.
type cacheEntry struct {
	key   cacheKey
	ready chan struct{} // closed once the fields below are set

	dir    string
	commit string
	bytes  int64
	// err is the failure of the download, as the fetcher returned it:
	// each waiting fetch reports it as its own.
	err error
	// retry: the download stopped because the context of the fetch that
	// ran it ended; the others try again.
	retry bool

	memoMu sync.Mutex
	memo   map[string]*memoCell

	users    int       // fetches using it; guarded by Cache.mu
	lastUsed time.Time // when users last fell to zero
	removed  bool      // no longer in Cache.entries
}

// errCacheClosed: a fetch started after Close.
var errCacheClosed = failf(ErrUnavailable, "the checkout cache is closed")

// Fetch is Fetch into a directory the cache owns and shares. It resolves
// opts.Ref on the server; if the ref points at opts.UnlessCommit it returns
// at once, Unchanged and with no Dir. Otherwise it returns the checkout of
// that commit: the one a fetch of the same repository, commit, owner,
// credentials, signers and limits already wrote or is writing, or a new
// one. owner names who may share it (the GitSync's namespace and Secret,
// say): fetches with different owners, or different credentials under one
// owner, never share a checkout. The caller must Release it.
//
// Errors are those of Fetch, for this fetch's URL and ref, also when
// another fetch ran the download.
func (c *Cache) Fetch(ctx context.Context, opts Options, owner string) (*Shared, error) {
	f, err := newFetcher(opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	for {
		s, retry, err := c.fetch(ctx, f, owner)
		if !retry {
			return s, err
		}
	}
}

// fetch runs one attempt of Fetch. retry reports that the download this
// fetch waited for stopped with the other fetch's context: then it tries
// again.
func (c *Cache) fetch(ctx context.Context, f *fetcher, owner string) (_ *Shared, retry bool, _ error) {
	var (
		e         *cacheEntry
		lead      bool // this fetch downloads and writes the revision
		slot      bool // it holds a download slot
		unchanged bool
	)
	res, err := f.fetch(ctx, func(want plumbing.Hash, _ string) (bool, error) {
		if f.opts.UnlessCommit != "" && want.String() == f.opts.UnlessCommit {
			unchanged = true
			return false, nil
		}
		key := newCacheKey(f, owner, want)
		var err error
		if e, lead, err = c.claim(key); err != nil || !lead {
			return false, err
		}
		// The objects are in memory from here until they are written.
		select {
		case c.downloads <- struct{}{}:
			slot = true
			return true, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	})
	if slot {
		defer func() { <-c.downloads }()
	}
	switch {
	case err != nil && lead:
		c.finish(e, "", "", 0, err, ctx.Err() != nil)
		c.release(e)
		return nil, false, f.failCtx(ctx, err)
	case err != nil:
		if e != nil {
			c.release(e)
		}
		return nil, false, f.failCtx(ctx, err)
	case unchanged:
		return &Shared{Checkout: *revision(res)}, false, nil
	case lead:
		dir, n, err := c.write(ctx, f, res)
		c.finish(e, dir, res.commit.String(), n, err, err != nil && ctx.Err() != nil)
	}

	select {
	case <-e.ready:
	case <-ctx.Done():
		c.release(e)
		return nil, false, f.failCtx(ctx, ctx.Err())
	}
	if e.err != nil {
		c.release(e)
		if e.retry && !lead && ctx.Err() == nil {
			return nil, true, nil
		}
		return nil, false, f.failCtx(ctx, e.err)
	}
	s := &Shared{Dir: e.dir, Checkout: Checkout{Commit: e.commit, Revision: "sha1:" + e.commit}, entry: e}
	if res.name != "" {
		s.Revision = res.name + "@sha1:" + e.commit
	}
	var once sync.Once
	s.release = func() { once.Do(func() { c.release(e) }) }
	return s, false, nil
}

// write writes the fetched revision into a new read-only directory, and
// returns it and the bytes of content written.
func (c *Cache) write(ctx context.Context, f *fetcher, res *fetched) (string, int64, error) {
	dir, err := os.MkdirTemp(c.opts.Dir, "checkout-")
	if err != nil {
		return "", 0, failf(ErrUnavailable, "create a directory for the checkout: %v", err)
	}
	out, err := openCheckoutDir(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", 0, failf(ErrUnavailable, "%v", err)
	}
	n, err := f.write(ctx, res, out, true)
	out.close()
	if err != nil {
		_ = removeCheckout(dir)
		return "", 0, err
	}
	return dir, n, nil
}

// claim returns the entry for key, with one more user: the one already
// there, or a new one that the caller, the leader, must finish.
func (c *Cache) claim(key cacheKey) (e *cacheEntry, lead bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		return nil, false, errCacheClosed
	}
	if e = c.entries[key]; e != nil {
		e.users++
		return e, false, nil
	}
	e = &cacheEntry{key: key, ready: make(chan struct{}), users: 1}
	c.entries[key] = e
	return e, true, nil
}

// finish records the leader's outcome and wakes the others. A failed
// entry leaves the cache at once, so the next fetch tries again.
func (c *Cache) finish(e *cacheEntry, dir, commit string, n int64, err error, retry bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.dir, e.commit, e.bytes, e.err, e.retry = dir, commit, n, err, retry
	if err != nil {
		c.drop(e)
	}
	close(e.ready)
}

// release takes one user from e. Once none is left, e is idle: it is
// removed after the idle time, or earlier to keep the cache within its
// bounds.
func (c *Cache) release(e *cacheEntry) {
	var remove []string
	c.mu.Lock()
	e.users--
	if e.users == 0 {
		e.lastUsed = c.opts.Clock.Now()
		if e.removed && e.dir != "" {
			remove = append(remove, e.dir) // evicted while in use, or the cache closed
		}
		remove = append(remove, c.evict()...)
		c.scheduleSweep()
	}
	c.mu.Unlock()
	for _, dir := range remove {
		_ = removeCheckout(dir)
	}
}

// drop takes e out of the map; its directory goes once no one uses it.
// c.mu must be held.
func (c *Cache) drop(e *cacheEntry) {
	if c.entries[e.key] == e {
		delete(c.entries, e.key)
	}
	e.removed = true
}

// evict drops idle entries, least recently used first, until the cache is
// within its bounds, and those idle longer than the idle time, and returns
// their directories. c.mu must be held.
func (c *Cache) evict() []string {
	var idle []*cacheEntry
	count, total := 0, int64(0)
	now := c.opts.Clock.Now()
	for _, e := range c.entries {
		if !isReady(e) {
			count++ // a download under way counts against the entries
			continue
		}
		count++
		total += e.bytes
		if e.users == 0 {
			idle = append(idle, e)
		}
	}
	slices.SortFunc(idle, func(a, b *cacheEntry) int { return a.lastUsed.Compare(b.lastUsed) })
	var dirs []string
	for _, e := range idle {
		if count <= c.opts.MaxEntries && total <= c.opts.MaxBytes && now.Sub(e.lastUsed) < c.opts.Idle {
			continue
		}
		c.drop(e)
		count--
		total -= e.bytes
		dirs = append(dirs, e.dir)
	}
	return dirs
}

// scheduleSweep arranges for idle entries to be removed once their idle
// time is over. c.mu must be held.
func (c *Cache) scheduleSweep() {
	if c.idle != nil || c.entries == nil {
		return
	}
	// In a goroutine of its own: a fake clock runs the function while it
	// holds its lock, which sweep needs.
	c.idle = c.opts.Clock.AfterFunc(c.opts.Idle, func() { go c.sweep() })
}

// sweep removes the entries idle for the idle time, and schedules the
// next sweep while idle entries are left.
func (c *Cache) sweep() {
	c.mu.Lock()
	c.idle = nil
	dirs := c.evict()
	for _, e := range c.entries {
		if isReady(e) && e.users == 0 {
			c.scheduleSweep()
			break
		}
	}
	c.mu.Unlock()
	for _, dir := range dirs {
		_ = removeCheckout(dir)
	}
}

// Close removes every checkout no fetch uses, and those in use once they
// are released. Fetches after Close fail.
func (c *Cache) Close() {
	var dirs []string
	c.mu.Lock()
	for _, e := range c.entries {
		c.drop(e)
		if isReady(e) && e.users == 0 && e.dir != "" {
			dirs = append(dirs, e.dir)
		}
	}
	c.entries = nil
	if c.idle != nil {
		c.idle.Stop()
		c.idle = nil
	}
	c.mu.Unlock()
	for _, dir := range dirs {
		_ = removeCheckout(dir)
	}
}

func isReady(e *cacheEntry) bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// newCacheKey is the key of a fetch that resolved its ref to want.
func newCacheKey(f *fetcher, owner string, want plumbing.Hash) cacheKey {
	return cacheKey{
		url:         f.remote.key(),
		want:        want,
		owner:       owner,
		credentials: credentialsHash(f.opts.Auth),
		signers:     signersHash(f.opts.AllowedSigners),
		maxFiles:    f.opts.MaxFiles,
		maxBytes:    f.opts.MaxBytes,
	}
}

// credentialsHash is a SHA-256 of every field of a, each with its length,
// so that no two sets of credentials share a hash.
func credentialsHash(a *Auth) [sha256.Size]byte {
	h := sha256.New()
	if a != nil {
		h.Write([]byte{1})
		for _, v := range [][]byte{
			[]byte(a.Username), []byte(a.Password), []byte(a.BearerToken),
			a.SSHPrivateKey, a.SSHPassphrase, a.KnownHosts, a.CABundle,
		} {
			writeField(h, v)
		}
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// signersHash is a SHA-256 of the allowed signers, in any order; nil (no
// verification) and an empty list (verification that no commit passes)
// differ.
func signersHash(keys []ssh.PublicKey) [sha256.Size]byte {
	h := sha256.New()
	if keys != nil {
		h.Write([]byte{1})
		wire := make([][]byte, len(keys))
		for i, k := range keys {
			wire[i] = k.Marshal()
		}
		slices.SortFunc(wire, bytes.Compare)
		for _, w := range wire {
			writeField(h, w)
		}
	}
	return [sha256.Size]byte(h.Sum(nil))
}

func writeField(h hash.Hash, v []byte) {
	_ = binary.Write(h, binary.BigEndian, uint64(len(v)))
	h.Write(v)
}
