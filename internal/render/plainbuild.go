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

package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// errNeedsKustomize: buildPlain read objects whose rendering only the
// whole kustomize pipeline reproduces; BuildPath runs it instead.
var errNeedsKustomize = errors.New("the objects need the whole kustomize pipeline")

// buildPlain renders a directory of plain manifests (no kustomization in
// it or under it) to what kustomize renders from the kustomization
// generated for it, without kustomize's check for duplicate objects,
// which compares each object with every one before it: a map makes that
// linear. files are the generated kustomization's resources, in its
// order. Each is read through the sandbox's file system as kustomize
// reads it, the generated kustomization counted first, so the caps, the
// YAML budget and the deadline apply alike, and decoded by kustomize's
// own resource factory: multi-document YAML, JSON, empty documents and
// Lists (kind List or FooList with items) come out as kustomize makes
// them. What kustomize does next to a plain directory is done here too:
// objects annotated config.kubernetes.io/local-config are left out and
// the annotations a build leaves are removed.
//
// kustomize also walks the fields by which a Deployment, a RoleBinding
// and the other kinds in nameReferrers name other objects, and honours
// its build annotations (a content hash appended to a name, for one): a
// set holding either returns errNeedsKustomize, as soon as a
// file holds one and no error was found before it, which kustomize finds
// first too. Errors wrap ErrRefused or ErrBuildFailed, and name files and
// objects, never values.
func buildPlain(ctx context.Context, s *sandbox, dir string, files []string) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("%w: %s", ErrBuildFailed, sanitize(fmt.Sprintf("reading the manifests panicked: %v", r)))
		}
	}()
	// As kustomize's Run does first: it resets the schema version a
	// kustomization's openapi field may have set for an earlier build,
	// which decides what kinds are cluster-scoped.
	if err := openapi.SetSchema(nil, nil, true); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBuildFailed, err)
	}
	// What checkKustomization checks of the generated kustomization:
	// each name it lists, trimmed, is local and resolves under the root.
	// The file read is the name untrimmed, as kustomize reads it.
	kustomization := filepath.Join(dir, generatedKustomization)
	paths := make([]string, len(files))
	for i, rel := range files {
		if strings.TrimSpace(rel) != rel {
			if _, err := s.local(dir, rel, s.show(kustomization)); err != nil {
				return nil, err
			}
		} else if err := checkLocal(rel, s.show(kustomization)); err != nil {
			return nil, err
		}
		p, err := s.resolve(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		paths[i] = p
	}
	fsys := &guardFS{s: s, disk: filesys.MakeFsOnDisk(), ctx: ctx}
	if _, err := fsys.ReadFile(kustomization); err != nil {
		return nil, plainReadError(ctx, fsys, err)
	}
	rf := provider.NewDepProvider().GetResourceFactory()
	var resources []*resource.Resource
	defined := map[objectKey]string{} // the file that defines each object
	for _, p := range paths {
		data, err := fsys.readResolved(p)
		if err != nil {
			return nil, plainReadError(ctx, fsys, err)
		}
		rs, err := rf.SliceFromBytes(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %s", ErrBuildFailed, s.show(p), parseError(err))
		}
		// kustomize finds a duplicate within a file before one across
		// files: report the one it reports.
		inFile := make(map[objectKey]bool, len(rs))
		keys := make([]objectKey, len(rs))
		for i, r := range rs {
			keys[i] = keyOf(r.CurId())
			if inFile[keys[i]] {
				return nil, duplicate(s, keys[i], p, p)
			}
			inFile[keys[i]] = true
		}
		for i, k := range keys {
			if first, ok := defined[k]; ok {
				return nil, duplicate(s, k, first, p)
			}
			defined[k] = p
			resources = append(resources, rs[i])
		}
		// Whatever kustomize finds further on, it finds it too.
		if slices.ContainsFunc(rs, needsKustomize) {
			return nil, errNeedsKustomize
		}
	}
	// kustomize's IgnoreLocal, then what its Run removes.
	nodes, err := rf.DropLocalNodes(rnodes(resources))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBuildFailed, parseError(err))
	}
	for _, r := range nodes {
		r.RemoveBuildAnnotations()
	}
	for _, r := range nodes {
		if err := r.SetOrigin(nil); err != nil {
			return nil, fmt.Errorf("%w: failed to clean up origin tracking annotations: %s", ErrBuildFailed, parseError(err))
		}
	}
	for _, r := range nodes {
		if err := r.ClearTransformations(); err != nil {
			return nil, fmt.Errorf("%w: failed to clean up transformer annotations: %s", ErrBuildFailed, parseError(err))
		}
	}
	return result(s, nodes, func() ([]byte, error) { return asYAML(nodes) })
}

// plainReadError is the error of a read the sandbox's file system
// failed: a refusal when it refused the read (a cap, the YAML budget) or
// the deadline passed, as build reports them.
func plainReadError(ctx context.Context, fsys *guardFS, err error) error {
	if ctx.Err() != nil {
		return refused("build took too long: %v", ctx.Err())
	}
	if v := fsys.violation(); v != nil {
		return fmt.Errorf("%w: %v", ErrRefused, v)
	}
	return fmt.Errorf("%w: %s", ErrBuildFailed, sanitize(err.Error()))
}

// objectKey identifies an object as kustomize's duplicate check does
// (resid.ResId.Equals): group, version, kind, name, and the namespace,
// where no namespace is "default" and a cluster-scoped kind has none.
type objectKey struct {
	group, version, kind, namespace, name string
}

func keyOf(id resid.ResId) objectKey {
	return objectKey{id.Group, id.Version, id.Kind, id.EffectiveNamespace(), id.Name}
}

// duplicate is the error for an object defined twice, naming it and the
// files that define it.
func duplicate(s *sandbox, k objectKey, first, second string) error {
	what := k.kind + " " + k.name
	if k.namespace != resid.TotallyNotANamespace {
		what += " in namespace " + k.namespace
	}
	apiVersion := k.version
	if k.group != "" {
		apiVersion = k.group + "/" + k.version
	}
	if apiVersion != "" {
		what += " (" + apiVersion + ")"
	}
	where := s.show(first) + " defines " + what + " twice"
	if first != second {
		where = s.show(first) + " and " + s.show(second) + " both define " + what
	}
	return fmt.Errorf("%w: %s", ErrBuildFailed, sanitize(where))
}

// parseError is kustomize's message for a manifest it could not read,
// without the object some messages print after " in object ".
func parseError(err error) string {
	msg, _, _ := strings.Cut(err.Error(), " in object ")
	return sanitize(msg)
}

// nameReferrers selects the kinds whose references to other objects by
// name kustomize's default nameReference configuration (kustomize/api
// v0.21.2, internal/konfig/builtinpluginconsts/namereference.go) lists:
// the referrers in its fieldSpecs. kustomize walks those fields to carry
// renamed objects' new names into them. A plain directory renames
// nothing, so no field changes, but the walk fails on a field of the
// wrong shape (a RoleBinding's subject without a name, a Deployment's
// template that is a string) that a ConfigMap may hold: a set holding a
// referrer is rendered by kustomize. TestNameReferrersMatchKustomize
// compares this list with the kustomize in go.mod.
var nameReferrers = []resid.Gvk{
	{Kind: "ClusterRole"},
	{Kind: "CronJob"},
	{Kind: "DaemonSet"},
	{Kind: "Deployment"},
	{Kind: "HorizontalPodAutoscaler"},
	{Kind: "Ingress"},
	{Kind: "Job"},
	{Kind: "Node"},
	{Kind: "PersistentVolume"},
	{Kind: "PersistentVolumeClaim"},
	{Kind: "Pod"},
	{Kind: "PodTemplate"},
	{Kind: "ReplicaSet"},
	{Kind: "ReplicationController"},
	{Kind: "Role"},
	{Kind: "ServiceAccount"},
	{Kind: "StatefulSet"},
	{Kind: "StorageClass"},
	{Version: "v1", Kind: "Pod"},
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"},
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"},
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"},
	{Group: "apiregistration.k8s.io", Kind: "APIService"},
	{Group: "apps", Kind: "StatefulSet"},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"},
	{Group: "serving.knative.dev", Version: "v1", Kind: "Service"},
}

// needsKustomize reports whether only kustomize's whole pipeline renders
// r as kustomize does: r is a name referrer (selected the way kustomize
// selects one, by its original id), or r carries one of kustomize's build
// annotations, which steer its transformers.
func needsKustomize(r *resource.Resource) bool {
	gvk := r.OrgId().Gvk
	for i := range nameReferrers {
		if gvk.IsSelected(&nameReferrers[i]) {
			return true
		}
	}
	for k := range r.GetAnnotations() {
		if slices.Contains(resource.BuildAnnotations, k) {
			return true
		}
	}
	return false
}

// rnodes are the resources' nodes, for the resource factory.
func rnodes(resources []*resource.Resource) []*kyaml.RNode {
	out := make([]*kyaml.RNode, len(resources))
	for i, r := range resources {
		out[i] = &r.RNode
	}
	return out
}

// asYAML writes the resources as kustomize's ResMap.AsYaml does.
func asYAML(resources []*resource.Resource) ([]byte, error) {
	buf := bytes.NewBuffer(nil)
	for i, r := range resources {
		out, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(out)
	}
	return buf.Bytes(), nil
}
