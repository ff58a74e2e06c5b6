package scanner

import (
	"context"
	"encoding/base64"
	"os"
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
	found := map[string]bool{}
	for _, f := range rep.Failing() {
		switch f.Rule {
		case policy.RuleSecretData, policy.RuleSecretStringData, policy.RuleSecretGenerator:
			found[f.File] = true
		}
	}
	for _, name := range corpusSecrets(files) {
		if !found[name] {
			t.Errorf("%s: no Secret finding", name)
		}
	}
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
