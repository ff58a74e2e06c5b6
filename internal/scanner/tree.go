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

package scanner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/gitseal/gitseal/internal/gitscan"
)

// Tree is what a scan of files on disk is rooted at: the git working tree
// that holds the paths, or outside a repository, the directory that holds
// them. It depends on the paths alone, never on the working directory they
// are given from, so neither do the names in findings nor the verdict.
type Tree struct {
	// Root is absolute, with symbolic links resolved: the repository's top
	// directory, or outside a repository the deepest directory that holds
	// every path (the path itself when it is one directory). Names in
	// findings are relative to it.
	Root string
	// Start is the first path when it is a directory, else the directory
	// it is in.
	Start string
	// Paths are the paths, absolute, in the form ScanPaths names them.
	Paths []string
	// Repo is the repository; nil outside one.
	Repo *gitscan.Repo
	// Ignored holds the untracked paths git ignores, relative to Root, as
	// Scanner.Ignored wants them; nil outside a repository.
	Ignored map[string]bool
	tracked map[string]bool
}

// ErrNotOneTree is returned by Locate for paths in different repositories,
// or some in a repository and some not.
var ErrNotOneTree = errors.New("paths are not in one tree")

// Locate finds the tree that holds paths; no paths means ".". Relative
// paths are relative to the working directory. Paths in different
// repositories, or some in a repository and some not, are an error that
// wraps ErrNotOneTree; other errors come from git. When git cannot be
// run, every tree is a plain directory.
func Locate(ctx context.Context, paths []string) (*Tree, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	t := &Tree{}
	dirs := make([]string, len(paths))
	for i, p := range paths {
		c, err := canonical(p)
		if err != nil {
			return nil, err
		}
		t.Paths = append(t.Paths, c)
		dirs[i] = c
		if info, err := os.Lstat(c); err != nil || !info.IsDir() {
			dirs[i] = filepath.Dir(c)
		}
	}
	t.Start = dirs[0]

	if repo, err := gitscan.Open(ctx, dirs[0]); err == nil {
		root, err := canonicalDir(repo.Root())
		if err != nil {
			return nil, err
		}
		for i, p := range t.Paths {
			if !within(root, p) {
				return nil, fmt.Errorf("%w: %s is outside the repository %s of %s", ErrNotOneTree, paths[i], root, paths[0])
			}
		}
		if t.tracked, err = repo.Tracked(ctx, ""); err != nil {
			return nil, err
		}
		if t.Ignored, err = repo.Ignored(ctx); err != nil {
			return nil, err
		}
		t.Root, t.Repo = root, repo
		return t, nil
	}

	t.Root = dirs[0]
	outside := map[string]bool{dirs[0]: true}
	for i, dir := range dirs[1:] {
		if !outside[dir] {
			if _, err := gitscan.Open(ctx, dir); err == nil {
				return nil, fmt.Errorf("%w: %s is in a git repository and %s is not", ErrNotOneTree, paths[i+1], paths[0])
			}
			outside[dir] = true
		}
		for !within(t.Root, dir) {
			t.Root = filepath.Dir(t.Root)
		}
	}
	return t, nil
}

// InGit reports whether the file at p, a slash-separated path relative to
// Root, goes into Git from this tree: in a repository, when it is tracked
// in the index, or on disk where git does not ignore it (git add would
// take it); outside a repository, when it is on disk. It is the policy's
// FileExists for a scan of files on disk.
func (t *Tree) InGit(p string) bool {
	if t.tracked[p] {
		return true
	}
	if _, err := os.Lstat(filepath.Join(t.Root, filepath.FromSlash(p))); err != nil {
		return false
	}
	return t.Repo == nil || !t.ignored(p)
}

// ignored reports whether git ignores p or a directory above it.
func (t *Tree) ignored(p string) bool {
	if t.Ignored[p] {
		return true
	}
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		if t.Ignored[d+"/"] {
			return true
		}
	}
	return false
}
