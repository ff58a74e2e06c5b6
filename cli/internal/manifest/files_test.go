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

package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCheckSecretFile: plaintext and private keys are not written inside
// a Git working tree without --force, whatever the depth (issue 11,
// item 1).
func TestCheckSecretFile(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	for _, d := range []string{filepath.Join(repo, ".git"), filepath.Join(repo, "a", "b"), filepath.Join(dir, "outside")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A worktree or submodule has a .git file, not a directory.
	sub := filepath.Join(dir, "worktree")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, ".git"), []byte("gitdir: /elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		force   bool
		wantErr bool
	}{
		{"a file at the root of a working tree is refused", filepath.Join(repo, "x.yaml"), false, true},
		{"a file deep in a working tree is refused", filepath.Join(repo, "a", "b", "x.yaml"), false, true},
		{"a file in a linked worktree is refused", filepath.Join(sub, "x.yaml"), false, true},
		{"--force allows a working tree", filepath.Join(repo, "x.yaml"), true, false},
		{"a file outside any working tree is allowed", filepath.Join(dir, "outside", "x.yaml"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSecretFile(tt.path, "plaintext", tt.force)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckSecretFile(%s, force=%v) = %v", tt.path, tt.force, err)
			}
		})
	}
}

// TestCreateSecretFile: the file is new, 0600, and an existing one is
// left alone.
func TestCreateSecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.yaml")
	if err := CreateSecretFile(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", info, err)
	}
	if err := CreateSecretFile(path, []byte("second")); err == nil {
		t.Fatal("an existing file was replaced")
	}
	if data, _ := os.ReadFile(path); string(data) != "first" {
		t.Errorf("the existing file changed: %q", data)
	}
}
