package crypto

import (
	"bytes"
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
