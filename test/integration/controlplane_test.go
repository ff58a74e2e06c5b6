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

// Package integration holds tests that run against a real kube-apiserver and
// etcd started by the testenv package.
package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	testenv.Main(m, &env)
}

// fakeSealed has the syntax of a sealed value; nothing opens it.
const fakeSealed = "gs1:0123456789abcdef:YWdlLWVuY3J5cHRpb24ub3JnL3YxCg=="

// testTimeout is generous: the first write of a newly installed CRD takes
// about 2 s, and CI machines are slow.
const testTimeout = time.Minute

// newNamespace creates a namespace with a generated name for one test.
func newNamespace(ctx context.Context, t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "controlplane-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	// envtest runs no namespace controller, so deletion only marks it.
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), ns) })
	return ns.Name
}

func TestSealedSecretRoundTrips(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	ns := newNamespace(ctx, t)

	immutable := true
	want := &gitsealv1alpha1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
		Spec: gitsealv1alpha1.SealedSecretSpec{
			EncryptedData: map[string]gitsealv1alpha1.SealedValue{"password": fakeSealed},
			Template: &gitsealv1alpha1.SecretTemplate{
				Metadata: &gitsealv1alpha1.SecretTemplateMetadata{
					Labels:      map[string]string{"app": "db"},
					Annotations: map[string]string{"example.com/owner": "team-a"},
				},
				Type:      string(corev1.SecretTypeBasicAuth),
				Immutable: &immutable,
			},
		},
	}
	if err := env.Client.Create(ctx, want); err != nil {
		t.Fatalf("create SealedSecret: %v", err)
	}

	var got gitsealv1alpha1.SealedSecret
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(want), &got); err != nil {
		t.Fatalf("get SealedSecret: %v", err)
	}
	if !maps.Equal(got.Spec.EncryptedData, want.Spec.EncryptedData) {
		t.Errorf("encryptedData = %v, want %v", got.Spec.EncryptedData, want.Spec.EncryptedData)
	}
	tpl := got.Spec.Template
	switch {
	case tpl == nil:
		t.Fatal("template was dropped")
	case !maps.Equal(tpl.Metadata.Labels, want.Spec.Template.Metadata.Labels):
		t.Errorf("template labels = %v, want %v", tpl.Metadata.Labels, want.Spec.Template.Metadata.Labels)
	case !maps.Equal(tpl.Metadata.Annotations, want.Spec.Template.Metadata.Annotations):
		t.Errorf("template annotations = %v, want %v", tpl.Metadata.Annotations, want.Spec.Template.Metadata.Annotations)
	case tpl.Type != string(corev1.SecretTypeBasicAuth):
		t.Errorf("template type = %q, want %q", tpl.Type, corev1.SecretTypeBasicAuth)
	case tpl.Immutable == nil || !*tpl.Immutable:
		t.Errorf("template immutable = %v, want true", tpl.Immutable)
	}
}

func TestSealedSecretStatusIsASubresource(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	ns := newNamespace(ctx, t)

	ss := &gitsealv1alpha1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec:       gitsealv1alpha1.SealedSecretSpec{EncryptedData: map[string]gitsealv1alpha1.SealedValue{"token": fakeSealed}},
	}
	if err := env.Client.Create(ctx, ss); err != nil {
		t.Fatalf("create SealedSecret: %v", err)
	}

	ss.Status.ObservedGeneration = ss.Generation
	ss.Status.Conditions = []metav1.Condition{{
		Type:               "Ready",
		Status:             metav1.ConditionFalse,
		Reason:             "Testing",
		Message:            "set by the test",
		ObservedGeneration: ss.Generation,
		LastTransitionTime: metav1.Now(),
	}}
	if err := env.Client.Status().Update(ctx, ss); err != nil {
		t.Fatalf("update status: %v", err)
	}

	var got gitsealv1alpha1.SealedSecret
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ss), &got); err != nil {
		t.Fatalf("get SealedSecret: %v", err)
	}
	if got.Status.ObservedGeneration != ss.Generation {
		t.Errorf("observedGeneration = %d, want %d", got.Status.ObservedGeneration, ss.Generation)
	}
	if len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Reason != "Testing" {
		t.Errorf("conditions = %+v, want one Ready condition with reason Testing", got.Status.Conditions)
	}
	if got.Generation != ss.Generation {
		t.Errorf("status update changed generation from %d to %d", ss.Generation, got.Generation)
	}
}

func TestSealedSecretWithoutEncryptedDataIsRejected(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	ns := newNamespace(ctx, t)

	ss := &gitsealv1alpha1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "empty"},
		Spec:       gitsealv1alpha1.SealedSecretSpec{EncryptedData: map[string]gitsealv1alpha1.SealedValue{}},
	}
	err := env.Client.Create(ctx, ss)
	if !apierrors.IsInvalid(err) {
		t.Fatalf("create with empty encryptedData: got %v, want an Invalid error", err)
	}
}

func TestCRDValidationRefusesBadSpecs(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	ns := newNamespace(ctx, t)

	valid := func() gitsealv1alpha1.SealedSecretSpec {
		return gitsealv1alpha1.SealedSecretSpec{EncryptedData: map[string]gitsealv1alpha1.SealedValue{"password": fakeSealed}}
	}
	withMeta := func(m gitsealv1alpha1.SecretTemplateMetadata) gitsealv1alpha1.SealedSecretSpec {
		s := valid()
		s.Template = &gitsealv1alpha1.SecretTemplate{Metadata: &m}
		return s
	}
	tooMany := valid()
	for i := range 1001 {
		tooMany.EncryptedData[fmt.Sprintf("k%d", i)] = fakeSealed
	}
	tests := []struct {
		name string
		spec gitsealv1alpha1.SealedSecretSpec
		msg  string
	}{
		{"a value that is not in the gs1 format is refused",
			gitsealv1alpha1.SealedSecretSpec{EncryptedData: map[string]gitsealv1alpha1.SealedValue{"password": "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq=="}}, "should match"},
		{"an item key with a slash is refused",
			gitsealv1alpha1.SealedSecretSpec{EncryptedData: map[string]gitsealv1alpha1.SealedValue{"a/b": fakeSealed}}, "valid Secret data keys"},
		{"more than 1000 items are refused", tooMany, "1000"},
		{"a template namespace is refused", withMeta(gitsealv1alpha1.SecretTemplateMetadata{Namespace: "kube-system"}), "template.metadata.namespace is not allowed"},
		{"a template name is refused", withMeta(gitsealv1alpha1.SecretTemplateMetadata{Name: "other"}), "template.metadata.name is not allowed"},
		{"template finalizers are refused", withMeta(gitsealv1alpha1.SecretTemplateMetadata{Finalizers: []string{"x"}}), "finalizers"},
		{"template owner references are refused",
			withMeta(gitsealv1alpha1.SecretTemplateMetadata{OwnerReferences: []runtime.RawExtension{{Raw: []byte(`{"kind":"Pod","name":"p"}`)}}}), "ownerReferences is not allowed"},
		{"a template type with spaces is refused", func() gitsealv1alpha1.SealedSecretSpec {
			s := valid()
			s.Template = &gitsealv1alpha1.SecretTemplate{Type: "not a type"}
			return s
		}(), "should match"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := &gitsealv1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("bad-%d", i)}, Spec: tt.spec}
			err := env.Client.Create(ctx, ss)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want an Invalid error mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestSecretRoundTrips(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	ns := newNamespace(ctx, t)

	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db", Labels: map[string]string{"app": "db"}},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"password": []byte("hunter2")},
	}
	if err := env.Client.Create(ctx, want); err != nil {
		t.Fatalf("create Secret: %v", err)
	}

	var got corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(want), &got); err != nil {
		t.Fatalf("get Secret: %v", err)
	}
	if string(got.Data["password"]) != "hunter2" || len(got.Data) != 1 {
		// Only keys in the message: never print a secret value.
		t.Errorf("data keys = %v, want only password, with the value written", slices.Sorted(maps.Keys(got.Data)))
	}
	if got.Type != corev1.SecretTypeOpaque {
		t.Errorf("type = %q, want %q", got.Type, corev1.SecretTypeOpaque)
	}
	if !maps.Equal(got.Labels, want.Labels) {
		t.Errorf("labels = %v, want %v", got.Labels, want.Labels)
	}
}

func TestAdminKubeconfigConnects(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	kubeconfig, err := env.AdminKubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatalf("parse kubeconfig: %v", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	var list gitsealv1alpha1.SealedSecretList
	if err := c.List(ctx, &list); err != nil {
		t.Fatalf("list SealedSecrets with the admin kubeconfig: %v", err)
	}
}
