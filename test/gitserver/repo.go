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

// Package gitserver serves bare Git repositories over smart HTTP and SSH with
// the real git binary, so tests of the Git source engine talk to the same
// server code as production Git hosts do.
package gitserver

import (
	"bytes"
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a bare repository under a server root, with a scratch work tree
// that commits are made in and pushed from.
type Repo struct {
	// Dir is the bare repository, <root>/<name>.git.
	Dir  string
	work string
	env  []string
}

// Extra adds an entry that a plain file map cannot express to a commit.
type Extra struct {
	path       string
	linkTarget string
	executable bool
	submodule  string // the commit a gitlink points to
}

// Symlink adds a symbolic link at path, pointing to target, to a commit.
func Symlink(path, target string) Extra {
	return Extra{path: path, linkTarget: target}
}

// Submodule adds a submodule entry (a gitlink, mode 160000) at path,
// pointing to commit sha of some other repository, to a commit. No
// .gitmodules is written.
func Submodule(path, sha string) Extra {
	return Extra{path: path, submodule: sha}
}

// Executable marks the file at path, which must be in the commit's files, as
// executable (mode 100755).
func Executable(path string) Extra {
	return Extra{path: path, executable: true}
}

// NewRepo creates the bare repository <root>/<name>.git whose default branch
// is main. The test fails when git cannot be run.
func NewRepo(t testing.TB, root, name string) *Repo {
	t.Helper()
	git := gitPath(t)
	r := &Repo{
		Dir:  filepath.Join(root, name+".git"),
		work: t.TempDir(),
		env:  gitEnv(t.TempDir()),
	}
	if err := os.MkdirAll(filepath.Dir(r.Dir), 0o750); err != nil {
		t.Fatalf("gitserver: create %s: %v", filepath.Dir(r.Dir), err)
	}
	runGit(t, git, r.env, "", "init", "--quiet", "--bare", "--initial-branch=main", r.Dir)
	runGit(t, git, r.env, r.work, "init", "--quiet", "--initial-branch=main")
	runGit(t, git, r.env, r.work, "remote", "add", "origin", r.Dir)
	return r
}

// Commit replaces the tree of main with exactly files (slash-separated path
// to content; parent directories are created) plus extras, commits it with
// message and pushes it. An empty map commits an empty tree. It returns the
// commit's SHA-1.
func (r *Repo) Commit(t testing.TB, files map[string]string, message string, extras ...Extra) string {
	t.Helper()
	git := gitPath(t)
	entries, err := os.ReadDir(r.work)
	if err != nil {
		t.Fatalf("gitserver: read work tree: %v", err)
	}
	for _, e := range entries {
		if e.Name() == ".git" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(r.work, e.Name())); err != nil {
			t.Fatalf("gitserver: clear work tree: %v", err)
		}
	}
	for name, content := range files {
		p := r.workPath(t, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatalf("gitserver: write %s: %v", name, err)
		}
	}
	for _, x := range extras {
		if x.submodule != "" {
			continue // added to the index below: there is no file for it
		}
		p := r.workPath(t, x.path)
		switch {
		case x.executable:
			if _, ok := files[x.path]; !ok {
				t.Fatalf("gitserver: Executable(%q) names no file of the commit", x.path)
			}
			if err := os.Chmod(p, 0o700); err != nil { //nolint:gosec // G302: the executable bit is what this test entry is for.
				t.Fatalf("gitserver: chmod %s: %v", x.path, err)
			}
		default:
			if err := os.Symlink(x.linkTarget, p); err != nil {
				t.Fatalf("gitserver: symlink %s: %v", x.path, err)
			}
		}
	}
	runGit(t, git, r.env, r.work, "add", "--all")
	for _, x := range extras {
		if x.submodule != "" {
			runGit(t, git, r.env, r.work, "update-index", "--add", "--cacheinfo", "160000,"+x.submodule+","+x.path)
		}
	}
	runGit(t, git, r.env, r.work, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message)
	runGit(t, git, r.env, r.work, "push", "--quiet", "origin", "HEAD:refs/heads/main")
	return strings.TrimSpace(runGit(t, git, r.env, r.work, "rev-parse", "HEAD"))
}

// Revert runs `git revert` of commit sha on main, as a user rolls back a
// change, pushes it and returns the new commit's SHA-1.
func (r *Repo) Revert(t testing.TB, sha string) string {
	t.Helper()
	git := gitPath(t)
	runGit(t, git, r.env, r.work, "revert", "--no-edit", sha)
	runGit(t, git, r.env, r.work, "push", "--quiet", "origin", "HEAD:refs/heads/main")
	return strings.TrimSpace(runGit(t, git, r.env, r.work, "rev-parse", "HEAD"))
}

// Tag creates the annotated tag named tag on commit sha in the bare
// repository.
func (r *Repo) Tag(t testing.TB, tag, sha string) {
	t.Helper()
	git := gitPath(t)
	runGit(t, git, r.env, r.work, "tag", "--annotate", "--message", "tag "+tag, tag, sha)
	runGit(t, git, r.env, r.work, "push", "--quiet", "origin", "refs/tags/"+tag)
}

// Branch creates or moves the branch name to commit sha in the bare
// repository.
func (r *Repo) Branch(t testing.TB, name, sha string) {
	t.Helper()
	runGit(t, gitPath(t), r.env, r.work, "push", "--quiet", "--force", "origin", sha+":refs/heads/"+name)
}

// DeleteBranch deletes the branch name from the bare repository.
func (r *Repo) DeleteBranch(t testing.TB, name string) {
	t.Helper()
	runGit(t, gitPath(t), r.env, r.work, "push", "--quiet", "origin", "--delete", "refs/heads/"+name)
}

// Git runs git on the bare repository with stdin, and returns its
// standard output; the test fails when git does.
func (r *Repo) Git(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	return runGitInput(t, gitPath(t), r.env, stdin, append([]string{"--git-dir", r.Dir}, args...)...)
}

// workPath returns the path of a commit entry in the work tree, with its
// parent directories created.
func (r *Repo) workPath(t testing.TB, name string) string {
	t.Helper()
	if !filepath.IsLocal(name) || strings.HasPrefix(name, ".git/") || name == ".git" {
		t.Fatalf("gitserver: %q is not a path inside a work tree", name)
	}
	p := filepath.Join(r.work, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatalf("gitserver: create parent of %s: %v", name, err)
	}
	return p
}

// gitPath finds git and fails the test loudly without it: the servers are
// the real thing or nothing.
func gitPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("gitserver: the git binary is required to serve test repositories and was not found: %v", err)
	}
	return p
}

// gitEnv is the environment for every git process of this package: the
// machine's git settings never apply, and commits are reproducible.
func gitEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env,
		"HOME="+home,
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=gitserver",
		"GIT_AUTHOR_EMAIL=gitserver@example.invalid",
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=gitserver",
		"GIT_COMMITTER_EMAIL=gitserver@example.invalid",
		"GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
	)
}

// runGit runs git with args in dir and returns its standard output; the
// test fails with git's standard error when git does.
func runGit(t testing.TB, git string, env []string, dir string, args ...string) string {
	t.Helper()
	return runGitInput(t, git, env, "", append([]string{"-C", cmp.Or(dir, ".")}, args...)...)
}

// runGitInput runs git with stdin.
func runGitInput(t testing.TB, git string, env []string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(git, args...) //nolint:gosec // G204: tests name the arguments.
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gitserver: git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
