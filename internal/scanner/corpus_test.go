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
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/internal/policy"
)

// k8sCorpus returns one file per way a Kubernetes secret reaches Git in
// plain text, keyed by path. Each holds exactly one secret. Values are
// made at run time so that no scanner flags this source file.
func k8sCorpus() map[string]string { return k8sCorpusWith("Tr0ub4dor-" + "horse-staple-42") }

// k8sCorpusWith is the corpus with pw as the password.
func k8sCorpusWith(pw string) map[string]string {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	gh := "gh" + "p_" + "R8c2LmX9qP4wZ7vT1nK3bY6dF0hJ5sA2eG8u"
	jwt := "ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtYWNjb3VudCIsImlhdCI6MTcwMDAwMDAwMH0.Q2xH9dVv1mD3rX7yLkP0sTzWq8uN4bJcE6fA5gR2hYo"
	pem := "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx7c9Qm1r2Lw8p3Zt5Kv0Yb6Nd4Hs9Fg2Jk7Pq1Wx3Ce5Ua8Rt0\n-----END RSA PRIVATE KEY-----\n"
	secret := func(field, key, value string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ntype: Opaque\n" + field + ":\n  " + key + ": " + value + "\n"
	}
	return map[string]string{
		"data.yaml":                             secret("data", "password", b64(pw)),
		"stringdata.yaml":                       secret("stringData", "password", pw),
		"secret.json":                           `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "` + b64(pw) + `"}}` + "\n",
		"stringdata.json":                       `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "` + pw + `"}}` + "\n",
		"list.yaml":                             "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: db}\n  stringData:\n    password: " + pw + "\n",
		"multidoc.yaml":                         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {mode: fast}\n---\n" + secret("data", "password", b64(pw)),
		"quoted-keys.yaml":                      "\"apiVersion\": v1\n\"kind\": \"Secret\"\n\"metadata\": {\"name\": db}\n\"stringData\":\n  \"password\": \"" + pw + "\"\n",
		"flow.yaml":                             "{apiVersion: v1, kind: Secret, metadata: {name: db}, stringData: {password: " + pw + "}}\n",
		"anchor.yaml":                           "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations: {x-password: &pw " + pw + "}\nstringData:\n  password: *pw\n",
		"UPPER.YML":                             secret("stringData", "password", pw),
		"no-extension":                          secret("data", "password", b64(pw)),
		"manifest.txt":                          secret("stringData", "password", pw),
		"tls.yaml":                              secret("data", "tls.key", b64(pem)),
		"tls-stringdata.yaml":                   "apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\ntype: kubernetes.io/tls\nstringData:\n  tls.key: |\n    " + strings.ReplaceAll(strings.TrimSpace(pem), "\n", "\n    ") + "\n",
		"dockerconfig.yaml":                     secret("data", ".dockerconfigjson", b64(`{"auths":{"registry.example.com":{"auth":"`+b64("ci:"+pw)+`"}}}`)),
		"token-stringdata.yaml":                 secret("stringData", "token", gh),
		"jwt-data.yaml":                         secret("data", "token", b64(jwt)),
		"generator-literals/kustomization.yaml": "secretGenerator:\n- name: db\n  literals:\n  - password=" + pw + "\n",
		"generator-files/kustomization.yaml":    "secretGenerator:\n- name: db\n  files:\n  - password.txt\n",
		"generator-files/password.txt":          pw + "\n",
		"generator-envs/kustomization.yaml":     "secretGenerator:\n- name: db\n  envs:\n  - db.env\n",
		"generator-envs/db.env":                 "PASSWORD=" + pw + "\n",
		"helm/templates/secret.yaml":            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-db\nstringData:\n  password: " + pw + "\n",
	}
}

// corpusSecrets are the corpus entries that are secrets; the files a
// generator reads are part of their generator's entry.
func corpusSecrets(files map[string]string) []string {
	var out []string
	for name := range files {
		if strings.HasSuffix(name, ".txt") && strings.HasPrefix(name, "generator-") || strings.HasSuffix(name, ".env") {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func writeFiles(t testing.TB, root string, files map[string]string) {
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

func TestEveryKubernetesSecretOfTheCorpusIsFound(t *testing.T) {
	files := k8sCorpus()
	root := t.TempDir()
	writeFiles(t, root, files)
	s := &Scanner{Policy: policy.New(policy.Options{})}
	rep, err := s.ScanPaths(context.Background(), root, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range missedSecrets(rep, files) {
		t.Errorf("%s: no Secret finding", name)
	}
}

// missedSecrets returns the corpus secrets the report has no Secret
// finding for.
func missedSecrets(rep *Report, files map[string]string) []string {
	found := map[string]bool{}
	for _, f := range rep.Failing() {
		switch f.Rule {
		case policy.RuleSecretData, policy.RuleSecretStringData, policy.RuleSecretGenerator:
			found[f.File] = true
		}
	}
	var missed []string
	for _, name := range corpusSecrets(files) {
		if !found[name] {
			missed = append(missed, name)
		}
	}
	return missed
}

// TestTheCorpusIsFoundFromEveryWorkingDirectory runs the corpus check the
// way gitseal scan does (Locate, then ScanPaths with the tree's InGit as
// the policy's FileExists, so secretGenerator files and env files are
// looked up) from the tree's root, a subdirectory, its parent, the file
// system root, an unrelated directory and the root reached through a
// symbolic link, naming the tree by relative and absolute paths and
// through the link; in a plain directory and in a git repository. Every
// run must find every secret, with the same findings under the same
// names. RELIABILITY C1 (fail closed): a plaintext secret is refused
// wherever the scan runs from; issue 9 item 7 (docs/threat-model.md).
func TestTheCorpusIsFoundFromEveryWorkingDirectory(t *testing.T) {
	files := k8sCorpus()
	for _, layout := range []string{"plain directory", "committed to git", "untracked in git"} {
		t.Run(layout, func(t *testing.T) {
			top := t.TempDir()
			writeFiles(t, top, files)
			if layout != "plain directory" {
				git := gitRepo(t, top)
				if layout == "committed to git" {
					git("add", ".")
					git("commit", "-q", "-m", "corpus")
				}
			}
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(filepath.Dir(top), link); err != nil {
				t.Fatal(err)
			}
			viaLink := filepath.Join(link, filepath.Base(top))

			var want string
			for _, cwd := range []struct{ name, dir string }{
				{"root", top},
				{"subdirectory", filepath.Join(top, "generator-envs")},
				{"parent", filepath.Dir(top)},
				{"slash", "/"},
				{"unrelated", t.TempDir()},
				{"symbolic link", viaLink},
			} {
				rel, err := filepath.Rel(cwd.dir, top)
				if cwd.dir == viaLink {
					rel = "."
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, arg := range []struct{ name, path string }{{"relative", rel}, {"absolute", top}, {"through a link", viaLink}} {
					t.Run(cwd.name+"/"+arg.name, func(t *testing.T) {
						t.Chdir(cwd.dir)
						tree, err := Locate(context.Background(), []string{arg.path})
						if err != nil {
							t.Fatal(err)
						}
						s := &Scanner{Policy: policy.New(policy.Options{FileExists: tree.InGit}), Ignored: tree.Ignored}
						rep, err := s.ScanPaths(context.Background(), tree.Root, []string{arg.path})
						if err != nil {
							t.Fatal(err)
						}
						for _, name := range missedSecrets(rep, files) {
							t.Errorf("%s: no Secret finding", name)
						}
						got, err := json.MarshalIndent(rep.Findings, "", " ")
						if err != nil {
							t.Fatal(err)
						}
						if want == "" {
							want = string(got)
						} else if string(got) != want {
							t.Errorf("from %s, scan %s: findings differ from those at the root:\n%s\nwant\n%s", cwd.dir, arg.path, got, want)
						}
					})
				}
			}
		})
	}
}

// gitRepo makes dir a git repository, with git's configuration isolated
// from the machine's, and returns a function that runs git in it.
func gitRepo(t *testing.T, dir string) func(args ...string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required: %v", err)
	}
	home := t.TempDir()
	for k, v := range map[string]string{
		"GIT_CONFIG_GLOBAL": filepath.Join(home, "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1", "HOME": home,
		"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
	} {
		t.Setenv(k, v)
	}
	git := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	return git
}

// TestWriteComparisonCorpus writes the corpus and the benchmark tree for a
// comparison with other scanners (docs/benchmarks.md), when
// GITSEAL_CORPUS_DIR names a directory.
func TestWriteComparisonCorpus(t *testing.T) {
	dir := os.Getenv("GITSEAL_CORPUS_DIR")
	if dir == "" {
		t.Skip("set GITSEAL_CORPUS_DIR to write the comparison corpus")
	}
	writeFiles(t, filepath.Join(dir, "k8s"), k8sCorpus())
	writeFiles(t, filepath.Join(dir, "k8s-weak"), k8sCorpusWith("summer"+"2024"))
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	writeBenchTree(t, tree, 10_000)
}
