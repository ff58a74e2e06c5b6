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

package apply_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gitseal/gitseal/internal/apply"
	"github.com/gitseal/gitseal/test/testenv"
)

// cluster is the control plane the tests that need one share; the first
// of them starts it.
var cluster testenv.Shared

func TestMain(m *testing.M) { cluster.Main(m) }

const (
	nameLabel      = "gitseal.dev/gitsync-name"
	namespaceLabel = "gitseal.dev/gitsync-namespace"
)

// options are the options a GitSync named "sync" in ns would use.
func options(ns string) apply.Options {
	return apply.Options{
		FieldManager:     "gitseal",
		Labels:           map[string]string{nameLabel: "sync", namespaceLabel: ns},
		Prune:            true,
		DefaultNamespace: ns,
	}
}

// object decodes a YAML manifest as a renderer would produce it.
func object(t *testing.T, format string, args ...any) *unstructured.Unstructured {
	t.Helper()
	data, err := yaml.YAMLToJSON(fmt.Appendf(nil, format, args...))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	return u
}

func configMap(t *testing.T, ns, name, value string) *unstructured.Unstructured {
	return object(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: %s, namespace: %s}
data: {key: %s}
`, name, ns, value)
}

func deployment(t *testing.T, ns, name string) *unstructured.Unstructured {
	return object(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      containers: [{name: app, image: registry.example/app:1}]
`, name, ns)
}

func namespace(t *testing.T, name string) *unstructured.Unstructured {
	return object(t, `
apiVersion: v1
kind: Namespace
metadata: {name: %s}
`, name)
}

// widgetCRD defines the namespaced kind Widget in group.
func widgetCRD(t *testing.T, group string) *unstructured.Unstructured {
	return object(t, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.%[1]s}
spec:
  group: %[1]s
  scope: Namespaced
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`, group)
}

func widget(t *testing.T, group, ns, name string, size any) *unstructured.Unstructured {
	return object(t, `
apiVersion: %s/v1
kind: Widget
metadata: {name: %s, namespace: %s}
spec: {size: %v}
`, group, name, ns, size)
}

func refOf(u *unstructured.Unstructured) apply.ObjectRef {
	gvk := u.GroupVersionKind()
	return apply.ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

func refs(objs ...*unstructured.Unstructured) []apply.ObjectRef {
	out := make([]apply.ObjectRef, len(objs))
	for i, o := range objs {
		out[i] = refOf(o)
	}
	return out
}

func ids(refs []apply.ObjectRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}

// sameIDs reports whether got and want hold the same objects, in any order.
func sameIDs(got, want []apply.ObjectRef) bool {
	a, b := ids(got), ids(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func mustApply(t *testing.T, objs []*unstructured.Unstructured, previous []apply.ObjectRef, opts apply.Options) *apply.Result {
	t.Helper()
	env := cluster.Get(t)
	res, err := apply.Apply(t.Context(), env.Client, objs, previous, opts)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

// get reads the object ref names; nil when it does not exist.
func get(t *testing.T, ref apply.ObjectRef) *unstructured.Unstructured {
	t.Helper()
	env := cluster.Get(t)
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(ref.Group + "/" + ref.Version)
	if ref.Group == "" {
		u.SetAPIVersion(ref.Version)
	}
	u.SetKind(ref.Kind)
	err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, u)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("get %s: %v", ref, err)
	}
	return u
}

func resourceVersions(t *testing.T, refs []apply.ObjectRef) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range refs {
		u := get(t, r)
		if u == nil {
			t.Fatalf("%s does not exist", r)
		}
		out[r.String()] = u.GetResourceVersion()
	}
	return out
}

func dataKey(t *testing.T, ref apply.ObjectRef) string {
	t.Helper()
	u := get(t, ref)
	if u == nil {
		t.Fatalf("%s does not exist", ref)
	}
	v, _, _ := unstructured.NestedString(u.Object, "data", "key")
	return v
}

func asError(t *testing.T, err error) *apply.Error {
	t.Helper()
	var e *apply.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *apply.Error", err)
	}
	return e
}

func refusedIDs(e *apply.Error) []string {
	var out []string
	for _, o := range e.Objects {
		out = append(out, o.Ref.String())
	}
	return out
}

func TestFirstApplyCreatesAndReapplyChangesNothing(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	team := ns + "-team"
	group := ns + ".gitseal.test"
	// Dependents come before what they need, as a renderer may order them.
	objs := []*unstructured.Unstructured{
		widget(t, group, ns, "w", 3),
		configMap(t, team, "c", "v"),
		configMap(t, ns, "a", "v"),
		deployment(t, ns, "web"),
		namespace(t, team),
		configMap(t, ns, "b", "v"),
		widgetCRD(t, group),
	}
	want := refs(objs...)
	opts := options(ns)

	res := mustApply(t, objs, nil, opts)
	if !sameIDs(res.Created, want) || len(res.Configured)+len(res.Unchanged)+len(res.Pruned) != 0 {
		t.Fatalf("first apply: created %v, configured %v, unchanged %v; want all created", ids(res.Created), ids(res.Configured), ids(res.Unchanged))
	}
	if !sameIDs(res.Inventory, want) || !slices.IsSortedFunc(res.Inventory, func(a, b apply.ObjectRef) int { return strings.Compare(a.String(), b.String()) }) {
		t.Errorf("inventory = %v, want the set sorted", ids(res.Inventory))
	}
	for _, r := range want {
		u := get(t, r)
		if u == nil {
			t.Fatalf("%s was not created", r)
		}
		if l := u.GetLabels(); l[nameLabel] != "sync" || l[namespaceLabel] != ns {
			t.Errorf("%s labels = %v, want the ownership labels", r, l)
		}
	}
	if _, ok := objs[0].GetLabels()[nameLabel]; ok {
		t.Errorf("Apply changed its input objects")
	}

	before := resourceVersions(t, want)
	res = mustApply(t, objs, res.Inventory, opts)
	if !sameIDs(res.Unchanged, want) || len(res.Created)+len(res.Configured)+len(res.Pruned) != 0 {
		t.Errorf("re-apply: created %v, configured %v, unchanged %v; want all unchanged", ids(res.Created), ids(res.Configured), ids(res.Unchanged))
	}
	if after := resourceVersions(t, want); !maps(before, after) {
		t.Errorf("re-apply moved resourceVersions: %v -> %v", before, after)
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestChangedFieldIsConfigured(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	a, b := configMap(t, ns, "a", "v1"), configMap(t, ns, "b", "v1")
	res := mustApply(t, []*unstructured.Unstructured{a, b}, nil, options(ns))

	a2 := configMap(t, ns, "a", "v2")
	res = mustApply(t, []*unstructured.Unstructured{a2, b}, res.Inventory, options(ns))
	if !sameIDs(res.Configured, refs(a)) || !sameIDs(res.Unchanged, refs(b)) || len(res.Created) != 0 {
		t.Errorf("configured %v, unchanged %v, created %v; want a configured, b unchanged", ids(res.Configured), ids(res.Unchanged), ids(res.Created))
	}
	if got := dataKey(t, refOf(a)); got != "v2" {
		t.Errorf("a data.key = %q, want v2", got)
	}
}

func TestHandEditIsRestored(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	a := configMap(t, ns, "a", "from-git")
	res := mustApply(t, []*unstructured.Unstructured{a}, nil, options(ns))

	handEdit(t, ns, "a", "by-hand")

	res = mustApply(t, []*unstructured.Unstructured{a}, res.Inventory, options(ns))
	if !sameIDs(res.Configured, refs(a)) {
		t.Errorf("configured %v, unchanged %v; want the edited object configured", ids(res.Configured), ids(res.Unchanged))
	}
	if got := dataKey(t, refOf(a)); got != "from-git" {
		t.Errorf("data.key = %q after re-apply, want from-git", got)
	}
}

func TestObjectThatLeftTheSetIsPruned(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	a, b, web := configMap(t, ns, "a", "v"), configMap(t, ns, "b", "v"), deployment(t, ns, "web")
	res := mustApply(t, []*unstructured.Unstructured{a, b, web}, nil, options(ns))

	res = mustApply(t, []*unstructured.Unstructured{a}, res.Inventory, options(ns))
	if want := refs(web, b); !slices.Equal(ids(res.Pruned), ids(want)) {
		t.Errorf("pruned %v, want %v", ids(res.Pruned), ids(want))
	}
	if !sameIDs(res.Inventory, refs(a)) || len(res.Orphaned) != 0 {
		t.Errorf("inventory %v, orphaned %v; want only a", ids(res.Inventory), ids(res.Orphaned))
	}
	for _, r := range refs(b, web) {
		if get(t, r) != nil {
			t.Errorf("%s still exists", r)
		}
	}
	if get(t, refOf(a)) == nil {
		t.Errorf("a was deleted")
	}
}

func TestPruneOffKeepsObjects(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	a, b := configMap(t, ns, "a", "v"), configMap(t, ns, "b", "v")
	opts := options(ns)
	opts.Prune = false
	res := mustApply(t, []*unstructured.Unstructured{a, b}, nil, opts)

	res = mustApply(t, []*unstructured.Unstructured{a}, res.Inventory, opts)
	if len(res.Pruned) != 0 || !sameIDs(res.Orphaned, refs(b)) || !sameIDs(res.Inventory, refs(a)) {
		t.Errorf("pruned %v, orphaned %v, inventory %v; want b orphaned", ids(res.Pruned), ids(res.Orphaned), ids(res.Inventory))
	}
	if get(t, refOf(b)) == nil {
		t.Errorf("b was deleted with Prune off")
	}
}

func TestPruneSkipsDisownedAndDisabledObjects(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	a, disowned := configMap(t, ns, "a", "v"), configMap(t, ns, "disowned", "v")
	disabled := configMap(t, ns, "disabled", "v")
	disabled.SetAnnotations(map[string]string{apply.PruneAnnotation: apply.PruneDisabled})
	res := mustApply(t, []*unstructured.Unstructured{a, disowned, disabled}, nil, options(ns))

	// Someone takes the object over by removing an ownership label.
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "disowned"}, cm); err != nil {
		t.Fatal(err)
	}
	edited := cm.DeepCopy()
	delete(edited.Labels, nameLabel)
	if err := env.Client.Patch(t.Context(), edited, client.MergeFrom(cm)); err != nil {
		t.Fatal(err)
	}

	res = mustApply(t, []*unstructured.Unstructured{a}, res.Inventory, options(ns))
	if len(res.Pruned) != 0 || !sameIDs(res.Orphaned, refs(disowned, disabled)) {
		t.Errorf("pruned %v, orphaned %v; want both kept and orphaned", ids(res.Pruned), ids(res.Orphaned))
	}
	if !sameIDs(res.Inventory, refs(a)) {
		t.Errorf("inventory %v, want only a", ids(res.Inventory))
	}
	for _, r := range refs(disowned, disabled) {
		if get(t, r) == nil {
			t.Errorf("%s was deleted", r)
		}
	}
}

func TestPruneDeletesNamespacedObjectsThenNamespacesThenCRDs(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	team := ns + "-team"
	group := ns + ".gitseal.test"
	keep := configMap(t, ns, "keep", "v")
	crd, teamNS := widgetCRD(t, group), namespace(t, team)
	w, c := widget(t, group, ns, "w", 1), configMap(t, team, "c", "v")
	res := mustApply(t, []*unstructured.Unstructured{keep, crd, teamNS, w, c}, nil, options(ns))

	res = mustApply(t, []*unstructured.Unstructured{keep}, res.Inventory, options(ns))
	if want := refs(w, c, teamNS, crd); !slices.Equal(ids(res.Pruned), ids(want)) {
		t.Errorf("pruned %v, want %v", ids(res.Pruned), ids(want))
	}
	// envtest runs no namespace controller: the Namespace stays Terminating.
	if u := get(t, refOf(teamNS)); u != nil && u.GetDeletionTimestamp() == nil {
		t.Errorf("namespace %s is not being deleted", team)
	}
	testenv.Eventually(t, "CRD deleted", func() error {
		if get(t, refOf(crd)) != nil {
			return errors.New("CRD still exists")
		}
		return nil
	})
}

func TestStaleNamespaceStillInUseIsKept(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	team := ns + "-team"
	teamNS, c := namespace(t, team), configMap(t, team, "c", "v")
	res := mustApply(t, []*unstructured.Unstructured{teamNS, c}, nil, options(ns))

	// The Namespace moves to another owner; the ConfigMap in it stays here.
	res = mustApply(t, []*unstructured.Unstructured{c}, res.Inventory, options(ns))
	if len(res.Pruned) != 0 || !sameIDs(res.Orphaned, refs(teamNS)) {
		t.Errorf("pruned %v, orphaned %v; want the namespace orphaned", ids(res.Pruned), ids(res.Orphaned))
	}
	if u := get(t, refOf(teamNS)); u == nil || u.GetDeletionTimestamp() != nil {
		t.Errorf("namespace %s was deleted with objects of the set in it", team)
	}
}

func TestInvalidObjectAppliesNothing(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	good := []*unstructured.Unstructured{configMap(t, ns, "a", "v1"), deployment(t, ns, "web")}
	res := mustApply(t, good, nil, options(ns))
	inventory := res.Inventory
	before := resourceVersions(t, inventory)

	badName := configMap(t, ns, "Bad_Name", "v")
	noSelector := deployment(t, ns, "broken")
	unstructured.RemoveNestedField(noSelector.Object, "spec", "selector")
	added, addedNS := configMap(t, ns, "added", "v"), namespace(t, ns+"-new")
	changed := configMap(t, ns, "a", "v2")
	res, err := apply.Apply(t.Context(), env.Client,
		[]*unstructured.Unstructured{changed, added, addedNS, badName, good[1], noSelector}, inventory, options(ns))

	e := asError(t, err)
	got := refusedIDs(e)
	slices.Sort(got)
	want := ids(refs(badName, noSelector))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("refused %v, want %v (%v)", got, want, err)
	}
	for _, o := range e.Objects {
		if o.Message == "" {
			t.Errorf("%s refused without the API server's message", o.Ref)
		}
	}
	if !slices.Equal(ids(res.Inventory), ids(inventory)) {
		t.Errorf("inventory after a refused set = %v, want the previous %v", ids(res.Inventory), ids(inventory))
	}
	if len(res.Created)+len(res.Configured)+len(res.Unchanged)+len(res.Pruned) != 0 {
		t.Errorf("a refused set reported changes: %+v", res)
	}
	for _, r := range refs(added, addedNS) {
		if get(t, r) != nil {
			t.Errorf("%s of a refused set was created", r)
		}
	}
	if after := resourceVersions(t, inventory); !maps(before, after) {
		t.Errorf("the previous set changed: %v -> %v", before, after)
	}
	if got := dataKey(t, refOf(changed)); got != "v1" {
		t.Errorf("a.data.key = %q, want the last good v1", got)
	}
}

func TestInvalidCustomResourceAppliesOnlyStage1(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	group := ns + ".gitseal.test"
	crd, a := widgetCRD(t, group), configMap(t, ns, "a", "v")
	w := widget(t, group, ns, "w", `"not a number"`)

	res, err := apply.Apply(t.Context(), env.Client, []*unstructured.Unstructured{a, w, crd}, nil, options(ns))
	e := asError(t, err)
	if got, want := refusedIDs(e), ids(refs(w)); !slices.Equal(got, want) {
		t.Errorf("refused %v, want %v (%v)", got, want, err)
	}
	// The widget can only be judged once its CRD exists: the CRD stays
	// applied and in the inventory, nothing else is applied.
	if get(t, refOf(crd)) == nil || !sameIDs(res.Inventory, refs(crd)) {
		t.Errorf("inventory %v, want the applied CRD", ids(res.Inventory))
	}
	if get(t, refOf(a)) != nil {
		t.Errorf("a stage-2 object of a refused set was created")
	}
}

func TestUnknownKindAppliesNothing(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	a := configMap(t, ns, "a", "v")
	gadget := object(t, `
apiVersion: nowhere.gitseal.test/v1
kind: Gadget
metadata: {name: g, namespace: %s}
`, ns)
	_, err := apply.Apply(t.Context(), env.Client, []*unstructured.Unstructured{a, gadget}, nil, options(ns))
	if got, want := refusedIDs(asError(t, err)), ids(refs(gadget)); !slices.Equal(got, want) {
		t.Errorf("refused %v, want %v", got, want)
	}
	if get(t, refOf(a)) != nil {
		t.Errorf("a was created alongside an unknown kind")
	}
}

func TestDuplicatesAndNamelessObjectsAreRefused(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	defaulted := configMap(t, ns, "a", "v")
	defaulted.SetNamespace("")
	nameless := configMap(t, ns, "", "v")
	tests := []struct {
		name string
		objs []*unstructured.Unstructured
		want string
	}{
		{"the same object twice", []*unstructured.Unstructured{configMap(t, ns, "a", "v"), configMap(t, ns, "a", "w")}, "more than once"},
		{"the same object once defaulted into its namespace", []*unstructured.Unstructured{configMap(t, ns, "a", "v"), defaulted}, "more than once"},
		{"an object without a name", []*unstructured.Unstructured{configMap(t, ns, "a", "v"), nameless}, "object 1: no metadata.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := apply.Apply(t.Context(), env.Client, tt.objs, nil, options(ns))
			e := asError(t, err)
			if len(e.Objects) != 1 || !strings.Contains(e.Objects[0].Message, tt.want) {
				t.Errorf("error = %v, want one refusal saying %q", err, tt.want)
			}
			if get(t, apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "a"}) != nil {
				t.Errorf("an object of a refused set was created")
			}
		})
	}
}

func TestDefaultNamespace(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	a := configMap(t, ns, "a", "v")
	a.SetNamespace("")
	role := object(t, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: %s-reader, namespace: %s}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
`, ns, ns)

	res := mustApply(t, []*unstructured.Unstructured{a, role}, nil, options(ns))
	wantA := apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "a"}
	wantRole := apply.ObjectRef{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: ns + "-reader"}
	if !slices.Equal(res.Inventory, []apply.ObjectRef{wantRole, wantA}) {
		t.Errorf("inventory %v, want %v", ids(res.Inventory), ids([]apply.ObjectRef{wantRole, wantA}))
	}
	if get(t, wantA) == nil || get(t, wantRole) == nil {
		t.Errorf("objects were not created where expected")
	}

	opts := options(ns)
	opts.DefaultNamespace = ""
	b := configMap(t, ns, "b", "v")
	b.SetNamespace("")
	_, err := apply.Apply(t.Context(), env.Client, []*unstructured.Unstructured{b}, nil, opts)
	if e := asError(t, err); !strings.Contains(e.Objects[0].Message, "no namespace") {
		t.Errorf("error = %v, want the namespace-less object refused", err)
	}
}

func TestRefusedSecretDoesNotLeakItsValue(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	const value = "s3cr3t-v4lue"
	s := object(t, `
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: %s}
stringData: {"not a valid key!": %s}
`, ns, value)
	_, err := apply.Apply(t.Context(), env.Client, []*unstructured.Unstructured{s}, nil, options(ns))
	if e := asError(t, err); len(e.Objects) != 1 || strings.Contains(e.Objects[0].Message, value) {
		t.Errorf("refusals = %+v, want the Secret refused without its value", e.Objects)
	}
	if strings.Contains(err.Error(), value) {
		t.Errorf("error contains the secret value: %v", err)
	}
}

func TestCancelledContextIsTransient(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := apply.Apply(ctx, env.Client, []*unstructured.Unstructured{configMap(t, ns, "a", "v")}, nil, options(ns))
	var e *apply.Error
	if err == nil || errors.As(err, &e) || !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want a transient error wrapping context.Canceled", err)
	}
	if res == nil || len(res.Inventory) != 0 {
		t.Errorf("result = %+v, want an empty inventory", res)
	}
}

func TestForbiddenPruneKeepsObjectInInventory(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	// A tenant that may apply ConfigMaps in ns but not delete them.
	const user = "tenant"
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apply-only"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "create", "patch"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apply-only"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	tenant, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}

	a, b := configMap(t, ns, "a", "v"), configMap(t, ns, "b", "v")
	var first *apply.Result
	testenv.Eventually(t, "tenant applies", func() error { // RBAC takes a moment
		first, err = apply.Apply(t.Context(), tenant, []*unstructured.Unstructured{a, b}, nil, options(ns))
		return err
	})

	res, err := apply.Apply(t.Context(), tenant, []*unstructured.Unstructured{a}, first.Inventory, options(ns))
	if !errors.Is(err, apply.ErrPrune) {
		t.Fatalf("error = %v, want a prune failure", err)
	}
	if got, want := refusedIDs(asError(t, err)), ids(refs(b)); !slices.Equal(got, want) {
		t.Errorf("refused %v, want %v", got, want)
	}
	if !sameIDs(res.Inventory, refs(a, b)) || !sameIDs(res.Unchanged, refs(a)) {
		t.Errorf("inventory %v, unchanged %v; want b kept in the inventory for a later prune", ids(res.Inventory), ids(res.Unchanged))
	}
	if get(t, refOf(b)) == nil {
		t.Errorf("b was deleted")
	}
}
