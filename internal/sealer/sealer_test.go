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

package sealer

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
)

const canary = "canary-9c2e-plaintext"

func identity(t *testing.T) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func secret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: "db", Namespace: "prod",
			Labels:      map[string]string{"app": "db"},
			Annotations: map[string]string{"note": "x", annotationLastApplied: `{"stringData":{"password":"` + canary + `"}}`},
		},
		Type:       corev1.SecretTypeBasicAuth,
		Data:       map[string][]byte{"username": []byte("admin"), "password": []byte("old")},
		StringData: map[string]string{"password": canary},
	}
}

func TestSealThenOpen(t *testing.T) {
	id := identity(t)
	ss, err := Seal(secret(), crypto.Strict, []*crypto.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	if ss.Kind != "SealedSecret" || ss.Name != "db" || ss.Namespace != "prod" {
		t.Errorf("object %s %s/%s", ss.Kind, ss.Namespace, ss.Name)
	}
	tpl := ss.Spec.Template
	if tpl == nil || tpl.Type != string(corev1.SecretTypeBasicAuth) || tpl.Metadata.Labels["app"] != "db" || tpl.Metadata.Annotations["note"] != "x" {
		t.Errorf("template %+v", tpl)
	}
	if _, ok := tpl.Metadata.Annotations[annotationLastApplied]; ok {
		t.Error("last-applied-configuration, which holds plaintext, was carried into the template")
	}
	opened, err := Open(ss, []*crypto.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	if string(opened.Data["password"]) != canary || string(opened.Data["username"]) != "admin" || len(opened.Data) != 2 {
		t.Errorf("opened keys %v", slices.Sorted(func(yield func(string) bool) {
			for k := range opened.Data {
				yield(k)
			}
		}))
	}
	if !slices.Equal(opened.KeyIDs, []crypto.KeyID{id.ID()}) {
		t.Errorf("key IDs %v", opened.KeyIDs)
	}
}

func TestOpenIsAllOrNothing(t *testing.T) {
	id, other := identity(t), identity(t)
	ss, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{id.Recipient()})
	foreign, _ := SealItem([]byte("x"), crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "zzz"}, []*crypto.Recipient{other.Recipient()})
	ss.Spec.EncryptedData["zzz"] = foreign

	opened, err := Open(ss, []*crypto.Identity{id})
	var serr *Error
	if opened != nil || !errors.As(err, &serr) {
		t.Fatalf("got %v, %v", opened, err)
	}
	if serr.Reason != gitsealv1alpha1.ReasonNoMatchingKey || serr.Item != "zzz" {
		t.Errorf("reason %s item %s", serr.Reason, serr.Item)
	}
	if strings.Contains(err.Error(), canary) {
		t.Error("error leaks plaintext")
	}
}

func TestOpenChecksTheObjectsOwnBinding(t *testing.T) {
	id := identity(t)
	tests := []struct {
		name   string
		mutate func(*gitsealv1alpha1.SealedSecret)
		reason string
	}{
		{"copied to another namespace is a scope mismatch", func(ss *gitsealv1alpha1.SealedSecret) { ss.Namespace = "dev" }, gitsealv1alpha1.ReasonScopeMismatch},
		{"renamed is a scope mismatch", func(ss *gitsealv1alpha1.SealedSecret) { ss.Name = "db2" }, gitsealv1alpha1.ReasonScopeMismatch},
		{"value moved to another item key is a scope mismatch", func(ss *gitsealv1alpha1.SealedSecret) {
			ss.Spec.EncryptedData["token"] = ss.Spec.EncryptedData["password"]
		}, gitsealv1alpha1.ReasonScopeMismatch},
		{"truncated value is a decryption failure", func(ss *gitsealv1alpha1.SealedSecret) {
			v := ss.Spec.EncryptedData["password"]
			ss.Spec.EncryptedData["password"] = v[:len(v)-8]
		}, gitsealv1alpha1.ReasonDecryptionFailed},
		{"value of another object is a decryption failure", func(ss *gitsealv1alpha1.SealedSecret) {
			other, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{id.Recipient()})
			ss.Spec.EncryptedData["password"] = other.Spec.EncryptedData["password"]
		}, gitsealv1alpha1.ReasonDecryptionFailed},
		{"missing data keys are a decryption failure", func(ss *gitsealv1alpha1.SealedSecret) { ss.Spec.DataKeys = nil }, gitsealv1alpha1.ReasonDecryptionFailed},
		{"data key of another object is a decryption failure", func(ss *gitsealv1alpha1.SealedSecret) {
			other, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{id.Recipient()})
			ss.Spec.DataKeys = other.Spec.DataKeys
		}, gitsealv1alpha1.ReasonDecryptionFailed},
		{"data key for another cluster is no matching key", func(ss *gitsealv1alpha1.SealedSecret) {
			other, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{identity(t).Recipient()})
			ss.Spec.DataKeys = other.Spec.DataKeys
		}, gitsealv1alpha1.ReasonNoMatchingKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{id.Recipient()})
			tt.mutate(ss)
			_, err := Open(ss, []*crypto.Identity{id})
			var serr *Error
			if !errors.As(err, &serr) || serr.Reason != tt.reason {
				t.Fatalf("got %v, want reason %s", err, tt.reason)
			}
		})
	}
}

func TestSealRefusesWhatCannotBeSealed(t *testing.T) {
	r := []*crypto.Recipient{identity(t).Recipient()}
	noNS := secret()
	noNS.Namespace = ""
	if _, err := Seal(noNS, crypto.Strict, r); err == nil || !strings.Contains(err.Error(), "no namespace") {
		t.Errorf("strict without namespace: %v", err)
	}
	if _, err := Seal(noNS, crypto.Cluster, r); err != nil {
		t.Errorf("cluster without namespace: %v", err)
	}
	empty := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "n"}}
	if _, err := Seal(empty, crypto.Strict, r); err == nil {
		t.Error("empty secret sealed")
	}
	big := secret()
	big.Data = map[string][]byte{"a": make([]byte, MaxSecretSize/2+1), "b": make([]byte, MaxSecretSize/2+1)}
	big.StringData = nil
	if _, err := Seal(big, crypto.Strict, r); err == nil {
		t.Error("a Secret over 1 MiB was sealed")
	}
}

func TestResealKeepsTheAuthenticatedBinding(t *testing.T) {
	oldKey, newKey := identity(t), identity(t)
	ss, _ := Seal(secret(), crypto.Namespace, []*crypto.Recipient{oldKey.Recipient()})
	// A request may carry another name; a namespace-scoped object still
	// opens, and the re-sealed one keeps namespace scope, not strict.
	ss.Name = "renamed"
	before := ss.DeepCopy()
	out, changed, err := Reseal(ss, []*crypto.Identity{oldKey}, []*crypto.Recipient{newKey.Recipient()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changed, []string{"password", "username"}) {
		t.Errorf("changed %v", changed)
	}
	// Re-wrapping leaves every value byte for byte: only the data keys change.
	if !maps.Equal(out.Spec.EncryptedData, before.Spec.EncryptedData) || slices.Equal(out.Spec.DataKeys, before.Spec.DataKeys) {
		t.Errorf("values changed or data keys did not")
	}
	out.Name = "anything"
	if _, err := Open(out, []*crypto.Identity{oldKey}); !errors.Is(err, crypto.ErrNoMatchingKey) {
		t.Errorf("the old key still opens the re-sealed object: %v", err)
	}
	got, err := Open(out, []*crypto.Identity{newKey})
	if err != nil || string(got.Data["password"]) != canary {
		t.Fatalf("re-sealed object: %v", err)
	}
	// A strict object presented under another name does not re-seal.
	strict, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{oldKey.Recipient()})
	strict.Name = "renamed"
	_, _, err = Reseal(strict, []*crypto.Identity{oldKey}, []*crypto.Recipient{newKey.Recipient()}, nil)
	var serr *Error
	if !errors.As(err, &serr) || serr.Reason != gitsealv1alpha1.ReasonScopeMismatch {
		t.Errorf("a renamed strict object was re-sealed, or refused with the wrong reason: %v", err)
	}
}

// TestResealUpgradesFormat1: format-1 values are opened and sealed again in
// format 2 with the binding authenticated inside each, and format-2 values
// of the same object keep their text. Format 2 has one binding per object,
// so a format-1 value of another scope cannot join, and says so.
func TestResealUpgradesFormat1(t *testing.T) {
	oldKey, newKey := identity(t), identity(t)
	old := []*crypto.Recipient{oldKey.Recipient()}
	ss, _ := Seal(secret(), crypto.Strict, old)
	v1, _ := SealItem([]byte("v1"), crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "legacy"}, old)
	ss.Spec.EncryptedData["legacy"] = v1
	password := ss.Spec.EncryptedData["password"]

	out, changed, err := Reseal(ss, []*crypto.Identity{oldKey}, []*crypto.Recipient{newKey.Recipient()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 3 || out.Spec.EncryptedData["password"] != password {
		t.Errorf("changed %v; the format-2 value must keep its text", changed)
	}
	if crypto.Version(string(out.Spec.EncryptedData["legacy"])) != 2 || len(out.Spec.DataKeys) != 2 {
		t.Fatalf("format-1 value not upgraded: %d data keys", len(out.Spec.DataKeys))
	}
	got, err := Open(out, []*crypto.Identity{newKey})
	if err != nil || string(got.Data["legacy"]) != "v1" {
		t.Fatalf("upgraded value: %v", err)
	}

	// A namespace-scoped format-1 value in a strict object.
	wide, _ := SealItem([]byte("v1"), crypto.Binding{Scope: crypto.Namespace, Namespace: "prod", Key: "legacy"}, old)
	ss.Spec.EncryptedData["legacy"] = wide
	_, _, err = Reseal(ss, []*crypto.Identity{oldKey}, []*crypto.Recipient{newKey.Recipient()}, nil)
	var serr *Error
	if !errors.As(err, &serr) || serr.Reason != gitsealv1alpha1.ReasonInvalidSpec || !strings.Contains(err.Error(), "seal the Secret again") {
		t.Errorf("a format-1 value of another scope: %v", err)
	}
}

// TestResealKeep: keep is asked about each data key and format-1 value; the
// object is re-sealed as a whole, or returned as it is.
func TestResealKeep(t *testing.T) {
	oldKey, newKey := identity(t), identity(t)
	ss, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{oldKey.Recipient()})
	onOld := func(_ int, info *crypto.Info) bool { return !slices.Contains(info.KeyIDs, oldKey.ID()) }
	onNew := func(_ int, info *crypto.Info) bool { return !slices.Contains(info.KeyIDs, newKey.ID()) }
	out, changed, err := Reseal(ss, []*crypto.Identity{oldKey}, []*crypto.Recipient{newKey.Recipient()}, onNew)
	if err != nil || changed != nil || !slices.Equal(out.Spec.DataKeys, ss.Spec.DataKeys) {
		t.Errorf("an object keep accepts was re-sealed: %v %v", changed, err)
	}
	if _, changed, err = Reseal(ss, []*crypto.Identity{oldKey}, []*crypto.Recipient{newKey.Recipient()}, onOld); err != nil || len(changed) != 2 {
		t.Errorf("an object on the old key was not re-sealed: %v %v", changed, err)
	}
	// A data key keep accepts needs no identity and keeps its text.
	merged, err := Add(ss, map[string][]byte{"token": []byte("t")}, crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db"}, []*crypto.Recipient{newKey.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	out, changed, err = Reseal(merged, []*crypto.Identity{oldKey}, []*crypto.Recipient{newKey.Recipient()}, onOld)
	if err != nil || !slices.Equal(changed, []string{"password", "username"}) || out.Spec.DataKeys[1] != merged.Spec.DataKeys[1] ||
		out.Spec.DataKeys[0] == merged.Spec.DataKeys[0] || !maps.Equal(out.Spec.EncryptedData, merged.Spec.EncryptedData) {
		t.Errorf("only the data key on the old key must change: changed %v, %v", changed, err)
	}
	// Re-sealing to another kind changes every data key: an object's data
	// keys are of one kind.
	pq, err := crypto.GenerateIdentity(crypto.Hybrid)
	if err != nil {
		t.Fatal(err)
	}
	out, changed, err = Reseal(merged, []*crypto.Identity{oldKey, newKey}, []*crypto.Recipient{pq.Recipient()}, onOld)
	if err != nil || len(changed) != 3 {
		t.Fatalf("changed %v, %v", changed, err)
	}
	if _, err := Open(out, []*crypto.Identity{pq}); err != nil {
		t.Errorf("re-sealed to a hybrid key: %v", err)
	}
}

// TestAddSealsUnderANewDataKey: --merge-into needs no private key, adds a
// data key, replaces values of either format and leaves the rest as is.
func TestAddSealsUnderANewDataKey(t *testing.T) {
	id := identity(t)
	r := []*crypto.Recipient{id.Recipient()}
	ss, _ := Seal(secret(), crypto.Strict, r)
	v1, _ := SealItem([]byte("old"), crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "legacy"}, r)
	ss.Spec.EncryptedData["legacy"] = v1
	username := ss.Spec.EncryptedData["username"]
	out, err := Add(ss, map[string][]byte{"legacy": []byte("new"), "token": []byte("t")}, crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db"}, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Spec.DataKeys) != 2 || out.Spec.EncryptedData["username"] != username || ss.Spec.EncryptedData["legacy"] != v1 {
		t.Errorf("data keys %d; untouched values must keep their text and the input must not change", len(out.Spec.DataKeys))
	}
	got, err := Open(out, []*crypto.Identity{id})
	if err != nil || string(got.Data["legacy"]) != "new" || string(got.Data["token"]) != "t" || string(got.Data["password"]) != canary {
		t.Fatalf("merged object: %v", err)
	}
}

// TestAnnotatedScope: scope annotations on the input, Bitnami's and
// gitseal's own, choose the scope or are refused; never ignored (issue 11,
// item 2).
func TestAnnotatedScope(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        crypto.Scope
		wantErr     string
	}{
		{"no annotation asks for nothing", map[string]string{"note": "x"}, "", ""},
		{"Bitnami namespace-wide asks for namespace scope", map[string]string{AnnotationBitnamiNamespaceWide: "true"}, crypto.Namespace, ""},
		{"Bitnami cluster-wide asks for cluster scope", map[string]string{AnnotationBitnamiClusterWide: "true"}, crypto.Cluster, ""},
		{"a Bitnami annotation set to false asks for nothing", map[string]string{AnnotationBitnamiClusterWide: "false"}, "", ""},
		{"gitseal.dev/scope names the scope", map[string]string{AnnotationScope: "namespace"}, crypto.Namespace, ""},
		{"agreeing annotations are fine", map[string]string{AnnotationScope: "cluster", AnnotationBitnamiClusterWide: "true"}, crypto.Cluster, ""},
		{"both Bitnami annotations disagree", map[string]string{AnnotationBitnamiNamespaceWide: "true", AnnotationBitnamiClusterWide: "true"}, "", "asks for cluster scope"},
		{"gitseal and Bitnami annotations that disagree are an error", map[string]string{AnnotationScope: "strict", AnnotationBitnamiClusterWide: "true"}, "", "asks for strict scope"},
		{"an unknown gitseal.dev/scope is an error", map[string]string{AnnotationScope: "wide"}, "", "unknown scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := AnnotatedScope(tt.annotations)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("AnnotatedScope = %q, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("AnnotatedScope = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestSealDropsScopeAnnotations: the scope annotations never reach the
// template, where they would claim a scope the values may not have.
func TestSealDropsScopeAnnotations(t *testing.T) {
	s := secret()
	s.Annotations[AnnotationBitnamiClusterWide] = "true"
	s.Annotations[AnnotationBitnamiNamespaceWide] = "false"
	s.Annotations[AnnotationScope] = "cluster"
	ss, err := Seal(s, crypto.Cluster, []*crypto.Recipient{identity(t).Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range scopeAnnotations {
		if _, ok := ss.Spec.Template.Metadata.Annotations[k]; ok {
			t.Errorf("%s was copied into the template", k)
		}
	}
	if ss.Spec.Template.Metadata.Annotations["note"] != "x" {
		t.Error("another annotation was dropped")
	}
}

// TestOpenMixedFormats: an object may hold format-1 and format-2 values
// (a pasted `seal --raw` value, or one not yet re-sealed); each opens by
// its own format and counts for the key that opened it.
func TestOpenMixedFormats(t *testing.T) {
	id := identity(t)
	r := []*crypto.Recipient{id.Recipient()}
	ss, _ := Seal(secret(), crypto.Strict, r)
	v1, _ := SealItem([]byte("v1"), crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "legacy"}, r)
	ss.Spec.EncryptedData["legacy"] = v1
	got, err := Open(ss, []*crypto.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data["legacy"]) != "v1" || string(got.Data["password"]) != canary || got.Opens[id.ID()] != 3 {
		t.Errorf("opens %v", got.Opens)
	}
}

// TestOpenNamesAMissingDataKey: a format-2 value whose index is past the
// end of spec.dataKeys fails with a message that says so.
func TestOpenNamesAMissingDataKey(t *testing.T) {
	id := identity(t)
	ss, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{id.Recipient()})
	ss.Spec.EncryptedData["password"] = gitsealv1alpha1.SealedValue(strings.Replace(string(ss.Spec.EncryptedData["password"]), "gs2:", "gs2:7:", 1))
	_, err := Open(ss, []*crypto.Identity{id})
	var serr *Error
	if !errors.As(err, &serr) || serr.Item != "password" || serr.Reason != gitsealv1alpha1.ReasonDecryptionFailed ||
		!strings.Contains(err.Error(), "data key 7 does not exist") {
		t.Fatalf("got %v", err)
	}
}
