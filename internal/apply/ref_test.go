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

package apply

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	cmA       = ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "app", Name: "a"}
	cmB       = ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "app", Name: "b"}
	secret    = ObjectRef{Version: "v1", Kind: "Secret", Namespace: "app", Name: "s"}
	deploy    = ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "app", Name: "web"}
	sa        = ObjectRef{Version: "v1", Kind: "ServiceAccount", Namespace: "app", Name: "web"}
	binding   = ObjectRef{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding", Namespace: "app", Name: "web"}
	role      = ObjectRef{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: "reader"}
	webhook   = ObjectRef{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingWebhookConfiguration", Name: "hook"}
	nsApp     = ObjectRef{Version: "v1", Kind: "Namespace", Name: "app"}
	nsOther   = ObjectRef{Version: "v1", Kind: "Namespace", Name: "other"}
	crdWidget = ObjectRef{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "widgets.example.com"}
	widget    = ObjectRef{Group: "example.com", Version: "v1", Kind: "Widget", Namespace: "app", Name: "w"}
)

func ids(refs []ObjectRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}

func TestObjectRefString(t *testing.T) {
	tests := []struct {
		name string
		ref  ObjectRef
		want string
	}{
		{"core namespaced object has an empty group", cmA, "app_a__ConfigMap"},
		{"cluster-scoped object has an empty namespace", role, "_reader_rbac.authorization.k8s.io_ClusterRole"},
		{"version is not part of the ID", ObjectRef{Group: "apps", Version: "v1beta1", Kind: "Deployment", Namespace: "app", Name: "web"}, "app_web_apps_Deployment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ref.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseObjectRef(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		want    ObjectRef
		wantErr bool
	}{
		{"core namespaced object reads back without a group", "app_a__ConfigMap", ObjectRef{Kind: "ConfigMap", Namespace: "app", Name: "a"}, false},
		{"cluster-scoped object reads back without a namespace", "_reader_rbac.authorization.k8s.io_ClusterRole",
			ObjectRef{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "reader"}, false},
		{"dotted name and group read back whole", "app_web.v2_example.com_Widget", ObjectRef{Group: "example.com", Kind: "Widget", Namespace: "app", Name: "web.v2"}, false},
		{"empty ID is refused", "", ObjectRef{}, true},
		{"three parts are refused", "app_a_ConfigMap", ObjectRef{}, true},
		{"five parts are refused", "app_a_b__ConfigMap", ObjectRef{}, true},
		{"ID without a name is refused", "app___ConfigMap", ObjectRef{}, true},
		{"ID without a kind is refused", "app_a__", ObjectRef{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseObjectRef(tt.id)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseObjectRef(%q) = %+v, %v; want %+v, error %v", tt.id, got, err, tt.want, tt.wantErr)
			}
			if err == nil && got.String() != tt.id {
				t.Errorf("String() of the parsed ref = %q, want %q", got.String(), tt.id)
			}
		})
	}
}

func TestParseObjectRefReadsBackEveryRefString(t *testing.T) {
	for _, ref := range []ObjectRef{cmA, cmB, secret, deploy, sa, binding, role, webhook, nsApp, nsOther, crdWidget, widget} {
		got, err := ParseObjectRef(ref.String())
		want := ref
		want.Version = "" // not part of the ID
		if err != nil || got != want {
			t.Errorf("ParseObjectRef(%q) = %+v, %v; want %+v", ref.String(), got, err, want)
		}
	}
}

// FuzzParseObjectRef checks the round trip both ways: an ID that parses is
// written back as it was, and a ref String writes (names without "_", as
// the API server's names are) parses back to itself.
func FuzzParseObjectRef(f *testing.F) {
	for _, ref := range []ObjectRef{cmA, deploy, role, crdWidget, widget} {
		f.Add(ref.String())
	}
	f.Add("app___ConfigMap")
	f.Add("a_b_c_d_e")
	f.Fuzz(func(t *testing.T, id string) {
		ref, err := ParseObjectRef(id)
		if err != nil {
			return
		}
		if ref.String() != id {
			t.Fatalf("ParseObjectRef(%q) = %+v, which String writes as %q", id, ref, ref.String())
		}
		again, err := ParseObjectRef(ref.String())
		if err != nil || again != ref {
			t.Fatalf("ParseObjectRef(%q) = %+v, %v; want %+v", ref.String(), again, err, ref)
		}
	})
}

func TestObjectRefDescribe(t *testing.T) {
	tests := []struct {
		name string
		ref  ObjectRef
		want string
	}{
		{"namespaced object is Kind namespace/name", deploy, "Deployment app/web"},
		{"cluster-scoped object is Kind name", role, "ClusterRole reader"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ref.Describe(); got != tt.want {
				t.Errorf("Describe() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestApplyOrder(t *testing.T) {
	tests := []struct {
		name string
		in   []ObjectRef
		want []ObjectRef
	}{
		{
			name: "CRDs then Namespaces come first",
			in:   []ObjectRef{widget, cmA, nsApp, crdWidget},
			want: []ObjectRef{crdWidget, nsApp, cmA, widget},
		},
		{
			name: "accounts, roles and bindings before config before workloads",
			in:   []ObjectRef{deploy, secret, binding, sa, role},
			want: []ObjectRef{role, sa, binding, secret, deploy},
		},
		{
			name: "admission webhooks come last",
			in:   []ObjectRef{webhook, deploy, cmA},
			want: []ObjectRef{cmA, deploy, webhook},
		},
		{
			name: "objects of one rank are sorted by ID",
			in:   []ObjectRef{cmB, secret, cmA},
			want: []ObjectRef{cmA, cmB, secret},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(tt.in)
			slices.SortFunc(got, applyCmp)
			if !slices.Equal(got, tt.want) {
				t.Errorf("order = %v, want %v", ids(got), ids(tt.want))
			}
		})
	}
}

func TestInStage1(t *testing.T) {
	tests := []struct {
		name string
		gk   schema.GroupKind
		want bool
	}{
		{"a CRD is stage 1", crdGroupKind, true},
		{"a Namespace is stage 1", namespaceGroupKind, true},
		{"a ConfigMap is stage 2", schema.GroupKind{Kind: "ConfigMap"}, false},
		{"a Namespace kind of another group is stage 2", schema.GroupKind{Group: "example.com", Kind: "Namespace"}, false},
		{"a custom resource is stage 2", widget.groupKind(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inStage1(tt.gk); got != tt.want {
				t.Errorf("inStage1(%v) = %v, want %v", tt.gk, got, tt.want)
			}
		})
	}
}

func TestToPrune(t *testing.T) {
	deployV1beta1 := deploy
	deployV1beta1.Version = "v1beta1"
	tests := []struct {
		name     string
		previous []ObjectRef
		current  []ObjectRef
		want     []ObjectRef
	}{
		{
			name:     "an object that left the set is pruned",
			previous: []ObjectRef{cmA, cmB},
			current:  []ObjectRef{cmA},
			want:     []ObjectRef{cmB},
		},
		{
			name:     "a version change is not a removal",
			previous: []ObjectRef{deployV1beta1},
			current:  []ObjectRef{deploy},
			want:     nil,
		},
		{
			name:     "an empty previous inventory prunes nothing",
			previous: nil,
			current:  []ObjectRef{cmA},
			want:     nil,
		},
		{
			name:     "an object listed twice is pruned once",
			previous: []ObjectRef{cmB, cmB},
			current:  nil,
			want:     []ObjectRef{cmB},
		},
		{
			name:     "namespaced, then cluster-scoped, then Namespaces, then CRDs",
			previous: []ObjectRef{crdWidget, nsApp, role, widget, cmA},
			current:  nil,
			want:     []ObjectRef{widget, cmA, role, nsApp, crdWidget},
		},
		{
			name:     "workloads go before what they use",
			previous: []ObjectRef{sa, cmA, deploy},
			current:  nil,
			want:     []ObjectRef{deploy, cmA, sa},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toPrune(tt.previous, tt.current)
			if !slices.Equal(got, tt.want) {
				t.Errorf("toPrune = %v, want %v", ids(got), ids(tt.want))
			}
		})
	}
}

func TestRefuseEmpty(t *testing.T) {
	one := []*unstructured.Unstructured{{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}}
	tests := []struct {
		name       string
		set        []*unstructured.Unstructured
		previous   []ObjectRef
		allowEmpty bool
		want       bool
	}{
		{name: "an empty set over an inventory is refused", previous: []ObjectRef{cmA, cmB}, want: true},
		{name: "an empty set over an inventory is accepted with allowEmpty", previous: []ObjectRef{cmA, cmB}, allowEmpty: true, want: false},
		{name: "an empty set over an empty inventory is accepted", previous: nil, want: false},
		{name: "an empty set over an empty, non-nil inventory is accepted", previous: []ObjectRef{}, want: false},
		{name: "a set of one object over an inventory is accepted", set: one, previous: []ObjectRef{cmA, cmB}, want: false},
		{name: "a set of one object over an empty inventory is accepted", set: one, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RefuseEmpty(tt.set, tt.previous, tt.allowEmpty); got != tt.want {
				t.Errorf("RefuseEmpty = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrunable(t *testing.T) {
	owner := map[string]string{"gitseal.dev/gitsync-name": "sync", "gitseal.dev/gitsync-namespace": "app"}
	tests := []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		owner       map[string]string
		want        bool
	}{
		{
			name:   "an object with every ownership label is prunable",
			labels: map[string]string{"gitseal.dev/gitsync-name": "sync", "gitseal.dev/gitsync-namespace": "app", "app": "web"},
			owner:  owner,
			want:   true,
		},
		{
			name:   "an object that lost an ownership label is kept",
			labels: map[string]string{"gitseal.dev/gitsync-namespace": "app"},
			owner:  owner,
			want:   false,
		},
		{
			name:   "an object owned by another GitSync is kept",
			labels: map[string]string{"gitseal.dev/gitsync-name": "other", "gitseal.dev/gitsync-namespace": "app"},
			owner:  owner,
			want:   false,
		},
		{
			name:        "prune disabled keeps an owned object",
			labels:      owner,
			annotations: map[string]string{PruneAnnotation: PruneDisabled},
			owner:       owner,
			want:        false,
		},
		{
			name:        "another prune annotation value does not keep it",
			labels:      owner,
			annotations: map[string]string{PruneAnnotation: "enabled"},
			owner:       owner,
			want:        true,
		},
		{
			name:  "without ownership labels any object is prunable",
			owner: nil,
			want:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := prunable(tt.labels, tt.annotations, tt.owner); got != tt.want {
				t.Errorf("prunable = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInUse(t *testing.T) {
	tests := []struct {
		name    string
		stale   ObjectRef
		crdKind schema.GroupKind
		current []ObjectRef
		want    bool
	}{
		{"a Namespace holding objects of the set is in use", nsApp, schema.GroupKind{}, []ObjectRef{cmA}, true},
		{"an empty Namespace is not in use", nsOther, schema.GroupKind{}, []ObjectRef{cmA}, false},
		{"a CRD whose kind the set uses is in use", crdWidget, widget.groupKind(), []ObjectRef{widget}, true},
		{"a CRD of an unused kind is not in use", crdWidget, widget.groupKind(), []ObjectRef{cmA}, false},
		{"a CRD without a readable kind is not in use", crdWidget, schema.GroupKind{}, []ObjectRef{widget}, false},
		{"other kinds are never in use", cmB, schema.GroupKind{}, []ObjectRef{cmA}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inUse(tt.stale, tt.crdKind, tt.current); got != tt.want {
				t.Errorf("inUse = %v, want %v", got, tt.want)
			}
		})
	}
}

func widgetCRD(scope string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "widgets.example.com"},
		"spec": map[string]any{
			"group": "example.com",
			"scope": scope,
			"names": map[string]any{"kind": "Widget", "plural": "widgets"},
		},
	}}
}

func TestStage1Dependencies(t *testing.T) {
	namespace := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "app"},
	}}
	idx := indexStage1([]*unstructured.Unstructured{widgetCRD("Namespaced"), namespace})
	tests := []struct {
		name string
		ref  ObjectRef
		want []ObjectRef
	}{
		{"a custom resource in a new namespace needs its CRD and the Namespace", widget, []ObjectRef{crdWidget, nsApp}},
		{"a ConfigMap in a new namespace needs the Namespace", cmA, []ObjectRef{nsApp}},
		{"an object in another namespace needs nothing", ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "other", Name: "a"}, nil},
		{"a cluster-scoped object needs nothing", role, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := idx.dependencies(tt.ref); !slices.Equal(got, tt.want) {
				t.Errorf("dependencies = %v, want %v", ids(got), ids(tt.want))
			}
		})
	}
	changedCRD := map[string]bool{crdWidget.String(): true}
	revalidations := []struct {
		name     string
		ref      ObjectRef
		deferred bool
		changed  map[string]bool
		want     bool
	}{
		{"a deferred object is validated again", cmA, true, nil, true},
		{"an object of a changed CRD's kind is validated again", widget, false, changedCRD, true},
		{"an object in a changed Namespace is validated again", cmA, false, map[string]bool{nsApp.String(): true}, true},
		{"an object whose stage-1 objects are unchanged is not", widget, false, map[string]bool{}, false},
		{"an object that needs nothing of stage 1 is not", role, false, changedCRD, false},
	}
	for _, tt := range revalidations {
		t.Run(tt.name, func(t *testing.T) {
			if got := idx.revalidate(tt.ref, tt.deferred, tt.changed); got != tt.want {
				t.Errorf("revalidate = %v, want %v", got, tt.want)
			}
		})
	}
	if d := idx.kinds[widget.groupKind()]; !d.namespaced {
		t.Errorf("Widget of a Namespaced CRD is not namespaced")
	}
	if d := indexStage1([]*unstructured.Unstructured{widgetCRD("Cluster")}).kinds[widget.groupKind()]; d.namespaced {
		t.Errorf("Widget of a Cluster CRD is namespaced")
	}
}

func TestCRDState(t *testing.T) {
	crd := func(conditions ...any) *unstructured.Unstructured {
		u := widgetCRD("Namespaced")
		u.Object["status"] = map[string]any{"conditions": conditions}
		return u
	}
	cond := func(typ, status, msg string) map[string]any {
		return map[string]any{"type": typ, "status": status, "message": msg}
	}
	tests := []struct {
		name            string
		crd             *unstructured.Unstructured
		wantEstablished bool
		wantRefused     string
	}{
		{"a CRD without status is not established yet", widgetCRD("Namespaced"), false, ""},
		{"Established True is established", crd(cond("NamesAccepted", "True", ""), cond("Established", "True", "")), true, ""},
		{"Established False is not established yet", crd(cond("Established", "False", "installing")), false, ""},
		{"NamesAccepted False is refused with its message", crd(cond("NamesAccepted", "False", "kind Widget is already in use")), false, "kind Widget is already in use"},
		{"NamesAccepted False without a message is refused", crd(cond("NamesAccepted", "False", "")), false, "names not accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			established, refused := crdState(tt.crd)
			if established != tt.wantEstablished || refused != tt.wantRefused {
				t.Errorf("crdState = %v, %q, want %v, %q", established, refused, tt.wantEstablished, tt.wantRefused)
			}
		})
	}
}

func TestNamespaceFor(t *testing.T) {
	tests := []struct {
		name        string
		given       string
		namespaced  bool
		def         string
		want        string
		wantRefused bool
	}{
		{"a namespaced object keeps its namespace", "app", true, "default", "app", false},
		{"a namespaced object without one gets the default", "", true, "default", "default", false},
		{"a namespaced object without one or a default is refused", "", true, "", "", true},
		{"a cluster-scoped object loses its namespace", "app", false, "default", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refused := namespaceFor(tt.given, tt.namespaced, tt.def)
			if got != tt.want || (refused != "") != tt.wantRefused {
				t.Errorf("namespaceFor = %q, %q, want %q, refused %v", got, refused, tt.want, tt.wantRefused)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"complete options are valid", Options{FieldManager: "gitseal", Labels: map[string]string{"gitseal.dev/gitsync-name": "sync"}, DefaultNamespace: "app"}, false},
		{"a field manager alone is valid", Options{FieldManager: "gitseal"}, false},
		{"an empty field manager is invalid", Options{}, true},
		{"an invalid label key is invalid", Options{FieldManager: "gitseal", Labels: map[string]string{"not a key": "x"}}, true},
		{"a label value too long is invalid", Options{FieldManager: "gitseal", Labels: map[string]string{"k": strings.Repeat("x", 64)}}, true},
		{"an invalid default namespace is invalid", Options{FieldManager: "gitseal", DefaultNamespace: "Not_A_Namespace"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.validate(); (err != nil) != tt.wantErr {
				t.Errorf("validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
