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

// Package precommit checks the gitseal-scan hook that .pre-commit-hooks.yaml
// offers to the pre-commit framework, by installing it as pre-commit does.
package precommit

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// repoRoot is the repository's top directory, from this package's directory.
const repoRoot = "../.."

// hook is the part of a .pre-commit-hooks.yaml entry this test reads.
type hook struct {
	ID       string `yaml:"id"`
	Entry    string `yaml:"entry"`
	Language string `yaml:"language"`
}

// TestPreCommitInstallsOnlyGitseal installs the hook the way pre-commit
// 4.x does for `language: golang` (pre_commit/languages/golang.py): in a
// copy of the repository, `go install ./...` at its root, with the user's
// environment minus GOBIN and GIT_*. It then checks that exactly one
// program, gitseal, was installed, and that the hook's entry runs it.
//
// Two differences from pre-commit, neither of which changes what `./...`
// matches: GOBIN names the test's directory instead of GOPATH naming a new
// one (a new GOPATH would download every module again), and the copy has
// no .git (no VCS stamp).
func TestPreCommitInstallsOnlyGitseal(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, ".pre-commit-hooks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []hook
	if err := yaml.Unmarshal(raw, &hooks); err != nil {
		t.Fatalf("parse .pre-commit-hooks.yaml: %v", err)
	}
	if len(hooks) != 1 || hooks[0].ID != "gitseal-scan" || hooks[0].Language != "golang" || hooks[0].Entry != "gitseal scan" {
		t.Fatalf(".pre-commit-hooks.yaml: got %+v, want one hook gitseal-scan, language golang, entry \"gitseal scan\"", hooks)
	}

	repo := copyRepository(t)
	gobin := t.TempDir()
	install := exec.Command("go", "install", "./...")
	install.Dir = repo
	install.Env = append(preCommitEnv(os.Environ()), "GOBIN="+gobin, "GOFLAGS=")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./... in a copy of the repository: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(gobin)
	if err != nil {
		t.Fatal(err)
	}
	var installed []string
	for _, e := range entries {
		installed = append(installed, e.Name())
	}
	if len(installed) != 1 || installed[0] != "gitseal" {
		t.Fatalf("go install ./... installed %v, want only [gitseal]: move other main packages into a module of their own (see hack/go.mod)", installed)
	}

	// The entry, as pre-commit runs it: the staged files as arguments.
	dir := t.TempDir()
	plain := filepath.Join(dir, "secret.yaml")
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hook-test-value\n"
	if err := os.WriteFile(plain, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(strings.Fields(hooks[0].Entry)[1:], plain)
	scan := exec.Command(filepath.Join(gobin, "gitseal"), args...)
	out, err := scan.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !bytes.Contains(out, []byte("GS002")) {
		t.Fatalf("%s on a plaintext Secret: %v, want exit status 1 and GS002\n%s", hooks[0].Entry, err, out)
	}
}

// preCommitEnv is env as pre-commit passes it to `go install`, for a user
// who has set neither GOWORK nor GOFLAGS: without GOBIN and the GIT_*
// variables (pre-commit's no_git_env), and without GOWORK and GOFLAGS (the
// Makefile exports GOFLAGS), so that a go.work file in the repository
// would count as it does for such a user.
func preCommitEnv(env []string) []string {
	var kept []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "GOBIN", name == "GOWORK", name == "GOFLAGS":
		case strings.HasPrefix(name, "GIT_") && !strings.HasPrefix(name, "GIT_CONFIG_"):
		default:
			kept = append(kept, kv)
		}
	}
	return kept
}

// copyRepository copies the files git would commit from the working tree
// (tracked, and untracked but not ignored) into a temporary directory, and
// returns it.
func copyRepository(t *testing.T) string {
	t.Helper()
	list := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	list.Dir = repoRoot
	out, err := list.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for _, name := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		src := filepath.Join(repoRoot, name)
		info, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree, not yet in the index
		}
		if err != nil {
			t.Fatal(err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
