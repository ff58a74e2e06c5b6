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

package chart

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/test/testenv"
)

// fieldManager is the field manager of this package's applies.
const fieldManager = "gitseal-chart-test"

// apply applies u with server-side apply, as helm does, for real or, with
// dryRun, only through the API server's validation and admission.
func apply(t *testing.T, dyn dynamic.Interface, u *unstructured.Unstructured, dryRun bool) error {
	t.Helper()
	gvk := u.GroupVersionKind()
	mapping, err := env.Client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var ri dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
	if u.GetNamespace() != "" {
		ri = dyn.Resource(mapping.Resource).Namespace(u.GetNamespace())
	}
	_, err = ri.Apply(t.Context(), u.GetName(), u, opts)
	return err
}

// TestRenderedChartPassesServerSideDryRun sends what the chart renders,
// with the default values and with each of valueCases, to a real
// kube-apiserver as a server-side dry run: schema, validation and
// admission, Pod Security included, accept every object. The namespace
// and the controller's ServiceAccount are applied for real, so that the
// namespaced objects have a namespace and a Pod made from the Deployment's
// template can be admitted under the namespace's Pod Security labels.
// ServiceMonitor is left out: the test API server does not serve
// prometheus-operator's CRD (TestValues checks what it selects).
func TestRenderedChartPassesServerSideDryRun(t *testing.T) {
	h := newHelm(t, "")
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	const ns = "gitseal-dry-run"
	renders := map[string][]string{"default values": nil}
	for _, tc := range valueCases {
		var args []string
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		renders[tc.name] = args
	}
	for name, args := range renders {
		t.Run(name, func(t *testing.T) {
			objects := h.mustRenderIn(t, ns, args...)
			first := []*unstructured.Unstructured{
				{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}},
			}
			if has(objects, "Namespace", ns) {
				first[0] = find(t, objects, "Namespace", ns)
			}
			first = append(first, find(t, objects, "ServiceAccount", "gitseal-controller"))
			for _, u := range first {
				if err := apply(t, dyn, u, false); err != nil {
					t.Fatalf("apply %s: %v", objectID(u), err)
				}
			}
			for _, u := range objects {
				if u.GetKind() == "ServiceMonitor" {
					continue
				}
				if err := apply(t, dyn, u, true); err != nil {
					t.Errorf("dry run of %s: %v", objectID(u), err)
				}
			}
			template := nested(t, find(t, objects, "Deployment", "gitseal-controller").Object, "spec", "template").(map[string]any)
			pod := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": "gitseal-controller-dry-run", "namespace": ns},
				"spec":     template["spec"],
			}}
			if err := apply(t, dyn, pod, true); err != nil {
				t.Errorf("a Pod of the Deployment's template is not admitted: %v", err)
			}
		})
	}
}

// TestHelmUninstallKeepsKeysNamespaceAndCRDs installs the chart with helm
// into a real API server as docs/operations.md says (helm install
// --create-namespace), applies its CRDs as an upgrade does, stands in for
// the controller by writing a key Secret into the namespace, uninstalls it
// with helm uninstall, and finds the namespace, the key and the CRDs still
// there and the controller's objects gone (RELIABILITY C7, nothing lost; the
// keys outlive an uninstall).
func TestHelmUninstallKeepsKeysNamespaceAndCRDs(t *testing.T) {
	kubeconfig, err := env.AdminKubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	h := newHelm(t, testenv.WriteKubeconfig(t, kubeconfig))
	const ns = "gitseal-helm"
	if out, err := h.run("install", "gitseal", chartDir(t), "--namespace", ns, "--create-namespace"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var namespace corev1.Namespace
	if err := env.Client.Get(t.Context(), client.ObjectKey{Name: ns}, &namespace); err != nil {
		t.Fatal(err)
	}
	if got := namespace.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("the namespace enforces Pod Security %q, want restricted", got)
	}
	var deployment unstructured.Unstructured
	deployment.SetAPIVersion("apps/v1")
	deployment.SetKind("Deployment")
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "gitseal-controller"}, &deployment); err != nil {
		t.Fatalf("helm install made no Deployment: %v", err)
	}

	// The upgrade's CRD step, as docs/operations.md gives it.
	if kubectl := env.KubectlPath(); kubectl == "" {
		t.Error("the test control plane has no kubectl: export KUBEBUILDER_ASSETS=$(hack/envtest.sh)")
	} else if out, err := exec.Command(kubectl, "--kubeconfig", h.kubeconfig, "apply", "--server-side", "--force-conflicts",
		"-f", filepath.Join(chartDir(t), "crds")).CombinedOutput(); err != nil {
		t.Errorf("applying the chart's CRDs as an upgrade does: %v\n%s", err, out)
	}

	key := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gitseal-key-test", Labels: map[string]string{keys.LabelSealingKey: "true"}},
		Data:       map[string][]byte{"stand-in": []byte("not a real key")},
	}
	if err := env.Client.Create(t.Context(), key); err != nil {
		t.Fatal(err)
	}

	if out, err := h.run("uninstall", "gitseal", "--namespace", ns); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Name: ns}, &namespace); err != nil {
		t.Fatalf("helm uninstall deleted the namespace: %v", err)
	}
	if namespace.DeletionTimestamp != nil {
		t.Error("helm uninstall is deleting the namespace, and with it the keys")
	}
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(key), &corev1.Secret{}); err != nil {
		t.Errorf("the key Secret is gone after helm uninstall: %v", err)
	}
	for _, name := range []string{"sealedsecrets.gitseal.dev", "gitsyncs.gitseal.dev"} {
		var crd unstructured.Unstructured
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		if err := env.Client.Get(t.Context(), client.ObjectKey{Name: name}, &crd); err != nil || crd.GetDeletionTimestamp() != nil {
			t.Errorf("CRD %s is gone or going after helm uninstall (%v)", name, err)
		}
	}
	err = env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "gitseal-controller"}, &deployment)
	if !apierrors.IsNotFound(err) && (err != nil || deployment.GetDeletionTimestamp() == nil) {
		t.Errorf("the Deployment is still there after helm uninstall (%v)", err)
	}
}

// TestHelmTakesOverAKustomizeInstall moves a kustomize install to the
// chart as docs/operations.md says, on a real API server: `kubectl apply
// -k config/default`, `kubectl delete -k config/controller`, then helm
// install --take-ownership, which adopts the namespace config/namespace
// made. The key Secret stays as it was, and the namespace then carries
// helm.sh/resource-policy: keep, so that a later helm uninstall keeps it
// (RELIABILITY C7, nothing lost). test/cluster does the same on a real node
// with the controller running.
func TestHelmTakesOverAKustomizeInstall(t *testing.T) {
	kubectl := env.KubectlPath()
	if kubectl == "" {
		t.Fatal("the test control plane has no kubectl: export KUBEBUILDER_ASSETS=$(hack/envtest.sh)")
	}
	kubeconfig, err := env.AdminKubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfigFile := testenv.WriteKubeconfig(t, kubeconfig)
	h := newHelm(t, kubeconfigFile)
	runKubectl := func(args ...string) {
		t.Helper()
		cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfigFile}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	config := filepath.Join("..", "..", "config")
	runKubectl("apply", "-k", filepath.Join(config, "default"))
	runKubectl("delete", "-k", filepath.Join(config, "controller"))
	key := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: "gitseal-key-takeover", Labels: map[string]string{keys.LabelSealingKey: "true"}},
		Data:       map[string][]byte{"stand-in": []byte("not a real key")},
	}
	if err := env.Client.Create(t.Context(), key); err != nil {
		t.Fatal(err)
	}

	if out, err := h.run("install", "gitseal", chartDir(t), "--namespace", releaseNamespace, "--take-ownership", "--skip-crds"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var namespace corev1.Namespace
	if err := env.Client.Get(t.Context(), client.ObjectKey{Name: releaseNamespace}, &namespace); err != nil {
		t.Fatal(err)
	}
	if namespace.Annotations[keepAnnotation] != "keep" || namespace.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("the adopted namespace has annotations %v and labels %v", namespace.Annotations, namespace.Labels)
	}
	var deployment unstructured.Unstructured
	deployment.SetAPIVersion("apps/v1")
	deployment.SetKind("Deployment")
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: releaseNamespace, Name: "gitseal-controller"}, &deployment); err != nil {
		t.Fatalf("helm install made no Deployment: %v", err)
	}
	var after corev1.Secret
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(key), &after); err != nil || after.ResourceVersion != key.ResourceVersion {
		t.Errorf("the key Secret changed in the move (%v)", err)
	}

	if out, err := h.run("uninstall", "gitseal", "--namespace", releaseNamespace); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Name: releaseNamespace}, &namespace); err != nil || namespace.DeletionTimestamp != nil {
		t.Errorf("helm uninstall deleted the adopted namespace (%v)", err)
	}
}
