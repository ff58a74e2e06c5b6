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

package bitnami

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"

	bitnamicrypto "github.com/bitnami-labs/sealed-secrets/pkg/crypto"

	"github.com/gitseal/gitseal/crypto"
)

// canary is a plaintext no error may contain.
const canary = "canary-bitnami-5e1d-plaintext"

// testKeys are RSA keys generated once for the package's tests: Bitnami's
// controller makes 4096-bit keys, 2048 bits keep the tests fast and the
// format is the same.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	out := make([]*rsa.PrivateKey, 3)
	for i := range out {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = k
	}
	return out
})

func testKey(t testing.TB, i int) *Key {
	t.Helper()
	k, err := newKey(testKeys()[i])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// bitnamiSeal seals value as Bitnami's own code does: HybridEncrypt, then
// standard base64.
func bitnamiSeal(t testing.TB, pub *rsa.PublicKey, value string, label []byte) string {
	t.Helper()
	ct, err := bitnamicrypto.HybridEncrypt(rand.Reader, pub, []byte(value), label)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(ct)
}

func pkcs1PEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func pkcs8PEM(t testing.TB, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// checkNoLeak fails if an error message contains the canary or any key
// material of the test keys.
func checkNoLeak(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, canary) {
		t.Errorf("error contains the plaintext: %s", msg)
	}
	for _, k := range testKeys() {
		body := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k))
		for i := 0; i+24 <= len(body); i += 24 {
			if strings.Contains(msg, body[i:i+24]) {
				t.Fatalf("error quotes key material: %s", msg)
			}
		}
		if strings.Contains(msg, k.D.String()[:20]) {
			t.Fatalf("error contains a private exponent: %s", msg)
		}
	}
}

func TestOpenTamperedAndDamagedValues(t *testing.T) {
	key := testKey(t, 0)
	label := []byte("prod/db")
	good := bitnamiSeal(t, &testKeys()[0].PublicKey, canary, label)
	raw, _ := base64.StdEncoding.DecodeString(good)
	rsaLen := int(raw[0])<<8 | int(raw[1])
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return base64.StdEncoding.EncodeToString(b)
	}
	cut := func(n int) string { return base64.StdEncoding.EncodeToString(raw[:n]) }

	tests := []struct {
		name, value string
		want        error
		msg         string
	}{
		{"the value as sealed opens", good, nil, ""},
		{"empty value is malformed", "", ErrMalformed, "empty"},
		{"non-base64 value is malformed", "not*base64!", ErrMalformed, "not base64"},
		{"truncated in the length header is malformed", cut(1), ErrMalformed, "truncated"},
		{"truncated in the RSA ciphertext is malformed", cut(2 + rsaLen/2), ErrMalformed, "truncated"},
		{"truncated mid-payload does not authenticate", cut(len(raw) - 5), ErrMalformed, "does not authenticate"},
		{"a zero RSA length is malformed", base64.StdEncoding.EncodeToString(append([]byte{0, 0}, raw[2:]...)), ErrMalformed, "RSA ciphertext of 0 bytes"},
		{"a bit flipped in the RSA ciphertext opens with no key", flip(2 + rsaLen/2), ErrNoMatchingKey, "none of the 1 key(s)"},
		{"a bit flipped in the first payload byte does not authenticate", flip(2 + rsaLen), ErrMalformed, "does not authenticate"},
		{"a bit flipped mid-payload does not authenticate", flip(2 + rsaLen + (len(raw)-2-rsaLen)/2), ErrMalformed, "does not authenticate"},
		{"a bit flipped in the GCM tag does not authenticate", flip(len(raw) - 1), ErrMalformed, "does not authenticate"},
		{"a value of more than the caps is too large", strings.Repeat("A", maxText+4), ErrTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Open(tt.value, label, []*Key{key})
			checkNoLeak(t, err)
			if tt.want == nil {
				if err != nil || string(v) != canary {
					t.Fatalf("Open = %q, %v", v, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || v != nil {
				t.Fatalf("Open = %q, %v; want %v", v, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestOpenWithTheWrongKeyOrLabel(t *testing.T) {
	k0, k1 := testKey(t, 0), testKey(t, 1)
	value := bitnamiSeal(t, &testKeys()[0].PublicKey, canary, []byte("prod/db"))
	tests := []struct {
		name  string
		label string
		keys  []*Key
		opens bool
	}{
		{"the right key and label open", "prod/db", []*Key{k0}, true},
		{"the right key after a wrong one opens", "prod/db", []*Key{k1, k0}, true},
		{"another key does not open", "prod/db", []*Key{k1}, false},
		{"no key does not open", "prod/db", nil, false},
		{"copied to another namespace does not open", "dev/db", []*Key{k0}, false},
		{"renamed does not open", "prod/db2", []*Key{k0}, false},
		{"as namespace-wide does not open", "prod", []*Key{k0}, false},
		{"as cluster-wide does not open", "", []*Key{k0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Open(value, []byte(tt.label), tt.keys)
			checkNoLeak(t, err)
			if tt.opens {
				if err != nil || string(v) != canary {
					t.Fatalf("Open = %q, %v", v, err)
				}
				return
			}
			if !errors.Is(err, ErrNoMatchingKey) || v != nil {
				t.Fatalf("Open = %q, %v; want ErrNoMatchingKey", v, err)
			}
		})
	}
}

func TestLabelMatchesBitnami(t *testing.T) {
	// The labels of Bitnami's EncryptionLabel, pkg/apis/sealedsecrets/v1alpha1.
	tests := []struct {
		scope crypto.Scope
		want  string
	}{
		{crypto.Strict, "prod/db"},
		{crypto.Namespace, "prod"},
		{crypto.Cluster, ""},
	}
	for _, tt := range tests {
		if got := string(Label(tt.scope, "prod", "db")); got != tt.want {
			t.Errorf("Label(%s) = %q, want %q", tt.scope, got, tt.want)
		}
	}
}
