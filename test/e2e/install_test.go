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

package e2e

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/test/testenv"
)

// objectID names an object of a kustomize build: kind, namespace and name.
func objectID(u *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", u.GroupVersionKind().GroupKind(), u.GetNamespace(), u.GetName())
}

// buildConfig builds config/<dir> and returns its objects by objectID.
func buildConfig(t *testing.T, dir string) map[string]*unstructured.Unstructured {
	t.Helper()
	objects, err := testenv.BuildConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*unstructured.Unstructured{}
	for _, u := range objects {
		if _, dup := byID[objectID(u)]; dup {
			t.Fatalf("config/%s holds %s twice", dir, objectID(u))
		}
		byID[objectID(u)] = u
	}
	return byID
}

// TestUninstallKeepsTheKeysAndEverySecret checks the documented install
// and uninstall against the real API server (C7, nothing lost): config/default
// is exactly config/crd, config/namespace and config/controller; the
// uninstall set, config/controller, holds no Namespace, no CRD and nothing
// that holds keys or Secrets. It installs config/default as `kubectl apply
// -k` does, runs the controller as the installed ServiceAccount, unseals a
// SealedSecret, uninstalls, and finds the keys, the public keys, the
// SealedSecret and its Secret as they were; installing again (an upgrade)
// reuses the key. Before, the Namespace with the keys was part of what
// `kubectl delete -k config/default` removed, and there was no other way
// to uninstall.
func TestUninstallKeepsTheKeysAndEverySecret(t *testing.T) {
	crds, namespace, uninstall := buildConfig(t, "crd"), buildConfig(t, "namespace"), buildConfig(t, "controller")
	install := buildConfig(t, "default")
	parts := map[string]*unstructured.Unstructured{}
	for _, part := range []map[string]*unstructured.Unstructured{crds, namespace, uninstall} {
		for id, u := range part {
			if _, dup := parts[id]; dup {
				t.Errorf("%s is in two of config/crd, config/namespace and config/controller", id)
			}
			parts[id] = u
		}
	}
	if got, want := slices.Sorted(maps.Keys(install)), slices.Sorted(maps.Keys(parts)); !slices.Equal(got, want) {
		t.Errorf("config/default is not exactly config/crd + config/namespace + config/controller:\n%v\n%v", got, want)
	}
	for id, u := range namespace {
		if u.GetKind() != "Namespace" || u.GetName() != testenv.ConfigNamespace {
			t.Errorf("config/namespace holds %s; want only the Namespace %s", id, testenv.ConfigNamespace)
		}
	}
	for id, u := range crds {
		if u.GetKind() != "CustomResourceDefinition" {
			t.Errorf("config/crd holds %s", id)
		}
	}
	for id, u := range uninstall {
		switch u.GetKind() {
		case "Namespace", "CustomResourceDefinition", "Secret", "ConfigMap", "SealedSecret":
			t.Errorf("uninstalling (config/controller) would delete %s", id)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	installDefault := func() {
		t.Helper()
		objects, err := testenv.BuildConfig("default")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range objects {
			if err := env.Client.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(u),
				client.FieldOwner("kubectl"), client.ForceOwnership); err != nil {
				t.Fatalf("apply %s: %v", objectID(u), err)
			}
		}
	}
	installDefault()
	c := startController(t, testenv.ConfigNamespace)
	r := newRunner(t, c)
	t.Chdir(t.TempDir())
	keyID, _ := c.activeKeyID(t)
	writeFile(t, "db.yaml", secretYAML(c.apps, "db", map[string]string{"password": "kept"}))
	writeFile(t, "db.sealed.yaml", r.ok("", "seal", "db.yaml").stdout)
	apply(t, "db.sealed.yaml")
	secretData(t, c.apps, "db")
	keySecrets := func() map[string][]byte {
		t.Helper()
		var list corev1.SecretList
		if err := env.Client.List(t.Context(), &list, client.InNamespace(c.ns), client.MatchingLabels{keys.LabelSealingKey: "true"}); err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for _, s := range list.Items {
			for k, v := range s.Data {
				out[s.Name+"/"+k] = v
			}
		}
		return out
	}
	keysBefore := keySecrets()
	if len(keysBefore) == 0 {
		t.Fatal("no key Secrets")
	}
	var secretBefore corev1.Secret
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: c.apps, Name: "db"}, &secretBefore); err != nil {
		t.Fatal(err)
	}

	// Uninstall: the pods stop, then `kubectl delete -k config/controller`.
	c.stop()
	for id, u := range uninstall {
		if err := env.Client.Delete(t.Context(), u.DeepCopy()); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	for id, u := range uninstall {
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(u), u.DeepCopy()); !apierrors.IsNotFound(err) {
			t.Errorf("%s is still there after uninstalling: %v", id, err)
		}
	}

	var ns corev1.Namespace
	if err := env.Client.Get(t.Context(), client.ObjectKey{Name: c.ns}, &ns); err != nil || !ns.DeletionTimestamp.IsZero() {
		t.Errorf("the keys' Namespace after uninstalling: %v, deleting %v", err, ns.DeletionTimestamp)
	}
	for id, u := range crds {
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(u), u.DeepCopy()); err != nil {
			t.Errorf("%s after uninstalling: %v", id, err)
		}
	}
	if got := keySecrets(); !maps.EqualFunc(got, keysBefore, bytes.Equal) {
		t.Errorf("the key Secrets changed on uninstall: %d items before, %d after", len(keysBefore), len(got))
	}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: c.ns, Name: keys.PublicKeysConfigMap}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("the public keys after uninstalling: %v", err)
	}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: c.apps, Name: "db"}, &gitsealv1alpha1.SealedSecret{}); err != nil {
		t.Errorf("the SealedSecret after uninstalling: %v", err)
	}
	var secretAfter corev1.Secret
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: c.apps, Name: "db"}, &secretAfter); err != nil {
		t.Fatalf("the Secret after uninstalling: %v", err)
	}
	if !maps.EqualFunc(secretAfter.Data, secretBefore.Data, bytes.Equal) || secretAfter.ResourceVersion != secretBefore.ResourceVersion {
		t.Error("the Secret changed on uninstall")
	}

	// Install again, as an upgrade does: the controller finds its key,
	// makes none, and unseals with it.
	installDefault()
	again := startController(t, testenv.ConfigNamespace)
	writeFile(t, "db2.yaml", secretYAML(again.apps, "db", map[string]string{"password": "again"}))
	writeFile(t, "db2.sealed.yaml", newRunner(t, again).ok("", "seal", "db2.yaml").stdout)
	apply(t, "db2.sealed.yaml")
	if got := string(secretData(t, again.apps, "db")["password"]); got != "again" {
		t.Errorf("after installing again: password %q", got)
	}
	if id, err := again.activeKeyID(t); err != nil || id != keyID {
		t.Errorf("after installing again the active key is %q (%v), want %s", id, err, keyID)
	}
	if got := keySecrets(); !maps.EqualFunc(got, keysBefore, bytes.Equal) {
		t.Errorf("installing again changed the key Secrets: %d items before, %d after", len(keysBefore), len(got))
	}
}
