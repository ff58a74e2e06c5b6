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

// Package scanner runs the plaintext policy over many files: a directory
// tree, the git index, or a range of commits, with a bounded pool of
// workers. It decides nothing itself; internal/policy does.
package scanner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/gitseal/gitseal/internal/gitscan"
	"github.com/gitseal/gitseal/internal/policy"
	"github.com/gitseal/gitseal/internal/repoconfig"
)

// Scanner checks files with a policy.
type Scanner struct {
	// Policy decides. Required.
	Policy *policy.Policy
	// Workers bounds the files checked at once; 0 means twice GOMAXPROCS.
	Workers int
	// Exclude lists slash-separated globs (** spans directories) of paths,
	// relative to the root, that are not checked.
	Exclude []string
	// Ignored, when set, names paths relative to the root that a directory
	// walk skips: files, and directories with a trailing slash. ScanPaths
	// still checks a file named explicitly.
	Ignored map[string]bool
}

// Report is the outcome of a scan.
type Report struct {
	// Findings are sorted by file, commit and line. Allowed findings are
	// included, with Allowed set.
	Findings []policy.Finding
	// Files is the number of files (or file versions) checked, binary
	// ones not included.
	Files int
	// Binary is the number of binary files skipped.
	Binary int
	// Excluded is the number of files skipped by Exclude.
	Excluded int
}

// Failing returns the findings no allowlist accepts: the ones that fail a
// scan.
func (r *Report) Failing() []policy.Finding {
	var out []policy.Finding
	for _, f := range r.Findings {
		if f.Allowed == nil {
			out = append(out, f)
		}
	}
	return out
}

// job is one file to check: its name for findings and how to get its
// contents.
type job struct {
	index  int
	name   string
	commit string
	data   []byte
	size   int64
	large  bool
	path   string // on disk, read by the worker; "" when data is set
}

type result struct {
	index    int
	findings []policy.Finding
	binary   bool
}

// ScanPaths checks files and directory trees on disk. Directories are
// walked without following symbolic links and without entering .git;
// symbolic links are not checked (their target is, where it lives). Names
// in findings are relative to root when the file is inside it, and
// absolute otherwise, so they do not depend on the working directory that
// relative paths are given from. Locate finds the root for a set of paths.
func (s *Scanner) ScanPaths(ctx context.Context, root string, paths []string) (*Report, error) {
	absRoot, err := canonicalDir(root)
	if err != nil {
		return nil, err
	}
	walkPaths := make([]string, len(paths))
	for i, p := range paths {
		if walkPaths[i], err = canonical(p); err != nil {
			return nil, err
		}
	}
	jobs := make(chan job, 256)
	excluded := 0
	walkErr := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(jobs)
		n := 0
		send := func(p string) error {
			name := displayName(absRoot, p)
			if s.excluded(name) {
				excluded++
				return nil
			}
			select {
			case jobs <- job{index: n, name: name, path: p}:
				n++
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		skipDir := func(p string) bool { return s.Ignored[displayName(absRoot, p)+"/"] }
		skipFile := func(p string) bool { return s.Ignored[displayName(absRoot, p)] }
		for _, arg := range walkPaths {
			err := walk(arg, send, skipDir, skipFile)
			if err != nil {
				walkErr <- err
				return
			}
		}
		walkErr <- nil
	}()
	rep, err := s.run(ctx, jobs)
	if werr := <-walkErr; err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	rep.Excluded = excluded
	policy.SortFindings(rep.Findings)
	return rep, nil
}

// walk calls send for every regular file at or under p, except those
// skipped below p.
func walk(p string, send func(string) error, skipDir, skipFile func(string) bool) error {
	info, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if info.Mode().IsRegular() {
		return send(p)
	}
	if !info.IsDir() {
		return nil // symbolic links, devices, sockets
	}
	return filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if q != p && (d.Name() == ".git" || skipDir(q)) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && !skipFile(q) {
			return send(q)
		}
		return nil
	})
}

// displayName names the file at p, an absolute path from canonical, in
// findings: relative to absRoot when inside it, else absolute.
func displayName(absRoot, p string) string {
	if within(absRoot, p) {
		rel, _ := filepath.Rel(absRoot, p)
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}

// within reports whether the absolute path p is dir or below it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// canonical returns p as an absolute, clean path with its symbolic links
// resolved, so that one file has one name whichever working directory and
// whichever path lead to it. A symbolic link named as p itself is kept as
// a link (its directory resolved): it is still not followed. A path that
// cannot be resolved (it does not exist) is only made absolute; reading
// it will report it.
func canonical(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if info, err := os.Lstat(p); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		dir, base := filepath.Split(abs)
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, base), nil
		}
		return abs, nil
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	return abs, nil
}

// canonicalDir returns the directory dir as an absolute, clean path with
// every symbolic link resolved, itself included.
func canonicalDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	return abs, nil
}

func (s *Scanner) excluded(name string) bool {
	for _, pat := range s.Exclude {
		if repoconfig.Match(pat, name) {
			return true
		}
	}
	return false
}

// ScanBlobs checks file versions from a git repository, read with one git
// process while the workers check them. A finding that repeats in later
// versions of a file (same rule, object and value) is reported once, for
// the oldest version: where the secret came in. Telling repeats apart takes
// fingerprints, so the policy needs a baseline (policy.NewBaseline will do).
func (s *Scanner) ScanBlobs(ctx context.Context, repo *gitscan.Repo, blobs []gitscan.Blob) (*Report, error) {
	var todo []gitscan.Blob
	excluded := 0
	for _, b := range blobs {
		if s.excluded(b.Path) {
			excluded++
			continue
		}
		todo = append(todo, b)
	}
	ids := make([]string, len(todo))
	for i, b := range todo {
		ids[i] = b.ID
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, 64)
	readErr := make(chan error, 1)
	go func() {
		defer close(jobs)
		readErr <- repo.ReadBlobs(ctx, ids, s.Policy.MaxFileSize(), func(i int, data []byte, size int64, tooLarge bool) error {
			select {
			case jobs <- job{index: i, name: todo[i].Path, commit: todo[i].Commit, data: data, size: size, large: tooLarge}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	rep, err := s.run(ctx, jobs)
	if rerr := <-readErr; err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	rep.Excluded = excluded
	rep.Findings = oncePerValue(rep.Findings)
	policy.SortFindings(rep.Findings)
	return rep, nil
}

// oncePerValue keeps the first finding of each fingerprint. Findings arrive
// ordered oldest version first.
func oncePerValue(fs []policy.Finding) []policy.Finding {
	seen := map[string]bool{}
	out := fs[:0]
	for _, f := range fs {
		k := f.Fingerprint()
		if k != "" {
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, f)
	}
	return out
}

// run checks the jobs with the worker pool and gathers the findings in job
// order.
func (s *Scanner) run(parent context.Context, jobs <-chan job) (*Report, error) {
	// Twice the CPUs, so reading one file overlaps checking another.
	workers := cmp.Or(s.Workers, 2*runtime.GOMAXPROCS(0))
	results := make(chan result, workers)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				r, err := s.check(j)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					continue
				}
				results <- r
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	var all []result
	rep := &Report{}
	for r := range results {
		all = append(all, r)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := parent.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b result) int { return cmp.Compare(a.index, b.index) })
	for _, r := range all {
		if r.binary {
			rep.Binary++
		} else {
			rep.Files++
		}
		rep.Findings = append(rep.Findings, r.findings...)
	}
	return rep, nil
}

// check checks one file.
func (s *Scanner) check(j job) (result, error) {
	p := s.Policy
	if j.path != "" {
		data, size, large, err := readCapped(j.path, p.MaxFileSize())
		if err != nil {
			return result{}, fmt.Errorf("read %s: %w", j.name, err)
		}
		j.data, j.size, j.large = data, size, large
	}
	var fr policy.FileResult
	if j.large {
		fr.Findings = []policy.Finding{p.FileTooLarge(j.name, j.size)}
	} else {
		fr = p.CheckFile(j.name, j.data)
	}
	for i := range fr.Findings {
		fr.Findings[i].Commit = j.commit
	}
	return result{index: j.index, findings: fr.Findings, binary: fr.Skipped == policy.SkipBinary}, nil
}

// readCapped reads a file unless it is larger than max, in which case only
// its size is returned.
func readCapped(path string, max int64) ([]byte, int64, bool, error) {
	f, err := os.Open(path) //nolint:gosec // G304: scanning the files the user names is the point.
	if err != nil {
		return nil, 0, false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, false, err
	}
	if info.Size() > max {
		return nil, info.Size(), true, nil
	}
	// Read one byte more than the size, to see a file that grew.
	data := make([]byte, info.Size()+1)
	n, err := io.ReadFull(f, data)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, 0, false, err
	}
	if n > int(info.Size()) {
		rest, err := io.ReadAll(io.LimitReader(f, max+1-int64(n)))
		if err != nil {
			return nil, 0, false, err
		}
		data = append(data[:n], rest...)
		n = len(data)
		if int64(n) > max {
			return nil, int64(n), true, nil
		}
	}
	return data[:n], int64(n), false, nil
}
