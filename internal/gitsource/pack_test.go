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
	"compress/zlib"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"

	"github.com/gitseal/gitseal/test/gitserver"
)

// TestUnpackReadsWhatGitPacks: every object of a history that git packs
// with offset deltas, and with reference deltas, comes out with git's ID.
func TestUnpackReadsWhatGitPacks(t *testing.T) {
	repo := gitserver.NewRepo(t, t.TempDir(), "history")
	var lines []string
	for i := range 400 {
		lines = append(lines, fmt.Sprintf("line %d of a file that changes a little at every commit", i))
	}
	for i := range 5 {
		lines[i*50] = fmt.Sprintf("changed in commit %d", i)
		repo.Commit(t, map[string]string{
			"config.yaml":       strings.Join(lines, "\n"),
			fmt.Sprint(i, ".t"): strings.Repeat("x", i),
		}, fmt.Sprint("commit ", i))
	}
	want := map[plumbing.Hash]int64{}
	var list strings.Builder
	for line := range strings.SplitSeq(strings.TrimSpace(repo.Git(t, "", "rev-list", "--objects", "--all")), "\n") {
		id, _, _ := strings.Cut(line, " ") // and the path
		list.WriteString(id + "\n")
	}
	for line := range strings.SplitSeq(strings.TrimSpace(repo.Git(t, list.String(), "cat-file", "--batch-check=%(objectname) %(objectsize)")), "\n") {
		var id string
		var size int64
		if _, err := fmt.Sscan(line, &id, &size); err != nil {
			t.Fatalf("cat-file line %q: %v", line, err)
		}
		want[plumbing.NewHash(id)] = size
	}

	tests := []struct {
		name  string
		flags []string
		delta plumbing.ObjectType
	}{
		{"offset deltas", []string{"--delta-base-offset"}, plumbing.OFSDeltaObject},
		{"reference deltas", nil, plumbing.REFDeltaObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pack := []byte(repo.Git(t, "main\n", append([]string{"pack-objects", "--stdout", "--revs", "-q"}, tt.flags...)...))
			if n := countEntries(t, pack, tt.delta); n == 0 {
				t.Fatalf("git packed no %s: the test shows nothing", tt.delta)
			}
			s, err := unpack(context.Background(), bytes.NewReader(pack), 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Objects) != len(want) {
				t.Errorf("unpacked %d objects, git has %d", len(s.Objects), len(want))
			}
			for id, size := range want {
				o, err := s.EncodedObject(plumbing.AnyObject, id)
				if err != nil {
					t.Errorf("object %s is missing", id)
					continue
				}
				if o.Size() != size {
					t.Errorf("object %s has %d bytes, git says %d", id, o.Size(), size)
				}
			}
		})
	}
}

// countEntries counts the entries of type typ in pack.
func countEntries(t *testing.T, pack []byte, typ plumbing.ObjectType) int {
	t.Helper()
	s := packfile.NewScanner(bytes.NewBuffer(pack))
	_, count, err := s.Header()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range count {
		h, err := s.NextObjectHeader()
		if err != nil {
			t.Fatal(err)
		}
		if h.Type == typ {
			n++
		}
		if _, _, err := s.NextObject(io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestUnpackStopsAtTheBudget: objects are charged as their headers claim,
// before they are inflated, so a pack that would take more memory than the
// budget is refused with little of it allocated. (RELIABILITY: Git, byte
// budget; C4, so that one repository cannot take the controller down.)
func TestUnpackStopsAtTheBudget(t *testing.T) {
	const budget = 1 << 20
	zeros := func(n int) []byte { return make([]byte, n) }
	blob := func(p *gitserver.Pack, n int) { p.Add(gitserver.ObjectBlob, zeros(n)) }
	tests := []struct {
		name    string
		pack    func(p *gitserver.Pack)
		wantErr error // nil: the pack fits
		// allocates says whether allocations stay within twice the
		// budget: not for many small objects, each of which allocates a
		// hasher that is garbage at once.
		bounded bool
	}{
		{"a blob over the budget is refused", func(p *gitserver.Pack) { blob(p, 4<<20) }, ErrTooLarge, true},
		{"blobs that fit one by one but not together are refused", func(p *gitserver.Pack) {
			for range 3 {
				blob(p, 400<<10)
			}
		}, ErrTooLarge, true},
		{"a delta that would expand past the budget is refused", func(p *gitserver.Pack) {
			base := p.AddRaw(gitserver.ObjectBlob, 1<<16, deflateBytes(zeros(1<<16)), [20]byte{})
			p.AddOffsetDelta(base, gitserver.RepeatDelta(1<<16, 1<<30), [20]byte{})
		}, ErrTooLarge, true},
		{"many empty blobs are refused for what indexing them takes", func(p *gitserver.Pack) {
			empty := deflateBytes(nil)
			for range budget/objectOverhead + 1 {
				p.AddRaw(gitserver.ObjectBlob, 0, empty, [20]byte{})
			}
		}, ErrTooLarge, false},
		{"objects that take exactly the budget fit", func(p *gitserver.Pack) {
			blob(p, budget-2*objectOverhead-1000)
			blob(p, 1000)
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p gitserver.Pack
			tt.pack(&p)
			pack := p.Bytes()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := unpack(context.Background(), bytes.NewReader(pack), budget)
			runtime.ReadMemStats(&after)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("unpack: %v, want %v", err, tt.wantErr)
			}
			// The pack itself is read through a 4 KiB buffer; what is
			// allocated besides is the objects that fitted.
			if alloc := after.TotalAlloc - before.TotalAlloc; tt.bounded && alloc > 2*budget {
				t.Errorf("unpack allocated %d bytes on a budget of %d", alloc, budget)
			}
		})
	}
}

func deflateBytes(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}

// TestUnpackRefusesMalformedPacks: a pack whose headers lie, or whose
// deltas do not fit their bases, is an error, not a crash and not a bigger
// allocation.
func TestUnpackRefusesMalformedPacks(t *testing.T) {
	z := deflateBytes(make([]byte, 1000))
	tests := []struct {
		name string
		pack func(p *gitserver.Pack)
		want string
	}{
		{"a blob with more data than its header claims", func(p *gitserver.Pack) {
			p.AddRaw(gitserver.ObjectBlob, 10, z, [20]byte{})
		}, "larger than its header says"},
		{"a blob with less data than its header claims", func(p *gitserver.Pack) {
			p.AddRaw(gitserver.ObjectBlob, 5000, z, [20]byte{})
		}, "its header says 5000"},
		{"a delta whose base is not in the pack", func(p *gitserver.Pack) {
			p.AddRaw(gitserver.ObjectBlob, 1000, z, [20]byte{})
			p.AddOffsetDelta(13, gitserver.RepeatDelta(1000, 2000), [20]byte{})
		}, "no object at offset 13"},
		{"a delta for a base of another size", func(p *gitserver.Pack) {
			p.AddRaw(gitserver.ObjectBlob, 1000, z, [20]byte{})
			p.AddOffsetDelta(12, gitserver.RepeatDelta(999, 2000), [20]byte{})
		}, "a delta is for a base of 999 bytes"},
		{"a delta that copies past the end of its base", func(p *gitserver.Pack) {
			// Sizes 1000 and 1000, then: copy 16 bytes from offset 1023.
			delta := append(gitserver.RepeatDelta(1000, 1000)[:4], 0x80|0x01|0x02|0x10, 0xff, 0x03, 0x10)
			p.AddRaw(gitserver.ObjectBlob, 1000, z, [20]byte{})
			p.AddOffsetDelta(12, delta, [20]byte{})
		}, "invalid delta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p gitserver.Pack
			tt.pack(&p)
			_, err := unpack(context.Background(), bytes.NewReader(p.Bytes()), 1<<20)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("unpack: %v, want an error saying %q", err, tt.want)
			}
			if errors.Is(err, ErrTooLarge) {
				t.Errorf("a malformed pack is not too large: %v", err)
			}
		})
	}
}

// TestUnpackStopsAtTheDeadline: an object inflating from bytes already
// received stops at the deadline, not when it is whole. (RELIABILITY: Git,
// a total deadline on every fetch.)
func TestUnpackStopsAtTheDeadline(t *testing.T) {
	var p gitserver.Pack
	p.Add(gitserver.ObjectBlob, make([]byte, 16<<20))
	pack := p.Bytes()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancelled once a quarter of the pack is read: the blob has begun to
	// inflate, and the rest of its stream is at hand.
	r := &cancellingReader{r: bytes.NewReader(pack), after: len(pack) / 4, cancel: cancel}
	_, err := unpack(ctx, r, 1<<30)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("unpack: %v, want the context's error", err)
	}
}

type cancellingReader struct {
	r      io.Reader
	after  int
	read   int
	cancel func()
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p[:min(len(p), 512)])
	c.read += n
	if c.read >= c.after {
		c.cancel()
	}
	return n, err
}

// FuzzUnpack feeds unpack packs with a valid checksum, so that mutations
// reach the objects and the deltas: it must never panic, and what it
// accepts fits the budget.
func FuzzUnpack(f *testing.F) {
	const budget = 1 << 20
	var whole gitserver.Pack
	blob := whole.Add(gitserver.ObjectBlob, []byte("kind: ConfigMap\n"))
	tree := whole.Add(gitserver.ObjectTree, append([]byte("100644 a.yaml\x00"), blob[:]...))
	whole.Add(gitserver.ObjectCommit, fmt.Appendf(nil, "tree %x\n\nmessage\n", tree))
	var delta gitserver.Pack
	base := delta.AddRaw(gitserver.ObjectBlob, 1000, deflateBytes(make([]byte, 1000)), [20]byte{})
	delta.AddOffsetDelta(base, gitserver.RepeatDelta(1000, 5500), [20]byte{})
	for _, p := range []*gitserver.Pack{&whole, &delta} {
		b := p.Bytes()
		f.Add(b[:len(b)-20])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sum := sha1.Sum(body)
		s, err := unpack(context.Background(), bytes.NewReader(append(body, sum[:]...)), budget)
		if err != nil {
			return
		}
		var total int64
		for _, o := range s.Objects {
			total += o.Size() + objectOverhead
		}
		if total > budget {
			t.Errorf("unpack accepted %d bytes of objects on a budget of %d", total, budget)
		}
	})
}
