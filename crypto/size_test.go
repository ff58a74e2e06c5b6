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

package crypto_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/crypto"
)

// fiveItems are the items of cli/bench_test.go's fiveItemSecret: five
// values of typical sizes.
var fiveItems = map[string][]byte{
	"username": []byte("app-user"),
	"password": []byte("3f9c1e7a5b2d4c8e6f0a1b2c3d4e5f60"),
	"host":     []byte("db.prod.svc.cluster.local"),
	"token":    []byte("tok-5d41402abc4b2a76b9719d911017c592ae1f4c1e"),
	"ca.crt":   []byte("-----BEGIN CERTIFICATE-----MIIBszCCAVmgAwIBAgIUJ0aFake0CertificateBodyForBenchmarking0123456789abcdef-----END CERTIFICATE-----"),
}

// sealedSecretYAML writes o as `gitseal seal` prints a SealedSecret of an
// Opaque Secret with no labels or annotations (no template): block YAML,
// two-space indent, sequences indented under their key, no line wrapping.
func sealedSecretYAML(name, namespace string, o *crypto.Object) string {
	var b strings.Builder
	b.WriteString("apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n")
	b.WriteString("  name: " + name + "\n  namespace: " + namespace + "\nspec:\n  dataKeys:\n")
	for _, k := range o.DataKeys {
		b.WriteString("    - " + k + "\n")
	}
	b.WriteString("  encryptedData:\n")
	for _, item := range slices.Sorted(maps.Keys(o.Values)) {
		b.WriteString("    " + item + ": " + o.Values[item] + "\n")
	}
	return b.String()
}

// objectSize seals the five items for one fresh recipient of kind and
// returns the size of the SealedSecret as YAML.
func objectSize(t testing.TB, kind crypto.Kind) int {
	t.Helper()
	b := crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db"}
	o, err := crypto.SealObject(fiveItems, b, keys(t, kind, 1)[0].Recipient())
	if err != nil {
		t.Fatal(err)
	}
	return len(sealedSecretYAML("db", "prod", o))
}

// TestObjectSizeGoals holds format 2 to issue #13's goals for the
// five-item SealedSecret as YAML: hybrid with one recipient at most 2,500
// bytes, X25519 at most 800. The sizes do not depend on the random bytes.
func TestObjectSizeGoals(t *testing.T) {
	for _, tt := range []struct {
		kind crypto.Kind
		goal int
	}{{crypto.Hybrid, 2500}, {crypto.X25519, 800}} {
		got := objectSize(t, tt.kind)
		t.Logf("%s, one recipient: %d bytes of YAML", tt.kind, got)
		if got > tt.goal {
			t.Errorf("%s: %d bytes, the goal is at most %d", tt.kind, got, tt.goal)
		}
	}
}

// BenchmarkObjectSize reports the YAML size of the five-item SealedSecret
// (yaml-bytes) for each kind, and the time to seal it.
func BenchmarkObjectSize(b *testing.B) {
	for _, kind := range kinds {
		b.Run(string(kind), func(b *testing.B) {
			var size int
			for b.Loop() {
				size = objectSize(b, kind)
			}
			b.ReportMetric(float64(size), "yaml-bytes")
		})
	}
}
