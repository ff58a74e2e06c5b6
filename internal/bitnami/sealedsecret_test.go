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
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/crypto"
)

// sealedSecret builds a Bitnami SealedSecret in namespace/name with the
// annotations of scope, its values sealed for sealNS/sealName with pub.
func sealedSecret(t *testing.T, pub *rsa.PublicKey, scope crypto.Scope, sealNS, sealName string, values map[string]string) *SealedSecret {
	t.Helper()
	s := &SealedSecret{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: sealNS, Name: sealName, Annotations: map[string]string{}},
		Spec:       SealedSecretSpec{EncryptedData: map[string]string{}},
	}
	switch scope {
	case crypto.Cluster:
		s.Annotations[AnnotationClusterWide] = "true"
	case crypto.Namespace:
		s.Annotations[AnnotationNamespaceWide] = "true"
	}
	for k, v := range values {
		s.Spec.EncryptedData[k] = bitnamiSeal(t, pub, v, Label(scope, sealNS, sealName))
	}
	return s
}

func TestUnsealEveryScope(t *testing.T) {
	keys := []*Key{testKey(t, 0)}
	pub := &testKeys()[0].PublicKey
	values := map[string]string{"password": canary, "username": "admin", "empty": ""}
	tests := []struct {
		name      string
		scope     crypto.Scope
		namespace string // where the object is found
		objName   string
		opens     bool
	}{
		{"strict opens where it was sealed", crypto.Strict, "prod", "db", true},
		{"strict copied to another namespace does not open", crypto.Strict, "dev", "db", false},
		{"strict renamed does not open", crypto.Strict, "prod", "db2", false},
		{"namespace-wide opens where it was sealed", crypto.Namespace, "prod", "db", true},
		{"namespace-wide renamed opens", crypto.Namespace, "prod", "other", true},
		{"namespace-wide copied to another namespace does not open", crypto.Namespace, "dev", "db", false},
		{"cluster-wide opens where it was sealed", crypto.Cluster, "prod", "db", true},
		{"cluster-wide opens in another namespace under another name", crypto.Cluster, "dev", "other", true},
		{"cluster-wide opens without a namespace", crypto.Cluster, "", "db", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sealedSecret(t, pub, tt.scope, "prod", "db", values)
			s.Namespace, s.Name = tt.namespace, tt.objName
			u, err := s.Unseal(keys)
			checkNoLeak(t, err)
			if !tt.opens {
				if !errors.Is(err, ErrNoMatchingKey) || u != nil {
					t.Fatalf("Unseal = %v, %v; want ErrNoMatchingKey", u, err)
				}
				if !strings.Contains(err.Error(), `item "empty"`) || !strings.Contains(err.Error(), string(tt.scope)) {
					t.Errorf("error %q does not name the first item and the scope", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Scope != tt.scope || len(u.Data) != 3 || string(u.Data["password"]) != canary || string(u.Data["username"]) != "admin" || len(u.Data["empty"]) != 0 {
				t.Errorf("scope %s, %d items", u.Scope, len(u.Data))
			}
			password := u.Data["password"]
			u.Wipe()
			if strings.Contains(string(password), canary) {
				t.Error("Wipe left the plaintext")
			}
		})
	}
}

func TestUnsealTamperedScopeAnnotations(t *testing.T) {
	keys := []*Key{testKey(t, 0)}
	pub := &testKeys()[0].PublicKey
	tests := []struct {
		name        string
		sealedAs    crypto.Scope
		annotations map[string]string
	}{
		{"strict annotated cluster-wide does not open", crypto.Strict, map[string]string{AnnotationClusterWide: "true"}},
		{"strict annotated namespace-wide does not open", crypto.Strict, map[string]string{AnnotationNamespaceWide: "true"}},
		{"namespace-wide without its annotation does not open", crypto.Namespace, nil},
		{"cluster-wide annotated \"True\" reads as strict and does not open", crypto.Cluster, map[string]string{AnnotationClusterWide: "True"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sealedSecret(t, pub, tt.sealedAs, "prod", "db", map[string]string{"password": canary})
			s.Annotations = tt.annotations
			u, err := s.Unseal(keys)
			checkNoLeak(t, err)
			if !errors.Is(err, ErrNoMatchingKey) || u != nil {
				t.Fatalf("Unseal = %v, %v; want ErrNoMatchingKey", u, err)
			}
		})
	}
}

func TestUnsealIsAllOrNothing(t *testing.T) {
	pub0, pub1 := &testKeys()[0].PublicKey, &testKeys()[1].PublicKey
	s := sealedSecret(t, pub0, crypto.Strict, "prod", "db", map[string]string{"a": canary})
	s.Spec.EncryptedData["b"] = bitnamiSeal(t, pub1, canary, []byte("prod/db"))
	u, err := s.Unseal([]*Key{testKey(t, 0)})
	checkNoLeak(t, err)
	if u != nil || !errors.Is(err, ErrNoMatchingKey) || !strings.Contains(err.Error(), `item "b"`) {
		t.Fatalf("Unseal = %v, %v", u, err)
	}
	// With both keys, each value opens with its own.
	u, err = s.Unseal([]*Key{testKey(t, 0), testKey(t, 1)})
	if err != nil || string(u.Data["a"]) != canary || string(u.Data["b"]) != canary {
		t.Fatalf("Unseal with both keys: %v", err)
	}
}

func TestUnsealRefusesWhatGitsealCannotCarry(t *testing.T) {
	keys := []*Key{testKey(t, 0)}
	pub := &testKeys()[0].PublicKey
	tests := []struct {
		name   string
		mutate func(*SealedSecret)
		want   error
		msg    string
	}{
		{"legacy spec.data is unsupported", func(s *SealedSecret) {
			s.Spec.Data, s.Spec.EncryptedData = json.RawMessage(`"AAEC"`), nil
		}, ErrUnsupported, "legacy spec.data"},
		{"legacy spec.data next to encryptedData is unsupported", func(s *SealedSecret) {
			s.Spec.Data = json.RawMessage(`"AAEC"`)
		}, ErrUnsupported, "legacy spec.data"},
		{"template.data is unsupported", func(s *SealedSecret) {
			s.Spec.Template.Data = map[string]string{"dsn": "postgres://{{ .password }}@db"}
		}, ErrUnsupported, "spec.template.data (values rendered from templates: dsn)"},
		{"no encryptedData is refused", func(s *SealedSecret) { s.Spec.EncryptedData = nil }, nil, "spec.encryptedData is empty"},
		{"strict without a namespace is refused", func(s *SealedSecret) { s.Namespace = "" }, nil, "no namespace, which strict scope needs"},
		{"no name is refused", func(s *SealedSecret) { s.Name = "" }, nil, "no name"},
		{"over 1 MiB of values is too large", func(s *SealedSecret) {
			big := strings.Repeat("x", 600<<10)
			s.Spec.EncryptedData["big1"] = bitnamiSeal(t, pub, big, []byte("prod/db"))
			s.Spec.EncryptedData["big2"] = bitnamiSeal(t, pub, big, []byte("prod/db"))
		}, ErrTooLarge, `item "big2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sealedSecret(t, pub, crypto.Strict, "prod", "db", map[string]string{"password": canary})
			tt.mutate(s)
			u, err := s.Unseal(keys)
			checkNoLeak(t, err)
			if u != nil || err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Unseal = %v, %v; want %v saying %q", u, err, tt.want, tt.msg)
			}
		})
	}
}

func TestUnsealAcceptsANullLegacyData(t *testing.T) {
	s := sealedSecret(t, &testKeys()[0].PublicKey, crypto.Strict, "prod", "db", map[string]string{"password": canary})
	s.Spec.Data = json.RawMessage("null")
	if _, err := s.Unseal([]*Key{testKey(t, 0)}); err != nil {
		t.Fatal(err)
	}
}
