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
	"errors"
	"io/fs"
	"strings"
	"testing"

	agetest "c2sp.org/CCTV/age"
)

// vectorIdentities returns the fixed X25519 and hybrid identities of the C2SP
// vectors, so that fuzz seeds stay valid from run to run.
func vectorIdentities() []*Identity {
	var ids []*Identity
	for _, name := range []string{"x25519", "hybrid"} {
		raw, err := fs.ReadFile(agetest.Vectors, name)
		if err != nil {
			panic(err)
		}
		for line := range strings.SplitSeq(string(raw), "\n") {
			if s, ok := strings.CutPrefix(line, "identity: "); ok {
				id, err := ParseIdentity(s)
				if err != nil {
					panic(err)
				}
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// FuzzOpen feeds arbitrary text to Open. It must never panic, and it may
// succeed only for authentic values: the seeds' plaintext under a binding that
// the claim accepts. Errors never contain the plaintext.
func FuzzOpen(f *testing.F) {
	const canary = "fuzz-canary-7d1e"
	ids := vectorIdentities()
	claim := Binding{Namespace: "prod", Name: "db", Key: "password"}
	for _, id := range ids {
		for _, b := range []Binding{
			{Scope: Strict, Namespace: "prod", Name: "db", Key: "password"},
			{Scope: Namespace, Namespace: "prod", Key: "password"},
			{Scope: Cluster, Key: "password"},
			{Scope: Strict, Namespace: "dev", Name: "db", Key: "password"},
		} {
			s, err := Seal([]byte(canary), b, id.Recipient())
			if err != nil {
				f.Fatal(err)
			}
			f.Add(s)
		}
	}
	f.Add("gs1:0000000000000000:YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBBQUFBCkFBQUEKLS0tIEFBQUEK")
	f.Add("")
	f.Fuzz(func(t *testing.T, sealed string) {
		got, err := Open(sealed, claim, ids...)
		if err != nil {
			if got != nil {
				t.Fatal("result returned with an error")
			}
			if strings.Contains(err.Error(), canary) {
				t.Fatalf("error leaks plaintext: %v", err)
			}
			return
		}
		if string(got.Value) != canary {
			t.Fatalf("opened to an unexpected value of %d bytes", len(got.Value))
		}
		if err := checkBinding(got.Binding, claim); err != nil {
			t.Fatalf("opened with a binding the claim rejects: %v", err)
		}
	})
}

// FuzzParseEnvelope checks that the envelope parser never panics and that
// everything it accepts is canonical: encoding it again gives the same bytes.
func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(strictEnvelope))
	f.Add(marshalEnvelope(Binding{Scope: Namespace, Namespace: "kube-system", Key: "token"}, nil))
	f.Add(marshalEnvelope(Binding{Scope: Cluster, Key: "tls.key"}, bytes.Repeat([]byte{0xff}, 300)))
	f.Add([]byte{})
	f.Add([]byte{1, 5, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		b, value, err := parseEnvelope(in)
		if err != nil {
			return
		}
		if out := marshalEnvelope(b, value); !bytes.Equal(out, in) {
			t.Fatalf("not canonical:\n in  %x\n out %x", in, out)
		}
		if err := b.validate(); err != nil {
			t.Fatalf("accepted an invalid binding: %v", err)
		}
	})
}

// FuzzParseDataKey checks that the data-key parser never panics and that
// everything it accepts is canonical: writing it again from its parts gives
// the same text.
func FuzzParseDataKey(f *testing.F) {
	ids := vectorIdentities()
	for _, id := range ids {
		for _, b := range []Binding{
			{Scope: Strict, Namespace: "prod", Name: "db"},
			{Scope: Namespace, Namespace: "kube-system"},
			{Scope: Cluster},
		} {
			o, err := SealObject(map[string][]byte{"k": []byte("v")}, b, id.Recipient())
			if err != nil {
				f.Fatal(err)
			}
			f.Add(o.DataKeys[0])
		}
	}
	f.Add("gs2k:0000000000000000:AQEEcHJvZAJkYg")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parseDataKey(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither ErrMalformed nor ErrTooLarge: %v", err)
			}
			return
		}
		entry := appendBinding([]byte{k.spec.kindByte}, k.binding)
		for _, st := range k.stanzas {
			arg, err := b64raw.DecodeString(st.Args[0])
			if err != nil || len(arg) != k.spec.argSize || len(st.Body) != wrappedKeySize {
				t.Fatalf("stanza of the wrong shape accepted")
			}
			entry = append(append(entry, arg...), st.Body...)
		}
		entry = append(entry, k.entry[len(k.entry)-macSize:]...)
		hint := make([]string, len(k.ids))
		for i, id := range k.ids {
			hint[i] = string(id)
		}
		if out := dataKeyPrefix + strings.Join(hint, ",") + ":" + b64raw.EncodeToString(entry); out != s {
			t.Fatalf("not canonical:\n in  %q\n out %q", s, out)
		}
		if len(k.stanzas) == 0 || len(k.stanzas) > MaxRecipients || len(k.ids) != len(k.stanzas) {
			t.Fatalf("accepted %d stanzas and %d key IDs", len(k.stanzas), len(k.ids))
		}
	})
}

// FuzzOpenObject feeds arbitrary data keys and values to OpenObject. It must
// never panic, must account for every item exactly once, and may open an
// item only to the seeds' plaintext under a binding the claim accepts.
// Errors never contain the plaintext.
func FuzzOpenObject(f *testing.F) {
	const canary = "fuzz-canary-2b8f"
	ids := vectorIdentities()
	claim := Binding{Namespace: "prod", Name: "db"}
	for _, id := range ids {
		for _, b := range []Binding{
			{Scope: Strict, Namespace: "prod", Name: "db"},
			{Scope: Namespace, Namespace: "prod"},
			{Scope: Cluster},
			{Scope: Strict, Namespace: "dev", Name: "db"},
		} {
			o, err := SealObject(map[string][]byte{"password": []byte(canary), "username": []byte(canary)}, b, id.Recipient())
			if err != nil {
				f.Fatal(err)
			}
			if err := o.Add(map[string][]byte{"username": []byte(canary)}, b, id.Recipient()); err != nil {
				f.Fatal(err)
			}
			f.Add(o.DataKeys[0], o.DataKeys[1], o.Values["password"], o.Values["username"])
			f.Add(o.DataKeys[0], "", o.Values["username"], o.Values["password"])
		}
	}
	f.Add("", "", "gs2:AAAAAAAAAAAAAAAAAAAAAA", "gs2:1:")
	f.Fuzz(func(t *testing.T, k0, k1, password, username string) {
		o := &Object{Values: map[string]string{"password": password, "username": username}}
		for _, k := range []string{k0, k1} {
			if k != "" {
				o.DataKeys = append(o.DataKeys, k)
			}
		}
		got := OpenObject(o, claim, ids...)
		for item := range o.Values {
			v, opened := got.Values[item]
			err := got.Errors[item]
			if opened == (err != nil) {
				t.Fatalf("%s: opened %v with error %v", item, opened, err)
			}
			if err != nil {
				if strings.Contains(err.Error(), canary) {
					t.Fatalf("error leaks plaintext: %v", err)
				}
				continue
			}
			if string(v) != canary {
				t.Fatalf("%s opened to an unexpected value of %d bytes", item, len(v))
			}
			if Version(o.Values[item]) == 2 {
				sealed := got.Binding
				sealed.Key = item
				c := claim
				c.Key = item
				if err := checkBinding(sealed, c); err != nil {
					t.Fatalf("opened with a binding the claim rejects: %v", err)
				}
			}
		}
	})
}
