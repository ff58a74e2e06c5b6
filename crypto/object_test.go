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
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitseal/gitseal/crypto"
)

// Format 2 (docs/format.md, "Format 2") must keep every property format 1
// has; these tests mirror seal_test.go's. RELIABILITY.md C1 (fail closed)
// and C5 (no leak) apply throughout: a rejected value yields no plaintext
// and no error carries one.

var (
	strictObj = crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db"}
	nsObj     = crypto.Binding{Scope: crypto.Namespace, Namespace: "prod"}
	clusterOb = crypto.Binding{Scope: crypto.Cluster}
	foundAtDB = crypto.Binding{Namespace: "prod", Name: "db"}
)

func sealObject(t testing.TB, items map[string]string, b crypto.Binding, ids ...*crypto.Identity) *crypto.Object {
	t.Helper()
	o, err := crypto.SealObject(bytesOf(items), b, recipientsOf(ids...)...)
	if err != nil {
		t.Fatalf("SealObject: %v", err)
	}
	return o
}

func bytesOf(items map[string]string) map[string][]byte {
	in := map[string][]byte{}
	for k, v := range items {
		in[k] = []byte(v)
	}
	return in
}

func cloneObject(o *crypto.Object) *crypto.Object {
	return &crypto.Object{DataKeys: slices.Clone(o.DataKeys), Values: maps.Clone(o.Values)}
}

// openOne opens one item of o and returns its value or error.
func openOne(o *crypto.Object, claim crypto.Binding, item string, ids ...*crypto.Identity) ([]byte, error) {
	got := crypto.OpenObject(o, claim, ids...)
	if len(got.Values)+len(got.Errors) != len(o.Values) {
		panic("an item is missing from the result")
	}
	if v, ok := got.Values[item]; ok {
		if got.Errors[item] != nil {
			panic("an item has both a value and an error")
		}
		return v, nil
	}
	return nil, got.Errors[item]
}

func TestObjectRoundTripEveryScopeAndKind(t *testing.T) {
	items := map[string]string{"password": "s3cret", "empty": "", "big": strings.Repeat("x", 100_000)}
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		for _, b := range []crypto.Binding{strictObj, nsObj, clusterOb} {
			t.Run(string(kind)+"/"+string(b.Scope), func(t *testing.T) {
				o := sealObject(t, items, b, id)
				got := crypto.OpenObject(o, foundAtDB, id)
				if len(got.Errors) != 0 {
					t.Fatalf("errors: %v", got.Errors)
				}
				for k, v := range items {
					if string(got.Values[k]) != v {
						t.Errorf("%s: got %d bytes, want %d", k, len(got.Values[k]), len(v))
					}
				}
				if got.Binding != b || !slices.Equal(got.KeyIDs, []crypto.KeyID{id.ID()}) {
					t.Errorf("binding %+v, key IDs %v", got.Binding, got.KeyIDs)
				}
				for k, v := range o.Values {
					if crypto.Version(v) != 2 || !strings.HasPrefix(v, "gs2:") || strings.Count(v, ":") != 1 {
						t.Errorf("%s: %.10s… is not a gs2 value of data key 0", k, v)
					}
				}
			})
		}
	}
}

func TestVersion(t *testing.T) {
	for in, want := range map[string]int{"gs1:x": 1, "gs2:x": 2, "gs2k:x": 0, "gs3:x": 0, "": 0, "AgBy3i4O": 0} {
		if got := crypto.Version(in); got != want {
			t.Errorf("Version(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestSealObjectRecordsOnlyWhatTheScopeBinds(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	wide := crypto.Binding{Scope: crypto.Cluster, Namespace: "prod", Name: "db", Key: "ignored"}
	o := sealObject(t, map[string]string{"password": "v"}, wide, id)
	got := crypto.OpenObject(o, crypto.Binding{Namespace: "other", Name: "x"}, id)
	if len(got.Errors) != 0 || got.Binding != clusterOb {
		t.Fatalf("got %+v, %v", got.Binding, got.Errors)
	}
}

func TestObjectBindingMismatchIsRejected(t *testing.T) {
	id := keys(t, crypto.Hybrid, 1)[0]
	tests := []struct {
		name   string
		sealed crypto.Binding
		claim  crypto.Binding
		err    error
	}{
		{"strict object copied to another namespace is a scope mismatch", strictObj,
			crypto.Binding{Namespace: "dev", Name: "db"}, crypto.ErrScopeMismatch},
		{"renamed strict object is a scope mismatch", strictObj,
			crypto.Binding{Namespace: "prod", Name: "db2"}, crypto.ErrScopeMismatch},
		{"strict object claimed as cluster-wide is a scope mismatch", strictObj,
			crypto.Binding{Scope: crypto.Cluster, Namespace: "prod", Name: "db"}, crypto.ErrScopeMismatch},
		{"strict object claimed as namespace-wide is a scope mismatch", strictObj,
			crypto.Binding{Scope: crypto.Namespace, Namespace: "prod", Name: "db"}, crypto.ErrScopeMismatch},
		{"namespace object copied to another namespace is a scope mismatch", nsObj,
			crypto.Binding{Namespace: "dev", Name: "db"}, crypto.ErrScopeMismatch},
		{"namespace object claimed as cluster-wide is a scope mismatch", nsObj,
			crypto.Binding{Scope: crypto.Cluster, Namespace: "prod"}, crypto.ErrScopeMismatch},
		{"namespace object renamed opens", nsObj,
			crypto.Binding{Namespace: "prod", Name: "anything"}, nil},
		{"cluster object in another namespace opens", clusterOb,
			crypto.Binding{Namespace: "dev", Name: "x"}, nil},
		{"claimed scope equal to the sealed one opens", strictObj,
			crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := sealObject(t, map[string]string{"password": "canary-3f1d", "user": "canary-3f1d"}, tt.sealed, id)
			got := crypto.OpenObject(o, tt.claim, id)
			for _, item := range []string{"password", "user"} {
				err := got.Errors[item]
				if !errors.Is(err, tt.err) {
					t.Fatalf("%s: got %v, want %v", item, err, tt.err)
				}
				if err != nil && (got.Values[item] != nil || strings.Contains(err.Error(), "canary-3f1d")) {
					t.Errorf("%s: a rejected value returned plaintext or leaked it: %v", item, err)
				}
			}
		})
	}
}

func TestValueMovedToAnotherItemIsAScopeMismatchNamingItsItem(t *testing.T) {
	for _, b := range []crypto.Binding{strictObj, nsObj, clusterOb} {
		id := keys(t, crypto.X25519, 1)[0]
		o := sealObject(t, map[string]string{"password": "p", "username": "u", "token": "t"}, b, id)
		o.Values["password"], o.Values["username"] = o.Values["username"], o.Values["password"]
		got := crypto.OpenObject(o, foundAtDB, id)
		for item, from := range map[string]string{"password": "username", "username": "password"} {
			err := got.Errors[item]
			if !errors.Is(err, crypto.ErrScopeMismatch) || !strings.Contains(err.Error(), fmt.Sprintf("%q", from)) {
				t.Errorf("%s: %s: got %v, want a scope mismatch naming %q", b.Scope, item, err, from)
			}
		}
		if string(got.Values["token"]) != "t" {
			t.Errorf("%s: the untouched item did not open: %v", b.Scope, got.Errors["token"])
		}
	}
	// The item it was sealed for is no longer in the object: nothing to name.
	id := keys(t, crypto.X25519, 1)[0]
	o := sealObject(t, map[string]string{"password": "p"}, strictObj, id)
	o.Values["other"] = o.Values["password"]
	delete(o.Values, "password")
	if _, err := openOne(o, foundAtDB, "other", id); !errors.Is(err, crypto.ErrMalformed) {
		t.Errorf("got %v, want ErrMalformed", err)
	}
}

func TestItemsMixedBetweenTwoObjectsDoNotOpen(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	for _, b := range []crypto.Binding{strictObj, nsObj, clusterOb} {
		// Two objects with the same binding and item keys: only their data
		// keys differ, and that is enough.
		a := sealObject(t, map[string]string{"password": "a-pass", "user": "a-user"}, b, id)
		other := sealObject(t, map[string]string{"password": "b-pass", "user": "b-user"}, b, id)
		mixed := cloneObject(a)
		mixed.Values["password"] = other.Values["password"]
		got := crypto.OpenObject(mixed, foundAtDB, id)
		if !errors.Is(got.Errors["password"], crypto.ErrMalformed) || got.Values["password"] != nil {
			t.Errorf("%s: a value from another object: got %v", b.Scope, got.Errors["password"])
		}
		if string(got.Values["user"]) != "a-user" {
			t.Errorf("%s: the object's own item: %v", b.Scope, got.Errors["user"])
		}
		// Both objects' data keys in one: each value opens under its own,
		// so the scope still decides.
		both := cloneObject(a)
		both.DataKeys = append(both.DataKeys, other.DataKeys[0])
		both.Values["password"] = strings.Replace(other.Values["password"], "gs2:", "gs2:1:", 1)
		got = crypto.OpenObject(both, foundAtDB, id)
		if string(got.Values["password"]) != "b-pass" || string(got.Values["user"]) != "a-user" {
			t.Errorf("%s: two data keys of one binding: %v", b.Scope, got.Errors)
		}
	}
	// Objects of two names, strict: the second's data key says so.
	a := sealObject(t, map[string]string{"password": "a"}, strictObj, id)
	other := sealObject(t, map[string]string{"user": "b"}, crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "api"}, id)
	mixed := cloneObject(a)
	mixed.DataKeys = append(mixed.DataKeys, other.DataKeys[0])
	mixed.Values["user"] = strings.Replace(other.Values["user"], "gs2:", "gs2:1:", 1)
	got := crypto.OpenObject(mixed, foundAtDB, id)
	if len(got.Values) != 0 || !errors.Is(got.Errors["password"], crypto.ErrMalformed) || !errors.Is(got.Errors["user"], crypto.ErrMalformed) {
		t.Errorf("data keys of two bindings in one object: %v", got.Errors)
	}
}

// entryOf decodes a data key's entry; withEntry encodes it back.
func entryOf(t testing.TB, line string) (string, []byte) {
	t.Helper()
	i := strings.LastIndexByte(line, ':')
	entry, err := base64.RawStdEncoding.DecodeString(line[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return line[:i+1], entry
}

func withEntry(head string, entry []byte) string {
	return head + base64.RawStdEncoding.EncodeToString(entry)
}

func TestScopeIsNeverTakenFromUnauthenticatedData(t *testing.T) {
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		o := sealObject(t, map[string]string{"password": "canary-91ab"}, strictObj, id)
		head, entry := entryOf(t, o.DataKeys[0])
		// entry: kind, scope, len, "prod", len, "db", stanzas, MAC.
		if entry[1] != 1 || string(entry[3:7]) != "prod" || string(entry[8:10]) != "db" {
			t.Fatalf("unexpected entry layout %x", entry[:10])
		}
		forged := map[string][]byte{
			"scope byte changed to cluster":   append([]byte{entry[0], 3}, entry[10:]...),
			"scope byte changed to namespace": append(append([]byte{entry[0], 2}, entry[2:7]...), entry[10:]...),
			"namespace changed":               append(append(slices.Clone(entry[:3]), "dev\x02db"...), entry[10:]...),
			"namespace renamed, same length":  append(append(slices.Clone(entry[:3]), "test\x02db"...), entry[10:]...),
			"name changed":                    append(slices.Clone(entry[:7]), append([]byte("\x03api"), entry[10:]...)...),
		}
		for name, e := range forged {
			t.Run(string(kind)+"/"+name, func(t *testing.T) {
				f := cloneObject(o)
				f.DataKeys[0] = withEntry(head, e)
				for _, claim := range []crypto.Binding{foundAtDB, {Namespace: "dev", Name: "db"}, {Namespace: "test", Name: "db"}, {Namespace: "prod", Name: "api"}} {
					v, err := openOne(f, claim, "password", id)
					if v != nil || !errors.Is(err, crypto.ErrMalformed) {
						t.Fatalf("claim %+v: got %v, want ErrMalformed and no value", claim, err)
					}
					if strings.Contains(err.Error(), "canary-91ab") {
						t.Fatalf("error leaks the value: %v", err)
					}
				}
			})
		}
	}
}

func TestObjectWrongKeyIsNoMatchingKey(t *testing.T) {
	for _, kind := range kinds {
		ids := keys(t, kind, 2)
		o := sealObject(t, map[string]string{"password": "v"}, strictObj, ids[0])
		_, err := openOne(o, foundAtDB, "password", ids[1])
		if !errors.Is(err, crypto.ErrNoMatchingKey) || !strings.Contains(err.Error(), string(ids[0].ID())) {
			t.Errorf("%s: got %v, want ErrNoMatchingKey naming %s", kind, err, ids[0].ID())
		}
	}
	o := sealObject(t, map[string]string{"password": "v"}, strictObj, keys(t, crypto.Hybrid, 1)...)
	if _, err := openOne(o, foundAtDB, "password", keys(t, crypto.X25519, 1)...); !errors.Is(err, crypto.ErrNoMatchingKey) {
		t.Errorf("other kind: got %v, want ErrNoMatchingKey", err)
	}
	if _, err := openOne(o, foundAtDB, "password"); !errors.Is(err, crypto.ErrNoMatchingKey) {
		t.Errorf("no identities: got %v, want ErrNoMatchingKey", err)
	}
}

func TestObjectSeveralRecipientsEachOpen(t *testing.T) {
	for _, kind := range kinds {
		ids := keys(t, kind, 3) // two clusters and an offline backup key
		o := sealObject(t, map[string]string{"password": "shared", "user": "u"}, strictObj, ids...)
		info, err := crypto.InspectDataKey(o.DataKeys[0])
		if err != nil {
			t.Fatal(err)
		}
		if info.Recipients != 3 || info.Kind != kind || !slices.Equal(info.KeyIDs, []crypto.KeyID{ids[0].ID(), ids[1].ID(), ids[2].ID()}) {
			t.Errorf("%s: InspectDataKey = %+v", kind, info)
		}
		for i, id := range ids {
			got := crypto.OpenObject(o, foundAtDB, id)
			if len(got.Errors) != 0 || string(got.Values["password"]) != "shared" || !slices.Equal(got.KeyIDs, []crypto.KeyID{id.ID()}) {
				t.Errorf("%s: recipient %d: %+v", kind, i, got)
			}
		}
	}
}

func TestKeyIDHintsAreReadableWithoutAPrivateKey(t *testing.T) {
	ids := keys(t, crypto.Hybrid, 2)
	o := sealObject(t, map[string]string{"a": "1"}, strictObj, ids[0])
	if err := o.Add(map[string][]byte{"b": []byte("2")}, strictObj, ids[1].Recipient()); err != nil {
		t.Fatal(err)
	}
	for item, want := range map[string]crypto.KeyID{"a": ids[0].ID(), "b": ids[1].ID()} {
		info, err := crypto.InspectValue(o.Values[item], o.DataKeys)
		if err != nil || !slices.Equal(info.KeyIDs, []crypto.KeyID{want}) || info.Kind != crypto.Hybrid || info.Recipients != 1 {
			t.Errorf("%s: %+v, %v", item, info, err)
		}
	}
	gs1 := seal(t, "v", strictDB, ids[0])
	if info, err := crypto.InspectValue(gs1, nil); err != nil || info.KeyIDs[0] != ids[0].ID() {
		t.Errorf("format 1: %+v, %v", info, err)
	}
	if _, err := crypto.Inspect(o.Values["a"]); !errors.Is(err, crypto.ErrMalformed) || !strings.Contains(err.Error(), "data key") {
		t.Errorf("Inspect of a gs2 value: %v", err)
	}
}

func TestObjectAlteredKeyIDHintIsHarmless(t *testing.T) {
	ids := keys(t, crypto.X25519, 2)
	right, wrong := ids[0], ids[1]
	o := sealObject(t, map[string]string{"password": "v"}, strictObj, right)
	_, rest, _ := strings.Cut(strings.TrimPrefix(o.DataKeys[0], "gs2k:"), ":")
	forge := func(hint string) *crypto.Object {
		f := cloneObject(o)
		f.DataKeys[0] = "gs2k:" + hint + ":" + rest
		return f
	}
	got := crypto.OpenObject(forge(string(wrong.ID())), foundAtDB, wrong, right)
	if len(got.Errors) != 0 || got.Binding != strictObj || got.KeyIDs[0] != right.ID() {
		t.Errorf("hint naming another key: %+v", got)
	}
	if _, err := openOne(forge(string(wrong.ID())), foundAtDB, "password", wrong); !errors.Is(err, crypto.ErrNoMatchingKey) {
		t.Errorf("hint naming the wrong key made it open: %v", err)
	}
	if _, err := openOne(forge("0000000000000000"), crypto.Binding{Namespace: "dev", Name: "db"}, "password", right); !errors.Is(err, crypto.ErrScopeMismatch) {
		t.Errorf("hint widened the scope: %v", err)
	}
	if _, err := openOne(forge(string(right.ID())+","+string(wrong.ID())), foundAtDB, "password", right); !errors.Is(err, crypto.ErrMalformed) {
		t.Errorf("more key IDs than stanzas: %v", err)
	}
}

func TestMixingKindsIsRefused(t *testing.T) {
	h, x := keys(t, crypto.Hybrid, 1)[0], keys(t, crypto.X25519, 1)[0]
	if _, err := crypto.SealObject(map[string][]byte{"k": []byte("v")}, strictObj, h.Recipient(), x.Recipient()); !errors.Is(err, crypto.ErrIncompatibleRecipients) || !strings.Contains(err.Error(), "post-quantum") {
		t.Errorf("SealObject: got %v, want ErrIncompatibleRecipients saying why", err)
	}
	o := sealObject(t, map[string]string{"a": "1"}, strictObj, h)
	before := cloneObject(o)
	if err := o.Add(map[string][]byte{"b": []byte("2")}, strictObj, x.Recipient()); !errors.Is(err, crypto.ErrIncompatibleRecipients) {
		t.Errorf("Add of another kind: got %v", err)
	}
	if !slices.Equal(o.DataKeys, before.DataKeys) || !maps.Equal(o.Values, before.Values) {
		t.Error("a refused Add changed the object")
	}
	// An object whose data keys are of two kinds, written by hand.
	other := sealObject(t, map[string]string{"b": "2"}, strictObj, x)
	o.DataKeys = append(o.DataKeys, other.DataKeys[0])
	o.Values["b"] = strings.Replace(other.Values["b"], "gs2:", "gs2:1:", 1)
	got := crypto.OpenObject(o, foundAtDB, h, x)
	if len(got.Values) != 0 || !errors.Is(got.Errors["a"], crypto.ErrMalformed) || !strings.Contains(got.Errors["a"].Error(), "mixes") {
		t.Errorf("mixed object: %v", got.Errors)
	}
}

func TestObjectEveryBitFlipIsRejected(t *testing.T) {
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		o := sealObject(t, map[string]string{"password": "canary-value", "user": "u"}, strictObj, id)
		ct, _ := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(o.Values["password"], "gs2:"))
		for pos := range ct {
			f := cloneObject(o)
			flipped := bytes.Clone(ct)
			flipped[pos] ^= 1 << (pos % 8)
			f.Values["password"] = "gs2:" + base64.RawStdEncoding.EncodeToString(flipped)
			if v, err := openOne(f, foundAtDB, "password", id); err == nil || v != nil {
				t.Fatalf("%s: flipping a bit of value byte %d was accepted", kind, pos)
			}
		}
		head, entry := entryOf(t, o.DataKeys[0])
		step := 1
		if kind == crypto.Hybrid {
			step = 7 // 1,200 bytes: every seventh keeps the test quick
		}
		for pos := 0; pos < len(entry); pos += step {
			f := cloneObject(o)
			flipped := bytes.Clone(entry)
			flipped[pos] ^= 1 << (pos % 8)
			f.DataKeys[0] = withEntry(head, flipped)
			got := crypto.OpenObject(f, foundAtDB, id)
			if len(got.Values) != 0 {
				t.Fatalf("%s: flipping a bit of data key byte %d was accepted", kind, pos)
			}
		}
	}
}

func TestObjectTruncationsAreRejected(t *testing.T) {
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		o := sealObject(t, map[string]string{"password": strings.Repeat("v", 1000)}, strictObj, id)
		v := o.Values["password"]
		for n := 0; n < len(v); n += 1 + n/32 {
			f := cloneObject(o)
			f.Values["password"] = v[:n]
			if got, err := openOne(f, foundAtDB, "password", id); err == nil || got != nil {
				t.Fatalf("%s: value truncated to %d of %d characters was accepted", kind, n, len(v))
			}
		}
		k := o.DataKeys[0]
		for n := 0; n < len(k); n += 1 + n/32 {
			f := cloneObject(o)
			f.DataKeys[0] = k[:n]
			if got, err := openOne(f, foundAtDB, "password", id); err == nil || got != nil {
				t.Fatalf("%s: data key truncated to %d of %d characters was accepted", kind, n, len(k))
			}
		}
	}
}

func TestObjectMalformedInputs(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	good := sealObject(t, map[string]string{"password": "v"}, strictObj, id)
	value, dataKey := good.Values["password"], good.DataKeys[0]
	head, entry := entryOf(t, dataKey)
	ct := strings.TrimPrefix(value, "gs2:")
	values := []struct{ name, v string }{
		{"empty", ""},
		{"format-1 prefix on a gs2 body", "gs1:" + ct},
		{"explicit index 0 is not canonical", "gs2:0:" + ct},
		{"index with a leading zero", "gs2:01:" + ct},
		{"negative index", "gs2:-1:" + ct},
		{"index of a data key that does not exist", "gs2:1:" + ct},
		{"huge index", "gs2:99999999999999999999:" + ct},
		{"padded base64", "gs2:" + base64.StdEncoding.EncodeToString(mustDecode(t, ct))},
		{"non-base64 ciphertext", "gs2:not base64!"},
		{"base64 with a line break", "gs2:" + ct[:8] + "\n" + ct[8:]},
		{"ciphertext shorter than a tag", "gs2:" + ct[:20]},
		{"empty ciphertext", "gs2:"},
	}
	t.Run("value/under an invalid item key", func(t *testing.T) {
		f := cloneObject(good)
		f.Values[strings.Repeat("k", 300)] = value
		if _, err := openOne(f, foundAtDB, strings.Repeat("k", 300), id); !errors.Is(err, crypto.ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	})
	for _, tt := range values {
		t.Run("value/"+tt.name, func(t *testing.T) {
			f := cloneObject(good)
			f.Values["password"] = tt.v
			if _, err := openOne(f, foundAtDB, "password", id); !errors.Is(err, crypto.ErrMalformed) {
				t.Errorf("got %v, want ErrMalformed", err)
			}
		})
	}
	keyLines := []struct{ name, k string }{
		{"empty", ""},
		{"wrong prefix", strings.Replace(dataKey, "gs2k:", "gs3k:", 1)},
		{"missing key IDs", "gs2k:" + base64.RawStdEncoding.EncodeToString(entry)},
		{"empty key ID", "gs2k::" + base64.RawStdEncoding.EncodeToString(entry)},
		{"uppercase key ID", strings.ToUpper(head) + base64.RawStdEncoding.EncodeToString(entry)},
		{"padded base64", head + base64.StdEncoding.EncodeToString(append(slices.Clone(entry), 0)[:len(entry)+1])},
		{"non-base64", head + "not base64!"},
		{"line break", head + base64.RawStdEncoding.EncodeToString(entry)[:8] + "\n" + base64.RawStdEncoding.EncodeToString(entry)[8:]},
		{"unknown kind byte", withEntry(head, append([]byte{3}, entry[1:]...))},
		{"kind byte zero", withEntry(head, append([]byte{0}, entry[1:]...))},
		{"unknown scope byte", withEntry(head, append([]byte{entry[0], 9}, entry[2:]...))},
		{"stanza of the wrong length", withEntry(head, append(slices.Clone(entry[:len(entry)-1]), 0, 0))},
		{"no stanzas", withEntry(head, append(slices.Clone(entry[:10]), entry[len(entry)-16:]...))},
		{"hybrid kind byte on X25519 stanzas", withEntry(head, append([]byte{2}, entry[1:]...))},
		{"invalid namespace", withEntry(head, append(append(slices.Clone(entry[:3]), "PROD"...), entry[7:]...))},
		{"namespace length past the end", withEntry(head, []byte{1, 1, 200, 'p'})},
	}
	for _, tt := range keyLines {
		t.Run("data key/"+tt.name, func(t *testing.T) {
			f := cloneObject(good)
			f.DataKeys[0] = tt.k
			if _, err := openOne(f, foundAtDB, "password", id); !errors.Is(err, crypto.ErrMalformed) {
				t.Errorf("OpenObject: got %v, want ErrMalformed", err)
			}
			if _, err := crypto.InspectDataKey(tt.k); err == nil {
				t.Errorf("InspectDataKey accepted it")
			}
		})
	}
}

func mustDecode(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestObjectLimits(t *testing.T) {
	xs := keys(t, crypto.X25519, crypto.MaxRecipients+1)
	if _, err := crypto.SealObject(map[string][]byte{"k": nil}, strictObj, recipientsOf(xs...)...); err == nil {
		t.Error("SealObject to 17 recipients succeeded")
	}
	o := sealObject(t, map[string]string{"k": "v"}, strictObj, xs[:crypto.MaxRecipients]...)
	if got := crypto.OpenObject(o, foundAtDB, xs[crypto.MaxRecipients-1]); len(got.Errors) != 0 {
		t.Errorf("16 recipients: %v", got.Errors)
	}
	// 17 stanzas, written by hand.
	head, entry := entryOf(t, o.DataKeys[0])
	stanza := entry[10 : 10+64]
	big := append(append(slices.Clone(entry[:len(entry)-16]), stanza...), entry[len(entry)-16:]...)
	f := cloneObject(o)
	f.DataKeys[0] = withEntry(head+"", big)
	if _, err := openOne(f, foundAtDB, "k", xs[0]); !errors.Is(err, crypto.ErrMalformed) {
		t.Errorf("17 stanzas: %v", err)
	}
	// Data keys.
	id := xs[0]
	o = sealObject(t, map[string]string{"k0": "v"}, strictObj, id)
	for i := 1; i < crypto.MaxDataKeys; i++ {
		if err := o.Add(map[string][]byte{fmt.Sprintf("k%d", i): []byte("v")}, strictObj, id.Recipient()); err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
	}
	if len(o.DataKeys) != crypto.MaxDataKeys {
		t.Fatalf("%d data keys", len(o.DataKeys))
	}
	if got := crypto.OpenObject(o, foundAtDB, id); len(got.Errors) != 0 || len(got.Values) != crypto.MaxDataKeys {
		t.Fatalf("16 data keys: %v", got.Errors)
	}
	if err := o.Add(map[string][]byte{"one-more": []byte("v")}, strictObj, id.Recipient()); !errors.Is(err, crypto.ErrTooLarge) {
		t.Errorf("a 17th data key: got %v, want ErrTooLarge", err)
	}
	// Replacing an item under the last data key frees that key.
	if err := o.Add(map[string][]byte{"k15": []byte("w")}, strictObj, id.Recipient()); err != nil {
		t.Errorf("replacing the only item of a data key: %v", err)
	}
	f = cloneObject(o)
	f.DataKeys = append(f.DataKeys, f.DataKeys[0])
	if got := crypto.OpenObject(f, foundAtDB, id); !errors.Is(got.Errors["k0"], crypto.ErrTooLarge) {
		t.Errorf("17 data keys: %v", got.Errors["k0"])
	}
	// Values and data keys over the size caps.
	if _, err := crypto.SealObject(map[string][]byte{"k": make([]byte, crypto.MaxValueSize+1)}, strictObj, id.Recipient()); !errors.Is(err, crypto.ErrTooLarge) {
		t.Errorf("a value over the cap: %v", err)
	}
	o = sealObject(t, map[string]string{"k": string(make([]byte, crypto.MaxValueSize))}, strictObj, id)
	if v, err := openOne(o, foundAtDB, "k", id); err != nil || len(v) != crypto.MaxValueSize {
		t.Errorf("a value at the cap: %v", err)
	}
	o.Values["k"] = "gs2:" + strings.Repeat("A", 2<<20)
	if _, err := openOne(o, foundAtDB, "k", id); !errors.Is(err, crypto.ErrTooLarge) {
		t.Errorf("a 2 MiB value: %v", err)
	}
	if _, err := crypto.InspectDataKey("gs2k:" + strings.Repeat("A", 1<<20)); !errors.Is(err, crypto.ErrTooLarge) {
		t.Errorf("a 1 MiB data key: %v", err)
	}
}

// TestTenThousandBrokenItemsOpenQuickly: every item of a 10,000-item object
// fails authentication, and finding the items moved values came from is
// budgeted, so one object cannot make the controller spend minutes (C4).
func TestTenThousandBrokenItemsOpenQuickly(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	items := map[string]string{}
	for i := range 10_000 {
		items[fmt.Sprintf("item-%05d", i)] = "v"
	}
	o := sealObject(t, items, clusterOb, id)
	other := sealObject(t, map[string]string{"x": "v"}, clusterOb, id)
	o.DataKeys = other.DataKeys // every value now fails
	start := time.Now()
	got := crypto.OpenObject(o, foundAtDB, id)
	if len(got.Errors) != 10_000 || time.Since(start) > 10*time.Second {
		t.Errorf("%d errors in %v", len(got.Errors), time.Since(start))
	}
}

func TestSealObjectRejectsBadInput(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	for _, b := range []crypto.Binding{
		{Scope: "global", Namespace: "a", Name: "b"},
		{Scope: crypto.Strict, Namespace: "a"},
		{Scope: crypto.Strict, Namespace: "A", Name: "b"},
		{Scope: crypto.Namespace},
	} {
		if _, err := crypto.SealObject(map[string][]byte{"k": nil}, b, id.Recipient()); err == nil {
			t.Errorf("SealObject accepted %+v", b)
		}
	}
	for _, item := range []string{"", "a/b", "..", strings.Repeat("k", 254)} {
		if _, err := crypto.SealObject(map[string][]byte{item: nil}, clusterOb, id.Recipient()); err == nil {
			t.Errorf("SealObject accepted item key %q", item)
		}
	}
	if _, err := crypto.SealObject(map[string][]byte{"k": nil}, clusterOb); err == nil {
		t.Error("SealObject with no recipients succeeded")
	}
	o, err := crypto.SealObject(nil, clusterOb, id.Recipient())
	if err != nil || len(o.DataKeys) != 0 || len(o.Values) != 0 {
		t.Errorf("no items: %+v, %v", o, err)
	}
}

func TestAddWorksOfflineWithoutAPrivateKey(t *testing.T) {
	for _, kind := range kinds {
		ids := keys(t, kind, 2) // a cluster and the offline backup key
		o := sealObject(t, map[string]string{"password": "p1", "user": "u"}, strictObj, ids...)
		sealedUser, firstKey := o.Values["user"], o.DataKeys[0]

		// --merge-into: public keys only.
		err := o.Add(map[string][]byte{"password": []byte("p2"), "token": []byte("t")}, strictObj, recipientsOf(ids...)...)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.DataKeys) != 2 || o.DataKeys[0] != firstKey || o.Values["user"] != sealedUser {
			t.Errorf("%s: the untouched item or its data key changed", kind)
		}
		if !strings.HasPrefix(o.Values["password"], "gs2:1:") || !strings.HasPrefix(o.Values["token"], "gs2:1:") {
			t.Errorf("%s: added items should use data key 1", kind)
		}
		for _, id := range ids {
			got := crypto.OpenObject(o, foundAtDB, id)
			want := map[string]string{"password": "p2", "user": "u", "token": "t"}
			if len(got.Errors) != 0 || len(got.Values) != 3 {
				t.Fatalf("%s: %v", kind, got.Errors)
			}
			for k, v := range want {
				if string(got.Values[k]) != v {
					t.Errorf("%s: %s = %q, want %q", kind, k, got.Values[k], v)
				}
			}
		}
		grew := len(o.DataKeys[1])
		t.Logf("%s, %d recipients: a data key line adds %d bytes", kind, len(ids), grew)

		// Replacing the last item of data key 0 drops it; the others are
		// renumbered, their ciphertext unchanged.
		token := o.Values["token"]
		if err := o.Add(map[string][]byte{"user": []byte("u2")}, strictObj, recipientsOf(ids...)...); err != nil {
			t.Fatal(err)
		}
		if len(o.DataKeys) != 2 || o.Values["token"] != "gs2:"+strings.TrimPrefix(token, "gs2:1:") || !strings.HasPrefix(o.Values["user"], "gs2:1:") {
			t.Errorf("%s: not renumbered: %d data keys, token %.12s…, user %.12s…", kind, len(o.DataKeys), o.Values["token"], o.Values["user"])
		}
		if got := crypto.OpenObject(o, foundAtDB, ids[0]); len(got.Errors) != 0 || string(got.Values["user"]) != "u2" {
			t.Errorf("%s: after renumbering: %v", kind, got.Errors)
		}
	}
}

func TestAddRefusesAnotherBindingAndKeepsFormatOneValues(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	o := sealObject(t, map[string]string{"a": "1"}, strictObj, id)
	before := cloneObject(o)
	if err := o.Add(map[string][]byte{"b": nil}, nsObj, id.Recipient()); err == nil || !strings.Contains(err.Error(), "strict scope for prod/db") {
		t.Errorf("Add with another scope: %v", err)
	}
	if err := o.Add(map[string][]byte{"b": nil}, crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "api"}, id.Recipient()); err == nil {
		t.Error("Add with another name succeeded")
	}
	if !slices.Equal(o.DataKeys, before.DataKeys) || !maps.Equal(o.Values, before.Values) {
		t.Error("a refused Add changed the object")
	}
	// --merge-into a format-1 file: the old values stay, the new are gs2.
	gs1 := &crypto.Object{Values: map[string]string{"password": seal(t, "old", crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "password"}, id)}}
	if err := gs1.Add(map[string][]byte{"token": []byte("new")}, strictObj, id.Recipient()); err != nil {
		t.Fatal(err)
	}
	got := crypto.OpenObject(gs1, foundAtDB, id)
	if len(got.Errors) != 0 || string(got.Values["password"]) != "old" || string(got.Values["token"]) != "new" {
		t.Errorf("mixed formats: %v", got.Errors)
	}
	if crypto.Version(gs1.Values["password"]) != 1 || crypto.Version(gs1.Values["token"]) != 2 {
		t.Error("versions")
	}
}

func TestRewrapChangesOnlyTheDataKeys(t *testing.T) {
	for _, kind := range kinds {
		ids := keys(t, kind, 4)
		oldKey, newKey, backup := ids[0], ids[1], ids[2]
		o := sealObject(t, map[string]string{"password": "p", "user": "u"}, strictObj, oldKey, backup)
		if err := o.Add(map[string][]byte{"token": []byte("t")}, strictObj, oldKey.Recipient(), backup.Recipient()); err != nil {
			t.Fatal(err)
		}
		values := maps.Clone(o.Values)
		if err := crypto.Rewrap(o, foundAtDB, []*crypto.Identity{oldKey}, newKey.Recipient(), backup.Recipient()); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(o.Values, values) {
			t.Fatalf("%s: a value changed", kind)
		}
		for i, k := range o.DataKeys {
			info, err := crypto.InspectDataKey(k)
			if err != nil || !slices.Equal(info.KeyIDs, []crypto.KeyID{newKey.ID(), backup.ID()}) {
				t.Errorf("%s: data key %d: %+v, %v", kind, i, info, err)
			}
		}
		if got := crypto.OpenObject(o, foundAtDB, newKey); len(got.Errors) != 0 || string(got.Values["token"]) != "t" {
			t.Errorf("%s: the new key: %v", kind, got.Errors)
		}
		if _, err := openOne(o, foundAtDB, "password", oldKey); !errors.Is(err, crypto.ErrNoMatchingKey) {
			t.Errorf("%s: the old key still opens: %v", kind, err)
		}
	}
}

func TestRewrapRefusesWhatDoesNotOpen(t *testing.T) {
	id, other := keys(t, crypto.X25519, 2)[0], keys(t, crypto.X25519, 2)[1]
	good := sealObject(t, map[string]string{"password": "canary-rw", "user": "u"}, strictObj, id)
	tampered := cloneObject(good)
	ct := mustDecode(t, strings.TrimPrefix(tampered.Values["user"], "gs2:"))
	ct[0] ^= 1
	tampered.Values["user"] = "gs2:" + base64.RawStdEncoding.EncodeToString(ct)
	withGS1 := cloneObject(good)
	withGS1.Values["old"] = seal(t, "v", crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "old"}, id)
	tests := []struct {
		name  string
		o     *crypto.Object
		claim crypto.Binding
		ids   []*crypto.Identity
		rs    []*crypto.Recipient
		err   error
	}{
		{"a tampered value is malformed", tampered, foundAtDB, []*crypto.Identity{id}, recipientsOf(other), crypto.ErrMalformed},
		{"an object found under another name is a scope mismatch", good, crypto.Binding{Namespace: "prod", Name: "db2"}, []*crypto.Identity{id}, recipientsOf(other), crypto.ErrScopeMismatch},
		{"no private key is no matching key", good, foundAtDB, []*crypto.Identity{other}, recipientsOf(other), crypto.ErrNoMatchingKey},
		{"a format-1 value cannot be re-wrapped", withGS1, foundAtDB, []*crypto.Identity{id}, recipientsOf(other), nil},
		{"mixed recipients are incompatible", good, foundAtDB, []*crypto.Identity{id}, []*crypto.Recipient{other.Recipient(), keys(t, crypto.Hybrid, 1)[0].Recipient()}, crypto.ErrIncompatibleRecipients},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cloneObject(tt.o)
			err := crypto.Rewrap(tt.o, tt.claim, tt.ids, tt.rs...)
			if err == nil || (tt.err != nil && !errors.Is(err, tt.err)) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
			if strings.Contains(err.Error(), "canary-rw") {
				t.Errorf("error leaks a value: %v", err)
			}
			if !slices.Equal(tt.o.DataKeys, before.DataKeys) || !maps.Equal(tt.o.Values, before.Values) {
				t.Error("a refused Rewrap changed the object")
			}
		})
	}
	// Rewrap to a hybrid key: every data key changes kind together.
	h := keys(t, crypto.Hybrid, 1)[0]
	o := cloneObject(good)
	if err := crypto.Rewrap(o, foundAtDB, []*crypto.Identity{id}, h.Recipient()); err != nil {
		t.Fatal(err)
	}
	if got := crypto.OpenObject(o, foundAtDB, h); len(got.Errors) != 0 {
		t.Errorf("after re-wrapping to hybrid: %v", got.Errors)
	}
}

// TestCanaryNeverInErrors runs a plaintext canary through every failure
// path of format 2 and checks no error text contains it, or any 8-byte
// run of the data key's text (C5).
func TestCanaryNeverInErrors(t *testing.T) {
	const canary = "CANARY-5e7c2b-do-not-leak"
	id, wrong := keys(t, crypto.Hybrid, 2)[0], keys(t, crypto.Hybrid, 2)[1]
	o := sealObject(t, map[string]string{"password": canary, "user": canary}, strictObj, id)
	var errs []error
	collect := func(got *crypto.OpenedObject) {
		for _, err := range got.Errors {
			errs = append(errs, err)
		}
	}
	collect(crypto.OpenObject(o, crypto.Binding{Namespace: "dev", Name: "db"}, id))
	collect(crypto.OpenObject(o, foundAtDB, wrong))
	swapped := cloneObject(o)
	swapped.Values["password"], swapped.Values["user"] = o.Values["user"], o.Values["password"]
	collect(crypto.OpenObject(swapped, foundAtDB, id))
	ct := strings.TrimPrefix(o.Values["password"], "gs2:")
	for _, v := range []string{"gs2:" + ct[:len(ct)-4], "gs2:" + canary, canary, "gs2:1:" + ct} {
		f := cloneObject(o)
		f.Values["password"] = v
		collect(crypto.OpenObject(f, foundAtDB, id))
	}
	head, entry := entryOf(t, o.DataKeys[0])
	for _, pos := range []int{0, 1, 5, 100, len(entry) - 1} {
		f := cloneObject(o)
		e := bytes.Clone(entry)
		e[pos] ^= 0x40
		f.DataKeys[0] = withEntry(head, e)
		collect(crypto.OpenObject(f, foundAtDB, id))
	}
	errs = append(errs, crypto.Rewrap(swapped, foundAtDB, []*crypto.Identity{id}, wrong.Recipient()))
	_, err := crypto.SealObject(map[string][]byte{"bad/key": []byte(canary)}, strictObj, id.Recipient())
	errs = append(errs, err)
	err = o.Add(map[string][]byte{"x": []byte(canary)}, nsObj, id.Recipient())
	errs = append(errs, err)
	if len(errs) < 15 {
		t.Fatalf("only %d errors collected", len(errs))
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("a failure path returned no error")
		}
		if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "CANARY") {
			t.Errorf("error leaks the value: %v", err)
		}
		if leaks(err, id.SecretKey()) {
			t.Errorf("error leaks the private key: %v", err)
		}
		wrapped := o.DataKeys[0][strings.LastIndexByte(o.DataKeys[0], ':')+1:]
		for i := 0; i+12 <= len(wrapped); i++ {
			if strings.Contains(err.Error(), wrapped[i:i+12]) {
				t.Fatalf("error quotes the wrapped data key: %v", err)
			}
		}
	}
}
