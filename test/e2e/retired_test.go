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
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/test/testenv"
)

// userConfig is a .gitseal.yaml as a team keeps it: init's file with
// comments, blank lines, a second cluster and rules of its own. Only the
// prod cluster's keys may change when it is refreshed.
const userConfig = `# gitseal: which keys ` + "`gitseal seal`" + ` seals to, by file path.
# Our own note: prod keys come from the prod cluster.

clusters:
  # The production cluster.
  - name: prod   # named after the kube context in the runbook
    recipients:
      # id: FIRST
      - FIRSTKEY

  # A cluster that is not asked.
  - name: staging
    recipients: [STAGINGKEY]   # staging's key
rules:
  # Production first.
  - path: "apps/**"
    clusters: [prod]
    scope: strict   # never relax this

  - path: "staging/**"
    clusters: [staging]
    scope: namespace
`

// TestRetiredKeysAreNeverUsedWithoutAWord is issue 11, item 3: after keys
// rotate and keys retire, seal through .gitseal.yaml refuses the retired key
// and names the refresh; keys refresh rewrites the cluster's keys in
// .gitseal.yaml and keeps everything else byte for byte; then scan and
// validate report the values still sealed to the retired key, until
// reseal --only-retired moves them.
func TestRetiredKeysAreNeverUsedWithoutAWord(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	first, _ := c.activeKeyID(t)
	firstKey := strings.TrimSpace(lastLine(r.ok("", "keys", "fetch").stdout))
	other, err := crypto.GenerateIdentity(crypto.Hybrid)
	if err != nil {
		t.Fatal(err)
	}
	staging := other.Recipient().String()
	config := strings.NewReplacer("FIRSTKEY", firstKey, "FIRST", first, "STAGINGKEY", staging).Replace(userConfig)
	writeFile(t, ".gitseal.yaml", config)
	// The plaintext comes on standard input, never into the scanned tree;
	// --path matches it to the rule of the file it is sealed into.
	plaintext := secretYAML(c.apps, "db", map[string]string{"password": "hunter2"})
	seal := []string{"seal", "--path", "apps/db.sealed.yaml"}
	writeFile(t, "apps/db.sealed.yaml", r.ok(plaintext, seal...).stdout)

	second := strings.TrimSpace(r.ok("", "keys", "rotate", "--timeout", "1m").stdout)
	r.ok("", "keys", "retire", first)

	// The cluster says which keys it retired, by ID only: keys.json keeps
	// only active and old keys, for older CLIs.
	testenv.Eventually(t, "the ConfigMap lists the retired key", func() error {
		var cm corev1.ConfigMap
		if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: c.ns, Name: keys.PublicKeysConfigMap}, &cm); err != nil {
			return err
		}
		var retired []string
		if err := json.Unmarshal([]byte(cm.Data[keys.ConfigMapRetiredJSON]), &retired); err != nil || len(retired) != 1 || retired[0] != first {
			return &stringError{"retired.json: " + cm.Data[keys.ConfigMapRetiredJSON]}
		}
		if strings.Contains(cm.Data[keys.ConfigMapKeysJSON], first) {
			return &stringError{"keys.json still lists the retired key: " + cm.Data[keys.ConfigMapKeysJSON]}
		}
		return nil
	})

	// Online, seal refuses the retired key the file still names, and says
	// how to refresh; the file is left alone.
	res := r.run(plaintext, seal...)
	if res.code != 2 || !strings.Contains(res.stderr, first) || !strings.Contains(res.stderr, "retired") ||
		!strings.Contains(res.stderr, "hint: ") || !strings.Contains(res.stderr, "gitseal keys refresh") || strings.Contains(res.stdout, "gs2k:") {
		t.Errorf("online seal to a key the cluster retired: want exit 2 naming the key and gitseal keys refresh\n%s", res)
	}
	// validate, through the controller, reports the value on the retired key.
	res = r.run("", "validate", "apps/db.sealed.yaml")
	if res.code != 1 || !strings.Contains(res.stdout, c.apps+"/db: sealed to retired key "+first) || !strings.Contains(res.stdout, "gitseal reseal --only-retired") {
		t.Errorf("validate of a SealedSecret on a retired key: want exit 1 naming the key\n%s", res)
	}
	// Offline, before a refresh, the file does not know yet: scan is clean.
	if res = r.run("", "scan", "apps/db.sealed.yaml"); res.code != 0 {
		t.Errorf("scan before the refresh: %s", res)
	}

	// One command refreshes the cluster's keys in .gitseal.yaml.
	res = r.ok("", "keys", "refresh")
	if !strings.Contains(res.stderr, `cluster "prod"`) || !strings.Contains(res.stderr, second) || !strings.Contains(res.stderr, first) {
		t.Errorf("keys refresh does not say what changed:\n%s", res)
	}
	after := readFile(t, ".gitseal.yaml")
	secondKey := strings.TrimSpace(lastLine(r.ok("", "keys", "fetch").stdout))
	wantRecipients := "    recipients:\n      # id: " + second + " created: "
	i := strings.Index(after, wantRecipients)
	if i < 0 {
		t.Fatalf("refreshed .gitseal.yaml lacks %q:\n%s", wantRecipients, after)
	}
	j := strings.Index(after[i:], "\n      - "+secondKey+"\n")
	if j < 0 {
		t.Fatalf("refreshed .gitseal.yaml does not seal to the new key:\n%s", after)
	}
	end := i + j + len("\n      - "+secondKey+"\n")
	want := config[:strings.Index(config, "    recipients:\n")] + after[i:end] + "    retired:\n      - " + first + "\n" +
		config[strings.Index(config, "\n\n  # A cluster that is not asked.")+1:]
	if after != want {
		t.Errorf("keys refresh changed more than prod's keys:\n--- got\n%s\n--- want\n%s", after, want)
	}
	if res = r.ok("", "keys", "refresh"); !strings.Contains(res.stderr, "up to date") || readFile(t, ".gitseal.yaml") != after {
		t.Errorf("a second refresh changed something:\n%s", res)
	}

	// Sealing now goes to the new key, online and offline.
	if res = r.ok(plaintext, seal...); !strings.Contains(res.stdout, "- gs2k:"+second+":") {
		t.Errorf("online seal after the refresh:\n%s", res)
	}
	offline := &cliRunner{t: t, kubeconfig: filepath.Join(dir, "none"), c: c}
	if res = offline.ok(plaintext, seal...); !strings.Contains(res.stdout, "- gs2k:"+second+":") {
		t.Errorf("offline seal after the refresh:\n%s", res)
	}
	// The file knows now: offline, scan reports the value on the retired key.
	res = r.run("", "scan", "apps/db.sealed.yaml")
	if res.code != 1 || !strings.Contains(res.stdout, "GS006 sealedsecret-retired-key") || !strings.Contains(res.stdout, "sealed to retired key "+first) {
		t.Errorf("scan after the refresh: want GS006 and exit 1\n%s", res)
	}
	// A rule whose own recipients name the retired key is refused offline
	// too, from the file alone.
	writeFile(t, ".gitseal.yaml", after+"  - path: \"legacy/**\"\n    recipients: ["+firstKey+"]\n")
	res = offline.run(plaintext, "seal", "--path", "legacy/db.sealed.yaml")
	if res.code != 2 || !strings.Contains(res.stderr, first) || !strings.Contains(res.stderr, "retired") || !strings.Contains(res.stderr, "hint: ") {
		t.Errorf("offline seal to a key the file lists as retired: want exit 2\n%s", res)
	}
	writeFile(t, ".gitseal.yaml", after)

	// Moving the values off the retired key settles scan and validate.
	r.ok("", "reseal", "--only-retired", "apps/db.sealed.yaml")
	if res = r.run("", "scan", "apps/db.sealed.yaml"); res.code != 0 {
		t.Errorf("scan after reseal --only-retired: %s", res)
	}
	if res = r.ok("", "validate", "apps/db.sealed.yaml"); !strings.Contains(res.stdout, ": valid (opens with key "+second+")") {
		t.Errorf("validate after reseal --only-retired:\n%s", res)
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
