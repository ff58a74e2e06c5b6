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

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitseal/gitseal/cli"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/test/testenv"
)

func secretYAML(ns, name string, items map[string]string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\n")
	if ns != "" {
		b.WriteString("  namespace: " + ns + "\n")
	}
	b.WriteString("stringData:\n")
	for k, v := range items {
		b.WriteString("  " + k + ": " + v + "\n")
	}
	return b.String()
}

func TestFetchSealAndTheControllerUnseals(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	dir := t.TempDir()
	t.Chdir(dir)
	active, _ := c.activeKeyID(t)

	// keys fetch asks the controller.
	res := r.ok("", "keys", "fetch")
	if !strings.Contains(res.stdout, "# id: "+active+" ") || !strings.Contains(res.stdout, "state: active") {
		t.Fatalf("keys fetch does not show the active key %s:\n%s", active, res)
	}
	recipients, err := crypto.ParseRecipients(strings.NewReader(res.stdout))
	if err != nil || len(recipients) != 1 || string(recipients[0].ID()) != active {
		t.Fatalf("keys fetch output is not a recipients file of the active key: %v\n%s", err, res)
	}
	r.ok("", "pubkey", "--output-file", "keys/cluster.txt")
	if readFile(t, "keys/cluster.txt") != res.stdout {
		t.Errorf("pubkey --output-file wrote something else than keys fetch prints")
	}

	// Seal offline to the fetched file, and online to the fetched key.
	writeFile(t, "db.yaml", secretYAML(c.apps, "db", map[string]string{"password": "hunter2"}))
	res = r.ok("", "seal", "--recipients-file", "keys/cluster.txt", "db.yaml")
	writeFile(t, "db.sealed.yaml", res.stdout)
	writeFile(t, "api.yaml", secretYAML("", "api", map[string]string{"token": "t0ken"}))
	res = r.ok("", "seal", "--namespace", c.apps, "api.yaml")
	if !strings.Contains(res.stderr, "sealing to key "+active+" from the controller via "+c.url) {
		t.Errorf("online seal does not say which key it seals to:\n%s", res)
	}
	writeFile(t, "api.sealed.yaml", res.stdout)

	apply(t, "db.sealed.yaml")
	apply(t, "api.sealed.yaml")
	if got := string(secretData(t, c.apps, "db")["password"]); got != "hunter2" {
		t.Errorf("the controller unsealed db/password wrongly")
	}
	if got := string(secretData(t, c.apps, "api")["token"]); got != "t0ken" {
		t.Errorf("the controller unsealed api/token wrongly")
	}

	// The validate endpoint agrees.
	res = r.ok("", "validate", "db.sealed.yaml", "api.sealed.yaml")
	if !strings.Contains(res.stdout, c.apps+"/db: valid (opens with key "+active+")") {
		t.Errorf("validate:\n%s", res)
	}
	// -R validates the SealedSecrets of a tree and skips other objects.
	writeFile(t, "deploy/db.yaml", readFile(t, "db.sealed.yaml")+"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
	writeFile(t, "deploy/web/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n")
	res = r.ok("", "validate", "-R", "deploy")
	if strings.Count(res.stdout, ": valid") != 1 {
		t.Errorf("validate -R:\n%s", res)
	}
}

func TestValidateSaysNoWithTheReason(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	dir := t.TempDir()
	t.Chdir(dir)
	r.ok("", "keys", "fetch", "--output-file", "cluster.txt")
	writeFile(t, "db.yaml", secretYAML(c.apps, "db", map[string]string{"password": "hunter2"}))
	sealed := r.ok("", "seal", "--recipients-file", "cluster.txt", "db.yaml").stdout

	// Copied to another name: strict scope refuses it.
	writeFile(t, "copy.yaml", strings.Replace(sealed, "name: db", "name: db-copy", 1))
	res := r.run("", "validate", "copy.yaml")
	if res.code != 1 {
		t.Fatalf("validate of a renamed SealedSecret: want exit 1\n%s", res)
	}
	want := c.apps + `/db-copy: invalid: ScopeMismatch: item "password": scope mismatch: sealed for name "db", not "db-copy"`
	if !strings.Contains(res.stdout, want) {
		t.Errorf("validate output lacks %q:\n%s", want, res)
	}

	// Sealed to a key the cluster does not have.
	other, _ := crypto.GenerateIdentity(crypto.Hybrid)
	foreign := r.ok("", "seal", "--recipient", other.Recipient().String(), "db.yaml").stdout
	writeFile(t, "foreign.yaml", foreign)
	res = r.run("", "validate", "foreign.yaml")
	if res.code != 1 || !strings.Contains(res.stdout, "invalid: NoMatchingKey") {
		t.Errorf("validate of a value sealed elsewhere:\n%s", res)
	}
	if strings.Contains(res.stdout+res.stderr, "hunter2") {
		t.Errorf("validate printed the plaintext")
	}
}

func TestControllerIsReachedThroughTheServiceProxyByDefault(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	r.direct = false
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, "db.yaml", secretYAML(c.apps, "db", map[string]string{"password": "hunter2"}))
	sealed := r.ok("", "seal", "db.yaml").stdout
	writeFile(t, "db.sealed.yaml", sealed)

	// No Service yet: the API server's proxy refuses, and the CLI says
	// what to check.
	res := r.run("", "validate", "db.sealed.yaml")
	if res.code != 2 || !strings.Contains(res.stderr, "via the API server's proxy to service "+c.ns+"/gitseal: HTTP ") ||
		!strings.Contains(res.stderr, "hint: is the gitseal controller running?") {
		t.Fatalf("validate without a Service:\n%s", res)
	}

	// A Service without endpoints (envtest runs no pods): 503.
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "gitseal"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8000}}, Selector: map[string]string{"app": "gitseal"}},
	}
	if err := env.Client.Create(t.Context(), svc); err != nil {
		t.Fatal(err)
	}
	res = r.run("", "validate", "db.sealed.yaml")
	if res.code != 2 || !strings.Contains(res.stderr, "HTTP 503") || !strings.Contains(res.stderr, "no endpoints available") {
		t.Errorf("validate with a Service without endpoints:\n%s", res)
	}
}

// TestFetchFallsBackToTheConfigMap: the controller is asked first, as
// kubeseal --fetch-cert does; when it does not answer, the CLI reads the
// ConfigMap and says why. Without RBAC on the ConfigMap, the controller's
// answer is enough.
func TestFetchFallsBackToTheConfigMap(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	active, _ := c.activeKeyID(t)

	// No Service, so the API server's proxy refuses: the ConfigMap.
	r.direct = false
	res := r.ok("", "keys", "fetch")
	if !strings.Contains(res.stderr, "note: the controller did not answer (GET /v1/keys via the API server's proxy to service "+c.ns+"/gitseal: HTTP ") ||
		!strings.Contains(res.stderr, "read the keys from ConfigMap "+c.ns+"/gitseal-keys instead") {
		t.Errorf("keys fetch does not say why it fell back:\n%s", res)
	}
	if !strings.Contains(res.stdout, "# id: "+active) || !strings.Contains(res.stdout, "from ConfigMap "+c.ns+"/gitseal-keys") {
		t.Errorf("keys fetch from the ConfigMap:\n%s", res)
	}
	res = r.ok(secretYAML(c.apps, "s", map[string]string{"token": "t0ken"}), "seal")
	if !strings.Contains(res.stderr, "sealing to key "+active+" from ConfigMap "+c.ns+"/gitseal-keys") {
		t.Errorf("seal does not read the ConfigMap when the controller is away:\n%s", res)
	}
	r.direct = true

	// Without config/rbac's binding that lets every authenticated user
	// read the public keys, jane has no RBAC at all.
	if err := env.Client.Delete(t.Context(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "gitseal-public-keys-reader"}}); err != nil {
		t.Fatal(err)
	}
	r.kubeconfig = kubeconfig(t, t.TempDir(), "jane")
	res = r.ok("", "keys", "fetch")
	if strings.Contains(res.stderr, "note:") {
		t.Errorf("keys fetch fell back although the controller answered:\n%s", res)
	}
	if !strings.Contains(res.stdout, "# id: "+active) || !strings.Contains(res.stdout, "from the controller via "+c.url) {
		t.Errorf("keys fetch from the controller:\n%s", res)
	}

	// keys list falls back to the published keys and says retired ones
	// are not visible.
	res = r.ok("", "keys", "list")
	if !strings.Contains(res.stderr, "cannot list the key Secrets") || !strings.Contains(res.stderr, "without retired ones") {
		t.Errorf("keys list does not explain its fallback:\n%s", res)
	}
	if !regexp.MustCompile(active + ` +\S+ +active`).MatchString(res.stdout) {
		t.Errorf("keys list:\n%s", res)
	}

	// Backup needs the right to read Secrets, and says so.
	res = r.run("", "keys", "backup", "--output-file", filepath.Join(t.TempDir(), "b.txt"))
	if res.code != 2 || !strings.Contains(res.stderr, "hint: your credentials may not list Secrets in "+c.ns) {
		t.Errorf("keys backup without RBAC:\n%s", res)
	}
}

func TestRotateRetireAndResealThroughTheController(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	dir := t.TempDir()
	t.Chdir(dir)
	first, _ := c.activeKeyID(t)
	writeFile(t, "db.yaml", secretYAML(c.apps, "db", map[string]string{"password": "hunter2", "user": "admin"}))
	writeFile(t, "db.sealed.yaml", r.ok("", "seal", "db.yaml").stdout)

	// Rotate: a new active key is published and its ID printed.
	res := r.ok("", "keys", "rotate", "--timeout", "1m")
	second := strings.TrimSpace(res.stdout)
	if second == first || len(second) != 16 {
		t.Fatalf("keys rotate printed %q, want a new key ID (old %s)\n%s", second, first, res)
	}
	if now, _ := c.activeKeyID(t); now != second {
		t.Errorf("active key is %s, rotate said %s", now, second)
	}
	res = r.ok("", "keys", "list")
	if !regexp.MustCompile(second+` +\S+ +active`).MatchString(res.stdout) || !regexp.MustCompile(first+` +\S+ +old`).MatchString(res.stdout) {
		t.Errorf("keys list after rotation:\n%s", res)
	}

	// keys retire completes the IDs of the keys not retired yet (issue 11,
	// item 8).
	res = r.complete("keys", "retire", "")
	if !strings.Contains(res.stdout, first+"\told, created ") || !strings.Contains(res.stdout, second+"\tactive, created ") {
		t.Errorf("keys retire completion:\n%s", res)
	}

	// Retire the first key; the SealedSecret file is still on it.
	r.ok("", "keys", "retire", first[:6])
	if res = r.complete("keys", "retire", ""); strings.Contains(res.stdout, first) {
		t.Errorf("keys retire completes a retired key:\n%s", res)
	}
	res = r.ok("", "keys", "list", "-o", "json")
	if !strings.Contains(res.stdout, `"id": "`+first+`"`) || !strings.Contains(res.stdout, `"state": "retired"`) {
		t.Errorf("keys list -o json after retiring:\n%s", res)
	}
	// The only key left that is not retired is refused without --force.
	res = r.run("", "keys", "retire", second)
	if res.code != 2 || !strings.Contains(res.stderr, "only key that is not retired") {
		t.Errorf("retiring the last key:\n%s", res)
	}

	// A rotation's Git diff is one line per object: the data key changes,
	// every value stays byte for byte (issue 13).
	git(t, "init", "-q", ".")
	git(t, "add", "db.sealed.yaml")
	git(t, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "sealed")
	before := readFile(t, "db.sealed.yaml")
	res = r.ok("", "reseal", "--only-retired", "db.sealed.yaml")
	want := "db.sealed.yaml: " + c.apps + "/db: re-sealed password, user (" + first + " → " + second + ")"
	if !strings.Contains(res.stdout, want) {
		t.Errorf("reseal report lacks %q:\n%s", want, res)
	}
	after := readFile(t, "db.sealed.yaml")
	if strings.Count(after, "gs2k:"+second+":") != 1 || strings.Contains(after, first) {
		t.Errorf("the file is not re-sealed to %s:\n%s", second, after)
	}
	if before == after {
		t.Error("reseal left the file unchanged")
	}
	if got := git(t, "diff", "--numstat"); got != "1\t1\tdb.sealed.yaml\n" {
		t.Errorf("git diff --numstat of a rotation = %q, want one line changed", got)
	}
	diff := git(t, "diff", "-U0")
	if strings.Count(diff, "\n@@ ") != 1 {
		t.Errorf("a rotation's diff is not one hunk:\n%s", diff)
	}
	for line := range strings.SplitSeq(diff, "\n") {
		if (strings.HasPrefix(line, "-") || strings.HasPrefix(line, "+")) && !strings.HasPrefix(line, "---") && !strings.HasPrefix(line, "+++") &&
			!strings.HasPrefix(strings.TrimLeft(line[1:], " "), "- gs2k:") {
			t.Errorf("a rotation changed a line that is not a data key: %q", line)
		}
	}
	for line := range strings.SplitSeq(before, "\n") {
		if strings.Contains(line, "gs2:") && !strings.Contains(after, line+"\n") {
			t.Errorf("a value changed in a rotation: %q", line)
		}
	}

	// Nothing is left on the retired key: a second run changes nothing.
	res = r.ok("", "reseal", "--only-retired", "db.sealed.yaml")
	if !strings.Contains(res.stdout, "unchanged") || readFile(t, "db.sealed.yaml") != after {
		t.Errorf("a second reseal changed something:\n%s", res)
	}
	apply(t, "db.sealed.yaml")
	if got := string(secretData(t, c.apps, "db")["password"]); got != "hunter2" {
		t.Error("the re-sealed value does not unseal to the original")
	}
	r.ok("", "validate", "db.sealed.yaml")
}

func TestBackupAndRestoreIntoAFreshCluster(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	dir := t.TempDir()
	t.Chdir(dir)
	first, _ := c.activeKeyID(t)
	writeFile(t, "db.yaml", secretYAML(c.apps, "db", map[string]string{"password": "hunter2"}))
	writeFile(t, "old.sealed.yaml", r.ok("", "seal", "db.yaml").stdout)
	r.ok("", "keys", "rotate")
	r.ok("", "keys", "retire", first)
	second, _ := c.activeKeyID(t)

	// Backup: a 0600 age identity file with IDs, creation times and states.
	res := r.ok("", "keys", "backup", "--output-file", "backup.txt")
	if !strings.Contains(res.stderr, "warning: the backup holds the cluster's private keys") {
		t.Errorf("backup does not warn:\n%s", res)
	}
	info, err := os.Stat("backup.txt")
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup file mode: %v %v", info, err)
	}
	backup := readFile(t, "backup.txt")
	for _, want := range []string{"# id: " + first + " created: ", " retired: true\n", "# id: " + second + " created: ", " retired: false\n"} {
		if !strings.Contains(backup, want) {
			t.Errorf("backup lacks %q", want)
		}
	}
	ids, err := crypto.ParseIdentities(strings.NewReader(backup))
	if err != nil || len(ids) != 2 {
		t.Fatalf("crypto.ParseIdentities(backup) = %d keys, %v", len(ids), err)
	}
	if r.run("", "keys", "backup", "--output-file", "backup.txt").code != 2 {
		t.Error("backup overwrote an existing file")
	}

	// Offline recovery with the backup key.
	res = r.ok("", "unseal", "--identity", "backup.txt", "old.sealed.yaml")
	if !strings.Contains(res.stdout, "password: aHVudGVyMg==") {
		t.Errorf("unseal with the backup:\n%s", res)
	}

	// Disaster: a fresh cluster's controller generates its own key; the
	// restored keys keep their creation time and retired state, so the
	// fresh key stays active and everything in Git opens again.
	fresh := startController(t, "")
	freshKey, _ := fresh.activeKeyID(t)
	rf := newRunner(t, fresh)
	res = rf.ok("", "keys", "restore", "backup.txt")
	if !strings.Contains(res.stdout, "key "+first+": restored as Secret "+fresh.ns+"/gitseal-key-"+first) || !strings.Contains(res.stdout, ", retired)") {
		t.Errorf("restore:\n%s", res)
	}
	var s corev1.Secret
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: fresh.ns, Name: keys.SecretName(crypto.KeyID(first))}, &s); err != nil {
		t.Fatal(err)
	}
	if s.Labels[keys.LabelRetired] != "true" || s.Annotations[keys.AnnotationCreated] == "" {
		t.Errorf("restored Secret metadata: labels %v annotations %v", s.Labels, s.Annotations)
	}
	res = rf.ok("", "keys", "restore", "backup.txt")
	if strings.Count(res.stdout, "exists, skipped") != 2 {
		t.Errorf("a second restore does not skip existing keys:\n%s", res)
	}
	testenv.Eventually(t, "the fresh key stays active", func() error {
		res := rf.ok("", "keys", "list")
		if !regexp.MustCompile(freshKey + ` +\S+ +active`).MatchString(res.stdout) {
			return &stringError{res.stdout}
		}
		return nil
	})
	// Strict scope binds the namespace, so seal again for the fresh one.
	writeFile(t, "db2.yaml", secretYAML(fresh.apps, "db", map[string]string{"password": "hunter2"}))
	sealed := r.ok("", "seal", "--recipient", recipientOf(t, backup, second), "db2.yaml").stdout
	writeFile(t, "fresh.sealed.yaml", sealed)
	testenv.Eventually(t, "a value sealed to the old cluster's key opens in the fresh one", func() error {
		res := rf.run("", "validate", "fresh.sealed.yaml")
		if res.code != 0 {
			return &stringError{res.String()}
		}
		return nil
	})
}

type stringError struct{ s string }

func (e *stringError) Error() string { return e.s }

// recipientOf returns the public key of the backup's key with this ID.
func recipientOf(t *testing.T, backup, id string) string {
	t.Helper()
	ids, err := crypto.ParseIdentities(strings.NewReader(backup))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ids {
		if string(i.ID()) == id {
			return i.Recipient().String()
		}
	}
	t.Fatalf("no key %s in the backup", id)
	return ""
}

func TestInitWritesAConfigThatSealsOffline(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir(".git", 0o755); err != nil {
		t.Fatal(err)
	}
	active, _ := c.activeKeyID(t)
	res := r.ok("", "init", "--cluster-name", "prod")
	if !strings.Contains(res.stderr, "wrote "+filepath.Join(dir, ".gitseal.yaml")+`: cluster "prod", key `+active) {
		t.Errorf("init:\n%s", res)
	}
	if r.run("", "init").code != 2 {
		t.Error("init overwrote .gitseal.yaml without --force")
	}

	// Offline now: a kubeconfig that reaches nothing still seals.
	offline := &cliRunner{t: t, kubeconfig: filepath.Join(dir, "none"), c: c}
	writeFile(t, "apps/db.yaml", secretYAML(c.apps, "db", map[string]string{"password": "hunter2"}))
	res = offline.ok("", "seal", "apps/db.yaml")
	if !strings.Contains(res.stdout, "- gs2k:"+active+":") {
		t.Errorf("offline seal with .gitseal.yaml:\n%s", res)
	}
}

// TestKubectlCompletesThePlugin: with gitseal installed as docs/cli.md
// says (kubectl-gitseal and kubectl_complete-gitseal on the PATH), a real
// kubectl completes `kubectl gitseal …`.
func TestKubectlCompletesThePlugin(t *testing.T) {
	kubectl := env.KubectlPath()
	if kubectl == "" {
		t.Fatal("no kubectl next to the API server: run make test, or export KUBEBUILDER_ASSETS=$(hack/envtest.sh)")
	}
	bin, err := testenv.CLIBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"kubectl-gitseal", cli.PluginCompletionName} {
		if err := os.Symlink(bin, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"gitseal", ""}, []string{"seal\t", "keys\t", "scan\t"}},
		{[]string{"gitseal", "seal", "--scope", ""}, []string{"namespace-wide\t", "cluster-wide\t"}},
		{[]string{"gitseal", "scan", "--format", ""}, []string{"sarif"}},
	} {
		cmd := exec.CommandContext(t.Context(), kubectl, append([]string{"__complete"}, tc.args...)...)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl __complete %s: %v\n%s", strings.Join(tc.args, " "), err, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("kubectl __complete %s offers no %q:\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
	}
}

// TestResealUpgradesAFormat1File: gitseal reseal sends a format-1 file to
// the controller, which opens and seals it again in format 2, so no
// plaintext leaves the cluster; the file keeps its comments and layout, and
// the values still open (issue 13).
func TestResealUpgradesAFormat1File(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	t.Chdir(t.TempDir())
	const canary = "canary-upgrade-e2e-3b9f"
	recipients, err := crypto.ParseRecipients(strings.NewReader(r.ok("", "keys", "fetch").stdout))
	if err != nil {
		t.Fatal(err)
	}
	var items strings.Builder
	for _, item := range []string{"password", "user"} {
		v, err := crypto.Seal([]byte(canary+item), crypto.Binding{Scope: crypto.Strict, Namespace: c.apps, Name: "old", Key: item}, recipients...)
		if err != nil {
			t.Fatal(err)
		}
		items.WriteString("    " + item + ": " + v + " # " + item + "\n")
	}
	header := "# sealed before format 2\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: old\n  namespace: " + c.apps + "\nspec:\n  encryptedData:\n"
	writeFile(t, "old.sealed.yaml", header+items.String()+"  template:\n    type: Opaque\n")

	res := r.ok("", "reseal", "old.sealed.yaml")
	if strings.Contains(res.stdout+res.stderr, canary) || !strings.Contains(res.stdout, "re-sealed password, user") {
		t.Errorf("reseal of a format-1 file:\n%s", res)
	}
	after := readFile(t, "old.sealed.yaml")
	if strings.Contains(after, "gs1:") || !strings.HasPrefix(after, header) || !strings.Contains(after, "\n  dataKeys:\n    - gs2k:") ||
		!strings.Contains(after, " # password\n") || !strings.HasSuffix(after, "  template:\n    type: Opaque\n") {
		t.Errorf("the file is not upgraded in place:\n%s", after)
	}
	apply(t, "old.sealed.yaml")
	if got := string(secretData(t, c.apps, "old")["user"]); got != canary+"user" {
		t.Error("the upgraded value does not unseal to the original")
	}
}
