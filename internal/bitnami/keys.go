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
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"

	"golang.org/x/crypto/ssh"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// ErrMalformedKey: a key file is not a Bitnami key backup or PEM file of
// RSA private keys, or a key in it does not parse. Its messages name
// documents, Secrets and PEM blocks, never their content.
var ErrMalformedKey = errors.New("malformed Bitnami key")

// TLSKey is the item of Bitnami's key Secrets (type kubernetes.io/tls)
// that holds the PEM private key.
const TLSKey = "tls.key"

// Key is an RSA private key of a Bitnami sealed-secrets controller. Its
// String, GoString and Format name it by fingerprint and never print the
// key.
type Key struct {
	priv        *rsa.PrivateKey
	fingerprint string
}

// Fingerprint is the SHA-256 fingerprint of the public key, as Bitnami
// computes it (an SSH fingerprint, "SHA256:…").
func (k *Key) Fingerprint() string { return k.fingerprint }

func (k Key) String() string { return "Bitnami key " + k.fingerprint }

// GoString keeps %#v from printing the private key.
func (k Key) GoString() string { return k.String() }

// Format keeps every verb from printing the private key.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

func newKey(priv *rsa.PrivateKey) (*Key, error) {
	pub, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, errors.New("cannot compute the public key's fingerprint")
	}
	return &Key{priv: priv, fingerprint: ssh.FingerprintSHA256(pub)}, nil
}

// ParseKeys reads Bitnami controller keys from the content of a key file:
//
//   - the backup `kubectl get secret -n kube-system -l
//     sealedsecrets.bitnami.com/sealed-secrets-key -o yaml` writes: a v1
//     List of Secrets, or one or more Secrets, in YAML or JSON, whose
//     data["tls.key"] is a base64 PEM RSA private key;
//   - PEM text with one or more RSA private keys, PKCS#1 ("RSA PRIVATE
//     KEY") or PKCS#8 ("PRIVATE KEY"). Certificates and public keys in it
//     are skipped.
//
// Keys that occur twice are returned once. The caller may clear data
// afterwards. Errors wrap ErrMalformedKey.
func ParseKeys(data []byte) ([]*Key, error) {
	var keys []*Key
	var err error
	// A backup holds its keys in base64, never as PEM text.
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		keys, err = parsePEM(data)
	} else {
		keys, err = parseSecrets(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no RSA private key found", ErrMalformedKey)
	}
	return keys, nil
}

// parsePEM reads the private keys of PEM text.
func parsePEM(data []byte) ([]*Key, error) {
	var keys []*Key
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		key, err := pemKey(block)
		clear(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		if key != nil {
			keys = addKeys(keys, []*Key{key})
		}
	}
	return keys, nil
}

// pemKey parses one PEM block: a key, or nil for a block to skip. Its
// errors never include the parser's, which might quote the input.
func pemKey(block *pem.Block) (*Key, error) {
	var priv *rsa.PrivateKey
	switch block.Type {
	case "CERTIFICATE", "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, nil // tls.crt next to tls.key
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the key is encrypted; decrypt it first")
	case "RSA PRIVATE KEY":
		if _, ok := block.Headers["DEK-Info"]; ok {
			return nil, errors.New("the key is encrypted; decrypt it first")
		}
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("not a valid PKCS#1 RSA private key")
		}
		priv = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("not a valid PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("a PKCS#8 %s key, not RSA", keyKind(k))
		}
		priv = rk
	default:
		return nil, fmt.Errorf("a %q block, not an RSA private key", block.Type)
	}
	return newKey(priv)
}

func keyKind(k any) string {
	switch k.(type) {
	case *ecdsa.PrivateKey:
		return "ECDSA"
	case ed25519.PrivateKey:
		return "Ed25519"
	case *ecdh.PrivateKey:
		return "ECDH"
	}
	return "non-RSA"
}

// addKeys appends the keys of more that keys does not hold yet.
func addKeys(keys []*Key, more []*Key) []*Key {
	for _, k := range more {
		if !slices.ContainsFunc(keys, func(o *Key) bool { return o.priv.Equal(k.priv) }) {
			keys = append(keys, k)
		}
	}
	return keys
}

// keySecret is the part of a Bitnami key Secret, or of a List of them,
// that ParseKeys reads.
type keySecret struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Data  map[string]string `json:"data"`
	Items []keySecret       `json:"items"`
}

// parseSecrets reads the keys of a stream of YAML or JSON documents, each
// a Secret or a List of Secrets.
func parseSecrets(data []byte) ([]*Key, error) {
	var keys []*Key
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for n := 1; ; n++ {
		var doc keySecret
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d is not a Secret or List in YAML or JSON, nor PEM text", n)
		}
		if doc.Kind == "" && doc.APIVersion == "" && doc.Data == nil && doc.Items == nil {
			continue // an empty document
		}
		if doc.Kind != "List" && doc.Kind != "SecretList" {
			got, err := secretKeys(doc)
			if err != nil {
				return nil, fmt.Errorf("document %d: %w", n, err)
			}
			keys = addKeys(keys, got)
			continue
		}
		for i, s := range doc.Items {
			got, err := secretKeys(s)
			if err != nil {
				return nil, fmt.Errorf("document %d, item %d: %w", n, i+1, err)
			}
			keys = addKeys(keys, got)
		}
	}
}

// secretKeys reads the keys in data["tls.key"] of one Secret.
func secretKeys(s keySecret) ([]*Key, error) {
	if s.Kind != "Secret" || s.APIVersion != "v1" {
		return nil, fmt.Errorf("a %s %s, not a v1 Secret", s.APIVersion, s.Kind)
	}
	name := s.Metadata.Name
	if s.Metadata.Namespace != "" {
		name = s.Metadata.Namespace + "/" + name
	}
	encoded, ok := s.Data[TLSKey]
	if !ok {
		return nil, fmt.Errorf("secret %s has no data[%q]", name, TLSKey)
	}
	text, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("secret %s: data[%q] is not base64", name, TLSKey)
	}
	defer clear(text)
	if !bytes.HasPrefix(bytes.TrimSpace(text), []byte("-----BEGIN ")) {
		return nil, fmt.Errorf("secret %s: data[%q] is not a PEM private key", name, TLSKey)
	}
	keys, err := parsePEM(text)
	if err != nil {
		return nil, fmt.Errorf("secret %s: data[%q]: %w", name, TLSKey, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("secret %s: data[%q] holds no RSA private key", name, TLSKey)
	}
	return keys, nil
}
