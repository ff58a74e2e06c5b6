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
	"strings"
	"sync"
	"testing"

	"filippo.io/age"

	"github.com/gitseal/gitseal/crypto"
)

var kinds = []crypto.Kind{crypto.Hybrid, crypto.X25519}

// keys returns n identities of a kind, generated once per test binary.
var keys = func() func(t testing.TB, kind crypto.Kind, n int) []*crypto.Identity {
	var mu sync.Mutex
	cache := map[crypto.Kind][]*crypto.Identity{}
	return func(t testing.TB, kind crypto.Kind, n int) []*crypto.Identity {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for len(cache[kind]) < n {
			id, err := crypto.GenerateIdentity(kind)
			if err != nil {
				t.Fatal(err)
			}
			cache[kind] = append(cache[kind], id)
		}
		return cache[kind][:n]
	}
}()

func recipientsOf(ids ...*crypto.Identity) []*crypto.Recipient {
	rs := make([]*crypto.Recipient, len(ids))
	for i, id := range ids {
		rs[i] = id.Recipient()
	}
	return rs
}

var strictDB = crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "password"}

func seal(t testing.TB, value string, b crypto.Binding, ids ...*crypto.Identity) string {
	t.Helper()
	s, err := crypto.Seal([]byte(value), b, recipientsOf(ids...)...)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

func TestRoundTripEveryScopeAndKind(t *testing.T) {
	bindings := []crypto.Binding{
		strictDB,
		{Scope: crypto.Namespace, Namespace: "prod", Key: "password"},
		{Scope: crypto.Cluster, Key: "password"},
	}
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		for _, b := range bindings {
			for _, value := range []string{"", "s3cret", strings.Repeat("x", 100_000)} {
				t.Run(fmt.Sprintf("%s/%s/%d", kind, b.Scope, len(value)), func(t *testing.T) {
					sealed := seal(t, value, b, id)
					claim := crypto.Binding{Namespace: "prod", Name: "db", Key: "password"}
					got, err := crypto.Open(sealed, claim, id)
					if err != nil {
						t.Fatalf("Open: %v", err)
					}
					if string(got.Value) != value {
						t.Errorf("value: got %d bytes, want %d", len(got.Value), len(value))
					}
					if got.Binding != b {
						t.Errorf("binding: got %+v, want %+v", got.Binding, b)
					}
					if got.KeyID != id.ID() {
						t.Errorf("KeyID: got %s, want %s", got.KeyID, id.ID())
					}
				})
			}
		}
	}
}

func TestSealRecordsOnlyWhatTheScopeBinds(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	wide := crypto.Binding{Scope: crypto.Cluster, Namespace: "prod", Name: "db", Key: "password"}
	got, err := crypto.Open(seal(t, "v", wide, id), crypto.Binding{Namespace: "other", Name: "x", Key: "password"}, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := (crypto.Binding{Scope: crypto.Cluster, Key: "password"}); got.Binding != want {
		t.Errorf("got %+v, want %+v", got.Binding, want)
	}
}

func TestBindingMismatchIsRejected(t *testing.T) {
	id := keys(t, crypto.Hybrid, 1)[0]
	nsScoped := crypto.Binding{Scope: crypto.Namespace, Namespace: "prod", Key: "password"}
	cluster := crypto.Binding{Scope: crypto.Cluster, Key: "password"}
	tests := []struct {
		name   string
		sealed crypto.Binding
		claim  crypto.Binding
		err    error
	}{
		{"strict value copied to another namespace is a scope mismatch", strictDB,
			crypto.Binding{Namespace: "dev", Name: "db", Key: "password"}, crypto.ErrScopeMismatch},
		{"renamed strict object is a scope mismatch", strictDB,
			crypto.Binding{Namespace: "prod", Name: "db2", Key: "password"}, crypto.ErrScopeMismatch},
		{"strict value under another item key is a scope mismatch", strictDB,
			crypto.Binding{Namespace: "prod", Name: "db", Key: "username"}, crypto.ErrScopeMismatch},
		{"strict value claimed as cluster-wide is a scope mismatch", strictDB,
			crypto.Binding{Scope: crypto.Cluster, Namespace: "prod", Name: "db", Key: "password"}, crypto.ErrScopeMismatch},
		{"strict value claimed as namespace-wide is a scope mismatch", strictDB,
			crypto.Binding{Scope: crypto.Namespace, Namespace: "prod", Name: "db", Key: "password"}, crypto.ErrScopeMismatch},
		{"namespace value copied to another namespace is a scope mismatch", nsScoped,
			crypto.Binding{Namespace: "dev", Name: "db", Key: "password"}, crypto.ErrScopeMismatch},
		{"namespace value under another item key is a scope mismatch", nsScoped,
			crypto.Binding{Namespace: "prod", Name: "db", Key: "token"}, crypto.ErrScopeMismatch},
		{"namespace value claimed as cluster-wide is a scope mismatch", nsScoped,
			crypto.Binding{Scope: crypto.Cluster, Namespace: "prod", Key: "password"}, crypto.ErrScopeMismatch},
		{"cluster value under another item key is a scope mismatch", cluster,
			crypto.Binding{Namespace: "prod", Name: "db", Key: "token"}, crypto.ErrScopeMismatch},
		{"namespace value in a renamed object opens", nsScoped,
			crypto.Binding{Namespace: "prod", Name: "anything", Key: "password"}, nil},
		{"cluster value in another namespace opens", cluster,
			crypto.Binding{Namespace: "dev", Name: "x", Key: "password"}, nil},
		{"claimed scope equal to the sealed one opens", strictDB,
			crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "password"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crypto.Open(seal(t, "canary-3f1d", tt.sealed, id), tt.claim, id)
			if !errors.Is(err, tt.err) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
			if err != nil {
				if got != nil {
					t.Error("a rejected value returned a result")
				}
				if strings.Contains(err.Error(), "canary-3f1d") {
					t.Errorf("error leaks the plaintext: %v", err)
				}
			}
		})
	}
}

func TestWrongKeyIsNoMatchingKey(t *testing.T) {
	for _, kind := range kinds {
		ids := keys(t, kind, 2)
		_, err := crypto.Open(seal(t, "v", strictDB, ids[0]), strictDB, ids[1])
		if !errors.Is(err, crypto.ErrNoMatchingKey) {
			t.Errorf("%s: got %v, want ErrNoMatchingKey", kind, err)
		}
		if !strings.Contains(err.Error(), string(ids[0].ID())) {
			t.Errorf("%s: error should name the key the value is sealed to: %v", kind, err)
		}
	}
	// An identity of the other kind is never even tried.
	_, err := crypto.Open(seal(t, "v", strictDB, keys(t, crypto.Hybrid, 1)...), strictDB, keys(t, crypto.X25519, 1)...)
	if !errors.Is(err, crypto.ErrNoMatchingKey) {
		t.Errorf("other kind: got %v, want ErrNoMatchingKey", err)
	}
	_, err = crypto.Open(seal(t, "v", strictDB, keys(t, crypto.Hybrid, 1)...), strictDB)
	if !errors.Is(err, crypto.ErrNoMatchingKey) {
		t.Errorf("no identities: got %v, want ErrNoMatchingKey", err)
	}
}

func TestSeveralRecipientsEachOpen(t *testing.T) {
	for _, kind := range kinds {
		ids := keys(t, kind, 3) // two clusters and an offline backup key
		sealed := seal(t, "shared", strictDB, ids...)
		info, err := crypto.Inspect(sealed)
		if err != nil {
			t.Fatal(err)
		}
		if info.Recipients != 3 || len(info.KeyIDs) != 3 || info.Kind != kind {
			t.Errorf("%s: Inspect = %+v", kind, info)
		}
		for i, id := range ids {
			got, err := crypto.Open(sealed, strictDB, id)
			if err != nil || string(got.Value) != "shared" || got.KeyID != id.ID() {
				t.Errorf("%s: recipient %d: %v", kind, i, err)
			}
			if info.KeyIDs[i] != id.ID() {
				t.Errorf("%s: recorded ID %d = %s, want %s", kind, i, info.KeyIDs[i], id.ID())
			}
		}
	}
}

func TestMixingKindsIsAClearError(t *testing.T) {
	h, x := keys(t, crypto.Hybrid, 1)[0], keys(t, crypto.X25519, 1)[0]
	_, err := crypto.Seal([]byte("v"), strictDB, h.Recipient(), x.Recipient())
	if !errors.Is(err, crypto.ErrIncompatibleRecipients) {
		t.Fatalf("got %v, want ErrIncompatibleRecipients", err)
	}
	if !strings.Contains(err.Error(), "post-quantum") {
		t.Errorf("error should say why: %v", err)
	}
}

func TestDuplicateRecipientsAreSealedToOnce(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	info, err := crypto.Inspect(seal(t, "v", strictDB, id, id))
	if err != nil {
		t.Fatal(err)
	}
	if info.Recipients != 1 {
		t.Errorf("got %d stanzas, want 1", info.Recipients)
	}
}

// splitSealed returns the text before the ciphertext and the decoded age file.
func splitSealed(t testing.TB, sealed string) (string, []byte) {
	t.Helper()
	i := strings.LastIndexByte(sealed, ':')
	file, err := base64.StdEncoding.DecodeString(sealed[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return sealed[:i+1], file
}

func join(head string, file []byte) string { return head + base64.StdEncoding.EncodeToString(file) }

func TestEveryBitFlipIsRejected(t *testing.T) {
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		head, file := splitSealed(t, seal(t, "canary-value", strictDB, id))
		for pos := range file {
			flipped := bytes.Clone(file)
			flipped[pos] ^= 1 << (pos % 8)
			got, err := crypto.Open(join(head, flipped), strictDB, id)
			if err == nil || got != nil {
				t.Fatalf("%s: flipping bit %d of byte %d was accepted", kind, pos%8, pos)
			}
		}
	}
}

func TestAlteredKeyIDHintIsHarmless(t *testing.T) {
	ids := keys(t, crypto.Hybrid, 2)
	right, wrong := ids[0], ids[1]
	sealed := seal(t, "v", strictDB, right)
	_, rest, _ := strings.Cut(strings.TrimPrefix(sealed, "gs1:"), ":")
	forge := func(hint string) string { return "gs1:" + hint + ":" + rest }

	t.Run("hint naming another key still opens with the right key and binding", func(t *testing.T) {
		got, err := crypto.Open(forge(string(wrong.ID())), strictDB, wrong, right)
		if err != nil || got.Binding != strictDB || got.KeyID != right.ID() {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("hint naming the wrong key does not make it open", func(t *testing.T) {
		_, err := crypto.Open(forge(string(wrong.ID())), strictDB, wrong)
		if !errors.Is(err, crypto.ErrNoMatchingKey) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("hint cannot widen the scope", func(t *testing.T) {
		_, err := crypto.Open(forge("0000000000000000"), crypto.Binding{Namespace: "dev", Name: "db", Key: "password"}, right)
		if !errors.Is(err, crypto.ErrScopeMismatch) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("every single-character change of the hint", func(t *testing.T) {
		hint := string(right.ID())
		for i := range hint {
			for _, c := range "0f" {
				h := hint[:i] + string(c) + hint[i+1:]
				got, err := crypto.Open(forge(h), strictDB, right)
				if err != nil || got.Binding != strictDB {
					t.Fatalf("hint %s: %+v, %v", h, got, err)
				}
			}
		}
	})
}

func TestTruncationsAreRejected(t *testing.T) {
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		sealed := seal(t, strings.Repeat("v", 70_000), strictDB, id) // two payload chunks
		head, file := splitSealed(t, sealed)
		for n := 0; n < len(file); n += 1 + n/64 {
			if got, err := crypto.Open(join(head, file[:n]), strictDB, id); err == nil || got != nil {
				t.Fatalf("%s: file truncated to %d of %d bytes was accepted", kind, n, len(file))
			}
		}
		for _, n := range []int{0, 3, len(head), len(sealed) - 1} {
			if _, err := crypto.Open(sealed[:n], strictDB, id); !errors.Is(err, crypto.ErrMalformed) {
				t.Fatalf("%s: text truncated to %d: got %v, want ErrMalformed", kind, n, err)
			}
		}
	}
}

func TestMalformedInputs(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	good := seal(t, "v", strictDB, id)
	head, file := splitSealed(t, good)
	tests := []struct{ name, sealed string }{
		{"empty", ""},
		{"bitnami-style base64 blob", "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq=="},
		{"unknown format version", strings.Replace(good, "gs1:", "gs9:", 1)},
		{"missing key IDs", "gs1:" + base64.StdEncoding.EncodeToString(file)},
		{"empty key ID", "gs1::" + base64.StdEncoding.EncodeToString(file)},
		{"uppercase key ID", strings.ToUpper(head) + base64.StdEncoding.EncodeToString(file)},
		{"non-base64 ciphertext", head + "not base64!"},
		{"base64 with line breaks", head + base64.StdEncoding.EncodeToString(file)[:10] + "\n" + base64.StdEncoding.EncodeToString(file)[10:]},
		{"empty ciphertext", head},
		{"not an age file", head + base64.StdEncoding.EncodeToString([]byte("hello world\n"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := crypto.Open(tt.sealed, strictDB, id); !errors.Is(err, crypto.ErrMalformed) {
				t.Errorf("Open: got %v, want ErrMalformed", err)
			}
			if _, err := crypto.Inspect(tt.sealed); !errors.Is(err, crypto.ErrMalformed) {
				t.Errorf("Inspect: got %v, want ErrMalformed", err)
			}
		})
	}
}

// ageFile encrypts a real age file to arbitrary age recipients, bypassing
// Seal's checks, and wraps it in the text form.
func ageFile(t *testing.T, plaintext []byte, rs ...age.Recipient) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plaintext); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return join("gs1:0000000000000000:", buf.Bytes())
}

// unlabeled hides WrapWithLabels so age lets us mix kinds, as an attacker's
// own encoder could.
type unlabeled struct{ age.Recipient }

func TestRefusedStanzasBeforeAnyWork(t *testing.T) {
	x := keys(t, crypto.X25519, 1)[0]
	h := keys(t, crypto.Hybrid, 1)[0]
	xr, _ := age.ParseX25519Recipient(x.Recipient().String())
	hr, _ := age.ParseHybridRecipient(h.Recipient().String())
	scrypt, err := age.NewScryptRecipient("password")
	if err != nil {
		t.Fatal(err)
	}
	scrypt.SetWorkFactor(10)
	handmade := func(stanza string) string {
		return join("gs1:0000000000000000:", []byte("age-encryption.org/v1\n"+stanza+"\n--- AAAA\n"+strings.Repeat("\x00", 40)))
	}
	tests := []struct{ name, sealed, msg string }{
		{"scrypt", ageFile(t, []byte("v"), scrypt), "scrypt"},
		{"scrypt with a work factor that would take minutes", handmade("-> scrypt c2FsdHNhbHRzYWx0c2FsdA 30\nAAAA"), "scrypt"},
		{"plugin", handmade("-> plugin-yubikey abc\nAAAA"), "plugin-yubikey"},
		{"unknown type", handmade("-> grease-x\nAAAA"), "grease-x"},
		{"control characters in the type are not echoed", handmade("-> \x1b[31m\nAAAA"), "?[31m"},
		{"no stanzas", handmade(""), "no recipient stanzas"},
		{"mixed hybrid and X25519", ageFile(t, []byte("v"), unlabeled{hr}, xr), "mixes"},
		{"too many stanzas", handmade(strings.Repeat("-> X25519 AAAA\nAAAA\n", crypto.MaxRecipients+1)), "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := crypto.Open(tt.sealed, strictDB, x, h)
			if !errors.Is(err, crypto.ErrMalformed) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want ErrMalformed mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestSizeCaps(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	if _, err := crypto.Seal(make([]byte, crypto.MaxValueSize+1), strictDB, id.Recipient()); !errors.Is(err, crypto.ErrTooLarge) {
		t.Errorf("Seal of a value over the cap: got %v", err)
	}
	if _, err := crypto.Seal(make([]byte, 10<<20), strictDB, id.Recipient()); !errors.Is(err, crypto.ErrTooLarge) {
		t.Errorf("Seal of 10 MB: got %v", err)
	}
	sealed := seal(t, string(make([]byte, crypto.MaxValueSize)), strictDB, id)
	if got, err := crypto.Open(sealed, strictDB, id); err != nil || len(got.Value) != crypto.MaxValueSize {
		t.Errorf("a value at the cap must open: %v", err)
	}
	huge := "gs1:0000000000000000:" + strings.Repeat("A", 2<<20)
	if _, err := crypto.Open(huge, strictDB, id); !errors.Is(err, crypto.ErrTooLarge) {
		t.Errorf("Open of a 2 MiB text: got %v", err)
	}
	// A payload over the cap inside a well-formed, authentic age file.
	xr, _ := age.ParseX25519Recipient(id.Recipient().String())
	big := ageFile(t, make([]byte, crypto.MaxValueSize+2048), xr)
	if _, err := crypto.Open(big, strictDB, id); !errors.Is(err, crypto.ErrTooLarge) {
		t.Errorf("Open of an oversized payload: got %v", err)
	}
}

func TestSealRejectsBadBindings(t *testing.T) {
	id := keys(t, crypto.X25519, 1)[0]
	for _, b := range []crypto.Binding{
		{Scope: "global", Namespace: "a", Name: "b", Key: "c"},
		{Scope: crypto.Strict, Namespace: "a", Key: "c"},
		{Scope: crypto.Strict, Namespace: "A", Name: "b", Key: "c"},
		{Scope: crypto.Namespace, Key: "c"},
		{Scope: crypto.Cluster, Key: ""},
		{Scope: crypto.Cluster, Key: "a/b"},
		{Scope: crypto.Cluster, Key: ".."},
	} {
		if _, err := crypto.Seal([]byte("v"), b, id.Recipient()); err == nil {
			t.Errorf("Seal accepted %+v", b)
		}
	}
	if _, err := crypto.Seal([]byte("v"), strictDB); err == nil {
		t.Error("Seal with no recipients succeeded")
	}
}
