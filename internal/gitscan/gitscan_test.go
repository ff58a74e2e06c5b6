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

package gitscan

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testRepo is a git repository in a temporary directory, with git's
// configuration isolated from the machine's.
type testRepo struct {
	t   *testing.T
	dir string
}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required: %v", err)
	}
	home := t.TempDir()
	for k, v := range map[string]string{
		"GIT_CONFIG_GLOBAL": filepath.Join(home, "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1", "HOME": home,
		"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
	} {
		t.Setenv(k, v)
	}
	r := &testRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *testRepo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

func (r *testRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		r.write(name, content)
		r.git("add", name)
	}
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func contents(t *testing.T, repo *Repo, blobs []Blob) map[string]string {
	t.Helper()
	ids := make([]string, len(blobs))
	for i, b := range blobs {
		ids[i] = b.ID
	}
	out := map[string]string{}
	err := repo.ReadBlobs(context.Background(), ids, 1<<20, func(i int, data []byte, _ int64, tooLarge bool) error {
		if tooLarge {
			out[blobs[i].Path] = "(too large)"
		} else {
			out[blobs[i].Path+"@"+shortID(blobs[i].Commit)] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func shortID(s string) string { return s[:min(7, len(s))] }

func TestStagedReadsTheIndexNotTheWorkingTree(t *testing.T) {
	r := newTestRepo(t)
	r.commit("first", map[string]string{"same.yaml": "a\n", "changed.yaml": "v1\n"})
	r.write("changed.yaml", "v2\n")
	r.write("new.yaml", "new\n")
	r.git("add", "changed.yaml", "new.yaml")
	r.write("changed.yaml", "v3 not staged\n")
	r.write("untracked.yaml", "x\n")
	if err := os.Symlink("same.yaml", filepath.Join(r.dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	r.git("add", "link.yaml")

	repo, err := Open(context.Background(), filepath.Join(r.dir))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := repo.Staged(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := contents(t, repo, blobs)
	want := map[string]string{"changed.yaml@": "v2\n", "new.yaml@": "new\n"}
	if !mapsEqual(got, want) {
		t.Errorf("staged = %q, want %q", got, want)
	}
}

func TestStagedBeforeTheFirstCommitIsEverything(t *testing.T) {
	r := newTestRepo(t)
	r.write("a.yaml", "a\n")
	r.git("add", "a.yaml")
	repo, _ := Open(context.Background(), r.dir)
	blobs, err := repo.Staged(context.Background())
	if err != nil || len(blobs) != 1 || blobs[0].Path != "a.yaml" {
		t.Fatalf("Staged = %v, %v", blobs, err)
	}
}

func TestStagedFollowsGitIndexFile(t *testing.T) {
	r := newTestRepo(t)
	r.commit("first", map[string]string{"a.yaml": "a\n"})
	// git commit -a and git commit <paths> run hooks with a temporary index.
	alt := filepath.Join(t.TempDir(), "index")
	r.write("b.yaml", "b\n")
	cmd := exec.Command("git", "-C", r.dir, "add", "b.yaml")
	cmd.Env = append(os.Environ(), "GIT_INDEX_FILE="+alt)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Setenv("GIT_INDEX_FILE", alt)
	repo, _ := Open(context.Background(), r.dir)
	blobs, err := repo.Staged(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, b := range blobs {
		paths = append(paths, b.Path)
	}
	// The alternative index starts empty: a.yaml is "deleted", b.yaml added.
	if !slices.Equal(paths, []string{"b.yaml"}) {
		t.Errorf("staged paths = %q, want [b.yaml]", paths)
	}
}

func TestSinceReadsEveryCommitOfTheRange(t *testing.T) {
	r := newTestRepo(t)
	base := r.commit("base", map[string]string{"old.yaml": "old\n"})
	c1 := r.commit("add a secret", map[string]string{"s.yaml": "secret\n"})
	r.git("rm", "-q", "s.yaml")
	r.commit("remove it again", nil)
	r.git("checkout", "-q", "-b", "side", base)
	c3 := r.commit("side", map[string]string{"side.yaml": "side\n"})
	r.git("checkout", "-q", "main")
	r.git("merge", "-q", "--no-edit", "side")

	repo, _ := Open(context.Background(), r.dir)
	blobs, err := repo.Since(context.Background(), base[:10])
	if err != nil {
		t.Fatal(err)
	}
	got := contents(t, repo, blobs)
	want := map[string]string{"s.yaml@" + shortID(c1): "secret\n", "side.yaml@" + shortID(c3): "side\n"}
	if !mapsEqual(got, want) {
		t.Errorf("since = %q, want %q", got, want)
	}
	if blobs, err := repo.Since(context.Background(), "HEAD"); err != nil || len(blobs) != 0 {
		t.Errorf("Since(HEAD) = %v, %v; want nothing", blobs, err)
	}
}

func TestSinceRefusesBadRevisions(t *testing.T) {
	r := newTestRepo(t)
	r.commit("first", nil)
	repo, _ := Open(context.Background(), r.dir)
	for _, rev := range []string{"", "--output=/tmp/x", "no-such-branch"} {
		if _, err := repo.Since(context.Background(), rev); err == nil {
			t.Errorf("Since(%q) succeeded", rev)
		}
	}
}

func TestReadBlobsSkipsLargeBlobsWithoutHoldingThem(t *testing.T) {
	r := newTestRepo(t)
	r.write("big.txt", strings.Repeat("x", 3<<20))
	r.write("small.txt", "small\n")
	r.git("add", ".")
	repo, _ := Open(context.Background(), r.dir)
	blobs, _ := repo.Staged(context.Background())
	got := contents(t, repo, blobs)
	want := map[string]string{"big.txt": "(too large)", "small.txt@": "small\n"}
	if !mapsEqual(got, want) {
		t.Errorf("got %d entries %v, want %v", len(got), keys(got), keys(want))
	}
}

func TestOpenOutsideARepository(t *testing.T) {
	newTestRepo(t) // isolates git's configuration
	_, err := Open(context.Background(), t.TempDir())
	if !errors.Is(err, ErrNotRepository) {
		t.Errorf("Open = %v, want ErrNotRepository", err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
