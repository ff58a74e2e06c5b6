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

package render

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteKustomizationBuildsADirectoryOfPlainManifests(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  a: b\n"
	}
	write("apps/one.yaml", cm("one"))
	write("apps/nested/two.yml", cm("two"))
	write("apps/three.json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"three"}}`)
	write("apps/base/kustomization.yaml", "resources: [four.yaml]\nnamePrefix: k-\n")
	write("apps/base/four.yaml", cm("four"))
	write("apps/values.yaml", "replicas: 3\n")              // not a manifest
	write("apps/.github/workflow.yaml", cm("hidden"))       // hidden
	write("apps/README.md", "apiVersion and kind in prose") // not a manifest extension
	write("apps/.hidden/x.yaml", cm("hidden"))
	if err := os.Symlink("x.yaml", filepath.Join(root, "apps/.hidden/link.yaml")); err != nil { // in a hidden directory
		t.Fatal(err)
	}

	dir := filepath.Join(root, "apps")
	if err := WriteKustomization(root, dir); err != nil {
		t.Fatal(err)
	}
	res, err := Build(t.Context(), root, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range res.Unstructured() {
		names = append(names, u.GetName())
	}
	slices.Sort(names)
	if want := []string{"k-four", "one", "three", "two"}; !slices.Equal(names, want) {
		t.Errorf("built %v, want %v", names, want)
	}
}

func TestWriteKustomizationKeepsAnExistingOne(t *testing.T) {
	dir := t.TempDir()
	const own = "resources: []\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yml"), []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteKustomization(dir, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); !os.IsNotExist(err) {
		t.Error("wrote a second kustomization next to the repository's own")
	}
}

// TestWriteKustomizationAndBuildSeeLinksAlike: a link is followed the same
// way by the generated kustomization and by kustomize, or refused; it never
// makes the set silently smaller. BuildPath, which keeps the generated
// kustomization in memory, gives the same verdict and the same objects and
// writes nothing.
func TestWriteKustomizationAndBuildSeeLinksAlike(t *testing.T) {
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
	}
	tests := []struct {
		name    string
		files   map[string]string
		links   map[string]string // link -> target
		want    []string          // objects built; nil when refused
		refused string            // the path the error names
	}{
		{
			name:  "path that is a link to a directory is followed",
			files: map[string]string{"v2/a.yaml": cm("a"), "v2/b.yaml": cm("b")},
			links: map[string]string{"apps": "v2"},
			want:  []string{"a", "b"},
		},
		{
			name:  "path under a linked directory is followed",
			files: map[string]string{"real/apps/a.yaml": cm("a")},
			links: map[string]string{"env": "real"},
			want:  []string{"a"},
		},
		{
			name:    "link to a directory of manifests is refused",
			files:   map[string]string{"apps/a.yaml": cm("a"), "shared/b.yaml": cm("b")},
			links:   map[string]string{"apps/sub": "../shared"},
			refused: "apps/sub",
		},
		{
			name:    "link to a directory with a kustomization is refused",
			files:   map[string]string{"apps/a.yaml": cm("a"), "base/kustomization.yaml": "resources: [b.yaml]\n", "base/b.yaml": cm("b")},
			links:   map[string]string{"apps/base": "../base"},
			refused: "apps/base",
		},
		{
			name:    "link to a manifest is refused",
			files:   map[string]string{"apps/a.yaml": cm("a"), "shared/b.yaml": cm("b")},
			links:   map[string]string{"apps/b.yaml": "../shared/b.yaml"},
			refused: "apps/b.yaml",
		},
		{
			name:    "link to a manifest beside it is refused",
			files:   map[string]string{"apps/a.yaml": cm("a")},
			links:   map[string]string{"apps/current.yaml": "a.yaml"},
			refused: "apps/current.yaml",
		},
		{
			name:    "link to a file that is not a manifest is refused",
			files:   map[string]string{"apps/a.yaml": cm("a"), "docs/README.md": "read me"},
			links:   map[string]string{"apps/README.md": "../docs/README.md"},
			refused: "apps/README.md",
		},
		{
			name:    "link named kustomization.yaml to a directory is refused, not written through",
			files:   map[string]string{"apps/a.yaml": cm("a"), "other/keep.yaml": cm("keep")},
			links:   map[string]string{"apps/kustomization.yaml": "../other"},
			refused: "apps/kustomization.yaml",
		},
		{
			name:  "kustomization file that is a link is read as the kustomization",
			files: map[string]string{"apps/a.yaml": cm("a"), "apps/b.yaml": cm("b"), "apps/k.yaml": "resources: [a.yaml]\n"},
			links: map[string]string{"apps/kustomization.yaml": "k.yaml"},
			want:  []string{"a"},
		},
		{
			name:  "kustomization may name a linked directory, which kustomize follows",
			files: map[string]string{"apps/kustomization.yaml": "resources: [base]\n", "shared/kustomization.yaml": "resources: [b.yaml]\n", "shared/b.yaml": cm("b")},
			links: map[string]string{"apps/base": "../shared"},
			want:  []string{"b"},
		},
		{
			name:  "link in a subdirectory that has its own kustomization is the kustomization's to name",
			files: map[string]string{"apps/a.yaml": cm("a"), "apps/sub/kustomization.yaml": "resources: [b.yaml]\n", "apps/sub/b.yaml": cm("b")},
			links: map[string]string{"apps/sub/unused.yaml": "b.yaml"},
			want:  []string{"a", "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, content := range tt.files {
				p := filepath.Join(root, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for link, target := range tt.links {
				p := filepath.Join(root, filepath.FromSlash(link))
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.FromSlash(target), p); err != nil {
					t.Fatal(err)
				}
			}
			rel := "apps"
			if _, ok := tt.files["real/apps/a.yaml"]; ok {
				rel = "env/apps"
			}
			dir := filepath.Join(root, filepath.FromSlash(rel))
			_, hadOwn := os.Lstat(filepath.Join(dir, "kustomization.yaml"))
			inMemory, inMemoryErr := BuildPath(t.Context(), root, rel, Options{})
			if _, err := os.Lstat(filepath.Join(dir, "kustomization.yaml")); hadOwn != nil && err == nil {
				t.Fatal("BuildPath wrote a kustomization")
			}
			switch {
			case tt.refused != "":
				if !errors.Is(inMemoryErr, ErrRefused) || !strings.Contains(inMemoryErr.Error(), tt.refused+" is a symbolic link") {
					t.Errorf("BuildPath: error %v, want a refusal naming %s", inMemoryErr, tt.refused)
				}
			case inMemoryErr != nil:
				t.Errorf("BuildPath: %v", inMemoryErr)
			default:
				if got := objectNames(inMemory); !slices.Equal(got, tt.want) {
					t.Errorf("BuildPath built %v, want %v", got, tt.want)
				}
			}
			err := WriteKustomization(root, dir)
			if tt.refused != "" {
				if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.refused+" is a symbolic link") {
					t.Fatalf("error %v, want a refusal naming %s", err, tt.refused)
				}
				if _, err := os.Lstat(filepath.Join(root, "other", "kustomization.yaml")); !os.IsNotExist(err) {
					t.Errorf("wrote through a link: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := Build(t.Context(), root, dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if names := objectNames(res); !slices.Equal(names, tt.want) {
				t.Errorf("built %v, want %v", names, tt.want)
			}
			if inMemory != nil && !bytes.Equal(inMemory.YAML(), res.YAML()) {
				t.Errorf("BuildPath rendered\n%s\nwhile WriteKustomization and Build rendered\n%s", inMemory.YAML(), res.YAML())
			}
		})
	}
}

// objectNames returns the sorted names of the objects built.
func objectNames(res *Result) []string {
	var names []string
	for _, u := range res.Unstructured() {
		names = append(names, u.GetName())
	}
	slices.Sort(names)
	return names
}

func TestBuildPath(t *testing.T) {
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
	}
	tests := []struct {
		name  string
		files map[string]string
		links map[string]string
		path  string
		want  []string
		err   error  // nil when it builds
		msg   string // in the error
	}{
		{
			name:  "directory of plain manifests builds every one",
			files: map[string]string{"apps/a.yaml": cm("a"), "apps/sub/b.yaml": cm("b")},
			path:  "apps",
			want:  []string{"a", "b"},
		},
		{
			name:  "kustomization in the path is used as it is",
			files: map[string]string{"apps/kustomization.yaml": "resources: [a.yaml]\nnamePrefix: p-\n", "apps/a.yaml": cm("a"), "apps/b.yaml": cm("b")},
			path:  "apps",
			want:  []string{"p-a"},
		},
		{
			name:  "leading slash and dot-dot stay under the root",
			files: map[string]string{"apps/a.yaml": cm("a")},
			path:  "/../../apps/",
			want:  []string{"a"},
		},
		{
			name:  "empty path is the root",
			files: map[string]string{"a.yaml": cm("a")},
			path:  "",
			want:  []string{"a"},
		},
		{
			name:  "empty directory builds nothing",
			files: map[string]string{"apps/README.md": "nothing"},
			path:  "apps",
		},
		{
			name:  "missing path is ErrNoPath naming it",
			files: map[string]string{"apps/a.yaml": cm("a")},
			path:  "/missing/",
			err:   ErrNoPath,
			msg:   "path missing does not exist",
		},
		{
			name:  "file instead of a directory is ErrNoPath",
			files: map[string]string{"apps/a.yaml": cm("a")},
			path:  "apps/a.yaml",
			err:   ErrNoPath,
		},
		{
			name:  "path that links out of the root is refused",
			files: map[string]string{"apps/a.yaml": cm("a")},
			links: map[string]string{"out": "../outside"},
			path:  "out",
			err:   ErrRefused,
			msg:   "out is a symbolic link out of the root",
		},
		{
			name:  "kustomization naming a file out of the root is refused",
			files: map[string]string{"apps/kustomization.yaml": "resources: [../../outside/a.yaml]\n"},
			path:  "apps",
			err:   ErrRefused,
			msg:   "outside the root",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			root := filepath.Join(parent, "repo")
			outside := filepath.Join(parent, "outside")
			for _, d := range []string{root, outside} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(outside, "a.yaml"), []byte(cm("outside")), 0o600); err != nil {
				t.Fatal(err)
			}
			for rel, content := range tt.files {
				p := filepath.Join(root, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for link, target := range tt.links {
				if err := os.Symlink(filepath.FromSlash(target), filepath.Join(root, filepath.FromSlash(link))); err != nil {
					t.Fatal(err)
				}
			}
			res, err := BuildPath(t.Context(), root, tt.path, Options{})
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("error %v, want %v with %q", err, tt.err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := objectNames(res); !slices.Equal(got, tt.want) {
				t.Errorf("built %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWriteKustomizationRefusesAPathThatLeavesTheRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "a.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "apps")); err != nil {
		t.Fatal(err)
	}
	err := WriteKustomization(root, filepath.Join(root, "apps"))
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("error %v, want ErrRefused", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "kustomization.yaml")); !os.IsNotExist(err) {
		t.Errorf("wrote outside the root: %v", err)
	}
}
