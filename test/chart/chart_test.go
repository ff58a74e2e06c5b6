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

// Package chart tests charts/gitseal with the pinned helm binary
// (GITSEAL_TEST_HELM, set by the Makefile): with its default values it
// renders exactly config/default, its values do what values.yaml says,
// what it renders passes a server-side dry run against a real API server,
// and helm uninstall leaves the keys, their namespace and the CRDs.
package chart

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitseal/gitseal/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// keepAnnotation is what the chart adds to the Namespace and config/default
// does not: helm uninstall must not delete the namespace that holds the keys.
const keepAnnotation = "helm.sh/resource-policy"

// buildConfig builds config/<dir> with kustomize, as kubectl apply -k does.
func buildConfig(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	objects, err := testenv.BuildConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	return objects
}

// sameObjects fails the test unless got and want hold the same objects
// with the same content.
func sameObjects(t *testing.T, gotWhat string, got []*unstructured.Unstructured, wantWhat string, want []*unstructured.Unstructured) {
	t.Helper()
	gotByID, wantByID := byID(t, gotWhat, got), byID(t, wantWhat, want)
	if g, w := slices.Sorted(maps.Keys(gotByID)), slices.Sorted(maps.Keys(wantByID)); !slices.Equal(g, w) {
		t.Errorf("%s renders other objects than %s:\n got  %q\n want %q", gotWhat, wantWhat, g, w)
	}
	for id, w := range wantByID {
		if g, ok := gotByID[id]; ok && !equality.Semantic.DeepEqual(g.Object, w.Object) {
			t.Errorf("%s differs from %s in %s:\n--- %s\n%s--- %s\n%s", gotWhat, wantWhat, id, gotWhat, toYAML(g), wantWhat, toYAML(w))
		}
	}
}

// TestDefaultValuesRenderConfigDefault checks the chart against the
// kustomize install: with its default values, `helm template
// --include-crds` renders exactly the objects of config/default, field for
// field. The one difference allowed, and required, is the Namespace's
// helm.sh/resource-policy: keep, so that helm uninstall keeps the keys
// (RELIABILITY C7, nothing lost).
func TestDefaultValuesRenderConfigDefault(t *testing.T) {
	h := newHelm(t, "")
	rendered := h.mustRender(t)
	for _, u := range rendered {
		if u.GetKind() != "Namespace" {
			continue
		}
		annotations := u.GetAnnotations()
		if annotations[keepAnnotation] != "keep" {
			t.Errorf("the Namespace %s has no %s: keep; helm uninstall would delete it and the keys in it", u.GetName(), keepAnnotation)
		}
		delete(annotations, keepAnnotation)
		if len(annotations) == 0 {
			annotations = nil
		}
		u.SetAnnotations(annotations)
	}
	sameObjects(t, "the chart", rendered, "config/default", buildConfig(t, "default"))
}

// TestPlatformValuesRenderConfigPlatform checks that platform.enabled adds
// exactly the objects of config/platform, and nothing else changes.
func TestPlatformValuesRenderConfigPlatform(t *testing.T) {
	h := newHelm(t, "")
	base := byID(t, "the chart", h.mustRender(t))
	var added []*unstructured.Unstructured
	for _, u := range h.mustRender(t, "--set", "platform.enabled=true") {
		if b, ok := base[objectID(u)]; ok {
			if !equality.Semantic.DeepEqual(b.Object, u.Object) {
				t.Errorf("platform.enabled changes %s", objectID(u))
			}
			continue
		}
		added = append(added, u)
	}
	sameObjects(t, "platform.enabled", added, "config/platform", buildConfig(t, "platform"))
}

// TestChartCRDsAreConfigCRDBases checks that charts/gitseal/crds holds
// byte-for-byte the CRDs of config/crd/bases (make manifests copies them).
func TestChartCRDsAreConfigCRDBases(t *testing.T) {
	want, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "bases", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := filepath.Glob(filepath.Join(chartDir(t), "crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	names := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	if !slices.Equal(names(got), names(want)) || len(want) == 0 {
		t.Fatalf("charts/gitseal/crds holds %q, config/crd/bases %q; run make manifests", names(got), names(want))
	}
	for _, w := range want {
		wantBytes, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		gotBytes, err := os.ReadFile(filepath.Join(chartDir(t), "crds", filepath.Base(w)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gotBytes, wantBytes) {
			t.Errorf("charts/gitseal/crds/%s differs from config/crd/bases; run make manifests", filepath.Base(w))
		}
	}
}

// TestChartLints runs helm lint --strict, which also checks the default
// values against values.schema.json.
func TestChartLints(t *testing.T) {
	if out, err := newHelm(t, "").run("lint", "--strict", chartDir(t)); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// find returns the rendered object of kind and name, failing the test when
// there is none.
func find(t *testing.T, objects []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range objects {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// has reports whether objects hold one of kind and name.
func has(objects []*unstructured.Unstructured, kind, name string) bool {
	return slices.ContainsFunc(objects, func(u *unstructured.Unstructured) bool { return u.GetKind() == kind && u.GetName() == name })
}

// controller returns the controller container of the rendered Deployment.
func controller(t *testing.T, objects []*unstructured.Unstructured) map[string]any {
	t.Helper()
	containers, _, err := unstructured.NestedSlice(find(t, objects, "Deployment", "gitseal-controller").Object, "spec", "template", "spec", "containers")
	if err != nil || len(containers) != 1 {
		t.Fatalf("the Deployment has containers %v (%v), want one", containers, err)
	}
	return containers[0].(map[string]any)
}

// args returns the controller container's arguments.
func args(t *testing.T, objects []*unstructured.Unstructured) []string {
	t.Helper()
	list, _, err := unstructured.NestedStringSlice(controller(t, objects), "args")
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// nested returns the field at path of u, failing the test when it is absent.
func nested(t *testing.T, u map[string]any, path ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(u, path...)
	if err != nil || !ok {
		t.Fatalf("no field %s (%v)", strings.Join(path, "."), err)
	}
	return v
}

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// valueCases are renders with values other than the defaults, each with
// what it must render. TestValues checks them, and
// TestRenderedChartPassesServerSideDryRun sends them to the API server.
var valueCases = []struct {
	name  string
	set   []string
	check func(t *testing.T, objects []*unstructured.Unstructured)
}{
	{
		name: "a digest pins the image and the tag is ignored",
		set:  []string{"image.repository=registry.example/gitseal", "image.tag=v9", "image.digest=" + digest},
		check: func(t *testing.T, objects []*unstructured.Unstructured) {
			if got, want := controller(t, objects)["image"], "registry.example/gitseal@"+digest; got != want {
				t.Errorf("image %v, want %s", got, want)
			}
		},
	},
	{
		name: "a tag without a digest names repository:tag",
		set:  []string{"image.tag=v1.2.3"},
		check: func(t *testing.T, objects []*unstructured.Unstructured) {
			if got, want := controller(t, objects)["image"], "ghcr.io/gitseal/gitseal:v1.2.3"; got != want {
				t.Errorf("image %v, want %s", got, want)
			}
		},
	},
	{
		name: "watch namespaces become one comma-separated flag",
		set:  []string{"watchNamespaces={team-a,team-b}"},
		check: func(t *testing.T, objects []*unstructured.Unstructured) {
			if got := args(t, objects); !slices.Contains(got, "--watch-namespaces=team-a,team-b") {
				t.Errorf("args %q lack --watch-namespaces=team-a,team-b", got)
			}
		},
	},
	{
		name: "key type, renewal period, extra flags, replicas and resources reach the Deployment",
		set: []string{"keyType=x25519", "keyRenewalPeriod=0", "extraArgs={--default-service-account=deployer}",
			"replicas=3", "resources.limits.memory=1Gi"},
		check: func(t *testing.T, objects []*unstructured.Unstructured) {
			want := []string{"--leader-elect", "--key-type=x25519", "--key-renewal-period=0", "--default-service-account=deployer"}
			if got := args(t, objects); !slices.Equal(got, want) {
				t.Errorf("args %q, want %q", got, want)
			}
			if got := nested(t, find(t, objects, "Deployment", "gitseal-controller").Object, "spec", "replicas"); got != int64(3) {
				t.Errorf("replicas %v, want 3", got)
			}
			if got := nested(t, controller(t, objects), "resources", "limits", "memory"); got != "1Gi" {
				t.Errorf("memory limit %v, want 1Gi", got)
			}
		},
	},
	{
		name: "the webhook Ingress routes only /hook/ to the http port",
		set: []string{"webhook.ingress.enabled=true", "webhook.ingress.host=gitseal.example.com",
			"webhook.ingress.className=nginx", "webhook.ingress.tlsSecretName=gitseal-webhook-tls"},
		check: func(t *testing.T, objects []*unstructured.Unstructured) {
			ing := find(t, objects, "Ingress", "gitseal-webhook").Object
			rules := nested(t, ing, "spec", "rules").([]any)
			if len(rules) != 1 {
				t.Fatalf("%d rules, want 1", len(rules))
			}
			rule := rules[0].(map[string]any)
			if rule["host"] != "gitseal.example.com" {
				t.Errorf("host %v", rule["host"])
			}
			paths := nested(t, rule, "http", "paths").([]any)
			if len(paths) != 1 {
				t.Fatalf("%d paths, want only /hook/", len(paths))
			}
			path := paths[0].(map[string]any)
			if path["path"] != "/hook/" || path["pathType"] != "Prefix" {
				t.Errorf("path %v %v, want /hook/ Prefix", path["path"], path["pathType"])
			}
			if svc := nested(t, path, "backend", "service").(map[string]any); svc["name"] != "gitseal" || nested(t, svc, "port", "name") != "http" {
				t.Errorf("backend %v, want gitseal:http", svc)
			}
			if got := nested(t, ing, "spec", "ingressClassName"); got != "nginx" {
				t.Errorf("ingressClassName %v", got)
			}
			tls := nested(t, ing, "spec", "tls").([]any)
			if len(tls) != 1 || tls[0].(map[string]any)["secretName"] != "gitseal-webhook-tls" {
				t.Errorf("tls %v", tls)
			}
		},
	},
	{
		name: "the ServiceMonitor scrapes the Service's metrics port over HTTPS with a token",
		set:  []string{"metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.labels.release=prometheus"},
		check: func(t *testing.T, objects []*unstructured.Unstructured) {
			svc := find(t, objects, "Service", "gitseal")
			sm := find(t, objects, "ServiceMonitor", "gitseal-controller")
			if sm.GetNamespace() != releaseNamespace || sm.GetLabels()["release"] != "prometheus" {
				t.Errorf("ServiceMonitor in %q with labels %v", sm.GetNamespace(), sm.GetLabels())
			}
			selector := nested(t, sm.Object, "spec", "selector", "matchLabels").(map[string]any)
			for k, v := range selector {
				if svc.GetLabels()[k] != v {
					t.Errorf("ServiceMonitor selects %s=%v; the Service has %v", k, v, svc.GetLabels())
				}
			}
			hasMetricsPort := false
			for _, p := range nested(t, svc.Object, "spec", "ports").([]any) {
				hasMetricsPort = hasMetricsPort || p.(map[string]any)["name"] == "metrics"
			}
			if !hasMetricsPort {
				t.Error("the Service has no port named metrics")
			}
			endpoints := nested(t, sm.Object, "spec", "endpoints").([]any)
			ep := endpoints[0].(map[string]any)
			if len(endpoints) != 1 || ep["port"] != "metrics" || ep["scheme"] != "https" || ep["bearerTokenFile"] == nil {
				t.Errorf("ServiceMonitor endpoints %v, want port metrics, scheme https and a bearer token", endpoints)
			}
		},
	},
	{
		name: "without namespace.create the chart renders no Namespace",
		set:  []string{"namespace.create=false"},
		check: func(t *testing.T, objects []*unstructured.Unstructured) {
			if has(objects, "Namespace", releaseNamespace) {
				t.Error("a Namespace is rendered")
			}
		},
	},
	{
		name: "pod security levels become the namespace's labels",
		set:  []string{"namespace.podSecurity.enforce=baseline", "namespace.podSecurity.warn=restricted"},
		check: func(t *testing.T, objects []*unstructured.Unstructured) {
			want := map[string]string{"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted"}
			if got := find(t, objects, "Namespace", releaseNamespace).GetLabels(); !maps.Equal(got, want) {
				t.Errorf("labels %v, want %v", got, want)
			}
		},
	},
	{
		name: "platform RBAC binds gitseal-platform to the chosen ClusterRole",
		set:  []string{"platform.enabled=true", "platform.clusterRole=platform-deployer"},
		check: func(t *testing.T, objects []*unstructured.Unstructured) {
			find(t, objects, "ServiceAccount", "gitseal-platform")
			if got := nested(t, find(t, objects, "ClusterRoleBinding", "gitseal-platform").Object, "roleRef", "name"); got != "platform-deployer" {
				t.Errorf("gitseal-platform is bound to %v", got)
			}
		},
	},
}

// TestValues renders the chart with each of valueCases and checks what
// the values change.
func TestValues(t *testing.T) {
	h := newHelm(t, "")
	for _, tc := range valueCases {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			tc.check(t, h.mustRender(t, args...))
		})
	}
}

// TestInvalidValuesAreRefused checks that values.schema.json and the
// templates refuse values that would render a broken or unsafe install,
// with an error that names the problem, instead of rendering it.
func TestInvalidValuesAreRefused(t *testing.T) {
	h := newHelm(t, "")
	for _, tc := range []struct {
		name string
		set  []string
		want string
	}{
		{"an unknown key type is refused", []string{"keyType=rsa"}, "keyType"},
		{"a digest that is not sha256 is refused", []string{"image.digest=latest"}, "digest"},
		{"a misspelt value is refused", []string{"replica=3"}, "replica"},
		{"a renewal period that is not a duration is refused", []string{"keyRenewalPeriod=monthly"}, "keyRenewalPeriod"},
		{"an Ingress without a host is refused", []string{"webhook.ingress.enabled=true"}, "webhook.ingress.host"},
		{"the removed metrics Service value is refused", []string{"metrics.service.enabled=true"}, "service"},
		{"an unknown Pod Security level is refused", []string{"namespace.podSecurity.enforce=strict"}, "enforce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			_, err := h.render(t, args...)
			if err == nil {
				t.Fatalf("--set %v rendered", tc.set)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("the error does not name %s: %v", tc.want, err)
			}
		})
	}
}
