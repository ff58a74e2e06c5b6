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

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// generatorTree is a tree whose secrets come in through kustomize
// secretGenerator files: env files and plain files, tracked, new
// (untracked, not ignored), and ignored by git.
func generatorTree() map[string]string {
	return map[string]string{
		".gitignore":                    "local.env\n",
		"apps/envs/kustomization.yaml":  "secretGenerator:\n- name: db\n  envs: [db.env]\n",
		"apps/envs/db.env":              "PASSWORD=" + scanCanary + "\n",
		"apps/files/kustomization.yaml": "secretGenerator:\n- name: tls\n  files: [key.pem]\n",
		"apps/files/key.pem":            scanCanary + "\n",
		"apps/new/kustomization.yaml":   "secretGenerator:\n- name: new\n  envs: [new.env]\n",
		"apps/new/new.env":              "TOKEN=" + scanCanary + "\n",
		"apps/local/kustomization.yaml": "secretGenerator:\n- name: local\n  envs: [local.env]\n",
		"apps/local/local.env":          "PASSWORD=" + scanCanary + "\n",
	}
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// scanFindings runs gitseal scan from the process's working directory and
// returns its exit code and its findings as "rule file" lines.
func scanFindings(t *testing.T, args ...string) (int, []string) {
	t.Helper()
	stdout, stderr, code := runScan(t, "", nil, append([]string{"-o", "json"}, args...)...)
	assertNoScanCanary(t, stdout, stderr)
	if code == ExitFailure {
		return code, []string{"error: " + stderr}
	}
	var rep struct {
		Findings []struct{ Rule, File string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("scan %q: output is not JSON: %v\n%s", args, err, stdout)
	}
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Rule+" "+f.File)
	}
	return code, out
}

// cwdCase is one working directory to scan from and one way to name what
// is scanned.
type cwdCase struct {
	name string
	cwd  string
	arg  string // "" scans the working directory
}

// cwdCases names target, top or a directory under it, from the top, a
// subdirectory, the parent, the file system root, an unrelated directory
// and the top reached through a symbolic link, each with a relative path, an absolute
// path and an absolute path through a symbolic link.
func cwdCases(t *testing.T, top, target string) []cwdCase {
	t.Helper()
	// link leads to the parent of top, so that top is reached through it.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Dir(top), link); err != nil {
		t.Fatal(err)
	}
	under, err := filepath.Rel(top, target)
	if err != nil {
		t.Fatal(err)
	}
	topViaLink := filepath.Join(link, filepath.Base(top))
	viaLink := filepath.Join(topViaLink, under)
	cwds := []struct{ name, dir string }{
		{"top", top},
		{"subdirectory", filepath.Join(top, "apps", "files")},
		{"parent", filepath.Dir(top)},
		{"slash", string(filepath.Separator)},
		{"unrelated", t.TempDir()},
		{"symbolic link", topViaLink},
	}
	var cases []cwdCase
	for _, c := range cwds {
		rel, err := filepath.Rel(c.dir, target)
		if c.dir == topViaLink {
			rel = under
		}
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases,
			cwdCase{c.name + "/relative", c.dir, rel},
			cwdCase{c.name + "/absolute", c.dir, target},
			cwdCase{c.name + "/through a link", c.dir, viaLink})
		if rel == "." {
			cases = append(cases, cwdCase{c.name + "/no argument", c.dir, ""})
		}
	}
	return cases
}

// TestScanVerdictDoesNotDependOnTheWorkingDirectory scans one tree, in a
// repository and outside one, from several working directories, naming it
// by relative and absolute paths, as files and with --build. Every run
// must give the same findings, with the same names, and the same exit
// code. RELIABILITY C1 (fail closed): a plaintext secret is refused
// wherever the scan runs from; issue 9 item 7 (docs/threat-model.md).
func TestScanVerdictDoesNotDependOnTheWorkingDirectory(t *testing.T) {
	for _, inRepo := range []bool{true, false} {
		t.Run(fmt.Sprintf("repository=%t", inRepo), func(t *testing.T) {
			var top string
			if inRepo {
				dir, git := gitTestRepo(t)
				writeTree(t, dir, generatorTree())
				// apps/new stays untracked: git add would take it.
				git("add", ".gitignore", "apps/envs", "apps/files", "apps/local")
				git("commit", "-q", "-m", "tree")
				top = dir
			} else {
				top = t.TempDir()
				writeTree(t, top, generatorTree())
			}
			// In a repository an ignored env file never reaches Git; outside
			// one, every file on disk counts.
			want := []string{
				"GS003 apps/envs/kustomization.yaml",
				"GS003 apps/files/kustomization.yaml",
				"GS003 apps/new/kustomization.yaml",
			}
			if !inRepo {
				want = slices.Insert(want, 2, "GS003 apps/local/kustomization.yaml")
			}
			for _, tc := range cwdCases(t, top, top) {
				t.Run("path/"+tc.name, func(t *testing.T) {
					t.Chdir(tc.cwd)
					var args []string
					if tc.arg != "" {
						args = []string{tc.arg}
					}
					code, got := scanFindings(t, args...)
					if code != ExitNo || !slices.Equal(got, want) {
						t.Errorf("from %s, scan %q: exit %d, findings\n  %s\nwant exit %d,\n  %s", tc.cwd, tc.arg, code,
							strings.Join(got, "\n  "), ExitNo, strings.Join(want, "\n  "))
					}
				})
			}
			for _, dir := range []string{"apps/envs", "apps/files"} {
				wantBuild := []string{"GS001 " + dir + " (kustomize build)"}
				if !inRepo {
					// Outside a repository the build is rooted at DIR itself.
					wantBuild = []string{"GS001 . (kustomize build)"}
				}
				for _, tc := range cwdCases(t, top, filepath.Join(top, filepath.FromSlash(dir))) {
					t.Run("build/"+dir+"/"+tc.name, func(t *testing.T) {
						t.Chdir(tc.cwd)
						arg := tc.arg
						if arg == "" {
							arg = "."
						}
						code, got := scanFindings(t, "--build", arg)
						if code != ExitNo || !slices.Equal(got, wantBuild) {
							t.Errorf("from %s, scan --build %q: exit %d, findings %q; want exit %d, %q", tc.cwd, arg, code, got, ExitNo, wantBuild)
						}
					})
				}
			}
		})
	}
}

func TestScanOfPathsInTwoTreesIsAUsageError(t *testing.T) {
	repo, _ := gitTestRepo(t)
	loose := t.TempDir()
	for _, args := range [][]string{{repo, loose}, {loose, repo}} {
		stdout, stderr, code := runScan(t, repo, nil, args...)
		if code != ExitFailure || !strings.Contains(stderr, "hint: scan the files of each repository on its own") {
			t.Errorf("scan %q: exit %d, want %d with a hint\nstdout: %s\nstderr: %s", args, code, ExitFailure, stdout, stderr)
		}
	}
}
