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
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/crypto"
)

// scanCanary is in every secret value the scan tests plant. It must never
// appear in any output, in any format, or in an error.
const scanCanary = "CANARYzq81hunter2Xv"

var scanCanaryB64 = base64.StdEncoding.EncodeToString([]byte(scanCanary))

// canaryForms are the shapes a leak could take.
var canaryForms = []string{scanCanary, scanCanaryB64, scanCanary[6:16]}

// testPub returns the public key in cli/testdata/keys/<name>.pub.
func testPub(t *testing.T, name string) *crypto.Recipient {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "keys", name+".pub"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	r, err := crypto.ParseRecipient(lines[len(lines)-1])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sealForTest(t *testing.T, r *crypto.Recipient) string {
	t.Helper()
	s, err := crypto.Seal([]byte(scanCanary), crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "password"}, r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// scanCorpus writes a tree with one case of every rule, clean files and
// files that must not be findings. Tokens are assembled at run time, so
// this source file holds none.
func scanCorpus(t *testing.T) string {
	t.Helper()
	cluster, old, other := testPub(t, "cluster"), testPub(t, "old"), testPub(t, "other")
	laughs := "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		laughs += n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 10), ",") + "]\n"
		prev = n
	}
	ghToken := "gh" + "p_" + scanCanary + "0123456789abcdefgh"
	files := map[string]string{
		".gitseal.yaml": "clusters:\n- name: prod\n  recipients:\n  - " + cluster.String() + "\n  - " + old.String() +
			"\n  retired: [" + string(old.ID()) + "]\n",
		"apps/prod/db.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
stringData:
  password: ` + scanCanary + `
data:
  token: ` + scanCanaryB64 + `
  empty: ""
  later: ${DB_TOKEN_B64}
`,
		"apps/prod/list.JSON": `{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api", "namespace": "prod"},
   "data": {"key": "` + scanCanaryB64 + `"}}]}
`,
		"apps/prod/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: prod
resources: [db.yaml]
secretGenerator:
- name: app
  literals:
  - password=` + scanCanary + `
  - user=${APP_USER}
  files: [tls.key, missing.key]
`,
		"apps/prod/tls.key": scanCanary + "\n",
		"apps/prod/sealed.yaml": `apiVersion: gitseal.dev/v1alpha1
kind: SealedSecret
metadata: {name: db, namespace: prod}
spec:
  encryptedData:
    current: ` + sealForTest(t, cluster) + `
    retired: ` + sealForTest(t, old) + `
    unknown: ` + sealForTest(t, other) + `
    pasted: ` + scanCanary + `
`,
		"apps/prod/app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: prod}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: GITHUB_TOKEN
          value: ` + ghToken + `
        - name: SESSION_KEY
          value: "Qm9` + scanCanary + `Zx7Lp2Wk"
        - name: LOG_LEVEL
          value: info
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tls, namespace: prod}
data:
  key.pem: |
    -----BEGIN EC PRIVATE KEY-----
    MHcCAQEEI` + scanCanary + `AoGCCqGSM49AwEHoUQDQgAE
    -----END EC PRIVATE KEY-----
`,
		"apps/prod/dup.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\ndata: {a: b}\ndata: {c: d}\n",
		"apps/prod/bomb.yaml": "apiVersion: v1\nkind: Secret\n" + laughs + "stringData: {x: *h}\n",
		"apps/prod/big.yaml":  "# " + strings.Repeat("padding ", 10<<10) + "\n",
		"apps/dev/allowed.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: fixture
  annotations:
    gitseal.dev/allow-plaintext: kind e2e fixture
stringData:
  password: ` + scanCanary + `
---
apiVersion: v1
kind: Secret
metadata: {name: other}
stringData:
  password: ` + scanCanary + ` # gitseal:allow documented test value
`,
		"apps/dev/clean.yaml": `apiVersion: v1
kind: Secret
metadata: {name: placeholders}
data: {}
stringData:
  a: ${PASSWORD}
  b: <changeme>
  c: "{{ .Values.password }}"
`,
		"charts/app/templates/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}
stringData:
  password: ` + scanCanary + `
  user: {{ .Values.user }}
`,
		"image.png": "\x89PNG\r\n\x1a\n\x00\x00" + scanCanary,
		"README.md": "Nothing to see: -----BEGIN PRIVATE KEY----- is how keys start.\n",
	}
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// runScan runs gitseal scan in dir, with env as its environment, and
// returns stdout, stderr and the exit code.
func runScan(t *testing.T, dir string, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := newCmdScan(streams, &ScanOptions{workDir: dir, getenv: func(k string) string { return env[k] }})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	code := Execute(context.Background(), cmd, &errOut)
	return out.String(), errOut.String(), code
}

func assertNoScanCanary(t *testing.T, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		for _, c := range canaryForms {
			if strings.Contains(o, c) {
				t.Fatalf("output shows a secret value (%q):\n%s", c, o)
			}
		}
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	goldenFile(t, filepath.Join("testdata", "scan", name), got)
}

func TestScanGolden(t *testing.T) {
	root := scanCorpus(t)
	noColor := map[string]string{"NO_COLOR": "1"}
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"findings.txt", nil},
		{"findings.json", []string{"--format", "json"}},
		{"findings.sarif", []string{"--format", "sarif"}},
		{"findings-allowed.txt", []string{"--show-allowed"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			args := append([]string{"--max-file-size", "65536"}, tc.args...)
			stdout, stderr, code := runScan(t, root, noColor, args...)
			if code != ExitNo {
				t.Errorf("exit code %d, want %d; stderr: %s", code, ExitNo, stderr)
			}
			assertNoScanCanary(t, stdout, stderr)
			if strings.HasSuffix(tc.golden, ".json") || strings.HasSuffix(tc.golden, ".sarif") {
				var v any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Fatalf("output is not JSON: %v", err)
				}
			}
			checkGolden(t, tc.golden, stdout)
		})
	}
}

func TestScanExitCodes(t *testing.T) {
	clean := t.TempDir()
	if err := os.WriteFile(filepath.Join(clean, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dirty := t.TempDir()
	if err := os.WriteFile(filepath.Join(dirty, "s.yaml"), []byte("kind: Secret\nstringData: {p: "+scanCanary+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badBaseline := t.TempDir()
	if err := os.WriteFile(filepath.Join(badBaseline, ".gitseal-baseline.json"), []byte("{"+scanCanary), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		dir  string
		args []string
		want int
	}{
		{"a clean tree exits 0", clean, nil, ExitOK},
		{"a finding exits 1", dirty, nil, ExitNo},
		{"a finding in JSON exits 1", dirty, []string{"-o", "json"}, ExitNo},
		{"an unknown format is a usage error", clean, []string{"--format", "xml"}, ExitFailure},
		{"a finding in SARIF by the old --format exits 1", dirty, []string{"--format", "sarif"}, ExitNo},
		{"-o and --format that disagree are a usage error", dirty, []string{"-o", "json", "--format", "sarif"}, ExitFailure},
		{"the old -f FORMAT is a usage error, never a file name", dirty, []string{"-f", "json"}, ExitFailure},
		{"-o FILE is a usage error", clean, []string{"-o", "report.json"}, ExitFailure},
		{"an unknown flag is a usage error", clean, []string{"--no-such-flag"}, ExitFailure},
		{"--staged with paths is a usage error", clean, []string{"--staged", "x"}, ExitFailure},
		{"--staged and --since together are a usage error", clean, []string{"--staged", "--since", "HEAD"}, ExitFailure},
		{"--staged outside a repository fails", clean, []string{"--staged"}, ExitFailure},
		{"a missing path fails", clean, []string{"no-such-file.yaml"}, ExitFailure},
		{"a corrupt baseline fails without echoing it", badBaseline, nil, ExitFailure},
		{"a missing explicit baseline fails", clean, []string{"--baseline", "nope.json"}, ExitFailure},
		{"a missing explicit config fails", clean, []string{"--config", "nope.yaml"}, ExitFailure},
		{"--build refuses a remote base", writeKustomization(t, "resources:\n- https://example.com/x.yaml\n"), []string{"--build", "."}, ExitFailure},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runScan(t, tc.dir, nil, tc.args...)
			if code != tc.want {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.want, stdout, stderr)
			}
			assertNoScanCanary(t, stdout, stderr)
		})
	}
}

func writeKustomization(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestScanBaseline(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: " + scanCanary + "\n"
	write(secret)

	if _, stderr, code := runScan(t, dir, nil, "--write-baseline"); code != ExitOK || !strings.Contains(stderr, "wrote 1 accepted finding") {
		t.Fatalf("--write-baseline: exit %d, stderr %q", code, stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, ".gitseal-baseline.json"))
	if err != nil {
		t.Fatal(err)
	}
	assertNoScanCanary(t, string(data))

	if _, _, code := runScan(t, dir, nil); code != ExitOK {
		t.Errorf("scan with the baseline: exit %d, want 0", code)
	}
	// Lines move: the finding is matched by fingerprint, not line.
	write("# a comment\n\n" + secret)
	if _, _, code := runScan(t, dir, nil); code != ExitOK {
		t.Errorf("scan after moving the finding: exit %d, want 0", code)
	}
	// A new value is a new finding.
	write(strings.Replace(secret, scanCanary, scanCanary+"2", 1))
	if out, _, code := runScan(t, dir, nil); code != ExitNo {
		t.Errorf("scan after changing the value: exit %d, want 1\n%s", code, out)
	}
	// Rewriting keeps the key, so unchanged entries keep their fingerprint.
	before := string(data)
	write(secret)
	if _, _, code := runScan(t, dir, nil, "--write-baseline"); code != ExitOK {
		t.Fatal("rewrite failed")
	}
	after, _ := os.ReadFile(filepath.Join(dir, ".gitseal-baseline.json"))
	if string(after) != before {
		t.Errorf("rewriting an unchanged baseline changed it:\n%s\n---\n%s", before, after)
	}
}

func TestScanColorFollowsFlagAndNoColor(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte("kind: Secret\nstringData: {p: "+scanCanary+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, _ := runScan(t, dir, nil, "--color", "always")
	if !strings.Contains(out, "\x1b[") {
		t.Error("--color always wrote no colour")
	}
	out, _, _ = runScan(t, dir, nil)
	if strings.Contains(out, "\x1b[") {
		t.Error("colour on a buffer, which is not a terminal")
	}
}

// gitTestRepo makes a repository with git's configuration isolated from
// the machine's.
func gitTestRepo(t *testing.T) (dir string, git func(args ...string) string) {
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
	dir = t.TempDir()
	git = func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	return dir, git
}

func TestScanStagedAndSince(t *testing.T) {
	dir, git := gitTestRepo(t)
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: " + scanCanary + "}\n"
	write("base.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	base := git("rev-parse", "HEAD")

	// Staged: the index is checked, not the working tree.
	write("app/secret.yaml", secret)
	git("add", "app/secret.yaml")
	write("app/secret.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n")
	out, _, code := runScan(t, dir, nil, "--staged", "-o", "json")
	if code != ExitNo || !strings.Contains(out, `"file": "app/secret.yaml"`) {
		t.Errorf("--staged: exit %d, want 1 with app/secret.yaml:\n%s", code, out)
	}
	assertNoScanCanary(t, out)
	// From a subdirectory, paths stay relative to the repository root.
	out, _, code = runScan(t, filepath.Join(dir, "app"), nil, "--staged", "-o", "json")
	if code != ExitNo || !strings.Contains(out, `"file": "app/secret.yaml"`) {
		t.Errorf("--staged in a subdirectory: exit %d:\n%s", code, out)
	}

	// Since: a secret committed, then removed, is still in the range.
	git("commit", "-q", "-m", "add a secret")
	added := git("rev-parse", "HEAD")
	git("rm", "-q", "-f", "app/secret.yaml")
	git("commit", "-q", "-m", "remove it")
	if _, _, code := runScan(t, dir, nil, "--staged"); code != ExitOK {
		t.Errorf("--staged with nothing staged: exit %d, want 0", code)
	}
	out, _, code = runScan(t, dir, nil, "--since", base, "-o", "json")
	if code != ExitNo || !strings.Contains(out, `"commit": "`+added+`"`) {
		t.Errorf("--since: exit %d, want 1 naming commit %s:\n%s", code, added, out)
	}
	assertNoScanCanary(t, out)
	if _, _, code := runScan(t, dir, nil, "--since", "HEAD"); code != ExitOK {
		t.Errorf("--since HEAD: exit %d, want 0", code)
	}
	if _, stderr, code := runScan(t, dir, nil, "--since", "--upload-pack=touch /tmp/x"); code != ExitFailure {
		t.Errorf("--since with an option-like revision: exit %d, want 2 (%s)", code, stderr)
	}
}

func TestScanSealedSecretKeysFromConfig(t *testing.T) {
	cluster, old := testPub(t, "cluster"), testPub(t, "old")
	dir := t.TempDir()
	doc := "apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: prod}\nspec:\n  encryptedData:\n    password: " + sealForTest(t, old) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "sealed.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	// Without .gitseal.yaml the value is well-formed: clean.
	if out, stderr, code := runScan(t, dir, nil); code != ExitOK {
		t.Fatalf("without config: exit %d\n%s%s", code, out, stderr)
	}
	cfg := "clusters:\n- name: prod\n  recipients: [" + cluster.String() + "]\n  retired: [" + old.String() + "]\n"
	if err := os.WriteFile(filepath.Join(dir, ".gitseal.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := runScan(t, dir, nil, "-o", "json")
	if code != ExitNo || !strings.Contains(out, `"rule": "GS006"`) {
		t.Errorf("with a retired key: exit %d, want GS006:\n%s", code, out)
	}
}

func TestScanSkipsWhatGitIgnores(t *testing.T) {
	dir, git := gitTestRepo(t)
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: " + scanCanary + "}\n"
	for name, content := range map[string]string{
		".gitignore":         "local-secret.yaml\nbuild/\n",
		"local-secret.yaml":  secret,
		"build/out.yaml":     secret,
		"app/untracked.yaml": strings.Replace(secret, "name: db", "name: new", 1),
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	git("add", ".gitignore")
	out, _, code := runScan(t, dir, nil, "-o", "json")
	if code != ExitNo || !strings.Contains(out, `"file": "app/untracked.yaml"`) || strings.Contains(out, "local-secret") || strings.Contains(out, "build/") {
		t.Errorf("exit %d; want only the untracked, not ignored, file:\n%s", code, out)
	}
	// A file named on the command line is checked even if ignored.
	out, _, code = runScan(t, dir, nil, "-o", "json", "local-secret.yaml")
	if code != ExitNo || !strings.Contains(out, `"file": "local-secret.yaml"`) {
		t.Errorf("explicit ignored file: exit %d:\n%s", code, out)
	}
}

// TestScanOutputFile: --output-file holds exactly the report standard
// output would, and the exit code is the same.
func TestScanOutputFile(t *testing.T) {
	root := scanCorpus(t)
	noColor := map[string]string{"NO_COLOR": "1"}
	want, _, wantCode := runScan(t, root, noColor, "--max-file-size", "65536", "-o", "sarif")
	file := filepath.Join(t.TempDir(), "gitseal.sarif")
	stdout, stderr, code := runScan(t, root, noColor, "--max-file-size", "65536", "-o", "sarif", "--output-file", file)
	if code != wantCode || stdout != "" {
		t.Fatalf("exit %d (want %d), stdout %q, stderr %s", code, wantCode, stdout, stderr)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("the file differs from standard output:\n%s", got)
	}
}
