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
	"compress/zlib"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestZeroBlobRepoIsWhatGitMakes: git reads the hand-made pack and index
// as its own, and a clone over smart HTTP through git's own server checks
// out the zeros, stored whole and as a delta.
func TestZeroBlobRepoIsWhatGitMakes(t *testing.T) {
	const size = 3<<20 + 12345 // more than one repeated block, and a partial one
	blob := NewZeroBlob(size)
	zr, err := zlib.NewReader(bytes.NewReader(blob.Zlib))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr) // the Adler-32 is checked at the end
	if err != nil || int64(len(got)) != size || bytes.Count(got, []byte{0}) != size {
		t.Fatalf("zlib stream of %d zeros inflates to %d bytes (%d zeros), %v", size, len(got), bytes.Count(got, []byte{0}), err)
	}
	root := t.TempDir()
	for _, name := range []string{"whole", "delta"} {
		t.Run(name, func(t *testing.T) {
			commit := NewZeroBlobRepo(t, root, name, blob, name == "delta")
			env := gitEnv(t.TempDir())
			packs, _ := filepath.Glob(filepath.Join(root, name+".git", "objects", "pack", "*.idx"))
			if len(packs) != 1 {
				t.Fatalf("packs %v", packs)
			}
			out := runGit(t, gitPath(t), env, "", "verify-pack", "-v", packs[0])
			if name == "delta" && !strings.Contains(out, "chain length = 1: 1 object") {
				t.Errorf("zeros.bin is not a delta:\n%s", out)
			}
			dst := filepath.Join(t.TempDir(), "clone")
			cmd := exec.Command(gitPath(t), "clone", "--quiet", "--depth=1", ServeHTTP(t, root, HTTPOptions{})+"/"+name+".git", dst)
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git clone: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(runGit(t, gitPath(t), env, dst, "rev-parse", "HEAD")); got != commit {
				t.Errorf("cloned HEAD %s, want %s", got, commit)
			}
			b, err := os.ReadFile(filepath.Join(dst, "zeros.bin"))
			if err != nil || int64(len(b)) != size || bytes.Count(b, []byte{0}) != size {
				t.Errorf("zeros.bin has %d bytes, %v", len(b), err)
			}
		})
	}
}

// TestZeroBlobOfTwoGiBIsQuickToMake: the fixture of the memory tests costs
// seconds and about 2 MB, not minutes and gigabytes.
func TestZeroBlobOfTwoGiBIsQuickToMake(t *testing.T) {
	start := time.Now()
	blob := NewZeroBlob(2 << 30)
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("making the blob took %v", took)
	}
	if n := len(blob.Zlib); n > 4<<20 {
		t.Errorf("zlib stream of 2 GiB of zeros is %d bytes", n)
	}
	t.Logf("2 GiB of zeros: %d bytes of zlib, made in %v", len(blob.Zlib), time.Since(start))
}
