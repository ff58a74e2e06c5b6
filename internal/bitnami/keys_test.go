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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

// keySecretYAML is one of Bitnami's key Secrets as kubectl get -o yaml
// prints it, indented by indent.
func keySecretYAML(name string, keyPEM []byte, indent string) string {
	s := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: kube-system
  labels:
    sealedsecrets.bitnami.com/sealed-secrets-key: active
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
`, name, base64.StdEncoding.EncodeToString([]byte("not checked")), base64.StdEncoding.EncodeToString(keyPEM))
	return indent + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+indent) + "\n"
}

// backupList is the List kubectl get secret -l ... -o yaml writes.
func backupList(keyPEMs ...[]byte) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nitems:\n")
	for i, k := range keyPEMs {
		item := keySecretYAML(fmt.Sprintf("sealed-secrets-key%d", i), k, "  ")
		b.WriteString("- " + strings.TrimPrefix(item, "  "))
	}
	b.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	return b.String()
}

func certPEM(t *testing.T, k *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sealed-secret"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestParseKeys(t *testing.T) {
	k0, k1 := testKeys()[0], testKeys()[1]
	secretJSON, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]string{"name": "sealed-secrets-keyabc", "namespace": "kube-system"},
		"data":     map[string][]byte{"tls.key": pkcs1PEM(k1), "tls.crt": certPEM(t, k1)},
	})
	tests := []struct {
		name string
		data string
		want []*rsa.PrivateKey
	}{
		{"a PKCS#1 PEM key", string(pkcs1PEM(k0)), []*rsa.PrivateKey{k0}},
		{"a PKCS#8 PEM key", string(pkcs8PEM(t, k0)), []*rsa.PrivateKey{k0}},
		{"PEM with two keys and a certificate", "\n" + string(certPEM(t, k0)) + string(pkcs1PEM(k0)) + string(pkcs8PEM(t, k1)), []*rsa.PrivateKey{k0, k1}},
		{"PEM after a comment", "# Bitnami's key, backed up on Monday\n" + string(pkcs1PEM(k0)), []*rsa.PrivateKey{k0}},
		{"the same key twice is one key", string(pkcs1PEM(k0)) + string(pkcs8PEM(t, k0)), []*rsa.PrivateKey{k0}},
		{"a backup List of two keys", backupList(pkcs1PEM(k0), pkcs8PEM(t, k1)), []*rsa.PrivateKey{k0, k1}},
		{"a single Secret in YAML", keySecretYAML("sealed-secrets-keyabc", pkcs1PEM(k1), ""), []*rsa.PrivateKey{k1}},
		{"a single Secret in JSON", string(secretJSON), []*rsa.PrivateKey{k1}},
		{"Secrets in several YAML documents", keySecretYAML("a", pkcs1PEM(k0), "") + "---\n" + keySecretYAML("b", pkcs1PEM(k1), ""), []*rsa.PrivateKey{k0, k1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseKeys([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(tt.want) {
				t.Fatalf("%d keys, want %d", len(keys), len(tt.want))
			}
			for i, k := range keys {
				if !k.priv.Equal(tt.want[i]) {
					t.Errorf("key %d differs", i)
				}
				if !strings.HasPrefix(k.Fingerprint(), "SHA256:") {
					t.Errorf("fingerprint %q", k.Fingerprint())
				}
			}
		})
	}
}

func TestParseKeysRefusesWhatIsNotAnRSAKey(t *testing.T) {
	k0 := testKeys()[0]
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	corrupt := pkcs1PEM(k0)
	block, _ := pem.Decode(corrupt)
	block.Bytes = block.Bytes[:len(block.Bytes)/2]
	corrupt = pem.EncodeToMemory(block)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: x509.MarshalPKCS1PrivateKey(k0)})
	noKey := strings.Replace(keySecretYAML("sealed-secrets-keyabc", pkcs1PEM(k0), ""), "  tls.key:", "  other:", 1)
	badBase64 := strings.Replace(keySecretYAML("sealed-secrets-keyabc", pkcs1PEM(k0), ""), "tls.key: ", "tls.key: a.b", 1)
	tests := []struct {
		name, data, msg string
	}{
		{"an empty file", "", "no RSA private key found"},
		{"an empty List", "apiVersion: v1\nkind: List\nitems: []\n", "no RSA private key found"},
		{"PEM with only a certificate", string(certPEM(t, k0)), "no RSA private key found"},
		{"a truncated PKCS#1 key", string(corrupt), "PEM block 1: not a valid PKCS#1 RSA private key"},
		{"an encrypted PEM key", string(encrypted), "encrypted"},
		{"an encrypted PKCS#8 key", string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})), "encrypted"},
		{"an ECDSA PKCS#8 key", string(pkcs8PEM(t, ec)), "a PKCS#8 ECDSA key, not RSA"},
		{"an OpenSSH key", string(pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte{1}})), `a "OPENSSH PRIVATE KEY" block`},
		{"a Secret without tls.key", noKey, `document 1: secret kube-system/sealed-secrets-keyabc has no data["tls.key"]`},
		{"a Secret whose tls.key is not base64", badBase64, `data["tls.key"] is not base64`},
		{"a backup List with a bad second key", backupList(pkcs1PEM(k0), corrupt), `document 1, item 2: secret kube-system/sealed-secrets-key1: data["tls.key"]: PEM block 1: not a valid PKCS#1`},
		{"a ConfigMap", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "a v1 ConfigMap, not a v1 Secret"},
		{"not YAML", "{{{" + string(x509.MarshalPKCS1PrivateKey(k0)), "document 1 is not a Secret or List in YAML or JSON, nor PEM text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseKeys([]byte(tt.data))
			checkNoLeak(t, err)
			if keys != nil || !errors.Is(err, ErrMalformedKey) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("ParseKeys = %d keys, %v; want an error saying %q", len(keys), err, tt.msg)
			}
		})
	}
}

func TestABackupListWhereTheSecondKeyOpens(t *testing.T) {
	k0, k1 := testKeys()[0], testKeys()[1]
	keys, err := ParseKeys([]byte(backupList(pkcs1PEM(k0), pkcs1PEM(k1))))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(bitnamiSeal(t, &k1.PublicKey, canary, []byte("prod/db")), []byte("prod/db"), keys)
	if err != nil || string(v) != canary {
		t.Fatalf("Open = %q, %v", v, err)
	}
}

func TestKeysNeverPrintTheirMaterial(t *testing.T) {
	k := testKey(t, 0)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprint(*k), fmt.Sprintf("%+v %#v %s %x %d", k, k, k, k, *k), fmt.Sprintf("%v", []*Key{k})} {
		if !strings.HasPrefix(s, "Bitnami key SHA256:") && !strings.HasPrefix(s, "[Bitnami key SHA256:") {
			t.Errorf("formatted as %q", s)
		}
		checkNoLeak(t, errors.New(s))
	}
}
