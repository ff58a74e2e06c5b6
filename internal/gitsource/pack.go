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
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/memory"
)

// unpack reads the pack r into a new in-memory object storage whose
// objects take at most budget bytes.
//
// Each object is charged the size its header claims before a byte of it
// is inflated, and a delta the size of what it builds before it is
// applied, plus a fixed overhead for each. Writes beyond a claim fail, and
// so does every write once ctx is done. So neither a header that claims
// gigabytes, nor a delta that expands a few bytes into them, nor a
// deadline reached mid-object lets memory grow past the budget or the
// fetch run on; memory grows with the bytes inflated, never with a claim.
//
// Deltas are resolved once the whole pack is read; their bases must be in
// the pack (no thin packs). Errors: a *failure of ErrTooLarge beyond the
// budget, and of ErrUnavailable for a delta whose base is missing; ctx's
// error once it is done; other errors for a malformed pack.
func unpack(ctx context.Context, r io.Reader, budget int64) (*memory.Storage, error) {
	u := &unpacker{ctx: ctx, budget: budget, left: budget, scanner: packfile.NewScanner(r), buf: make([]byte, 32<<10)}
	if err := u.read(); err != nil {
		return nil, err
	}
	if _, err := u.scanner.Checksum(); err != nil {
		return nil, err
	}
	return u.resolve()
}

// objectOverhead is charged for every object besides its bytes: the maps
// and structures that index it. It keeps a pack of millions of empty
// objects, each a few bytes on the wire, within the budget too.
const objectOverhead = 512

// errBeyondClaim: an object inflates, or a delta expands, to more than its
// header said.
var errBeyondClaim = errors.New("malformed pack: an object is larger than its header says")

type unpacker struct {
	ctx     context.Context
	scanner *packfile.Scanner
	budget  int64
	left    int64
	buf     []byte // for copies while patching

	bases  []*entry // whole objects, in pack order
	deltas []*entry
	// byOffset finds the base of an offset delta.
	byOffset map[int64]*entry
}

// entry is one object of the pack: whole, or a delta until resolved.
type entry struct {
	offset int64
	obj    *packedObject // nil for a delta not yet resolved

	delta      *content // a delta's instructions
	baseOffset int64    // an offset delta's base
	baseHash   plumbing.Hash
	ofs        bool
}

// take charges n bytes against the budget.
func (u *unpacker) take(n int64) error {
	if n < 0 || n > u.left-objectOverhead {
		return failf(ErrTooLarge, "the fetched objects exceed %d bytes (an object claims %d bytes)", u.budget, n)
	}
	u.left -= n + objectOverhead
	return nil
}

// read reads every object of the pack, inflating whole objects and the
// instructions of deltas.
func (u *unpacker) read() error {
	_, count, err := u.scanner.Header()
	if err != nil {
		return err
	}
	u.byOffset = make(map[int64]*entry, min(count, 1<<10))
	for range count {
		if err := u.ctx.Err(); err != nil {
			return err
		}
		h, err := u.scanner.NextObjectHeader()
		if err != nil {
			return err
		}
		if err := u.take(h.Length); err != nil {
			return err
		}
		e := &entry{offset: h.Offset}
		c := &content{limit: h.Length}
		w := io.Writer(&sink{ctx: u.ctx, w: c})
		var hasher plumbing.Hasher
		switch h.Type {
		case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
			hasher = plumbing.NewHasher(h.Type, h.Length)
			w = io.MultiWriter(w, hasher)
		case plumbing.OFSDeltaObject:
			e.ofs, e.baseOffset = true, h.OffsetReference
		case plumbing.REFDeltaObject:
			e.baseHash = h.Reference
		default:
			return fmt.Errorf("malformed pack: object type %d at offset %d", h.Type, h.Offset)
		}
		n, _, err := u.scanner.NextObject(w)
		if err != nil {
			if errors.Is(err, packfile.ErrInflatedSizeMismatch) {
				return errBeyondClaim
			}
			return err
		}
		if n != h.Length {
			return fmt.Errorf("malformed pack: object at offset %d inflates to %d bytes, its header says %d", h.Offset, n, h.Length)
		}
		if h.Type.IsDelta() {
			e.delta = c
			u.deltas = append(u.deltas, e)
		} else {
			e.obj = &packedObject{typ: h.Type, hash: hasher.Sum(), content: c}
			u.bases = append(u.bases, e)
		}
		u.byOffset[e.offset] = e
	}
	return nil
}

// resolve applies every delta to its base, bases before the deltas on
// them, and stores the objects.
func (u *unpacker) resolve() (*memory.Storage, error) {
	byBaseOffset := map[int64][]*entry{}
	byBaseHash := map[plumbing.Hash][]*entry{}
	for _, d := range u.deltas {
		if d.ofs {
			if _, ok := u.byOffset[d.baseOffset]; !ok {
				return nil, fmt.Errorf("malformed pack: no object at offset %d, the base of the delta at %d", d.baseOffset, d.offset)
			}
			byBaseOffset[d.baseOffset] = append(byBaseOffset[d.baseOffset], d)
		} else {
			byBaseHash[d.baseHash] = append(byBaseHash[d.baseHash], d)
		}
	}
	s := memory.NewStorage()
	queue := u.bases
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if _, err := s.SetEncodedObject(e.obj); err != nil {
			return nil, err
		}
		children := slices.Concat(byBaseOffset[e.offset], byBaseHash[e.obj.hash])
		delete(byBaseOffset, e.offset)
		delete(byBaseHash, e.obj.hash)
		for _, d := range children {
			obj, err := u.patch(e.obj, d.delta)
			if err != nil {
				return nil, fmt.Errorf("delta at offset %d: %w", d.offset, err)
			}
			d.obj, d.delta = obj, nil
			queue = append(queue, d)
		}
	}
	if len(byBaseHash) > 0 || len(byBaseOffset) > 0 {
		// The bases of a thin pack, or deltas on each other in a loop.
		return nil, failf(ErrUnavailable, "the server sent an incomplete pack: the base of a delta is missing")
	}
	return s, nil
}

// patch applies delta, in git's format, to base: the size of the result is
// charged before it is built, and every write checks ctx.
func (u *unpacker) patch(base *packedObject, delta *content) (*packedObject, error) {
	r := bufio.NewReader(io.NewSectionReader(delta, 0, delta.size))
	srcSize, err := readVarint(r)
	if err != nil {
		return nil, err
	}
	if srcSize != base.content.size {
		return nil, fmt.Errorf("malformed pack: a delta is for a base of %d bytes, not %d", srcSize, base.content.size)
	}
	size, err := readVarint(r)
	if err != nil {
		return nil, err
	}
	if err := u.take(size); err != nil {
		return nil, err
	}
	c := &content{limit: size}
	hasher := plumbing.NewHasher(base.typ, size)
	w := io.MultiWriter(&sink{ctx: u.ctx, w: c}, hasher)
	for c.size < size {
		cmd, err := r.ReadByte()
		if err != nil {
			return nil, errBadDelta
		}
		switch {
		case cmd&0x80 != 0: // copy from the base
			var off, n int64
			for i := range 4 {
				if cmd&(1<<i) != 0 {
					b, err := r.ReadByte()
					if err != nil {
						return nil, errBadDelta
					}
					off |= int64(b) << (8 * i)
				}
			}
			for i := range 3 {
				if cmd&(0x10<<i) != 0 {
					b, err := r.ReadByte()
					if err != nil {
						return nil, errBadDelta
					}
					n |= int64(b) << (8 * i)
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > srcSize {
				return nil, errBadDelta
			}
			if _, err := io.CopyBuffer(w, io.NewSectionReader(base.content, off, n), u.buf); err != nil {
				return nil, err
			}
		case cmd != 0: // insert the next cmd bytes of the delta
			k, err := io.CopyBuffer(w, io.LimitReader(r, int64(cmd)), u.buf)
			if err != nil {
				return nil, err
			}
			if k < int64(cmd) {
				return nil, errBadDelta
			}
		default:
			return nil, errBadDelta
		}
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		return nil, errBadDelta // instructions left over
	}
	return &packedObject{typ: base.typ, hash: hasher.Sum(), content: c}, nil
}

var errBadDelta = errors.New("malformed pack: invalid delta")

// readVarint reads the little-endian base-128 sizes that start a delta.
func readVarint(r io.ByteReader) (int64, error) {
	var v int64
	for shift := 0; shift < 63; shift += 7 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, errBadDelta
		}
		v |= int64(b&0x7f) << shift
		if b&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errBadDelta
}

// sink passes writes on until ctx is done, so that a deadline stops even
// an object that inflates from bytes already received.
type sink struct {
	ctx context.Context
	w   io.Writer
}

func (s *sink) Write(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	return s.w.Write(p)
}

// chunkSize is the most content allocates at once.
const chunkSize = 1 << 20

// content holds an object's bytes in chunks allocated as bytes arrive, up
// to limit: never a slice sized by a claim, never one copied to grow.
// Every chunk but the last is chunkSize long.
type content struct {
	chunks [][]byte
	size   int64
	limit  int64
}

func (c *content) Write(p []byte) (int, error) {
	if int64(len(p)) > c.limit-c.size {
		return 0, errBeyondClaim
	}
	n := len(p)
	for len(p) > 0 {
		last := len(c.chunks) - 1
		if last < 0 || len(c.chunks[last]) == cap(c.chunks[last]) {
			c.chunks = append(c.chunks, make([]byte, 0, min(chunkSize, c.limit-c.size)))
			last++
		}
		ch := c.chunks[last]
		k := min(len(p), cap(ch)-len(ch))
		c.chunks[last] = append(ch, p[:k]...)
		p = p[k:]
		c.size += int64(k)
	}
	return n, nil
}

func (c *content) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for n < len(p) && off < c.size {
		k := copy(p[n:], c.chunks[off/chunkSize][off%chunkSize:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// packedObject is a fetched object, read-only, whose hash was computed as
// it was inflated.
type packedObject struct {
	typ     plumbing.ObjectType
	hash    plumbing.Hash
	content *content
}

var errReadOnly = errors.New("a fetched object is read-only")

func (o *packedObject) Hash() plumbing.Hash             { return o.hash }
func (o *packedObject) Type() plumbing.ObjectType       { return o.typ }
func (o *packedObject) SetType(plumbing.ObjectType)     {}
func (o *packedObject) Size() int64                     { return o.content.size }
func (o *packedObject) SetSize(int64)                   {}
func (o *packedObject) Writer() (io.WriteCloser, error) { return nil, errReadOnly }

func (o *packedObject) Reader() (io.ReadCloser, error) {
	return io.NopCloser(io.NewSectionReader(o.content, 0, o.content.size)), nil
}
