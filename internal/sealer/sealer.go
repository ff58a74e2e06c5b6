// Package sealer turns Secrets into SealedSecrets and back. It is the one
// place where a whole SealedSecret is opened, sealed or re-sealed, so the
// controller, its re-seal endpoint and the CLI apply the same rules.
package sealer

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
)

// MaxSecretSize caps the total size of a Secret's data, as Kubernetes does.
const MaxSecretSize = 1 << 20

// Error is a failure to open, seal or re-seal, with the Reason a status
// condition reports (one of the api Reason constants) and the item it
// concerns, if any. Its message never contains a secret value.
type Error struct {
	Reason string
	Item   string
	Err    error
}

func (e *Error) Error() string {
	if e.Item == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("item %q: %v", e.Item, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf maps a crypto error to the Reason of a status condition.
func ReasonOf(err error) string {
	switch {
	case errors.Is(err, crypto.ErrNoMatchingKey):
		return gitsealv1alpha1.ReasonNoMatchingKey
	case errors.Is(err, crypto.ErrScopeMismatch):
		return gitsealv1alpha1.ReasonScopeMismatch
	case errors.Is(err, crypto.ErrMalformed):
		return gitsealv1alpha1.ReasonDecryptionFailed
	}
	return gitsealv1alpha1.ReasonInvalidSpec
}

// Opened is the whole content of a SealedSecret, authenticated.
type Opened struct {
	// Data maps item keys to plaintext values.
	Data map[string][]byte
	// KeyIDs are the IDs of the keys that opened the items, sorted.
	KeyIDs []crypto.KeyID
	// Opens counts the items each of KeyIDs opened.
	Opens map[crypto.KeyID]int
}

// Wipe overwrites the plaintext.
func (o *Opened) Wipe() {
	for _, v := range o.Data {
		clear(v)
	}
}

// Open opens every item of ss with the identities, checking each value's
// binding against ss's own namespace, name and item key. It is all or
// nothing: on any error no plaintext is returned. Items are opened in key
// order, so the error names the first failing item deterministically.
func Open(ss *gitsealv1alpha1.SealedSecret, ids []*crypto.Identity) (*Opened, error) {
	out := &Opened{Data: make(map[string][]byte, len(ss.Spec.EncryptedData)), Opens: map[crypto.KeyID]int{}}
	total := 0
	for _, item := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		claim := crypto.Binding{Namespace: ss.Namespace, Name: ss.Name, Key: item}
		v, err := crypto.Open(string(ss.Spec.EncryptedData[item]), claim, ids...)
		if err == nil {
			total += len(v.Value)
			if total > MaxSecretSize {
				clear(v.Value)
				err = fmt.Errorf("%w: the Secret's data exceeds %d bytes", crypto.ErrTooLarge, MaxSecretSize)
			}
		}
		if err != nil {
			out.Wipe()
			return nil, &Error{Reason: ReasonOf(err), Item: item, Err: err}
		}
		out.Data[item] = v.Value
		out.Opens[v.KeyID]++
		if !slices.Contains(out.KeyIDs, v.KeyID) {
			out.KeyIDs = append(out.KeyIDs, v.KeyID)
		}
	}
	slices.Sort(out.KeyIDs)
	return out, nil
}

// annotationLastApplied holds a full copy of the object as kubectl last
// applied it: for a Secret, its plaintext. It is never carried over.
const annotationLastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Scope annotations a Secret may carry to choose its scope: gitseal's own,
// and Bitnami's two, set to "true". They describe how to seal, not the
// Secret, so Seal never copies them into the template.
const (
	// AnnotationScope holds strict, namespace or cluster.
	AnnotationScope = "gitseal.dev/scope"
	// AnnotationBitnamiNamespaceWide set to "true" asks for namespace
	// scope.
	AnnotationBitnamiNamespaceWide = "sealedsecrets.bitnami.com/namespace-wide"
	// AnnotationBitnamiClusterWide set to "true" asks for cluster scope.
	AnnotationBitnamiClusterWide = "sealedsecrets.bitnami.com/cluster-wide"
)

var scopeAnnotations = []string{AnnotationScope, AnnotationBitnamiNamespaceWide, AnnotationBitnamiClusterWide}

// AnnotatedScope returns the scope a Secret's annotations ask for and the
// annotation that asks, or "" when none does. It returns an error when the
// value of gitseal.dev/scope is unknown or the annotations disagree.
func AnnotatedScope(annotations map[string]string) (crypto.Scope, string, error) {
	var scope crypto.Scope
	var from string
	ask := func(s crypto.Scope, key string) error {
		if scope != "" && scope != s {
			return fmt.Errorf("annotation %s asks for %s scope, but %s asks for %s scope", key, s, from, scope)
		}
		scope, from = s, key
		return nil
	}
	if v, ok := annotations[AnnotationScope]; ok {
		s, err := crypto.ParseScope(v)
		if err != nil {
			return "", "", fmt.Errorf("annotation %s: %w", AnnotationScope, err)
		}
		scope, from = s, AnnotationScope
	}
	if annotations[AnnotationBitnamiNamespaceWide] == "true" {
		if err := ask(crypto.Namespace, AnnotationBitnamiNamespaceWide); err != nil {
			return "", "", err
		}
	}
	if annotations[AnnotationBitnamiClusterWide] == "true" {
		if err := ask(crypto.Cluster, AnnotationBitnamiClusterWide); err != nil {
			return "", "", err
		}
	}
	return scope, from, nil
}

// Seal seals a Secret's data and stringData (which wins on conflict, as in
// Kubernetes) into a SealedSecret of the same namespace and name, bound with
// scope. Its labels, annotations (but the scope annotations and kubectl's
// last-applied copy), type and immutability go to the template.
func Seal(secret *corev1.Secret, scope crypto.Scope, recipients []*crypto.Recipient) (*gitsealv1alpha1.SealedSecret, error) {
	if secret.Name == "" {
		return nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Err: errors.New("the Secret has no name")}
	}
	if secret.Namespace == "" && scope != crypto.Cluster {
		return nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Err: fmt.Errorf("secret %q has no namespace, which %s scope needs", secret.Name, scope)}
	}
	data := maps.Clone(secret.Data)
	if data == nil {
		data = map[string][]byte{}
	}
	for k, v := range secret.StringData {
		data[k] = []byte(v)
	}
	if len(data) == 0 {
		return nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Err: fmt.Errorf("secret %q has no data", secret.Name)}
	}
	ss := &gitsealv1alpha1.SealedSecret{
		TypeMeta:   metav1.TypeMeta{APIVersion: gitsealv1alpha1.GroupVersion.String(), Kind: "SealedSecret"},
		ObjectMeta: metav1.ObjectMeta{Name: secret.Name, Namespace: secret.Namespace},
		Spec: gitsealv1alpha1.SealedSecretSpec{
			EncryptedData: make(map[string]gitsealv1alpha1.SealedValue, len(data)),
			Template:      templateOf(secret),
		},
	}
	total := 0
	for _, item := range slices.Sorted(maps.Keys(data)) {
		total += len(data[item])
		if total > MaxSecretSize {
			return nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Err: fmt.Errorf("secret %q: data exceeds %d bytes", secret.Name, MaxSecretSize)}
		}
		v, err := SealItem(data[item], crypto.Binding{Scope: scope, Namespace: secret.Namespace, Name: secret.Name, Key: item}, recipients)
		if err != nil {
			return nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Item: item, Err: err}
		}
		ss.Spec.EncryptedData[item] = v
	}
	return ss, nil
}

// SealItem seals one value for a SealedSecret.
func SealItem(value []byte, b crypto.Binding, recipients []*crypto.Recipient) (gitsealv1alpha1.SealedValue, error) {
	s, err := crypto.Seal(value, b, recipients...)
	return gitsealv1alpha1.SealedValue(s), err
}

func templateOf(s *corev1.Secret) *gitsealv1alpha1.SecretTemplate {
	t := &gitsealv1alpha1.SecretTemplate{Immutable: s.Immutable}
	if s.Type != "" && s.Type != corev1.SecretTypeOpaque {
		t.Type = string(s.Type)
	}
	annotations := maps.Clone(s.Annotations)
	delete(annotations, annotationLastApplied)
	for _, k := range scopeAnnotations {
		delete(annotations, k)
	}
	if len(s.Labels) > 0 || len(annotations) > 0 {
		t.Metadata = &gitsealv1alpha1.SecretTemplateMetadata{Labels: maps.Clone(s.Labels), Annotations: annotations}
	}
	if t.Metadata == nil && t.Type == "" && t.Immutable == nil {
		return nil
	}
	return t
}

// Reseal re-seals the items of ss to recipients. Each item is opened with
// the identities under ss's own namespace, name and item key, and sealed
// again with the binding authenticated inside it: the scope, namespace, name
// and item key never come from the request. Items for which keep returns
// true are left byte for byte; keep may be nil. It returns the new object
// and the item keys that changed. All or nothing.
func Reseal(ss *gitsealv1alpha1.SealedSecret, ids []*crypto.Identity, recipients []*crypto.Recipient,
	keep func(item string, info *crypto.Info) bool) (*gitsealv1alpha1.SealedSecret, []string, error) {
	out := ss.DeepCopy()
	var changed []string
	for _, item := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		sealed := string(ss.Spec.EncryptedData[item])
		info, err := crypto.Inspect(sealed)
		if err != nil {
			return nil, nil, &Error{Reason: ReasonOf(err), Item: item, Err: err}
		}
		if keep != nil && keep(item, info) {
			continue
		}
		claim := crypto.Binding{Namespace: ss.Namespace, Name: ss.Name, Key: item}
		opened, err := crypto.Open(sealed, claim, ids...)
		if err != nil {
			return nil, nil, &Error{Reason: ReasonOf(err), Item: item, Err: err}
		}
		v, err := SealItem(opened.Value, opened.Binding, recipients)
		clear(opened.Value)
		if err != nil {
			return nil, nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Item: item, Err: err}
		}
		out.Spec.EncryptedData[item] = v
		changed = append(changed, item)
	}
	return out, changed, nil
}
