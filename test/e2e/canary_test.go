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
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCanaryPlaintextNeverLeaks seals a canary value and runs every
// command, on success and failure paths, then looks for the canary, in
// clear and in base64, in everything printed and every file written.
// Only unseal's own output may hold it (C5).
func TestCanaryPlaintextNeverLeaks(t *testing.T) {
	c := startController(t, "")
	var log bytes.Buffer
	r := newRunner(t, c)
	r.log = &log
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir(".git", 0o755); err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	canary := "CANARY-" + hex.EncodeToString(raw)
	canary64 := base64.StdEncoding.EncodeToString([]byte(canary))

	// Plaintext inputs live in their own directory, skipped by the search.
	plain := filepath.Join(dir, "plain")
	writeFile(t, "plain/db.yaml", secretYAML(c.apps, "db", map[string]string{"password": canary, "user": "admin"}))
	writeFile(t, "plain/db.json", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"`+c.apps+`"},"data":{"password":"`+canary64+`"}}`)
	writeFile(t, "plain/update.yaml", secretYAML(c.apps, "db", map[string]string{"token": canary}))
	writeFile(t, "plain/value.txt", canary)
	// Broken inputs whose errors must not quote them.
	writeFile(t, "plain/unterminated.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns-x}\nstringData: {password: \""+canary+"\n")
	writeFile(t, "plain/badjson.json", `{"apiVersion":"v1","kind":"Secret","stringData":{"password":`+canary+`}}`)
	writeFile(t, "plain/badtype.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns-x}\nstringData: {password: ["+canary+"]}\n")
	writeFile(t, "plain/badb64.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns-x}\ndata: {password: \""+canary+"!\"}\n")
	writeFile(t, "plain/badkey.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns-x}\nstringData: {\"bad/key\": "+canary+"}\n")
	writeFile(t, "plain/mapkey.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: ns-x}\nstringData: {? [a]: "+canary+"}\n")
	writeFile(t, "plain/huge.yaml", secretYAML(c.apps, "huge", map[string]string{"password": canary + strings.Repeat("x", 1<<20)}))

	r.ok("", "keys", "fetch", "--output-file", "keys.txt")
	r.ok("", "keys", "list")
	r.ok("", "init", "--cluster-name", "prod")
	r.ok("", "seal", "plain/db.yaml")
	sealed := r.ok("", "seal", "--recipients-file", "keys.txt", "plain/db.yaml").stdout
	writeFile(t, "sealed/db.yaml", sealed)
	writeFile(t, "sealed/db.json", r.ok("", "seal", "-o", "json", "plain/db.json").stdout)
	writeFile(t, "sealed/before.yaml", sealed)
	r.ok(readFile(t, "plain/update.yaml"), "seal", "--merge-into", "sealed/db.yaml")
	r.ok(readFile(t, "plain/update.yaml"), "seal", "--merge-into", "sealed/db.json")
	r.ok(canary, "seal", "--raw", "--namespace", c.apps, "--name", "db", "--key", "password")
	writeFile(t, "inplace/db.yaml", readFile(t, "plain/db.yaml"))
	r.ok("", "seal", "-R", "-w", "inplace")
	for _, bad := range []string{"unterminated.yaml", "badjson.json", "badtype.yaml", "badb64.yaml", "badkey.yaml", "mapkey.yaml", "huge.yaml"} {
		if res := r.run("", "seal", "plain/"+bad); res.code != 2 {
			t.Errorf("seal %s: want exit 2\n%s", bad, res)
		}
	}
	r.ok("", "validate", "sealed/db.yaml")
	writeFile(t, "sealed/renamed.yaml", strings.Replace(readFile(t, "sealed/db.yaml"), "name: db", "name: other", 1))
	r.run("", "validate", "sealed/renamed.yaml")
	r.run("", "diff", "sealed/before.yaml", "sealed/db.yaml")
	r.ok("", "diff", "sealed/db.yaml")
	r.ok("", "diff", "db.yaml", "sealed/before.yaml", "1", "100644", "sealed/db.yaml", "2", "100644")

	first, _ := c.activeKeyID(t)
	r.ok("", "keys", "rotate")
	r.ok("", "reseal", "sealed/db.yaml")
	if err := os.Mkdir("secret", 0o700); err != nil {
		t.Fatal(err)
	}
	// Inside a Git working tree, private keys are written only with --force.
	if res := r.run("", "keys", "backup", "--output-file", "secret/backup.txt"); res.code != 2 || !strings.Contains(res.stderr, "inside the Git working tree") {
		t.Errorf("keys backup into a Git working tree without --force: want exit 2\n%s", res)
	}
	r.ok("", "keys", "backup", "--force", "--output-file", "secret/backup.txt")
	r.ok("", "reseal", "--identity", "secret/backup.txt", "--dry-run", "sealed/db.json")
	r.run("", "reseal", "--identity", "secret/backup.txt", "sealed/renamed.yaml")
	r.ok("", "keys", "retire", first)
	r.run("", "reseal", "--only-retired", "-R", "sealed") // renamed.yaml fails
	// .gitseal.yaml still names the retired key until it is refreshed.
	if res := r.run("", "seal", "plain/db.yaml"); res.code != 2 {
		t.Errorf("seal to a retired key: want exit 2\n%s", res)
	}
	r.ok("", "keys", "refresh")
	r.ok("", "seal", "plain/db.yaml")
	r.ok("", "keys", "restore", "secret/backup.txt")
	r.run("", "unseal", "--identity", "keys.txt", "sealed/db.yaml")
	if res := r.run("", "unseal", "--identity", "secret/backup.txt", "sealed/renamed.yaml"); res.code != 2 {
		t.Errorf("unseal of a renamed SealedSecret: want exit 2\n%s", res)
	}
	for _, args := range [][]string{{"seal", "--help"}, {"keys", "--help"}, {"completion", "bash"}} {
		r.ok("", args...)
	}
	assertNoCanary(t, "CLI output", log.String(), canary, canary64)
	if os.Getenv("GITSEAL_CANARY_LOG") != "" {
		t.Log(log.String())
	}

	// unseal's output holds the plaintext, and only there.
	res := r.ok("", "unseal", "--identity", "secret/backup.txt", "sealed/db.yaml")
	if !strings.Contains(res.stdout, canary64) {
		t.Error("unseal does not print the value: the canary search would be blind")
	}
	assertNoCanary(t, "unseal's stderr", res.stderr, canary, canary64)
	if res := r.run("", "unseal", "--identity", "secret/backup.txt", "--output-file", "secret/out.yaml", "sealed/db.yaml"); res.code != 2 {
		t.Errorf("unseal into a Git working tree without --force: want exit 2\n%s", res)
	}
	res = r.ok("", "unseal", "--identity", "secret/backup.txt", "--force", "--output-file", "secret/out.yaml", "sealed/db.yaml")
	assertNoCanary(t, "unseal -o's output", res.stdout+res.stderr, canary, canary64)
	if !strings.Contains(readFile(t, "secret/out.yaml"), canary64) {
		t.Error("unseal --output-file did not write the value")
	}

	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (path == plain || filepath.Base(path) == ".git"):
			return filepath.SkipDir
		case d.IsDir() || filepath.Base(path) == "out.yaml":
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		assertNoCanary(t, path, string(data), canary, canary64)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func assertNoCanary(t *testing.T, where, s string, canaries ...string) {
	t.Helper()
	for _, c := range canaries {
		if i := strings.Index(s, c); i >= 0 {
			t.Errorf("%s holds the canary: …%s…", where, s[max(0, i-200):min(len(s), i+len(c)+50)])
		}
	}
}
