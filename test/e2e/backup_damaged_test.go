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
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
)

// A damaged key Secret, and one nobody restored, are left out of a backup
// with a warning naming them; the good key is backed up and the command
// succeeds (RELIABILITY: one bad object never stalls the others).
func TestBackupSkipsKeysItCannotUseAndSucceeds(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	t.Chdir(t.TempDir())
	good, _ := c.activeKeyID(t)

	damaged, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	d := keys.NewSecret(c.ns, damaged, time.Now().AddDate(73, 0, 0))                                                 // dated 2099: would be newest
	d.Data[keys.SecretDataKey] = []byte("AGE-SECRET-KEY-1DAMAGEDQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ") // gitseal:allow a damaged key, not a real one
	if err := env.Client.Create(t.Context(), d, client.FieldOwner(keys.FieldManagerRestore)); err != nil {
		t.Fatal(err)
	}
	stranger, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	u := keys.NewSecret(c.ns, stranger, time.Now())
	if err := env.Client.Create(t.Context(), u, client.FieldOwner("kubectl-create")); err != nil {
		t.Fatal(err)
	}

	// keys list says what the controller says: the damaged key, dated
	// 2099, is broken, the stranger untrusted, the good key active.
	list := r.ok("", "keys", "list").stdout
	for _, want := range []string{good + " ", string(damaged.ID()) + " ", string(stranger.ID()) + " "} {
		if !strings.Contains(list, want) {
			t.Fatalf("keys list lacks %s:\n%s", want, list)
		}
	}
	for _, line := range strings.Split(list, "\n") {
		switch {
		case strings.HasPrefix(line, good) && !strings.HasSuffix(line, "active"),
			strings.HasPrefix(line, string(damaged.ID())) && !strings.HasSuffix(line, "broken"),
			strings.HasPrefix(line, string(stranger.ID())) && !strings.HasSuffix(line, "untrusted"):
			t.Errorf("keys list disagrees with the controller:\n%s", list)
		}
	}

	res := r.ok("", "keys", "backup", "--output-file", "backup.txt")
	for _, name := range []string{d.Name, u.Name} {
		if !strings.Contains(res.stderr, "warning:") || !strings.Contains(res.stderr, name) {
			t.Errorf("backup does not warn about %s:\n%s", name, res)
		}
	}
	ids, err := crypto.ParseIdentities(strings.NewReader(readFile(t, "backup.txt")))
	if err != nil || len(ids) != 1 || string(ids[0].ID()) != good {
		t.Fatalf("backup holds %d keys (%v), want only the good key %s", len(ids), err, good)
	}
	if strings.Contains(res.stderr+res.stdout, "DAMAGED") || strings.Contains(res.stderr+res.stdout, stranger.SecretKey()) {
		t.Error("the output shows key material")
	}
}
