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

package integration

import (
	"cmp"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitseal/gitseal/controllers"
)

// TestInstallManifestsAreAccepted builds config/default, config/platform and
// config/samples with kustomize, as `kubectl apply -k` would, and has the API server
// validate every object with a server-side dry run.
func TestInstallManifestsAreAccepted(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	config := filepath.Join(filepath.Dir(file), "..", "..", "config")
	for _, overlay := range []string{"default", "platform", "samples"} {
		resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(config, overlay))
		if err != nil {
			t.Fatalf("kustomize build config/%s: %v", overlay, err)
		}
		if len(resources.Resources()) == 0 {
			t.Fatalf("config/%s is empty", overlay)
		}
		var objects []*unstructured.Unstructured
		for _, r := range resources.Resources() {
			m, err := r.Map()
			if err != nil {
				t.Fatal(err)
			}
			objects = append(objects, &unstructured.Unstructured{Object: m})
		}
		// Namespaces first, and for real: a dry-run namespace does not
		// exist for the objects in it.
		rank := func(u *unstructured.Unstructured) int { // namespaces first
			if u.GetKind() == "Namespace" {
				return 0
			}
			return 1
		}
		slices.SortStableFunc(objects, func(a, b *unstructured.Unstructured) int {
			return cmp.Compare(rank(a), rank(b))
		})
		for _, u := range objects {
			var opts []client.CreateOption
			switch u.GetKind() {
			case "CustomResourceDefinition":
				continue // installed by testenv already
			case "Namespace":
			default:
				opts = append(opts, client.DryRunAll)
			}
			if err := env.Client.Create(t.Context(), u, opts...); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Errorf("config/%s: %s %s: %v", overlay, u.GetKind(), u.GetName(), err)
			}
		}
	}
}

// TestControllerMemoryLimitCoversTwoFetches: the Deployment in
// config/default hands its memory limit to the Go runtime as GOMEMLIMIT
// through the downward API, and the limit holds the objects of the two
// fetches the controller runs at once, each 4 × --git-max-repository-bytes
// + 16 MiB at most, plus 100 MiB for everything else. (RELIABILITY C4: no
// crash loop because of one bad object.)
func TestControllerMemoryLimitCoversTwoFetches(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "config", "default")
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	var c *corev1.Container
	for _, r := range resources.Resources() {
		if r.GetKind() != "Deployment" || r.GetName() != "gitseal-controller" {
			continue
		}
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		var d appsv1.Deployment
		if err := k8sruntime.DefaultUnstructuredConverter.FromUnstructured(m, &d); err != nil {
			t.Fatal(err)
		}
		for i := range d.Spec.Template.Spec.Containers {
			if d.Spec.Template.Spec.Containers[i].Name == "controller" {
				c = &d.Spec.Template.Spec.Containers[i]
			}
		}
	}
	if c == nil {
		t.Fatal("config/default has no gitseal-controller Deployment with a controller container")
	}
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		t.Fatal("the controller has no memory limit")
	}
	const fetches = 2
	need := fetches*(4*controllers.DefaultOptions().MaxRepositoryBytes+16<<20) + 100<<20
	if limit.Value() < need {
		t.Errorf("memory limit %s, want at least %d MiB for two fetches and the rest", limit.String(), need>>20)
	}
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		if f := e.ValueFrom; f == nil || f.ResourceFieldRef == nil || f.ResourceFieldRef.Resource != "limits.memory" ||
			(f.ResourceFieldRef.Divisor.Value() != 0 && f.ResourceFieldRef.Divisor.Value() != 1) {
			t.Errorf("GOMEMLIMIT is %+v, want the container's limits.memory in bytes", e)
		}
		return
	}
	t.Error("the controller container sets no GOMEMLIMIT")
}

// TestPrometheusConfigBuilds builds config/prometheus as `kubectl apply -k`
// would. Its kinds need the Prometheus Operator's CRDs, which this API
// server lacks; hack/promcheck checks the rules and queries themselves.
// The ServiceMonitor must find the Service of config/default by its labels,
// on its metrics port.
func TestPrometheusConfigBuilds(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	config := filepath.Join(filepath.Dir(file), "..", "..", "config")
	build := func(dir string) map[string]*unstructured.Unstructured {
		t.Helper()
		resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(config, dir))
		if err != nil {
			t.Fatalf("config/%s: %v", dir, err)
		}
		out := map[string]*unstructured.Unstructured{}
		for _, r := range resources.Resources() {
			m, err := r.Map()
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{Object: m}
			out[u.GetKind()+"/"+u.GetName()] = u
		}
		return out
	}
	prom := build("prometheus")
	for _, want := range []string{"ServiceMonitor/gitseal-controller", "PrometheusRule/gitseal", "ConfigMap/gitseal-dashboard"} {
		if prom[want] == nil {
			t.Errorf("config/prometheus lacks %s", want)
		}
	}
	sm, svc := prom["ServiceMonitor/gitseal-controller"], build("default")["Service/gitseal"]
	if sm == nil || svc == nil {
		t.Fatal("no ServiceMonitor or no Service gitseal")
	}
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	for k, v := range selector {
		if svc.GetLabels()[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service gitseal lacks", k, v)
		}
	}
	ports, _ := svc.Object["spec"].(map[string]any)["ports"].([]any) // kyaml's ints do not deep-copy
	if !slices.ContainsFunc(ports, func(p any) bool { return p.(map[string]any)["name"] == "metrics" }) {
		t.Error("the Service gitseal has no port named metrics")
	}
}
