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
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/crypto"
)

// What identifies a Bitnami SealedSecret and its scope.
const (
	APIVersion = "bitnami.com/v1alpha1"
	Kind       = "SealedSecret"

	// AnnotationPrefix starts every annotation Bitnami's tools and
	// controller read.
	AnnotationPrefix = "sealedsecrets.bitnami.com/"
	// AnnotationClusterWide "true" selects cluster-wide scope.
	AnnotationClusterWide = AnnotationPrefix + "cluster-wide"
	// AnnotationNamespaceWide "true" selects namespace-wide scope.
	AnnotationNamespaceWide = AnnotationPrefix + "namespace-wide"
)

// ErrUnsupported: the SealedSecret uses a feature gitseal has no
// counterpart for: the legacy spec.data or templated values.
var ErrUnsupported = errors.New("not supported")

// maxSecretSize caps the values of one object, as Kubernetes caps a
// Secret's data: no more is decrypted.
const maxSecretSize = 1 << 20

// SealedSecret is the part of a bitnami.com/v1alpha1 SealedSecret that
// migration reads.
type SealedSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              SealedSecretSpec `json:"spec"`
}

// SealedSecretSpec is a Bitnami SealedSecret's spec.
type SealedSecretSpec struct {
	Template SecretTemplate `json:"template,omitempty"`
	// Data is the legacy form: the whole Secret sealed as one value.
	Data json.RawMessage `json:"data,omitempty"`
	// EncryptedData maps item keys to sealed values.
	EncryptedData map[string]string `json:"encryptedData,omitempty"`
}

// SecretTemplate is Bitnami's spec.template.
type SecretTemplate struct {
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Type              corev1.SecretType `json:"type,omitempty"`
	Immutable         *bool             `json:"immutable,omitempty"`
	// Data holds Go templates of values, rendered with the opened values.
	Data map[string]string `json:"data,omitempty"`
}

// IsSealedSecret says whether apiVersion and kind name a Bitnami
// SealedSecret.
func IsSealedSecret(apiVersion, kind string) bool {
	return apiVersion == APIVersion && kind == Kind
}

// ScopeOf maps the scope annotations of a Bitnami SealedSecret's metadata
// to a gitseal scope, as Bitnami reads them: cluster-wide wins over
// namespace-wide, and only the exact value "true" counts. The annotations
// are not trusted: they choose the RSA-OAEP label, so a value opens only
// under the scope it was sealed with.
func ScopeOf(annotations map[string]string) crypto.Scope {
	switch {
	case annotations[AnnotationClusterWide] == "true":
		return crypto.Cluster
	case annotations[AnnotationNamespaceWide] == "true":
		return crypto.Namespace
	}
	return crypto.Strict
}

// Label is the RSA-OAEP label Bitnami seals with: empty for cluster scope,
// the namespace for namespace scope, "namespace/name" for strict scope.
func Label(scope crypto.Scope, namespace, name string) []byte {
	switch scope {
	case crypto.Cluster:
		return []byte{}
	case crypto.Namespace:
		return []byte(namespace)
	}
	return []byte(namespace + "/" + name)
}

// Unsealed is the whole, authenticated content of a Bitnami SealedSecret.
type Unsealed struct {
	// Scope is the gitseal scope of Bitnami's scope, proven by the label
	// every value opened under.
	Scope crypto.Scope
	// Data maps item keys to plaintext values.
	Data map[string][]byte
}

// Wipe overwrites the plaintext.
func (u *Unsealed) Wipe() {
	for _, v := range u.Data {
		clear(v)
	}
}

// Unseal opens every spec.encryptedData value with keys under the label
// of the object's scope, namespace and name, as Bitnami's controller
// would. It is all or nothing: on any error no plaintext is returned.
// Items are opened in key order, so the error names the first failing
// item deterministically.
//
// Objects with the legacy spec.data or with spec.template.data are
// refused with ErrUnsupported. Item errors wrap ErrMalformed,
// ErrNoMatchingKey or ErrTooLarge. Messages name items, scopes,
// namespaces and names, never values.
func (s *SealedSecret) Unseal(keys []*Key) (*Unsealed, error) {
	scope := ScopeOf(s.Annotations)
	switch {
	case len(bytes.TrimSpace(s.Spec.Data)) > 0 && !bytes.Equal(bytes.TrimSpace(s.Spec.Data), []byte("null")):
		return nil, fmt.Errorf("the legacy spec.data (the whole Secret sealed as one value) is %w", ErrUnsupported)
	case len(s.Spec.Template.Data) > 0:
		return nil, fmt.Errorf("spec.template.data (values rendered from templates: %s) is %w", strings.Join(slices.Sorted(maps.Keys(s.Spec.Template.Data)), ", "), ErrUnsupported)
	case len(s.Spec.EncryptedData) == 0:
		return nil, errors.New("spec.encryptedData is empty")
	case s.Name == "":
		return nil, errors.New("the object has no name")
	case s.Namespace == "" && scope != crypto.Cluster:
		return nil, fmt.Errorf("the object has no namespace, which %s scope needs", scope)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys given", ErrNoMatchingKey)
	}
	label := Label(scope, s.Namespace, s.Name)
	out := &Unsealed{Scope: scope, Data: make(map[string][]byte, len(s.Spec.EncryptedData))}
	total := 0
	for _, item := range slices.Sorted(maps.Keys(s.Spec.EncryptedData)) {
		v, err := Open(s.Spec.EncryptedData[item], label, keys)
		if err == nil {
			total += len(v)
			if total > maxSecretSize {
				clear(v)
				err = fmt.Errorf("%w: the values exceed %d bytes", ErrTooLarge, maxSecretSize)
			}
		}
		if err != nil {
			out.Wipe()
			if errors.Is(err, ErrNoMatchingKey) {
				err = fmt.Errorf("%w, as sealed for %s", err, sealedFor(scope, s.Namespace, s.Name))
			}
			return nil, fmt.Errorf("item %q: %w", item, err)
		}
		out.Data[item] = v
	}
	return out, nil
}

// sealedFor describes what a label binds, for messages.
func sealedFor(scope crypto.Scope, namespace, name string) string {
	switch scope {
	case crypto.Cluster:
		return "any namespace (cluster-wide scope)"
	case crypto.Namespace:
		return fmt.Sprintf("namespace %q (namespace-wide scope)", namespace)
	}
	return fmt.Sprintf("namespace %q, name %q (strict scope)", namespace, name)
}
