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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/crypto"
)

// TestFormat1FilesStillWork: every reader opens a file sealed before
// format 2, and one that mixes both formats (a `seal --raw` value pasted
// into a format-2 object); offline reseal --identity upgrades it in place,
// keeping its comments (issue 13).
func TestFormat1FilesStillWork(t *testing.T) {
	const canary = "canary-format1-cli-71d2"
	id, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id.key")
	if err := os.WriteFile(keyFile, []byte(id.SecretKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db"}
	format1 := func(item string) string {
		b := b
		b.Key = item
		v, err := crypto.Seal([]byte(canary+item), b, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	head := "# kept\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: prod\nspec:\n  encryptedData:\n"
	old := filepath.Join(dir, "old.yaml")
	oldText := head + "    password: " + format1("password") + "\n    user: " + format1("user") + " # the user\n"
	o, err := crypto.SealObject(map[string][]byte{"token": []byte(canary + "token")}, b, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(dir, "mixed.yaml")
	mixedText := head + "    password: " + format1("password") + "\n    token: " + o.Values["token"] + "\n  dataKeys:\n    - " + o.DataKeys[0] + "\n"
	for path, text := range map[string]string{old: oldText, mixed: mixedText} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		out := mustRun(t, "", "unseal", "--identity", keyFile, path)
		if !strings.Contains(out, "password: Y2FuYXJ5") { // base64 of the canary's start
			t.Errorf("unseal %s:\n%s", path, out)
		}
		if out := mustRun(t, "", "diff", path); !strings.Contains(out, "password: sealed to "+string(id.ID())) {
			t.Errorf("diff %s:\n%s", path, out)
		}
		if stdout, stderr, code := run(t, "", "scan", path); code != 0 {
			t.Errorf("scan %s: exit %d\n%s%s", path, code, stdout, stderr)
		}
	}

	// Offline, with the private key: upgraded to format 2 in place.
	stdout, stderr, code := run(t, "", "reseal", "--identity", keyFile, "--recipient", id.Recipient().String(), old, mixed)
	if code != 0 || strings.Contains(stdout+stderr, canary) {
		t.Fatalf("reseal: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, path := range []string{old, mixed} {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(got), "gs1:") || !strings.HasPrefix(string(got), head) || strings.Count(string(got), "- gs2k:") < 1 {
			t.Errorf("%s not upgraded in place:\n%s", path, got)
		}
		if out := mustRun(t, "", "unseal", "--identity", keyFile, path); !strings.Contains(out, "password: Y2FuYXJ5") {
			t.Errorf("unseal of the upgraded %s:\n%s", path, out)
		}
	}
	if got, _ := os.ReadFile(old); !strings.Contains(string(got), " # the user\n") {
		t.Errorf("a comment was lost:\n%s", got)
	}
	if got, _ := os.ReadFile(mixed); !strings.Contains(string(got), "    token: "+o.Values["token"]+"\n") {
		t.Errorf("the format-2 value of the mixed file changed:\n%s", got)
	}
}
