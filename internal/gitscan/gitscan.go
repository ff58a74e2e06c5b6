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

// Package gitscan reads the file versions a commit or a range of commits
// would put into Git, for the plaintext scanner. It drives the git command
// line, so it sees exactly what git sees: the index named by GIT_INDEX_FILE
// during a commit, worktrees, alternates and every repository format.
package gitscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Repo is a git repository with a working tree.
type Repo struct {
	root string
}

// ErrNotRepository is returned by Open outside a git working tree.
var ErrNotRepository = errors.New("not inside a git working tree")

// Open finds the repository that holds dir. Errors wrap ErrNotRepository,
// or say that git itself cannot be run.
func Open(ctx context.Context, dir string) (*Repo, error) {
	out, err := run(ctx, dir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		if _, lookErr := exec.LookPath("git"); lookErr != nil {
			return nil, fmt.Errorf("run git: %w", lookErr)
		}
		return nil, fmt.Errorf("%s: %w", dir, ErrNotRepository)
	}
	return &Repo{root: strings.TrimRight(string(out), "\r\n")}, nil
}

// Root returns the top directory of the working tree.
func (r *Repo) Root() string { return r.root }

// Blob is one version of a file.
type Blob struct {
	// Path is slash-separated, relative to the repository root.
	Path string
	// ID is the git object name.
	ID string
	// Commit is the commit that introduced this version, when reading a
	// range; empty for the index.
	Commit string
}

// Staged returns the files in the index that differ from HEAD (all of
// them before the first commit): what the commit being made adds or
// changes. Only regular files: symbolic links and submodules hold no text
// of their own.
func (r *Repo) Staged(ctx context.Context) ([]Blob, error) {
	out, err := run(ctx, r.root, nil, "diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff", "--diff-filter=ACMRT")
	if err != nil {
		return nil, fmt.Errorf("list staged files: %w", err)
	}
	blobs, err := parseRaw(out, "")
	if err != nil {
		return nil, fmt.Errorf("list staged files: %w", err)
	}
	return blobs, nil
}

// Since returns every file version added or changed by the commits that
// are reachable from HEAD but not from rev, oldest first, each version
// once (with the first commit that introduced it). A secret added in one
// commit and removed in the next is still in the history, so every commit
// of the range counts, not only the end result. Merges are compared with
// each parent, so a conflict resolution is read too.
func (r *Repo) Since(ctx context.Context, rev string) ([]Blob, error) {
	base, err := r.ResolveCommit(ctx, rev)
	if err != nil {
		return nil, err
	}
	commits, err := run(ctx, r.root, nil, "rev-list", "--reverse", "--topo-order", base+"..HEAD")
	if err != nil {
		return nil, fmt.Errorf("list commits since %s: %w", rev, err)
	}
	if len(bytes.TrimSpace(commits)) == 0 {
		return nil, nil
	}
	out, err := run(ctx, r.root, commits, "diff-tree", "--stdin", "-r", "-z", "-m", "--raw", "--no-renames", "--no-abbrev", "--no-ext-diff", "--diff-filter=ACMRT", "--root")
	if err != nil {
		return nil, fmt.Errorf("list changes since %s: %w", rev, err)
	}
	blobs, err := parseRaw(out, "commit")
	if err != nil {
		return nil, fmt.Errorf("list changes since %s: %w", rev, err)
	}
	seen := make(map[string]bool, len(blobs))
	unique := blobs[:0]
	for _, b := range blobs {
		k := b.ID + "\x00" + b.Path
		if !seen[k] {
			seen[k] = true
			unique = append(unique, b)
		}
	}
	return unique, nil
}

// ResolveCommit returns the full name of the commit rev names. rev may not
// start with '-', so it cannot be taken for an option.
func (r *Repo) ResolveCommit(ctx context.Context, rev string) (string, error) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("invalid revision %q", rev)
	}
	out, err := run(ctx, r.root, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("unknown revision %q", rev)
	}
	return strings.TrimSpace(string(out)), nil
}

// Tracked returns the set of paths in the index (treeish "") or in a
// commit's tree.
func (r *Repo) Tracked(ctx context.Context, treeish string) (map[string]bool, error) {
	args := []string{"ls-files", "-z", "--cached"}
	if treeish != "" {
		args = []string{"ls-tree", "-r", "-z", "--name-only", "--full-tree", "--end-of-options", treeish}
	}
	out, err := run(ctx, r.root, nil, args...)
	if err != nil {
		return nil, fmt.Errorf("list tracked files: %w", err)
	}
	paths := map[string]bool{}
	for p := range bytes.SplitSeq(out, []byte{0}) {
		if len(p) > 0 {
			paths[string(p)] = true
		}
	}
	return paths, nil
}

// Ignored returns the untracked paths git ignores (.gitignore, info/exclude
// and core.excludesFile): files by path, and whole ignored directories by
// path with a trailing slash. Such files never go into a commit.
func (r *Repo) Ignored(ctx context.Context) (map[string]bool, error) {
	out, err := run(ctx, r.root, nil, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
	if err != nil {
		return nil, fmt.Errorf("list ignored files: %w", err)
	}
	paths := map[string]bool{}
	for p := range bytes.SplitSeq(out, []byte{0}) {
		if len(p) > 0 {
			paths[string(p)] = true
		}
	}
	return paths, nil
}

// HooksDir returns the directory git runs hooks from (core.hooksPath
// honoured).
func (r *Repo) HooksDir(ctx context.Context) (string, error) {
	out, err := run(ctx, r.root, nil, "rev-parse", "--git-path", "hooks")
	if err != nil {
		return "", fmt.Errorf("find the hooks directory: %w", err)
	}
	dir := strings.TrimRight(string(out), "\r\n")
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(r.root, dir)
	}
	return dir, nil
}

// parseRaw reads `git diff --raw -z` output. With commits set, the output
// is diff-tree --stdin's, where a commit name precedes its entries.
func parseRaw(out []byte, commits string) ([]Blob, error) {
	fields := bytes.Split(out, []byte{0})
	var blobs []Blob
	commit := ""
	for i := 0; i < len(fields); i++ {
		f := string(fields[i])
		switch {
		case f == "":
			continue
		case f[0] != ':':
			if commits == "" {
				return nil, fmt.Errorf("unexpected git output %q", printable(f))
			}
			commit = strings.TrimSpace(f)
			continue
		}
		// :srcmode dstmode srcid dstid status
		meta := strings.Fields(f[1:])
		if len(meta) < 5 || i+1 >= len(fields) {
			return nil, fmt.Errorf("unexpected git output %q", printable(f))
		}
		i++
		path := string(fields[i])
		dstMode, dstID := meta[1], meta[3]
		if dstMode != "100644" && dstMode != "100755" || strings.Trim(dstID, "0") == "" {
			continue
		}
		blobs = append(blobs, Blob{Path: path, ID: dstID, Commit: commit})
	}
	return blobs, nil
}

// ReadBlobs reads the blobs with one `git cat-file --batch`, in order, and
// calls fn with each one's contents, or with tooLarge set (and no data)
// when a blob is larger than maxSize: such a blob is skipped in the
// stream, never held in memory. fn may keep data. An error from fn stops
// the reading and is returned.
func (r *Repo) ReadBlobs(ctx context.Context, ids []string, maxSize int64, fn func(i int, data []byte, size int64, tooLarge bool) error) error {
	if len(ids) == 0 {
		return nil
	}
	cmd := exec.CommandContext(ctx, "git", "-C", r.root, "cat-file", "--batch") //nolint:gosec // G204: fixed arguments; r.root comes from git itself.
	var stdin bytes.Buffer
	for _, id := range ids {
		stdin.WriteString(id)
		stdin.WriteByte('\n')
	}
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("read blobs: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("read blobs: %w", err)
	}
	readErr := readBatch(bufio.NewReaderSize(stdout, 64<<10), len(ids), maxSize, fn)
	if readErr != nil {
		_ = cmd.Process.Kill()
	}
	waitErr := cmd.Wait()
	if readErr != nil {
		return readErr
	}
	if waitErr != nil {
		return fmt.Errorf("read blobs: %w: %s", waitErr, printable(stderr.String()))
	}
	return nil
}

func readBatch(br *bufio.Reader, n int, maxSize int64, fn func(int, []byte, int64, bool) error) error {
	for i := range n {
		header, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("read blobs: %w", err)
		}
		parts := strings.Fields(header)
		if len(parts) != 3 {
			return fmt.Errorf("read blobs: object %s: %s", printable(parts[0]), printable(strings.Join(parts[1:], " ")))
		}
		size, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("read blobs: bad size in %q", printable(header))
		}
		if size > maxSize {
			if _, err := io.CopyN(io.Discard, br, size+1); err != nil {
				return fmt.Errorf("read blobs: %w", err)
			}
			if err := fn(i, nil, size, true); err != nil {
				return err
			}
			continue
		}
		buf := make([]byte, size+1) // the contents and git's trailing newline
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("read blobs: %w", err)
		}
		if err := fn(i, buf[:size], size, false); err != nil {
			return err
		}
	}
	return nil
}

// run runs git in dir and returns its standard output. Errors carry git's
// standard error, which names paths and revisions, never file contents.
func run(ctx context.Context, dir string, stdin []byte, args ...string) ([]byte, error) {
	// Subcommands and options are fixed here; a user's revision only ever
	// follows --end-of-options or is refused when it starts with '-'.
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...) //nolint:gosec // G204: see above.
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s", err, printable(msg))
	}
	return stdout.Bytes(), nil
}

func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
