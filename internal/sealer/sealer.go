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

// Package sealer turns Secrets into SealedSecrets and back. It is the one
// place where a whole SealedSecret is opened, sealed or re-sealed, so the
// controller, its re-seal endpoint and the CLI apply the same rules.
package sealer

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/sealedvalue"
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

// reasonOf maps a crypto error to the Reason of a status condition.
func reasonOf(err error) string {
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

	// bindings holds the binding each item was sealed with (Key empty).
	bindings map[string]crypto.Binding
}

// Wipe overwrites the plaintext.
func (o *Opened) Wipe() {
	for _, v := range o.Data {
		clear(v)
	}
}

// Open opens every item of ss with the identities, checking each value's
// binding against ss's own namespace, name and item key. Format-1 values
// open on their own; format-2 values through spec.dataKeys; an object may
// hold both. It is all or nothing: on any error no plaintext is returned.
// The error names the first failing item in key order, so it is
// deterministic.
func Open(ss *gitsealv1alpha1.SealedSecret, ids []*crypto.Identity) (*Opened, error) {
	return openItems(ss, ids, nil)
}

// openItems opens the items of ss for which need returns true, or all of
// them when need is nil, as Open does. Format-2 values are opened in the
// context of the whole object, so a value moved between items is still
// named a scope mismatch; what opens but is not needed is wiped at once.
func openItems(ss *gitsealv1alpha1.SealedSecret, ids []*crypto.Identity, need func(item string) bool) (*Opened, error) {
	if need == nil {
		need = func(string) bool { return true }
	}
	out := &Opened{
		Data:     make(map[string][]byte, len(ss.Spec.EncryptedData)),
		Opens:    map[crypto.KeyID]int{},
		bindings: make(map[string]crypto.Binding, len(ss.Spec.EncryptedData)),
	}
	errs := map[string]error{}
	obj := Object(ss)
	if len(obj.Values) > 0 {
		claim := crypto.Binding{Namespace: ss.Namespace, Name: ss.Name}
		o2 := crypto.OpenObject(obj, claim, ids...)
		for item, v := range o2.Values {
			if !need(item) {
				clear(v)
				continue
			}
			out.Data[item] = v
			out.bindings[item] = o2.Binding
			out.Opens[openerOf(obj, item, o2.KeyIDs)]++
		}
		maps.Copy(errs, o2.Errors)
	}
	for item, v := range ss.Spec.EncryptedData {
		if _, ok := obj.Values[item]; ok || errs[item] != nil || !need(item) {
			continue
		}
		claim := crypto.Binding{Namespace: ss.Namespace, Name: ss.Name, Key: item}
		opened, err := crypto.Open(string(v), claim, ids...)
		if err != nil {
			errs[item] = err
			continue
		}
		out.Data[item] = opened.Value
		opened.Binding.Key = ""
		out.bindings[item] = opened.Binding
		out.Opens[opened.KeyID]++
	}
	total := 0
	for _, item := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		if err := errs[item]; err != nil && need(item) {
			out.Wipe()
			return nil, &Error{Reason: reasonOf(err), Item: item, Err: err}
		}
		if total += len(out.Data[item]); total > MaxSecretSize {
			out.Wipe()
			err := fmt.Errorf("%w: the Secret's data exceeds %d bytes", crypto.ErrTooLarge, MaxSecretSize)
			return nil, &Error{Reason: reasonOf(err), Item: item, Err: err}
		}
	}
	out.KeyIDs = slices.Sorted(maps.Keys(out.Opens))
	return out, nil
}

// openerOf names the key that opened a format-2 item: of the keys that
// unwrapped the object's data keys, the one its data key records.
func openerOf(obj *crypto.Object, item string, openers []crypto.KeyID) crypto.KeyID {
	if len(openers) == 1 {
		return openers[0]
	}
	if i, err := sealedvalue.DataKey(obj.Values[item], obj.DataKeys); err == nil {
		if info, err := crypto.InspectDataKey(obj.DataKeys[i]); err == nil {
			for _, id := range openers {
				if slices.Contains(info.KeyIDs, id) {
					return id
				}
			}
		}
	}
	if len(openers) > 0 {
		return openers[0]
	}
	return ""
}

// Object returns the format-2 part of ss: its data keys and the values that
// are in format 2. Values in format 1 are left out.
func Object(ss *gitsealv1alpha1.SealedSecret) *crypto.Object {
	o := &crypto.Object{DataKeys: slices.Clone(ss.Spec.DataKeys), Values: map[string]string{}}
	for item, v := range ss.Spec.EncryptedData {
		if crypto.Version(string(v)) == 2 {
			o.Values[item] = string(v)
		}
	}
	return o
}

// setObject writes o's data keys and values into ss.
func setObject(ss *gitsealv1alpha1.SealedSecret, o *crypto.Object) {
	ss.Spec.DataKeys = slices.Clone(o.DataKeys)
	if ss.Spec.EncryptedData == nil {
		ss.Spec.EncryptedData = make(map[string]gitsealv1alpha1.SealedValue, len(o.Values))
	}
	for item, v := range o.Values {
		ss.Spec.EncryptedData[item] = gitsealv1alpha1.SealedValue(v)
	}
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
	for _, v := range data {
		total += len(v)
	}
	if total > MaxSecretSize {
		return nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Err: fmt.Errorf("secret %q: data exceeds %d bytes", secret.Name, MaxSecretSize)}
	}
	obj, err := crypto.SealObject(data, crypto.Binding{Scope: scope, Namespace: secret.Namespace, Name: secret.Name}, recipients...)
	if err != nil {
		return nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Err: err}
	}
	setObject(ss, obj)
	return ss, nil
}

// SealItem seals one value on its own, in format 1: a value that carries
// its own wrapped key, for `gitseal seal --raw`, whose output is one value
// and has no spec.dataKeys to go with it.
func SealItem(value []byte, b crypto.Binding, recipients []*crypto.Recipient) (gitsealv1alpha1.SealedValue, error) {
	s, err := crypto.Seal(value, b, recipients...)
	return gitsealv1alpha1.SealedValue(s), err
}

// Add seals items into a copy of ss, offline (no private key needed): in
// format 2, under a new data key for recipients, bound with b (b.Key is
// ignored). Items replace values of the same key, in either format; data
// keys no value uses any more are dropped, which may renumber the values of
// later ones. The other values keep their text.
func Add(ss *gitsealv1alpha1.SealedSecret, items map[string][]byte, b crypto.Binding, recipients []*crypto.Recipient) (*gitsealv1alpha1.SealedSecret, error) {
	out := ss.DeepCopy()
	obj := Object(out)
	for item := range items {
		delete(out.Spec.EncryptedData, item) // a format-1 value it replaces
	}
	if err := obj.Add(items, b, recipients...); err != nil {
		return nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Err: err}
	}
	setObject(out, obj)
	return out, nil
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

// Keep decides, for one data key (version 2) or one format-1 value
// (version 1), from the keys it records, whether it may stay as it is.
type Keep func(version int, info *crypto.Info) bool

// Reseal re-seals ss to recipients. Each data key (format 2) is re-wrapped
// (crypto.Rewrap), so the values under it stay byte for byte the same and
// only its entry in spec.dataKeys changes; format-1 values are opened and
// sealed again in format 2, under a new data key for each binding they
// carry. A value is opened with the identities under ss's own namespace,
// name and item key before anything is re-sealed, and keeps the binding
// authenticated inside it: the scope, namespace, name and item key never
// come from the request.
//
// keep, which may be nil, is asked about each data key and each format-1
// value; what it accepts stays as it is, and needs no identity. It returns
// the new object and the item keys that were re-sealed, none when keep
// accepts everything. All or nothing; plaintext never leaves this function.
func Reseal(ss *gitsealv1alpha1.SealedSecret, ids []*crypto.Identity, recipients []*crypto.Recipient, keep Keep) (*gitsealv1alpha1.SealedSecret, []string, error) {
	obj := Object(ss)
	kept := make([]bool, len(obj.DataKeys))
	kinds := make([]crypto.Kind, len(obj.DataKeys))
	for i, dk := range obj.DataKeys {
		info, err := crypto.InspectDataKey(dk)
		if err != nil {
			err = fmt.Errorf("spec.dataKeys[%d]: %w", i, err)
			return nil, nil, &Error{Reason: reasonOf(err), Err: err}
		}
		kept[i], kinds[i] = keep != nil && keep(2, info), info.Kind
	}
	index := map[string]int{} // format-2 item → its data key
	upgrade := map[string]bool{}
	for _, item := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		v := string(ss.Spec.EncryptedData[item])
		if _, ok := obj.Values[item]; ok {
			i, err := sealedvalue.DataKey(v, obj.DataKeys)
			if err != nil {
				return nil, nil, &Error{Reason: reasonOf(err), Item: item, Err: err}
			}
			index[item] = i
			continue
		}
		info, err := crypto.Inspect(v)
		if err != nil {
			return nil, nil, &Error{Reason: reasonOf(err), Item: item, Err: err}
		}
		upgrade[item] = keep == nil || !keep(1, info)
	}
	// The data keys of one object are of one kind: when anything changes,
	// a kept data key of another kind than the recipients changes too.
	if len(recipients) > 0 && (slices.Contains(kept, false) || slices.Contains(slices.Collect(maps.Values(upgrade)), true)) {
		for i := range kept {
			kept[i] = kept[i] && kinds[i] == recipients[0].Kind()
		}
	}
	need := maps.Clone(upgrade)
	for item, i := range index {
		need[item] = !kept[i]
	}
	changed := slices.Sorted(func(yield func(string) bool) {
		for item, n := range need {
			if n && !yield(item) {
				return
			}
		}
	})
	if len(changed) == 0 {
		return ss.DeepCopy(), nil, nil
	}

	opened, err := openItems(ss, ids, func(item string) bool { return need[item] })
	if err != nil {
		return nil, nil, err
	}
	defer opened.Wipe()
	claim := crypto.Binding{Namespace: ss.Namespace, Name: ss.Name}
	for i, dk := range obj.DataKeys {
		if kept[i] {
			continue
		}
		one := &crypto.Object{DataKeys: []string{dk}}
		if err := crypto.Rewrap(one, claim, ids, recipients...); err != nil {
			err = fmt.Errorf("spec.dataKeys[%d]: %w", i, err)
			return nil, nil, &Error{Reason: reasonOf(err), Err: err}
		}
		obj.DataKeys[i] = one.DataKeys[0]
	}
	// Format-1 values, grouped by the binding they were sealed with.
	groups := map[crypto.Binding]map[string][]byte{}
	for item := range ss.Spec.EncryptedData {
		if _, ok := obj.Values[item]; ok || !need[item] {
			continue
		}
		b := opened.bindings[item]
		if groups[b] == nil {
			groups[b] = map[string][]byte{}
		}
		groups[b][item] = opened.Data[item]
	}
	// One object has one binding in format 2: format-1 values sealed with
	// another scope than the rest cannot join it.
	for _, b := range slices.SortedFunc(maps.Keys(groups), compareBindings) {
		if err := obj.Add(groups[b], b, recipients...); err != nil {
			return nil, nil, &Error{Reason: gitsealv1alpha1.ReasonInvalidSpec, Err: fmt.Errorf(
				"format-1 items %s cannot move to format 2 in this object: %w; seal the Secret again", strings.Join(slices.Sorted(maps.Keys(groups[b])), ", "), err)}
		}
	}
	out := ss.DeepCopy()
	setObject(out, obj)
	return out, changed, nil
}

func compareBindings(a, b crypto.Binding) int {
	return cmp.Or(cmp.Compare(a.Scope, b.Scope), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}
