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
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/cli/internal/backup"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/httpapi"
	"github.com/gitseal/gitseal/internal/keys"
)

// matchGolden compares got with testdata/golden/<name>, or rewrites it
// with -update.
func matchGolden(t *testing.T, name, got string) {
	t.Helper()
	goldenFile(t, filepath.Join("testdata", "golden", name), got)
}

// goldenFile compares got with the file at path, or rewrites it with
// -update.
func goldenFile(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cli -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./cli -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// normalize replaces what is random in an output: ciphertexts, their
// hashes, and the test server's port. In YAML, a placeholder says so in a
// comment that gitseal scan honours.
func normalize(s string) string {
	s = regexp.MustCompile(`(?m)^(\s+(\S+:|-) (gs1:[0-9a-f,]+:|gs2:(?:[0-9]+:)?|gs2k:[0-9a-f,]+:))[A-Za-z0-9+/=]+$`).ReplaceAllString(s, "${1}CIPHERTEXT # gitseal:allow a placeholder for a random ciphertext")
	s = regexp.MustCompile(`(gs1:[0-9a-f,]+:|gs2:(?:[0-9]+:)?|gs2k:[0-9a-f,]+:)[A-Za-z0-9+/=]+`).ReplaceAllString(s, "${1}CIPHERTEXT")
	s = regexp.MustCompile(`\((ciphertext|wrapped) [0-9a-f]{16}\)`).ReplaceAllString(s, "($1 HASH)")
	return regexp.MustCompile(`http://127\.0\.0\.1:\d+`).ReplaceAllString(s, "http://127.0.0.1:PORT")
}

// run runs gitseal in process, with an empty kubeconfig: no cluster.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", empty)
	var out, errOut bytes.Buffer
	cmd := newCmdRoot(IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, "gitseal")
	cmd.SetArgs(args)
	code = Execute(context.Background(), cmd, &errOut)
	return out.String(), errOut.String(), code
}

func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	stdout, stderr, code := run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("gitseal %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

const goldenSecrets = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  labels:
    app.kubernetes.io/name: db
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"password":"hunter2"}}'
    owner: team-a
    gitseal.dev/allow-plaintext: a test fixture
type: kubernetes.io/basic-auth
immutable: true
stringData:
  username: admin
  password: hunter2
---
apiVersion: v1
kind: Secret
metadata:
  name: "true"
  namespace: "123"
  annotations:
    gitseal.dev/allow-plaintext: a test fixture
data:
  "007": aHVudGVyMg==
`

const clusterPub = "testdata/keys/cluster.pub"

func TestGoldenSeal(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"seal.yaml", []string{"seal", "--recipients-file", clusterPub}},
		{"seal.json", []string{"seal", "--recipients-file", clusterPub, "-o", "json"}},
		{"seal-namespace-scope.yaml", []string{"seal", "--recipients-file", clusterPub, "--scope", "namespace"}},
		{"seal-raw.txt", []string{"seal", "--recipients-file", clusterPub, "--raw", "--namespace", "prod", "--name", "db", "--key", "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matchGolden(t, tt.name, normalize(mustRun(t, goldenSecrets, tt.args...)))
		})
	}
}

func TestGoldenUnseal(t *testing.T) {
	sealed := mustRun(t, goldenSecrets, "seal", "--recipients-file", clusterPub)
	for _, f := range []string{"yaml", "json"} {
		t.Run(f, func(t *testing.T) {
			matchGolden(t, "unseal."+f, mustRun(t, sealed, "unseal", "--identity", "testdata/keys/cluster.key", "--format", f))
		})
	}
}

func TestGoldenDiff(t *testing.T) {
	dir := t.TempDir()
	before := mustRun(t, goldenSecrets, "seal", "--recipients-file", clusterPub)
	after := mustRun(t, strings.Replace(goldenSecrets, "username: admin", "token: t0ken", 1), "seal", "--recipients-file", "testdata/keys/other.pub")
	oldPath, newPath := filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
	if err := os.WriteFile(oldPath, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newPath, []byte(after), 0o600); err != nil {
		t.Fatal(err)
	}
	matchGolden(t, "diff-textconv.txt", normalize(mustRun(t, "", "diff", oldPath)))
	stdout, _, code := run(t, "", "diff", oldPath, newPath)
	if code != ExitNo {
		t.Errorf("diff with changes: exit %d, want %d", code, ExitNo)
	}
	matchGolden(t, "diff-changes.txt", stdout)
}

// retiredKeyID is the key the fake controller has retired: other.key's.
const retiredKeyID = "1781a639514741f0"

// fakeController serves /v1/keys and /v1/validate like the controller,
// from fixed answers. It has retired other.key.
func fakeController(t *testing.T) string {
	t.Helper()
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	published := []keys.PublicKey{
		{ID: "ad95a07f800fcc69", Kind: crypto.Hybrid, Recipient: lastLine(t, "testdata/keys/cluster.pub"), Created: created, State: keys.Active},
		{ID: "441d5081879ea203", Kind: crypto.Hybrid, Recipient: lastLine(t, "testdata/keys/old.pub"), Created: created.AddDate(0, -5, 0), State: keys.Old},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/keys", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(httpapi.KeysResponse{Keys: published, Retired: []crypto.KeyID{retiredKeyID}})
	})
	validate := func(ss *gitsealv1alpha1.SealedSecret) httpapi.ValidateResponse {
		var retired []string
		for _, v := range ss.Spec.EncryptedData {
			if info, err := crypto.InspectValue(string(v), ss.Spec.DataKeys); err == nil && slices.Contains(info.KeyIDs, retiredKeyID) {
				retired = []string{retiredKeyID}
			}
		}
		if ss.Name != "db" {
			return httpapi.ValidateResponse{Reason: gitsealv1alpha1.ReasonScopeMismatch, Item: "password",
				Message: `item "password": scope mismatch: sealed for name "db", not "` + ss.Name + `"`, RetiredKeyIDs: retired}
		}
		if retired != nil {
			return httpapi.ValidateResponse{Valid: true, KeyIDs: retired, RetiredKeyIDs: retired}
		}
		return httpapi.ValidateResponse{Valid: true, KeyIDs: []string{"ad95a07f800fcc69"}}
	}
	mux.HandleFunc("POST "+httpapi.PathValidate, func(w http.ResponseWriter, r *http.Request) {
		var ss gitsealv1alpha1.SealedSecret
		_ = json.NewDecoder(r.Body).Decode(&ss)
		_ = json.NewEncoder(w).Encode(validate(&ss))
	})
	mux.HandleFunc("POST "+httpapi.PathValidateBatch, func(w http.ResponseWriter, r *http.Request) {
		var req httpapi.BatchRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		var resp httpapi.ValidateBatchResponse
		for i := range req.Items {
			resp.Items = append(resp.Items, validate(&req.Items[i]))
		}
		_ = json.NewEncoder(w).Encode(resp)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func lastLine(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return lines[len(lines)-1]
}

func TestGoldenKeysFetch(t *testing.T) {
	url := fakeController(t)
	matchGolden(t, "keys-fetch.txt", normalize(mustRun(t, "", "keys", "fetch", "--controller-url", url)))
	matchGolden(t, "keys-fetch-all.txt", normalize(mustRun(t, "", "keys", "fetch", "--all", "--controller-url", url)))
}

// TestGoldenValidate: validate says yes, no with the reason, and no for a
// SealedSecret that opens but is sealed to a retired key (issue 11, item 3).
func TestGoldenValidate(t *testing.T) {
	url := fakeController(t)
	sealed := mustRun(t, goldenSecrets, "seal", "--recipients-file", clusterPub)
	sealed += "---\n" + mustRun(t, strings.SplitN(goldenSecrets, "---\n", 2)[0], "seal", "--recipients-file", "testdata/keys/other.pub")
	stdout, stderr, code := run(t, sealed, "validate", "--controller-url", url)
	if code != ExitNo || stderr != "" {
		t.Errorf("validate with an invalid object: exit %d, stderr %q; want %d and nothing", code, stderr, ExitNo)
	}
	matchGolden(t, "validate.txt", stdout)
}

func TestGoldenKeysList(t *testing.T) {
	at := func(s string) metav1.Time {
		tm, _ := time.Parse(time.RFC3339, s)
		return metav1.NewTime(tm)
	}
	meta := func(id, created string, retired bool) metav1.PartialObjectMetadata {
		writer := keys.FieldManagerGenerate
		if id == "0000000000000bad" {
			writer = "kubectl-client-side-apply"
		}
		m := metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
			Name:              keys.SecretNamePrefix + id,
			CreationTimestamp: at("2026-11-26T00:00:00Z"),
			Labels:            map[string]string{keys.LabelSealingKey: "true", keys.LabelKeyID: id},
			Annotations:       map[string]string{keys.AnnotationCreated: created},
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager: writer, Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1",
				FieldsV1: metav1.NewFieldsV1(`{"f:data":{"f:age.key":{}}}`),
			}},
		}}
		if retired {
			m.Labels[keys.LabelRetired] = "true"
		}
		return m
	}
	list := keyStates([]metav1.PartialObjectMetadata{
		meta("441d5081879ea203", "2026-06-01T09:00:00Z", false),
		meta("1781a639514741f0", "2026-11-02T09:00:00Z", true),
		meta("ad95a07f800fcc69", "2026-11-01T09:00:00Z", false),
		meta("0000000000000bad", "2099-01-01T00:00:00Z", false), // applied by hand: never active
		meta("00000000damaged0", "2099-01-01T00:00:00Z", false), // not published by the controller: never active
	}, []crypto.KeyID{"ad95a07f800fcc69", "441d5081879ea203"})
	for _, f := range []string{"table", "json"} {
		var b bytes.Buffer
		if err := writeKeyList(&b, list, f); err != nil {
			t.Fatal(err)
		}
		matchGolden(t, "keys-list."+f, b.String())
	}
}

func TestGoldenBackupAndInit(t *testing.T) {
	data, err := os.ReadFile("testdata/keys/cluster.key")
	if err != nil {
		t.Fatal(err)
	}
	current, err := backup.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile("testdata/keys/old.key")
	if err != nil {
		t.Fatal(err)
	}
	oldBackup, err := backup.Parse(old)
	if err != nil {
		t.Fatal(err)
	}
	ks := []*keys.Key{
		{Identity: current[0].Identity, Created: current[0].Created},
		{Identity: oldBackup[0].Identity, Created: oldBackup[0].Created, Retired: true},
	}
	written := backup.Write(ks, "prod", "gitseal-system")
	back, err := backup.Parse(written)
	if err != nil || len(back) != 2 {
		t.Fatalf("backup.Parse(backup.Write(...)) = %d keys, %v", len(back), err)
	}
	for i, k := range back {
		if k.Identity.SecretKey() != ks[i].Identity.SecretKey() || !k.Created.Equal(ks[i].Created) || k.Retired != ks[i].Retired || !k.Known {
			t.Errorf("key %d does not survive a backup: %s created %v retired %v", i, k.Identity.ID(), k.Created, k.Retired)
		}
	}
	// The golden file shows the format; the keys themselves stay in
	// testdata/keys.
	redacted := regexp.MustCompile(`AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+`).ReplaceAllString(string(written), "AGE-SECRET-KEY-${1}1…")
	matchGolden(t, "keys-backup.txt", redacted)

	pk := publishedKey{PublicKey: keys.PublicKey{ID: current[0].Identity.ID(), Recipient: current[0].Identity.Recipient().String(), Created: current[0].Created, State: keys.Active}}
	matchGolden(t, "init.gitseal.yaml", initialConfig("prod", pk, crypto.Strict))
}

func TestGoldenResealReport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "db.yaml")
	sealed := mustRun(t, goldenSecrets, "seal", "--recipients-file", "testdata/keys/old.pub")
	if err := os.WriteFile(file, []byte(sealed), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "", "reseal", "--identity", "testdata/keys/old.key", "--recipients-file", clusterPub, file)
	matchGolden(t, "reseal.txt", strings.ReplaceAll(out, dir+string(filepath.Separator), ""))
}

func TestGoldenErrors(t *testing.T) {
	tests := []struct {
		name, stdin string
		args        []string
	}{
		{"no cluster, no recipients", goldenSecrets, []string{"seal"}},
		{"offline Secret without a namespace", "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {a: b}\n", []string{"seal", "--recipients-file", clusterPub}},
		{"not a Secret", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", []string{"seal", "--recipients-file", clusterPub}},
		{"unseal without identity", "", []string{"unseal"}},
		{"backup without a file", "", []string{"keys", "backup"}},
		{"raw without a key", "x", []string{"seal", "--raw", "--recipients-file", clusterPub}},
	}
	var b strings.Builder
	for _, tt := range tests {
		_, stderr, code := run(t, tt.stdin, tt.args...)
		b.WriteString("# " + tt.name + ": gitseal " + strings.Join(tt.args, " ") + "\n")
		b.WriteString(stderr)
		b.WriteString("exit " + string(rune('0'+code)) + "\n\n")
	}
	matchGolden(t, "errors.txt", b.String())
}
