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

package crypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

const vectors2File = "testdata/format2.txt"

var updateVectors = flag.Bool("update-vectors", false, "write new format-2 vectors to "+vectors2File+" (random: every value changes)")

// vector2 is one record of testdata/format2.txt (documented at its top).
type vector2 struct {
	name     string
	identity string // "x25519" or "hybrid"
	claim    Binding
	binding  string
	object   Object
	expect   map[string]string // item → "ok <hex>", "malformed" or "scope-mismatch"
}

// TestFormat2Vectors opens the committed format-2 vectors, which
// docs/format.md offers to other implementations: each item must open to
// its value, or fail the way the record says, with no plaintext.
func TestFormat2Vectors(t *testing.T) {
	if *updateVectors {
		writeFormat2Vectors(t)
	}
	ids, vectors := readFormat2Vectors(t)
	if len(vectors) < 10 {
		t.Fatalf("read %d vectors", len(vectors))
	}
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			got := OpenObject(&v.object, v.claim, ids[v.identity])
			if len(v.expect) != len(v.object.Values) {
				t.Fatalf("the record expects %d items, the object has %d", len(v.expect), len(v.object.Values))
			}
			for item, want := range v.expect {
				err := got.Errors[item]
				switch {
				case want == "ok" || strings.HasPrefix(want, "ok "):
					if err != nil || hex.EncodeToString(got.Values[item]) != strings.TrimSpace(strings.TrimPrefix(want, "ok")) {
						t.Errorf("%s: %v", item, err)
					}
				case got.Values[item] != nil:
					t.Errorf("%s: opened, want %s", item, want)
				case want == "malformed" && !errors.Is(err, ErrMalformed),
					want == "scope-mismatch" && !errors.Is(err, ErrScopeMismatch):
					t.Errorf("%s: got %v, want %s", item, err, want)
				}
			}
			if v.binding != "" && formatBinding(got.Binding) != v.binding {
				t.Errorf("binding %q, want %q", formatBinding(got.Binding), v.binding)
			}
		})
	}
}

// TestFormat2DocExampleIsAVector keeps docs/format.md's YAML example equal
// to the vector x25519-strict, so that it stays a real, opening object.
func TestFormat2DocExampleIsAVector(t *testing.T) {
	doc, err := os.ReadFile("../docs/format.md")
	if err != nil {
		t.Fatal(err)
	}
	_, vectors := readFormat2Vectors(t)
	for _, v := range vectors {
		if v.name != "x25519-strict" {
			continue
		}
		for _, line := range []string{"    - " + v.object.DataKeys[0], "    password: " + v.object.Values["password"], "    username: " + v.object.Values["username"]} {
			if !strings.Contains(string(doc), "\n"+line+"\n") {
				t.Errorf("docs/format.md lacks %q", line)
			}
		}
		return
	}
	t.Fatal("no vector x25519-strict")
}

func formatBinding(b Binding) string {
	return strings.TrimSpace(strings.Join([]string{string(b.Scope), b.Namespace, b.Name}, " "))
}

func readFormat2Vectors(t *testing.T) (map[string]*Identity, []*vector2) {
	raw, err := os.ReadFile(vectors2File)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]*Identity{}
	var out []*vector2
	for record := range strings.SplitSeq(string(raw), "\n\n") {
		v := &vector2{object: Object{Values: map[string]string{}}, expect: map[string]string{}}
		for line := range strings.SplitSeq(strings.TrimSpace(record), "\n") {
			key, value, ok := strings.Cut(line, ": ")
			if !ok || strings.HasPrefix(line, "#") {
				continue
			}
			first, rest, _ := strings.Cut(value, " ")
			switch key {
			case "identity-x25519", "identity-hybrid":
				id, err := ParseIdentity(value)
				if err != nil {
					t.Fatal(err)
				}
				ids[strings.TrimPrefix(key, "identity-")] = id
			case "vector":
				v.name = value
			case "identity":
				v.identity = value
			case "claim":
				v.claim = Binding{Namespace: first, Name: rest}
			case "binding":
				v.binding = value
			case "data-key":
				v.object.DataKeys = append(v.object.DataKeys, value)
			case "value":
				v.object.Values[first] = rest
			case "expect":
				v.expect[first] = rest
			default:
				t.Fatalf("unknown field %q", key)
			}
		}
		if v.name != "" {
			out = append(out, v)
		}
	}
	return ids, out
}

// writeFormat2Vectors seals new vectors with the C2SP identities. Run
// `go test ./crypto -run TestFormat2Vectors -update-vectors` only when the
// format changes; the committed file is what other implementations test
// against.
func writeFormat2Vectors(t *testing.T) {
	var x, h *Identity
	for _, id := range vectorIdentities() {
		if id.Kind() == X25519 {
			x = id
		} else {
			h = id
		}
	}
	other, err := GenerateIdentity(X25519)
	if err != nil {
		t.Fatal(err)
	}
	items := map[string][]byte{"password": []byte("hunter2"), "username": []byte("admin"), "empty": {}}
	strict := Binding{Scope: Strict, Namespace: "prod", Name: "db"}
	seal := func(items map[string][]byte, b Binding, rs ...*Recipient) *Object {
		o, err := SealObject(items, b, rs...)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	var buf bytes.Buffer
	buf.WriteString(`# Format-2 test vectors for the gitseal sealing format (docs/format.md,
# "Format 2"). Each record is one object: its data keys (spec.dataKeys, in
# order) and values (spec.encryptedData), the identity that opens it, the
# claim (namespace and name where the object is found), and per item what
# an opener must find: "ok" and the plaintext in hex (nothing for an empty
# value), or "malformed" or "scope-mismatch" and no plaintext. "binding" is
# the binding as sealed, read from an authenticated data key.
#
# The identities are the public X25519 and hybrid test keys of the C2SP age
# test vectors (c2sp.org/CCTV/age, files "x25519" and "hybrid").

# gitseal:allow a public C2SP age test key
identity-x25519: ` + x.SecretKey() + `
# gitseal:allow a public C2SP age test key
identity-hybrid: ` + h.SecretKey() + "\n")
	record := func(name, identity, claim string, o *Object, expect map[string]string, binding string, comment string) {
		fmt.Fprintf(&buf, "\n# %s\nvector: %s\nidentity: %s\nclaim: %s\n", comment, name, identity, claim)
		if binding != "" {
			fmt.Fprintf(&buf, "binding: %s\n", binding)
		}
		for _, k := range o.DataKeys {
			fmt.Fprintf(&buf, "data-key: %s\n", k)
		}
		for _, item := range slices.Sorted(maps.Keys(o.Values)) {
			fmt.Fprintf(&buf, "value: %s %s\n", item, o.Values[item])
		}
		for _, item := range slices.Sorted(maps.Keys(expect)) {
			fmt.Fprintf(&buf, "expect: %s %s\n", item, expect[item])
		}
	}
	ok := func(items map[string][]byte) map[string]string {
		out := map[string]string{}
		for k, v := range items {
			out[k] = strings.TrimSpace("ok " + hex.EncodeToString(v))
		}
		return out
	}
	xs := seal(items, strict, x.Recipient())
	record("x25519-strict", "x25519", "prod db", xs, ok(items), "strict prod db", "X25519, strict scope, one recipient.")
	record("x25519-namespace", "x25519", "prod db", seal(items, Binding{Scope: Namespace, Namespace: "prod"}, x.Recipient()), ok(items), "namespace prod", "X25519, namespace scope.")
	record("x25519-cluster", "x25519", "dev other", seal(items, Binding{Scope: Cluster}, x.Recipient()), ok(items), "cluster", "X25519, cluster scope, found in another namespace: opens.")
	record("hybrid-strict", "hybrid", "prod db", seal(items, strict, h.Recipient()), ok(items), "strict prod db", "Hybrid (mlkem768x25519), strict scope.")
	record("x25519-two-recipients", "x25519", "prod db", seal(items, strict, other.Recipient(), x.Recipient()), ok(items), "strict prod db",
		"X25519, two recipients; the test key is the second (the first is a key whose private half is not published).")
	multi := seal(items, strict, x.Recipient())
	added := map[string][]byte{"token": []byte("t0k3n"), "username": []byte("root")}
	if err := multi.Add(added, strict, x.Recipient()); err != nil {
		t.Fatal(err)
	}
	all := ok(items)
	maps.Copy(all, ok(added))
	record("x25519-two-data-keys", "x25519", "prod db", multi, all, "strict prod db", "X25519, two data keys: token and username were added later (--merge-into), with index 1.")

	tampered := cloneObj(xs)
	ct, _ := b64raw.DecodeString(strings.TrimPrefix(tampered.Values["password"], prefix2))
	ct[3] ^= 0x01
	tampered.Values["password"] = prefix2 + b64raw.EncodeToString(ct)
	exp := ok(items)
	exp["password"] = "malformed"
	record("x25519-tampered", "x25519", "prod db", tampered, exp, "strict prod db", "Negative: one bit of the password's ciphertext flipped.")

	moved := cloneObj(xs)
	moved.Values["password"], moved.Values["username"] = moved.Values["username"], moved.Values["password"]
	exp = ok(items)
	exp["password"], exp["username"] = "scope-mismatch", "scope-mismatch"
	record("x25519-moved-item", "x25519", "prod db", moved, exp, "strict prod db", "Negative: password and username swapped.")

	forged := cloneObj(xs)
	head, rest, _ := strings.Cut(strings.TrimPrefix(forged.DataKeys[0], dataKeyPrefix), ":")
	entry, _ := b64raw.DecodeString(rest)
	entry = append([]byte{entry[0], scopeByteCluster}, entry[2+1+4+1+2:]...) // strict prod db → cluster
	forged.DataKeys[0] = dataKeyPrefix + head + ":" + b64raw.EncodeToString(entry)
	record("x25519-scope-forged", "x25519", "dev other", forged, map[string]string{"password": "malformed", "username": "malformed", "empty": "malformed"}, "",
		"Negative: the data key's scope changed from strict prod/db to cluster: its MAC fails.")

	exp = map[string]string{"password": "scope-mismatch", "username": "scope-mismatch", "empty": "scope-mismatch"}
	record("x25519-other-namespace", "x25519", "dev db", xs, exp, "strict prod db", "Negative: the strict object of x25519-strict found in namespace dev.")
	record("x25519-renamed", "x25519", "prod db2", xs, exp, "strict prod db", "Negative: the strict object of x25519-strict renamed to db2.")
	if err := os.WriteFile(vectors2File, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func cloneObj(o *Object) *Object {
	return &Object{DataKeys: slices.Clone(o.DataKeys), Values: maps.Clone(o.Values)}
}
