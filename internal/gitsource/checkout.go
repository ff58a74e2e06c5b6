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
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

const (
	maxTreeDepth  = 256
	maxLinkTarget = 4096
)

// checkoutDir is the directory Fetch writes into, opened as an os.Root so
// that no write can leave it, whatever the tree holds.
type checkoutDir struct {
	root *os.Root
}

func openCheckoutDir(dir string) (*checkoutDir, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("checkout directory: %w", err)
	}
	names, err := readNames(root, 1)
	if err != nil {
		_ = root.Close()
		return nil, fmt.Errorf("checkout directory: %w", err)
	}
	if len(names) > 0 {
		_ = root.Close()
		return nil, fmt.Errorf("checkout directory %s is not empty", dir)
	}
	return &checkoutDir{root: root}, nil
}

// empty removes what a failed checkout wrote.
func (c *checkoutDir) empty() {
	names, _ := readNames(c.root, -1)
	for _, n := range names {
		_ = c.root.RemoveAll(n)
	}
}

func (c *checkoutDir) close() { _ = c.root.Close() }

func readNames(root *os.Root, n int) ([]string, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer func() { _ = d.Close() }()
	names, err := d.Readdirnames(n)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return names, err
}

// treeWriter writes a tree's files under root, counting them against the
// limits as it goes.
type treeWriter struct {
	root     *os.Root
	objects  storer.EncodedObjectStorer
	maxFiles int
	maxBytes int64
	// readOnly writes files without write permission, and takes it from
	// the directories once everything is written.
	readOnly bool

	files int
	bytes int64
	links []symlink
	dirs  []string
}

type symlink struct{ path, target string }

// write writes the tree, and then the symbolic links, each of which must
// resolve inside the root once everything is written.
func (w *treeWriter) write(ctx context.Context, tree *object.Tree) error {
	if err := w.writeTree(ctx, tree, "", 0); err != nil {
		return err
	}
	for _, l := range w.links {
		if err := w.root.Symlink(l.target, l.path); err != nil {
			return w.writeError(l.path, err)
		}
	}
	// Only now that every link exists can a chain of them be followed.
	for _, l := range w.links {
		if _, err := w.root.Stat(l.path); err != nil {
			return failf(ErrRefused, "symbolic link %q -> %q does not resolve to a file or directory inside the checkout", l.path, l.target)
		}
	}
	if w.readOnly {
		for _, d := range append(w.dirs, ".") {
			if err := w.root.Chmod(d, 0o500); err != nil {
				return w.writeError(d, err)
			}
		}
	}
	return nil
}

// removeCheckout removes a checkout directory, read-only or not.
func removeCheckout(dir string) error {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700) //nolint:gosec // G302: a directory only this process uses.
		}
		return nil
	})
	return os.RemoveAll(dir)
}

func (w *treeWriter) writeTree(ctx context.Context, tree *object.Tree, dir string, depth int) error {
	if depth > maxTreeDepth {
		return failf(ErrRefused, "directory %q is nested more than %d deep", dir, maxTreeDepth)
	}
	for _, e := range tree.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := path.Join(dir, e.Name)
		if !safeName(e.Name) {
			return failf(ErrRefused, "unsafe path %q in the tree", p)
		}
		switch e.Mode {
		case filemode.Dir:
			sub, err := object.GetTree(w.objects, e.Hash)
			if err != nil {
				return missing(p, e.Hash)
			}
			if err := w.root.Mkdir(p, 0o700); err != nil {
				return w.writeError(p, err)
			}
			w.dirs = append(w.dirs, p)
			if err := w.writeTree(ctx, sub, p, depth+1); err != nil {
				return err
			}
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			if err := w.writeFile(p, e.Hash); err != nil {
				return err
			}
		case filemode.Symlink:
			if err := w.addLink(p, e.Hash); err != nil {
				return err
			}
		case filemode.Submodule:
			// Submodules are not fetched.
		default:
			return failf(ErrRefused, "%q has unsupported mode %s", p, e.Mode)
		}
	}
	return nil
}

// count charges one file of size bytes against the limits.
func (w *treeWriter) count(p string, size int64) error {
	w.files++
	if w.files > w.maxFiles {
		return failf(ErrTooLarge, "the tree has more than %d files", w.maxFiles)
	}
	if size > w.maxBytes-w.bytes {
		return failf(ErrTooLarge, "the tree has more than %d bytes of content (at %q)", w.maxBytes, p)
	}
	w.bytes += size
	return nil
}

func (w *treeWriter) writeFile(p string, h plumbing.Hash) error {
	blob, err := object.GetBlob(w.objects, h)
	if err != nil {
		return missing(p, h)
	}
	if err := w.count(p, blob.Size); err != nil {
		return err
	}
	r, err := blob.Reader()
	if err != nil {
		return missing(p, h)
	}
	defer func() { _ = r.Close() }()
	perm := os.FileMode(0o600)
	if w.readOnly {
		perm = 0o400
	}
	f, err := w.root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return w.writeError(p, err)
	}
	_, err = io.Copy(f, io.LimitReader(r, blob.Size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return w.writeError(p, err)
	}
	return nil
}

// addLink checks a symbolic link's target and keeps it for later: links
// are written last, so that no file is ever written through one.
func (w *treeWriter) addLink(p string, h plumbing.Hash) error {
	blob, err := object.GetBlob(w.objects, h)
	if err != nil {
		return missing(p, h)
	}
	if blob.Size > maxLinkTarget {
		return failf(ErrRefused, "symbolic link %q has a target longer than %d bytes", p, maxLinkTarget)
	}
	if err := w.count(p, blob.Size); err != nil {
		return err
	}
	r, err := blob.Reader()
	if err != nil {
		return missing(p, h)
	}
	target, err := io.ReadAll(io.LimitReader(r, maxLinkTarget))
	_ = r.Close()
	if err != nil {
		return missing(p, h)
	}
	t := string(target)
	if !linkStaysInside(p, t) {
		return failf(ErrRefused, "symbolic link %q -> %q points outside the checkout", p, t)
	}
	w.links = append(w.links, symlink{path: p, target: t})
	return nil
}

// linkStaysInside reports whether target, read relative to the directory of
// the link at p, names a path inside the checkout without following any
// link. Chains of links are checked after they are written.
func linkStaysInside(p, target string) bool {
	if target == "" || strings.ContainsRune(target, 0) || path.IsAbs(target) {
		return false
	}
	resolved := path.Join(path.Dir(p), target)
	return resolved != ".." && !strings.HasPrefix(resolved, "../")
}

// safeName accepts a tree entry's name that makes one plain path element
// and is not git's own directory.
func safeName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		!strings.ContainsAny(name, "/\x00") && !strings.EqualFold(name, ".git")
}

func missing(p string, h plumbing.Hash) error {
	return failf(ErrUnavailable, "the server sent an incomplete pack: object %s for %q is missing", h, p)
}

func (w *treeWriter) writeError(p string, err error) error {
	if errors.Is(err, fs.ErrExist) {
		return failf(ErrRefused, "%q appears twice in the tree", p)
	}
	return failf(ErrUnavailable, "write %q: %v", p, err)
}
