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
	"compress/flate"
	"compress/zlib"
	"crypto/sha1" //nolint:gosec // G505: git names objects by SHA-1.
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Object types of a pack entry, as git numbers them.
const (
	ObjectCommit = 1
	ObjectTree   = 2
	ObjectBlob   = 3
	objectOFS    = 6 // an offset delta
)

// Pack is a pack file written by hand, entry by entry, for tests that need
// what git takes long to make or never makes: a blob that inflates to
// gigabytes from a pack of megabytes, a delta that expands a small blob as
// far, a header that claims another size than its data has.
type Pack struct {
	body    bytes.Buffer // the entries, after the 12-byte header
	entries []packEntry
}

type packEntry struct {
	id     [20]byte
	offset int64
	crc    uint32
}

// Add appends an object of type typ with content, compressed as git does,
// and returns its ID.
func (p *Pack) Add(typ int, content []byte) [20]byte {
	id := objectID(typ, int64(len(content)), bytes.NewReader(content))
	p.AddRaw(typ, int64(len(content)), deflate(content), id)
	return id
}

// AddRaw appends an entry as given: its header says type typ and size
// bytes, zdata is its zlib stream, and the index lists it as id. It
// returns the entry's offset in the pack.
func (p *Pack) AddRaw(typ int, size int64, zdata []byte, id [20]byte) int64 {
	return p.add(entryHeader(typ, size), zdata, id)
}

// AddOffsetDelta appends a delta on the entry at base with the
// instructions delta (see RepeatDelta), listed in the index as id, the ID
// of the object it builds. It returns the entry's offset.
func (p *Pack) AddOffsetDelta(base int64, delta []byte, id [20]byte) int64 {
	offset := int64(12 + p.body.Len())
	h := entryHeader(objectOFS, int64(len(delta)))
	// git's encoding of the distance back to the base: big-endian groups of
	// seven bits, each but the last one less than it says.
	d := offset - base
	enc := []byte{byte(d & 0x7f)}
	for d >>= 7; d > 0; d >>= 7 {
		d--
		enc = append([]byte{0x80 | byte(d&0x7f)}, enc...)
	}
	return p.add(append(h, enc...), deflate(delta), id)
}

func (p *Pack) add(header, zdata []byte, id [20]byte) int64 {
	offset := int64(12 + p.body.Len())
	crc := crc32.NewIEEE()
	_, _ = crc.Write(header)
	_, _ = crc.Write(zdata)
	p.body.Write(header)
	p.body.Write(zdata)
	p.entries = append(p.entries, packEntry{id: id, offset: offset, crc: crc.Sum32()})
	return offset
}

// entryHeader encodes an entry's type and size: four bits of size in the
// first byte, then seven a byte.
func entryHeader(typ int, size int64) []byte {
	b := byte(typ&0x07)<<4 | byte(size&0x0f)
	size >>= 4
	var out []byte
	for size > 0 {
		out = append(out, b|0x80)
		b = byte(size & 0x7f)
		size >>= 7
	}
	return append(out, b)
}

// Bytes returns the pack: header, entries and checksum.
func (p *Pack) Bytes() []byte {
	var out bytes.Buffer
	out.WriteString("PACK")
	_ = binary.Write(&out, binary.BigEndian, [2]uint32{2, uint32(len(p.entries))}) //nolint:gosec // G115: test packs hold a few entries.
	out.Write(p.body.Bytes())
	sum := sha1.Sum(out.Bytes()) //nolint:gosec // G401: git's pack checksum.
	return append(out.Bytes(), sum[:]...)
}

// Install writes the pack and its version-2 index into the bare repository
// dir, where git finds the objects without reading them first.
func (p *Pack) Install(t testing.TB, dir string) {
	t.Helper()
	pack := p.Bytes()
	sum := pack[len(pack)-20:]
	sorted := slices.Clone(p.entries)
	slices.SortFunc(sorted, func(a, b packEntry) int { return bytes.Compare(a.id[:], b.id[:]) })
	var idx bytes.Buffer
	idx.Write([]byte{0xff, 't', 'O', 'c', 0, 0, 0, 2})
	var fanout [256]uint32
	for _, e := range sorted {
		for i := int(e.id[0]); i < 256; i++ {
			fanout[i]++
		}
	}
	_ = binary.Write(&idx, binary.BigEndian, fanout)
	for _, e := range sorted {
		idx.Write(e.id[:])
	}
	for _, e := range sorted {
		_ = binary.Write(&idx, binary.BigEndian, e.crc)
	}
	for _, e := range sorted {
		_ = binary.Write(&idx, binary.BigEndian, uint32(e.offset)) //nolint:gosec // G115: test packs are far below 2 GiB.
	}
	idx.Write(sum)
	idxSum := sha1.Sum(idx.Bytes()) //nolint:gosec // G401: git's index checksum.
	idx.Write(idxSum[:])
	base := filepath.Join(dir, "objects", "pack", "pack-"+hex.EncodeToString(sum))
	if err := os.WriteFile(base+".pack", pack, 0o600); err != nil {
		t.Fatalf("gitserver: write pack: %v", err)
	}
	if err := os.WriteFile(base+".idx", idx.Bytes(), 0o600); err != nil {
		t.Fatalf("gitserver: write pack index: %v", err)
	}
}

// objectID is git's name for an object: the SHA-1 of its type, size and
// content.
func objectID(typ int, size int64, content io.Reader) [20]byte {
	h := sha1.New() //nolint:gosec // G401: git names objects by SHA-1.
	fmt.Fprintf(h, "%s %d\x00", [...]string{ObjectCommit: "commit", ObjectTree: "tree", ObjectBlob: "blob"}[typ], size)
	_, _ = io.Copy(h, content)
	var id [20]byte
	copy(id[:], h.Sum(nil))
	return id
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}

// RepeatDelta returns delta instructions that build a result of size bytes
// by copying all of a base of baseSize bytes (at most 64 KiB) over and
// over: about one byte of instructions for every baseSize bytes built.
func RepeatDelta(baseSize, size int64) []byte {
	varint := func(out []byte, v int64) []byte {
		for v >= 0x80 {
			out = append(out, byte(v)|0x80)
			v >>= 7
		}
		return append(out, byte(v&0x7f))
	}
	out := varint(varint(nil, baseSize), size)
	for left := size; left > 0; left -= min(left, baseSize) {
		n := min(left, baseSize)
		if n == 0x10000 {
			out = append(out, 0x80) // copy from offset 0; no size bytes mean 64 KiB
			continue
		}
		cmd, sizeBytes := byte(0x80), []byte(nil)
		for i := range 3 {
			if b := byte((n >> (8 * i)) & 0xff); b != 0 {
				cmd |= 0x10 << i
				sizeBytes = append(sizeBytes, b)
			}
		}
		out = append(append(out, cmd), sizeBytes...)
	}
	return out
}

// ZeroBlob is a blob of Size zero bytes, ready to pack by hand.
type ZeroBlob struct {
	Size int64
	ID   [20]byte
	// Zlib is its zlib stream, about Size/1000 bytes: two blocks repeated,
	// so that making it costs nothing near the time of compressing Size
	// bytes.
	Zlib []byte
}

// NewZeroBlob makes the blob of size zeros. Its ID takes hashing size
// bytes: about a second for 2 GiB.
func NewZeroBlob(size int64) ZeroBlob {
	const chunk = 1 << 20
	zeros := make([]byte, chunk)
	z := ZeroBlob{Size: size, ID: objectID(ObjectBlob, size, io.LimitReader(zeroReader{}, size))}
	var out bytes.Buffer
	out.Write([]byte{0x78, 0x01})
	// A run of zeros compresses to blocks that refer back only to zeros:
	// the first from an empty window, every later one from a window of
	// zeros, so one such block stands for any number of chunks.
	block := func(n int64, window []byte) []byte {
		var b bytes.Buffer
		w, _ := flate.NewWriterDict(&b, flate.BestCompression, window)
		_, _ = w.Write(zeros[:n])
		_ = w.Flush()
		return b.Bytes()
	}
	first := min(size, chunk)
	out.Write(block(first, nil))
	left := size - first
	if full := left / chunk; full > 0 {
		out.Write(bytes.Repeat(block(chunk, zeros[:32<<10]), int(full)))
	}
	if rest := left % chunk; rest > 0 {
		out.Write(block(rest, zeros[:32<<10]))
	}
	out.Write([]byte{0x01, 0x00, 0x00, 0xff, 0xff}) // an empty final block
	// Adler-32 of n zeros: a stays 1, b sums a over every byte.
	_ = binary.Write(&out, binary.BigEndian, uint32(size%adlerMod&0xffff)<<16|1)
	z.Zlib = out.Bytes()
	return z
}

const adlerMod = 65521

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// NewZeroBlobRepo creates the bare repository <root>/<name>.git whose main
// branch is one commit of one file, zeros.bin, holding blob, and returns
// the commit's ID. The objects are packed by hand, so that neither making
// the repository nor serving it inflates the blob. With asDelta, zeros.bin
// is stored as a delta that copies base.bin, 64 KiB of zeros and also in
// the commit, over and over: a few KiB that build the whole blob.
func NewZeroBlobRepo(t testing.TB, root, name string, blob ZeroBlob, asDelta bool) string {
	t.Helper()
	git := gitPath(t)
	dir := filepath.Join(root, name+".git")
	env := gitEnv(t.TempDir())
	runGit(t, git, env, "", "init", "--quiet", "--bare", "--initial-branch=main", dir)

	var p Pack
	var tree bytes.Buffer
	if asDelta {
		const baseSize = 1 << 16
		base := make([]byte, baseSize)
		baseID := objectID(ObjectBlob, baseSize, bytes.NewReader(base))
		off := p.AddRaw(ObjectBlob, baseSize, deflate(base), baseID)
		p.AddOffsetDelta(off, RepeatDelta(baseSize, blob.Size), blob.ID)
		fmt.Fprintf(&tree, "100644 base.bin\x00%s", baseID[:])
	} else {
		p.AddRaw(ObjectBlob, blob.Size, blob.Zlib, blob.ID)
	}
	fmt.Fprintf(&tree, "100644 zeros.bin\x00%s", blob.ID[:])
	treeID := p.Add(ObjectTree, tree.Bytes())
	who := "gitserver <gitserver@example.invalid> 1767225600 +0000"
	commit := fmt.Sprintf("tree %x\nauthor %s\ncommitter %s\n\n%d bytes of zeros\n", treeID, who, who, blob.Size)
	commitID := p.Add(ObjectCommit, []byte(commit))
	p.Install(t, dir)
	id := hex.EncodeToString(commitID[:])
	runGit(t, git, env, "", "--git-dir", dir, "update-ref", "refs/heads/main", id)
	if got := strings.TrimSpace(runGit(t, git, env, "", "--git-dir", dir, "cat-file", "-s", "main:zeros.bin")); got != fmt.Sprint(blob.Size) {
		t.Fatalf("gitserver: git sees zeros.bin with %s bytes, want %d", got, blob.Size)
	}
	return id
}
