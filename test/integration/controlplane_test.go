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
	"maps"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	testenv.Main(m, &env)
}

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
			EncryptedData: map[string]string{"password": "not-really-sealed"},
			Template: &gitsealv1alpha1.SecretTemplate{
				Metadata: gitsealv1alpha1.SecretTemplateMetadata{
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
		Spec:       gitsealv1alpha1.SealedSecretSpec{EncryptedData: map[string]string{"token": "x"}},
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
		Spec:       gitsealv1alpha1.SealedSecretSpec{EncryptedData: map[string]string{}},
	}
	err := env.Client.Create(ctx, ss)
	if !apierrors.IsInvalid(err) {
		t.Fatalf("create with empty encryptedData: got %v, want an Invalid error", err)
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
