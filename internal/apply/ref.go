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
	"cmp"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ObjectRef identifies one applied object. Version is the API version it was
// applied with; refs that differ only in Version name the same object.
type ObjectRef struct {
	Group, Version, Kind, Namespace, Name string
}

// String returns "<namespace>_<name>_<group>_<kind>", the inventory ID
// Flux uses. Namespace is empty for cluster-scoped objects and group for
// the core group. Version is left out, so the ID outlives a version change.
func (r ObjectRef) String() string {
	return r.Namespace + "_" + r.Name + "_" + r.Group + "_" + r.Kind
}

// ParseObjectRef reads an inventory ID that String wrote back into a ref,
// with Version empty. It fails when id does not have String's four parts,
// or names no object or no kind: String writes no such ID for an object
// the API server holds.
func ParseObjectRef(id string) (ObjectRef, error) {
	parts := strings.Split(id, "_")
	if len(parts) != 4 || parts[1] == "" || parts[3] == "" {
		return ObjectRef{}, fmt.Errorf("inventory ID %q is not <namespace>_<name>_<group>_<kind>", id)
	}
	return ObjectRef{Namespace: parts[0], Name: parts[1], Group: parts[2], Kind: parts[3]}, nil
}

// Describe names the object for people: "Kind namespace/name", or "Kind
// name" when it has no namespace.
func (r ObjectRef) Describe() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

func (r ObjectRef) groupKind() schema.GroupKind {
	return schema.GroupKind{Group: r.Group, Kind: r.Kind}
}

func (r ObjectRef) groupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// refOf returns the ref of u as written, namespace included.
func refOf(u *unstructured.Unstructured) ObjectRef {
	gvk := u.GroupVersionKind()
	return ObjectRef{
		Group:     gvk.Group,
		Version:   gvk.Version,
		Kind:      gvk.Kind,
		Namespace: u.GetNamespace(),
		Name:      u.GetName(),
	}
}

var (
	crdGroupKind       = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	namespaceGroupKind = schema.GroupKind{Kind: "Namespace"}
)

// applyRank orders kinds for applying. Ranks 0 and 1 (CRDs, Namespaces) are
// stage 1, which everything else may need to exist. Within stage 2, objects
// that others refer to come first and admission webhooks last, so that a
// webhook whose service is not yet running cannot block the rest.
func applyRank(gk schema.GroupKind) int {
	switch gk.Kind + "." + gk.Group {
	case "CustomResourceDefinition.apiextensions.k8s.io":
		return 0
	case "Namespace.":
		return 1
	case "ResourceQuota.", "LimitRange.", "PriorityClass.scheduling.k8s.io":
		return 2
	case "ServiceAccount.", "ClusterRole.rbac.authorization.k8s.io", "Role.rbac.authorization.k8s.io":
		return 3
	case "ClusterRoleBinding.rbac.authorization.k8s.io", "RoleBinding.rbac.authorization.k8s.io":
		return 4
	case "Secret.", "ConfigMap.", "StorageClass.storage.k8s.io", "PersistentVolume.",
		"PersistentVolumeClaim.", "Service.":
		return 5
	case "MutatingWebhookConfiguration.admissionregistration.k8s.io",
		"ValidatingWebhookConfiguration.admissionregistration.k8s.io",
		"ValidatingAdmissionPolicy.admissionregistration.k8s.io",
		"ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io":
		return 7
	}
	return 6
}

// inStage1 reports whether objects of kind gk are applied in stage 1.
func inStage1(gk schema.GroupKind) bool { return applyRank(gk) < 2 }

// applyCmp orders refs for applying: by applyRank, then by ID.
func applyCmp(a, b ObjectRef) int {
	return cmp.Or(
		cmp.Compare(applyRank(a.groupKind()), applyRank(b.groupKind())),
		cmp.Compare(a.String(), b.String()),
	)
}

// pruneRank orders deletions: namespaced objects, then other cluster-scoped
// objects, then Namespaces (which would take their contents along), and
// CRDs last (which would take every custom resource of their kinds).
func pruneRank(r ObjectRef) int {
	switch {
	case r.groupKind() == crdGroupKind:
		return 3
	case r.groupKind() == namespaceGroupKind:
		return 2
	case r.Namespace == "":
		return 1
	}
	return 0
}

// toPrune returns the objects of previous that current no longer holds,
// compared by ID (so a version change is not a removal), each once, in the
// order prune deletes them: by pruneRank, then in reverse apply order, then
// by ID.
func toPrune(previous, current []ObjectRef) []ObjectRef {
	keep := make(map[string]bool, len(current))
	for _, r := range current {
		keep[r.String()] = true
	}
	var stale []ObjectRef
	for _, r := range previous {
		if id := r.String(); !keep[id] {
			keep[id] = true // once
			stale = append(stale, r)
		}
	}
	slices.SortFunc(stale, func(a, b ObjectRef) int {
		return cmp.Or(
			cmp.Compare(pruneRank(a), pruneRank(b)),
			cmp.Compare(applyRank(b.groupKind()), applyRank(a.groupKind())),
			cmp.Compare(a.String(), b.String()),
		)
	})
	return stale
}

// stage1Index records what stage-2 objects of a set can depend on: the
// custom resource kinds that its CRDs define and the namespaces that its
// Namespace objects create.
type stage1Index struct {
	kinds      map[schema.GroupKind]definedKind
	namespaces map[string]ObjectRef
}

// definedKind is a custom resource kind defined by a CRD of the set.
type definedKind struct {
	crd        ObjectRef
	namespaced bool
}

// indexStage1 indexes the CRDs and Namespaces among objs. A CRD without
// spec.group or spec.names.kind defines nothing; its dry run reports it.
func indexStage1(objs []*unstructured.Unstructured) stage1Index {
	idx := stage1Index{kinds: map[schema.GroupKind]definedKind{}, namespaces: map[string]ObjectRef{}}
	for _, u := range objs {
		ref := refOf(u)
		ref.Namespace = "" // both kinds are cluster-scoped
		switch ref.groupKind() {
		case namespaceGroupKind:
			idx.namespaces[ref.Name] = ref
		case crdGroupKind:
			if gk, namespaced, ok := crdDefines(u); ok {
				idx.kinds[gk] = definedKind{crd: ref, namespaced: namespaced}
			}
		}
	}
	return idx
}

// dependencies returns the stage-1 objects of the set that ref needs: the
// CRD that defines its kind and the Namespace it lives in.
func (x stage1Index) dependencies(ref ObjectRef) []ObjectRef {
	var deps []ObjectRef
	if d, ok := x.kinds[ref.groupKind()]; ok {
		deps = append(deps, d.crd)
	}
	if ns, ok := x.namespaces[ref.Namespace]; ok && ref.Namespace != "" {
		deps = append(deps, ns)
	}
	return deps
}

// revalidate reports whether a stage-2 object needs another dry run once
// stage 1 is applied: its first one was deferred, or a CRD or Namespace it
// needs changed (changed holds the IDs of stage-1 objects that did) and may
// now judge it differently.
func (x stage1Index) revalidate(ref ObjectRef, deferred bool, changed map[string]bool) bool {
	if deferred {
		return true
	}
	for _, dep := range x.dependencies(ref) {
		if changed[dep.String()] {
			return true
		}
	}
	return false
}

// crdDefines reads the kind a CustomResourceDefinition defines and whether
// it is namespaced (any scope but "Cluster"; the API server validates it).
func crdDefines(u *unstructured.Unstructured) (gk schema.GroupKind, namespaced, ok bool) {
	group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
	scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
	if group == "" || kind == "" {
		return schema.GroupKind{}, false, false
	}
	return schema.GroupKind{Group: group, Kind: kind}, scope != "Cluster", true
}

// crdState reads a CustomResourceDefinition's status: whether it is
// Established, and the reason its names were refused when NamesAccepted is
// False (an Established condition never comes then).
func crdState(u *unstructured.Unstructured) (established bool, refused string) {
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, _, _ := unstructured.NestedString(m, "type")
		status, _, _ := unstructured.NestedString(m, "status")
		switch {
		case typ == "Established" && status == "True":
			established = true
		case typ == "NamesAccepted" && status == "False":
			refused, _, _ = unstructured.NestedString(m, "message")
			if refused == "" {
				refused = "names not accepted"
			}
		}
	}
	return established, refused
}

// inUse reports whether a stale Namespace or CRD still serves current
// objects: objects of the set live in the Namespace, or are of the kind the
// CRD defines (crdKind, zero for other refs). Deleting it would delete them.
func inUse(stale ObjectRef, crdKind schema.GroupKind, current []ObjectRef) bool {
	for _, r := range current {
		switch stale.groupKind() {
		case namespaceGroupKind:
			if r.Namespace == stale.Name {
				return true
			}
		case crdGroupKind:
			if !crdKind.Empty() && r.groupKind() == crdKind {
				return true
			}
		}
	}
	return false
}

// prunable reports whether prune may delete an object with these labels and
// annotations: it must carry every ownership label with its value and must
// not be annotated gitseal.dev/prune: disabled.
func prunable(labels, annotations, owner map[string]string) bool {
	if annotations[PruneAnnotation] == PruneDisabled {
		return false
	}
	for k, v := range owner {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// sortedRefs returns the values of m sorted by ID.
func sortedRefs(m map[string]ObjectRef) []ObjectRef {
	out := make([]ObjectRef, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ObjectRef) int { return cmp.Compare(a.String(), b.String()) })
	return out
}

// RefuseEmpty decides whether an empty rendered set must not replace the
// inventory previous: it is refused when previous holds objects, unless
// allowEmpty. Applying it would prune every object of previous (with
// prune off, drop them all from the inventory), and a revision that
// renders nothing is far more often a mistake, such as a path emptied or
// moved or a kustomization that lists nothing, than a wish to delete
// everything. An empty set over an empty inventory loses nothing.
func RefuseEmpty(set []*unstructured.Unstructured, previous []ObjectRef, allowEmpty bool) bool {
	return len(set) == 0 && len(previous) > 0 && !allowEmpty
}
