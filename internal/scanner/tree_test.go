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
	"os"
	"path/filepath"
	"testing"
)

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLocate(t *testing.T) {
	base := t.TempDir()
	repo, other, loose := filepath.Join(base, "repo"), filepath.Join(base, "other"), filepath.Join(base, "loose")
	mkdirs(t, filepath.Join(repo, "apps", "prod"), other, filepath.Join(loose, "a"), filepath.Join(loose, "b"))
	writeFiles(t, loose, map[string]string{"a/x.yaml": "a: 1\n"})
	gitRepo(t, repo)
	gitRepo(t, other)
	t.Chdir(filepath.Join(repo, "apps"))

	cases := []struct {
		name     string
		paths    []string
		root     string // "" means an error
		start    string
		repoRoot bool
	}{
		{"no path is the working directory, in its repository", nil, repo, filepath.Join(repo, "apps"), true},
		{"a relative path is rooted at its repository's top", []string{"prod"}, repo, filepath.Join(repo, "apps", "prod"), true},
		{"an absolute path is rooted at its repository's top", []string{filepath.Join(repo, "apps", "prod")}, repo, filepath.Join(repo, "apps", "prod"), true},
		{"a directory outside a repository is its own root", []string{filepath.Join(loose, "a")}, filepath.Join(loose, "a"), filepath.Join(loose, "a"), false},
		{"a file outside a repository is rooted at its directory", []string{filepath.Join(loose, "a", "x.yaml")}, filepath.Join(loose, "a"), filepath.Join(loose, "a"), false},
		{"directories outside a repository are rooted where they meet", []string{filepath.Join(loose, "a"), filepath.Join(loose, "b")}, loose, filepath.Join(loose, "a"), false},
		{"paths in two repositories are an error", []string{".", other}, "", "", false},
		{"a path outside the first one's repository is an error", []string{".", loose}, "", "", false},
		{"a repository path after one outside any is an error", []string{loose, "."}, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := Locate(context.Background(), tc.paths)
			if tc.root == "" {
				if err == nil {
					t.Fatalf("Locate(%q) = root %s, want an error", tc.paths, tree.Root)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tree.Root != tc.root || tree.Start != tc.start || (tree.Repo != nil) != tc.repoRoot {
				t.Errorf("Locate(%q) = root %s, start %s, repository %t; want %s, %s, %t",
					tc.paths, tree.Root, tree.Start, tree.Repo != nil, tc.root, tc.start, tc.repoRoot)
			}
		})
	}
}

func TestInGit(t *testing.T) {
	top := t.TempDir()
	writeFiles(t, top, map[string]string{
		".gitignore":        "*.local\nbuild/\n",
		"tracked.env":       "A=1\n",
		"forced.local":      "A=1\n",
		"new.env":           "A=1\n",
		"ignored.local":     "A=1\n",
		"build/out.env":     "A=1\n",
		"apps/build/x.env":  "A=1\n",
		"apps/deep/new.env": "A=1\n",
	})
	git := gitRepo(t, top)
	git("add", ".gitignore", "tracked.env")
	git("add", "-f", "forced.local")
	tree, err := Locate(context.Background(), []string{top})
	if err != nil {
		t.Fatal(err)
	}
	plain := t.TempDir()
	writeFiles(t, plain, map[string]string{".gitignore": "*.local\n", "ignored.local": "A=1\n"})
	plainTree, err := Locate(context.Background(), []string{plain})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tree *Tree
		path string
		want bool
	}{
		{"a tracked file goes into Git", tree, "tracked.env", true},
		{"a tracked file git would ignore goes into Git", tree, "forced.local", true},
		{"an untracked file git does not ignore goes into Git", tree, "new.env", true},
		{"an untracked file deep down goes into Git", tree, "apps/deep/new.env", true},
		{"an ignored file does not", tree, "ignored.local", false},
		{"a file in an ignored directory does not", tree, "build/out.env", false},
		{"a file in a nested ignored directory does not", tree, "apps/build/x.env", false},
		{"a missing file does not", tree, "missing.env", false},
		{"outside a repository a file on disk does, whatever .gitignore says", plainTree, "ignored.local", true},
		{"outside a repository a missing file does not", plainTree, "missing.env", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tree.InGit(tc.path); got != tc.want {
				t.Errorf("InGit(%q) = %t, want %t", tc.path, got, tc.want)
			}
		})
	}
}
