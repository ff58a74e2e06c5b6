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
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitseal/gitseal/internal/apply"
)

func TestDriftFindsHandEditsAndDeletionsAndChangesNothing(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "drift")
	a, b, c := configMap(t, ns, "a", "from-git"), configMap(t, ns, "b", "from-git"), configMap(t, ns, "c", "from-git")
	set := []*unstructured.Unstructured{a, b, c}
	mustApply(t, set, nil, options(ns))

	drifted, err := apply.Drift(t.Context(), env.Client, set, options(ns))
	if err != nil || len(drifted) != 0 {
		t.Fatalf("right after apply: drifted %v, %v", ids(drifted), err)
	}

	// a: a field the set owns, edited by hand. b: deleted. c: a label the
	// set does not mention, added by hand, which apply would leave.
	handEdit(t, ns, "a", "by-hand")
	var bLive corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "b"}, &bLive); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(t.Context(), &bLive); err != nil {
		t.Fatal(err)
	}
	var cLive corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "c"}, &cLive); err != nil {
		t.Fatal(err)
	}
	labelled := cLive.DeepCopy()
	labelled.Labels["team"] = "added-by-hand"
	if err := env.Client.Patch(t.Context(), labelled, client.MergeFrom(&cLive), client.FieldOwner("kubectl-label")); err != nil {
		t.Fatal(err)
	}

	drifted, err = apply.Drift(t.Context(), env.Client, set, options(ns))
	if err != nil {
		t.Fatal(err)
	}
	if !sameIDs(drifted, refs(a, b)) {
		t.Errorf("drifted %v, want a (edited) and b (deleted)", ids(drifted))
	}
	if got := dataKey(t, refOf(a)); got != "by-hand" {
		t.Errorf("Drift changed a: data.key = %q", got)
	}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "b"}, &corev1.ConfigMap{}); err == nil {
		t.Error("Drift recreated b")
	}
}

// handEdit sets data.key of ConfigMap ns/name to value as kubectl edit
// does: an update by another field manager, which takes the field.
func handEdit(t *testing.T, ns, name, value string) {
	t.Helper()
	env := cluster.Get(t)
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	edited := cm.DeepCopy()
	edited.Data["key"] = value
	if err := env.Client.Patch(t.Context(), edited, client.MergeFrom(cm), client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
}
