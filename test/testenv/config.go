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

package testenv

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// ConfigNamespace is the namespace the kustomizations under config/ install
// into.
const ConfigNamespace = "gitseal-system"

// configDirectory returns <repo>/config, found from this source file's path
// so that it works from any package's tests.
func configDirectory() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("locate the testenv source file to find config/")
	}
	if !filepath.IsAbs(file) {
		return "", fmt.Errorf("cannot find config/ from source path %q: tests built with -trimpath", file)
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "config"), nil
}

// BuildConfig builds the kustomization config/<dir> ("rbac", "default", …)
// with kustomize, as `kubectl apply -k` does, and returns its objects.
func BuildConfig(dir string) ([]*unstructured.Unstructured, error) {
	config, err := configDirectory()
	if err != nil {
		return nil, err
	}
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(config, dir))
	if err != nil {
		return nil, fmt.Errorf("kustomize build config/%s: %w", dir, err)
	}
	var objects []*unstructured.Unstructured
	for _, r := range resources.Resources() {
		// Through JSON, so that numbers are int64 as DeepCopy needs.
		raw, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("config/%s: %w", dir, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("config/%s: %w", dir, err)
		}
		objects = append(objects, u)
	}
	return objects, nil
}

// InstallConfig creates, as the admin, the objects of config/<dir> moved
// from gitseal-system into namespace, the way a kustomize overlay with
// `namespace:` would: namespaced objects and the ServiceAccounts that
// bindings name move, and a ClusterRoleBinding gets the namespace as a
// suffix so that controllers in several namespaces can share one control
// plane. Nothing else changes, so a test runs with exactly the shipped
// rights. Objects that exist already are left as they are. It returns the
// objects as created.
func (e *Env) InstallConfig(t testing.TB, dir, namespace string) []*unstructured.Unstructured {
	t.Helper()
	objects, err := BuildConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range objects {
		moveNamespace(t, u, namespace)
		if err := e.Client.Create(t.Context(), u); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("config/%s: create %s %s: %v", dir, u.GetKind(), u.GetName(), err)
		}
	}
	return objects
}

// moveNamespace rewrites one object of config/ from gitseal-system to ns.
func moveNamespace(t testing.TB, u *unstructured.Unstructured, ns string) {
	t.Helper()
	if ns == ConfigNamespace {
		return
	}
	switch {
	case u.GetKind() == "Namespace" && u.GetName() == ConfigNamespace:
		u.SetName(ns)
	case u.GetNamespace() == ConfigNamespace:
		u.SetNamespace(ns)
	}
	if u.GetKind() != "RoleBinding" && u.GetKind() != "ClusterRoleBinding" {
		return
	}
	if u.GetKind() == "ClusterRoleBinding" {
		u.SetName(u.GetName() + "-" + ns)
	}
	subjects, _, err := unstructured.NestedSlice(u.Object, "subjects")
	if err != nil {
		t.Fatalf("%s %s: subjects: %v", u.GetKind(), u.GetName(), err)
	}
	for _, s := range subjects {
		if s, ok := s.(map[string]any); ok && s["namespace"] == ConfigNamespace {
			s["namespace"] = ns
		}
	}
	if err := unstructured.SetNestedSlice(u.Object, subjects, "subjects"); err != nil {
		t.Fatal(err)
	}
}

// ServiceAccountConfig returns a config that authenticates as the
// ServiceAccount namespace/name with a token from the TokenRequest API, as
// a pod's projected token does: the API server sees exactly that account
// and its RBAC, not an admin impersonating it, so that the account's own
// rights, `impersonate` included, are what is checked.
func (e *Env) ServiceAccountConfig(t testing.TB, namespace, name string) *rest.Config {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(3600))}}
	if err := e.Client.SubResource("token").Create(t.Context(), sa, req); err != nil {
		t.Fatalf("request a token for ServiceAccount %s/%s: %v", namespace, name, err)
	}
	cfg := rest.AnonymousClientConfig(e.Config) // the server and its CA, no credentials
	cfg.BearerToken = req.Status.Token
	return cfg
}
