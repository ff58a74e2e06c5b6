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
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	bitnamicrypto "github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/bitnami"
	"github.com/gitseal/gitseal/internal/sealer"
)

// migrateCanary is a plaintext that must never appear in any output or
// file of gitseal migrate bitnami.
const migrateCanary = "canary-migrate-31c7-plaintext"

// bitnamiTestKeys are two Bitnami controller keys, generated once.
var bitnamiTestKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	out := make([]*rsa.PrivateKey, 2)
	for i := range out {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = k
	}
	return out
})

// bitnamiObject describes a Bitnami SealedSecret to build.
type bitnamiObject struct {
	namespace, name string
	scope           crypto.Scope
	values          map[string]string
	key             int // which of bitnamiTestKeys seals it
	mutate          func(*bitnami.SealedSecret)
}

// yaml builds the object as kubeseal would, its values sealed by
// Bitnami's own HybridEncrypt.
func (b bitnamiObject) yaml(t *testing.T) string {
	t.Helper()
	s := &bitnami.SealedSecret{
		TypeMeta:   metav1.TypeMeta{APIVersion: bitnami.APIVersion, Kind: bitnami.Kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: b.namespace, Name: b.name, Annotations: map[string]string{}},
		Spec: bitnami.SealedSecretSpec{
			EncryptedData: map[string]string{},
			Template: bitnami.SecretTemplate{
				ObjectMeta: metav1.ObjectMeta{Namespace: b.namespace, Name: b.name, Annotations: map[string]string{}},
			},
		},
	}
	switch b.scope {
	case crypto.Cluster:
		s.Annotations[bitnami.AnnotationClusterWide] = "true"
		s.Spec.Template.Annotations[bitnami.AnnotationClusterWide] = "true"
	case crypto.Namespace:
		s.Annotations[bitnami.AnnotationNamespaceWide] = "true"
		s.Spec.Template.Annotations[bitnami.AnnotationNamespaceWide] = "true"
	}
	label := bitnami.Label(b.scope, b.namespace, b.name)
	for k, v := range b.values {
		ct, err := bitnamicrypto.HybridEncrypt(rand.Reader, &bitnamiTestKeys()[b.key].PublicKey, []byte(v), label)
		if err != nil {
			t.Fatal(err)
		}
		s.Spec.EncryptedData[k] = base64.StdEncoding.EncodeToString(ct)
	}
	if b.mutate != nil {
		b.mutate(s)
	}
	out, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// bitnamiKeyBackup writes the List kubectl get secret -l
// sealedsecrets.bitnami.com/sealed-secrets-key -o yaml prints, holding
// the given keys, and returns its path.
func bitnamiKeyBackup(t *testing.T, keys ...int) string {
	t.Helper()
	var items []any
	for _, i := range keys {
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(bitnamiTestKeys()[i])})
		items = append(items, map[string]any{
			"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
			"metadata": map[string]any{"name": fmt.Sprintf("sealed-secrets-key%d", i), "namespace": "kube-system",
				"labels": map[string]string{"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
			"data": map[string][]byte{"tls.key": keyPEM, "tls.crt": []byte("unused")},
		})
	}
	out, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bitnami-keys.yaml")
	writeTestFile(t, path, string(out))
	return path
}

// gitsealIdentity makes a fresh gitseal key and a recipients file for it.
func gitsealIdentity(t *testing.T) (*crypto.Identity, string) {
	t.Helper()
	id, err := crypto.GenerateIdentity(crypto.Hybrid)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "recipients.txt")
	writeTestFile(t, path, "# test key\n"+id.Recipient().String()+"\n")
	return id, path
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// threeScopes is a strict, a namespace-wide and a cluster-wide object.
func threeScopes() []bitnamiObject {
	return []bitnamiObject{
		{namespace: "prod", name: "db", scope: crypto.Strict, values: map[string]string{"password": migrateCanary, "username": "admin"},
			mutate: func(s *bitnami.SealedSecret) {
				s.Labels = map[string]string{"app.kubernetes.io/part-of": "shop"}
				s.Annotations["argocd.argoproj.io/sync-wave"] = "1"
				s.Annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
				s.Spec.Template.Labels = map[string]string{"app": "db"}
				s.Spec.Template.Annotations["owner"] = "team-a"
				s.Spec.Template.Type = "kubernetes.io/basic-auth"
				immutable := true
				s.Spec.Template.Immutable = &immutable
			}},
		{namespace: "prod", name: "api", scope: crypto.Namespace, values: map[string]string{"token": "t0ken-" + migrateCanary}},
		{namespace: "shared", name: "registry", scope: crypto.Cluster, values: map[string]string{".dockerconfigjson": `{"auths":{}}`, "empty": ""}, key: 1,
			mutate: func(s *bitnami.SealedSecret) {
				s.Spec.Template.Type = "kubernetes.io/dockerconfigjson"
				s.Spec.Template.Annotations[bitnami.AnnotationPrefix+"patch"] = "true"
			}},
	}
}

// writeThreeScopes writes threeScopes into dir: the strict one with a
// ConfigMap in the same file, the others in files of their own, the
// cluster-wide one as JSON, and a ConfigMap alone.
func writeThreeScopes(t *testing.T, dir string) {
	t.Helper()
	objs := threeScopes()
	writeTestFile(t, filepath.Join(dir, "prod", "db.yaml"), "# the database\n"+objs[0].yaml(t)+"---\n# kept as it is\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: db-config, namespace: prod}\ndata: {mode: fast}\n")
	writeTestFile(t, filepath.Join(dir, "prod", "api.yml"), objs[1].yaml(t))
	asJSON, err := yaml.YAMLToJSON([]byte(objs[2].yaml(t)))
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "shared", "registry.json"), string(asJSON)+"\n")
	writeTestFile(t, filepath.Join(dir, "configmap.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n")
}

// decodeSealedSecrets reads the gitseal SealedSecrets of a YAML or JSON
// stream.
func decodeSealedSecrets(t *testing.T, text string) map[string]*gitsealv1alpha1.SealedSecret {
	t.Helper()
	in := &manifest.Input{Name: "output", Data: []byte(text), Format: manifest.FormatOf("", []byte(text))}
	ms, err := in.Objects()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*gitsealv1alpha1.SealedSecret{}
	for _, m := range ms {
		if !manifest.IsSealedSecret(m.TypeMeta) {
			continue
		}
		ss, err := manifest.DecodeSealedSecret(m)
		if err != nil {
			t.Fatal(err)
		}
		out[manifest.ObjectName(ss.Namespace, ss.Name)] = ss
	}
	return out
}

// checkMigrated opens the three migrated objects with the gitseal
// identity and checks every value, scope, namespace, name, item key and
// template.
func checkMigrated(t *testing.T, id *crypto.Identity, got map[string]*gitsealv1alpha1.SealedSecret) {
	t.Helper()
	want := map[string]struct {
		scope  crypto.Scope
		values map[string]string
	}{}
	for _, o := range threeScopes() {
		want[manifest.ObjectName(o.namespace, o.name)] = struct {
			scope  crypto.Scope
			values map[string]string
		}{o.scope, o.values}
	}
	if len(got) != len(want) {
		t.Fatalf("%d SealedSecrets, want %d", len(got), len(want))
	}
	for name, w := range want {
		ss := got[name]
		if ss == nil {
			t.Fatalf("no SealedSecret %s", name)
		}
		opened, err := sealer.Open(ss, []*crypto.Identity{id})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(opened.Data) != len(w.values) {
			t.Errorf("%s: %d items, want %d", name, len(opened.Data), len(w.values))
		}
		for item, value := range w.values {
			if string(opened.Data[item]) != value {
				t.Errorf("%s: item %s does not hold its value", name, item)
			}
			if crypto.Version(string(ss.Spec.EncryptedData[item])) != 2 {
				t.Errorf("%s: item %s is not in format 2", name, item)
			}
			o2 := crypto.OpenObject(sealer.Object(ss), crypto.Binding{Namespace: ss.Namespace, Name: ss.Name}, id)
			if len(o2.Errors) > 0 {
				t.Fatal(o2.Errors)
			}
			b := o2.Binding
			b.Key = item
			wantNS, wantName := ss.Namespace, ss.Name
			switch w.scope {
			case crypto.Namespace:
				wantName = ""
			case crypto.Cluster:
				wantNS, wantName = "", ""
			}
			if b.Scope != w.scope || b.Namespace != wantNS || b.Name != wantName || b.Key != item {
				t.Errorf("%s: item %s sealed with binding %+v, want scope %s", name, item, b, w.scope)
			}
		}
		for k := range ss.Annotations {
			if strings.HasPrefix(k, bitnami.AnnotationPrefix) || k == annotationLastApplied {
				t.Errorf("%s: annotation %s carried over", name, k)
			}
		}
		if tpl := ss.Spec.Template; tpl != nil && tpl.Metadata != nil {
			for k := range tpl.Metadata.Annotations {
				if strings.HasPrefix(k, bitnami.AnnotationPrefix) {
					t.Errorf("%s: template annotation %s carried over", name, k)
				}
			}
		}
	}
	db := got["prod/db"]
	tpl := db.Spec.Template
	if db.Labels["app.kubernetes.io/part-of"] != "shop" || db.Annotations["argocd.argoproj.io/sync-wave"] != "1" || len(db.Annotations) != 1 {
		t.Errorf("prod/db metadata: labels %v, annotations %v", db.Labels, db.Annotations)
	}
	if tpl == nil || tpl.Type != "kubernetes.io/basic-auth" || tpl.Immutable == nil || !*tpl.Immutable ||
		tpl.Metadata.Labels["app"] != "db" || tpl.Metadata.Annotations["owner"] != "team-a" || tpl.Metadata.Name != "" || tpl.Metadata.Namespace != "" {
		t.Errorf("prod/db template %+v", tpl)
	}
	if tpl := got["shared/registry"].Spec.Template; tpl == nil || tpl.Type != "kubernetes.io/dockerconfigjson" || tpl.Metadata != nil {
		t.Errorf("shared/registry template %+v", tpl)
	}
	if tpl := got["prod/api"].Spec.Template; tpl != nil {
		t.Errorf("prod/api template %+v, want none", tpl)
	}
}

// checkNoCanary fails if the canary appears in any text or in any file
// below dir.
func checkNoCanary(t *testing.T, dir string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, migrateCanary) {
			t.Fatalf("the plaintext appears in the output:\n%s", s)
		}
	}
	if dir == "" {
		return
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.Contains(readTestFile(t, p), migrateCanary) {
			t.Errorf("the plaintext appears in %s", p)
		}
		if strings.Contains(d.Name(), ".gitseal-") {
			t.Errorf("a temporary file outlived the command: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrateBitnamiDirectoryToStdout(t *testing.T) {
	dir := t.TempDir()
	writeThreeScopes(t, dir)
	id, recipients := gitsealIdentity(t)
	keys := bitnamiKeyBackup(t, 0, 1)
	before := snapshot(t, dir)

	stdout, stderr, code := run(t, "", "migrate", "bitnami", "--bitnami-key", keys, "--recipients-file", recipients, "-R", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	checkNoCanary(t, dir, stdout, stderr)
	checkMigrated(t, id, decodeSealedSecrets(t, stdout))
	for _, line := range []string{
		filepath.Join(dir, "prod", "db.yaml") + ": prod/db: 2 values, strict scope, re-sealed to " + string(id.ID()),
		filepath.Join(dir, "prod", "api.yml") + ": prod/api: 1 value, namespace scope, re-sealed to " + string(id.ID()),
		filepath.Join(dir, "shared", "registry.json") + ": shared/registry: 2 values, cluster scope, re-sealed to " + string(id.ID()),
		"note: " + filepath.Join(dir, "shared", "registry.json") + ": shared/registry: dropped template annotation sealedsecrets.bitnami.com/patch, a setting of Bitnami's controller",
		"skipped 2 object(s) that are not Bitnami SealedSecrets",
	} {
		if !strings.Contains(stderr, line+"\n") {
			t.Errorf("stderr lacks %q:\n%s", line, stderr)
		}
	}
	if after := snapshot(t, dir); !equalSnapshots(before, after) {
		t.Error("without --write, files changed")
	}
}

func TestMigrateBitnamiWriteInPlace(t *testing.T) {
	dir := t.TempDir()
	writeThreeScopes(t, dir)
	id, recipients := gitsealIdentity(t)
	keys := bitnamiKeyBackup(t, 0, 1)
	configMap := readTestFile(t, filepath.Join(dir, "configmap.yaml"))

	stdout, stderr, code := run(t, "", "migrate", "bitnami", "--bitnami-key", keys, "--recipients-file", recipients, "-R", "-w", dir)
	if code != ExitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	checkNoCanary(t, dir, stdout, stderr)
	if !strings.Contains(stderr, "migrated 3 SealedSecret(s) in place in 3 file(s); left 2 object(s) that are not Bitnami SealedSecrets as they were\n") {
		t.Errorf("stderr:\n%s", stderr)
	}

	db := readTestFile(t, filepath.Join(dir, "prod", "db.yaml"))
	registry := readTestFile(t, filepath.Join(dir, "shared", "registry.json"))
	all := map[string]*gitsealv1alpha1.SealedSecret{}
	for _, text := range []string{db, readTestFile(t, filepath.Join(dir, "prod", "api.yml")), registry} {
		for k, v := range decodeSealedSecrets(t, text) {
			all[k] = v
		}
	}
	checkMigrated(t, id, all)
	if !strings.HasPrefix(db, "# the database\napiVersion: gitseal.dev/v1alpha1\n") ||
		!strings.HasSuffix(db, "\n---\n# kept as it is\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: db-config, namespace: prod}\ndata: {mode: fast}\n") {
		t.Errorf("prod/db.yaml does not keep its comment and its ConfigMap:\n%s", db)
	}
	if !json.Valid([]byte(registry)) || !strings.HasPrefix(registry, "{\n") {
		t.Errorf("registry.json is no longer JSON:\n%s", registry)
	}
	if readTestFile(t, filepath.Join(dir, "configmap.yaml")) != configMap {
		t.Error("a file without Bitnami SealedSecrets changed")
	}

	// Run again: nothing left to migrate, nothing changes.
	before := snapshot(t, dir)
	_, stderr, code = run(t, "", "migrate", "bitnami", "--bitnami-key", keys, "--recipients-file", recipients, "-R", "-w", dir)
	if code != ExitFailure || !strings.Contains(stderr, "no bitnami.com/v1alpha1 SealedSecret found") {
		t.Errorf("second run: exit %d\n%s", code, stderr)
	}
	if !equalSnapshots(before, snapshot(t, dir)) {
		t.Error("the second run changed files")
	}
}

func TestMigrateBitnamiStdinAndNamespaceFlag(t *testing.T) {
	id, _ := gitsealIdentity(t)
	keys := bitnamiKeyBackup(t, 0)
	obj := bitnamiObject{namespace: "prod", name: "db", scope: crypto.Strict, values: map[string]string{"password": migrateCanary}}
	// kustomize often sets the namespace: the file names none.
	text := strings.Replace(obj.yaml(t), "  namespace: prod\n", "", 1)

	stdout, stderr, code := run(t, text, "migrate", "bitnami", "--bitnami-key", keys, "--recipient", id.Recipient().String())
	if code != ExitFailure || !strings.Contains(stderr, "stdin: db: no namespace, which strict scope needs\nhint: pass --namespace") {
		t.Errorf("without --namespace: exit %d\n%s", code, stderr)
	}
	checkNoCanary(t, "", stdout, stderr)

	stdout, stderr, code = run(t, text, "migrate", "bitnami", "--bitnami-key", keys, "--recipient", id.Recipient().String(), "-n", "prod")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	checkNoCanary(t, "", stdout, stderr)
	if want := "prod/db: 1 value, strict scope, re-sealed to " + string(id.ID()) + "\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	ss := decodeSealedSecrets(t, stdout)["prod/db"]
	if ss == nil {
		t.Fatalf("no prod/db in\n%s", stdout)
	}
	if opened, err := sealer.Open(ss, []*crypto.Identity{id}); err != nil || string(opened.Data["password"]) != migrateCanary {
		t.Fatalf("open: %v", err)
	}

	// The wrong namespace does not open: the label binds it.
	_, stderr, code = run(t, text, "migrate", "bitnami", "--bitnami-key", keys, "--recipient", id.Recipient().String(), "-n", "dev")
	if code != ExitFailure || !strings.Contains(stderr, `stdin: dev/db: item "password": no matching key`) {
		t.Errorf("wrong namespace: exit %d\n%s", code, stderr)
	}
}

func TestMigrateBitnamiRefusals(t *testing.T) {
	_, recipients := gitsealIdentity(t)
	keys0 := bitnamiKeyBackup(t, 0)
	good := bitnamiObject{namespace: "prod", name: "db", scope: crypto.Strict, values: map[string]string{"password": migrateCanary}}
	templated := bitnamiObject{namespace: "prod", name: "templated", scope: crypto.Strict, values: map[string]string{"password": migrateCanary},
		mutate: func(s *bitnami.SealedSecret) {
			s.Spec.Template.Data = map[string]string{"dsn": "postgres://app:{{ .password }}@db"}
		}}
	legacy := bitnamiObject{namespace: "prod", name: "legacy", scope: crypto.Strict,
		mutate: func(s *bitnami.SealedSecret) {
			s.Spec.EncryptedData = nil
			s.Spec.Data = json.RawMessage(`"` + base64.StdEncoding.EncodeToString([]byte("whole secret ciphertext")) + `"`)
		}}
	otherKey := bitnamiObject{namespace: "prod", name: "other-key", scope: crypto.Strict, values: map[string]string{"api-key": migrateCanary}, key: 1}
	renamed := bitnamiObject{namespace: "prod", name: "db", scope: crypto.Strict, values: map[string]string{"password": migrateCanary},
		mutate: func(s *bitnami.SealedSecret) { s.Name = "db-renamed" }}
	tampered := bitnamiObject{namespace: "prod", name: "tampered", scope: crypto.Strict, values: map[string]string{"password": migrateCanary},
		mutate: func(s *bitnami.SealedSecret) {
			raw, _ := base64.StdEncoding.DecodeString(s.Spec.EncryptedData["password"])
			raw[len(raw)-1] ^= 1
			s.Spec.EncryptedData["password"] = base64.StdEncoding.EncodeToString(raw)
		}}

	tests := []struct {
		name, file string
		obj        bitnamiObject
		want       string
	}{
		{"template.data is refused, naming the object", "templated.yaml", templated,
			"templated.yaml: prod/templated: spec.template.data (values rendered from templates: dsn) is not supported\nhint: seal the Secret in the cluster with gitseal instead: kubectl get secret templated -n prod -o yaml | gitseal seal > FILE"},
		{"legacy spec.data is refused, naming the object", "legacy.yaml", legacy,
			"legacy.yaml: prod/legacy: the legacy spec.data (the whole Secret sealed as one value) is not supported"},
		{"a value no key opens names the object and item", "other-key.yaml", otherKey,
			`other-key.yaml: prod/other-key: item "api-key": no matching key: none of the 1 key(s) opens it, as sealed for namespace "prod", name "other-key" (strict scope)` +
				"\nhint: pass every key of Bitnami's controller with --bitnami-key"},
		{"a renamed strict object does not open", "renamed.yaml", renamed,
			`renamed.yaml: prod/db-renamed: item "password": no matching key`},
		{"a tampered value does not open", "tampered.yaml", tampered,
			`tampered.yaml: prod/tampered: item "password": malformed Bitnami sealed value: the AES-GCM payload does not authenticate`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, tt.file)
			goodFile := filepath.Join(dir, "good.yaml")
			writeTestFile(t, goodFile, good.yaml(t))
			writeTestFile(t, file, tt.obj.yaml(t))
			before := snapshot(t, dir)

			stdout, stderr, code := run(t, "", "migrate", "bitnami", "--bitnami-key", keys0, "--recipients-file", recipients, "-w", goodFile, file)
			if code != ExitFailure {
				t.Fatalf("exit %d, want %d\n%s", code, ExitFailure, stderr)
			}
			if !strings.Contains(stderr, "error: "+filepath.Join(dir, tt.want)) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			checkNoCanary(t, dir, stdout, stderr)
			if !equalSnapshots(before, snapshot(t, dir)) {
				t.Error("a failed migration wrote files")
			}
		})
	}

	t.Run("every failing object is reported, and nothing is written", func(t *testing.T) {
		dir := t.TempDir()
		writeTestFile(t, filepath.Join(dir, "a.yaml"), good.yaml(t)+"---\n"+templated.yaml(t)+"---\n"+legacy.yaml(t))
		before := snapshot(t, dir)
		_, stderr, code := run(t, "", "migrate", "bitnami", "--bitnami-key", keys0, "--recipients-file", recipients, "-R", "-w", dir)
		if code != ExitFailure || !strings.Contains(stderr, "prod/templated: spec.template.data") || !strings.Contains(stderr, "prod/legacy: the legacy spec.data") ||
			!strings.HasSuffix(stderr, "error: 2 of 3 SealedSecrets could not be migrated; nothing was written\n") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
		if !equalSnapshots(before, snapshot(t, dir)) {
			t.Error("files changed")
		}
	})
}

func TestMigrateBitnamiInputsAndFlags(t *testing.T) {
	_, recipients := gitsealIdentity(t)
	keys := bitnamiKeyBackup(t, 0)
	obj := bitnamiObject{namespace: "prod", name: "db", scope: crypto.Strict, values: map[string]string{"password": migrateCanary}}
	dir := t.TempDir()
	pemFile := filepath.Join(dir, "key.pem")
	writeTestFile(t, pemFile, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(bitnamiTestKeys()[0])})))
	garbage := filepath.Join(dir, "garbage.pem")
	writeTestFile(t, garbage, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
	list, err := yaml.YAMLToJSON([]byte("apiVersion: v1\nkind: List\nitems: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	var l map[string]any
	_ = json.Unmarshal(list, &l)
	var item map[string]any
	_ = yaml.Unmarshal([]byte(obj.yaml(t)), &item)
	l["items"] = []any{item, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}}}
	listJSON, _ := json.Marshal(l)
	listFile := filepath.Join(dir, "list.json")
	writeTestFile(t, listFile, string(listJSON))

	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"a PEM key file works", obj.yaml(t), []string{"--bitnami-key", pemFile}, ExitOK, "prod/db: 1 value, strict scope"},
		{"a Bitnami SealedSecret in a JSON List works", "", []string{"--bitnami-key", keys, "-R", listFile}, ExitOK, "prod/db: 1 value, strict scope"},
		{"a List item cannot be replaced in place", "", []string{"--bitnami-key", keys, "-w", listFile}, ExitFailure,
			"list.json, item 1: a Bitnami SealedSecret inside a List cannot be replaced in place"},
		{"other objects are refused without -R", "", []string{"--bitnami-key", keys, listFile}, ExitFailure, "list.json, item 2: a v1 ConfigMap, not a bitnami.com/v1alpha1 SealedSecret"},
		{"no Bitnami SealedSecret", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", []string{"--bitnami-key", keys, "-R"}, ExitFailure, "no bitnami.com/v1alpha1 SealedSecret found"},
		{"--bitnami-key is required", obj.yaml(t), nil, ExitFailure, "--bitnami-key is required\nhint: back up Bitnami's keys first"},
		{"a bad key file is named, not quoted", obj.yaml(t), []string{"--bitnami-key", garbage}, ExitFailure,
			"garbage.pem: malformed Bitnami key: PEM block 1: not a valid PKCS#1 RSA private key"},
		{"--scope does not apply", obj.yaml(t), []string{"--bitnami-key", keys, "--scope", "cluster"}, ExitFailure, "migrate keeps each object's Bitnami scope"},
		{"--write needs files", obj.yaml(t), []string{"--bitnami-key", keys, "-w"}, ExitFailure, "--write needs files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"migrate", "bitnami", "--recipients-file", recipients}, tt.args...)
			stdout, stderr, code := run(t, tt.stdin, args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, tt.want, stderr)
			}
			checkNoCanary(t, dir, stdout, stderr)
			if strings.Contains(stderr, "AAAA") {
				t.Errorf("stderr quotes the key file:\n%s", stderr)
			}
		})
	}
}

// TestGoldenMigrateBitnami shows the output for the fixed test key, with
// the random ciphertexts normalised.
func TestGoldenMigrateBitnami(t *testing.T) {
	dir := t.TempDir()
	writeThreeScopes(t, dir)
	keys := bitnamiKeyBackup(t, 0, 1)
	stdout, stderr, code := run(t, "", "migrate", "bitnami", "--bitnami-key", keys, "--recipients-file", clusterPub, "-R", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	stderr = strings.ReplaceAll(stderr, dir+string(filepath.Separator), "")
	matchGolden(t, "migrate-bitnami.txt", normalize(stdout)+"# stderr\n"+stderr)
}

// snapshot reads every file below dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		out[p] = readTestFile(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalSnapshots(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
