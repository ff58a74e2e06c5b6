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
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// prune deletes the stale objects, already in prune order. It goes on past
// refused deletions and reports them together as an *Error; a transient
// error ends it at once.
func (s *session) prune(ctx context.Context, stale, current []ObjectRef) error {
	var refused []ObjectError
	for _, r := range stale {
		err := s.pruneOne(ctx, r, current)
		var e *Error
		switch {
		case err == nil:
		case errors.As(err, &e):
			refused = append(refused, e.Objects...)
		default:
			return err
		}
	}
	if len(refused) > 0 {
		return &Error{Objects: refused}
	}
	return nil
}

// pruneOutcome is what pruneOne did with an object.
type pruneOutcome int

const (
	pruneDeleted pruneOutcome = iota // deleted, or found already gone
	pruneKept                        // left in the cluster, dropped from the inventory
)

// pruneOne deletes the object ref names if it is still prunable, reading it
// again and retrying when it changes between the read and the delete.
func (s *session) pruneOne(ctx context.Context, ref ObjectRef, current []ObjectRef) error {
	gvk, served, err := s.servedKind(ref)
	if err != nil {
		return refusal("map", ref, err)
	}
	outcome := pruneDeleted
	if served {
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var err error
			outcome, err = s.deleteIfPrunable(ctx, ref, gvk, current)
			return err
		})
		if err != nil {
			return refusal("delete", ref, err)
		}
	}
	if outcome == pruneKept {
		s.orphan(ref)
		return nil
	}
	s.res.Pruned = append(s.res.Pruned, ref)
	delete(s.inventory, ref.String())
	return nil
}

// deleteIfPrunable reads the object and deletes it, on the precondition
// that it is still the object that was read, unless prunable or inUse says
// to keep it. It reads metadata only, except for a CRD, whose spec tells
// which kind it serves.
func (s *session) deleteIfPrunable(ctx context.Context, ref ObjectRef, gvk schema.GroupVersionKind, current []ObjectRef) (pruneOutcome, error) {
	var obj client.Object = metadataOnly(gvk)
	if ref.groupKind() == crdGroupKind {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		obj = u
	}
	err := s.c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, obj)
	if apierrors.IsNotFound(err) {
		return pruneDeleted, nil
	}
	if err != nil {
		return 0, err
	}
	var crdKind schema.GroupKind
	if u, ok := obj.(*unstructured.Unstructured); ok {
		crdKind, _, _ = crdDefines(u)
	}
	if !prunable(obj.GetLabels(), obj.GetAnnotations(), s.opts.Labels) || inUse(ref, crdKind, current) {
		return pruneKept, nil
	}
	uid, rv := obj.GetUID(), obj.GetResourceVersion()
	err = s.c.Delete(ctx, obj,
		client.Preconditions{UID: &uid, ResourceVersion: &rv},
		client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		return 0, err
	}
	return pruneDeleted, nil
}

// servedKind returns the kind to read ref with: its own version if still
// served, else the preferred one. served is false when the API server
// serves the kind in no version, so that no such object can exist.
func (s *session) servedKind(ref ObjectRef) (gvk schema.GroupVersionKind, served bool, err error) {
	mapper := s.c.RESTMapper()
	m, err := mapper.RESTMapping(ref.groupKind(), ref.Version)
	if meta.IsNoMatchError(err) {
		m, err = mapper.RESTMapping(ref.groupKind())
	}
	switch {
	case meta.IsNoMatchError(err):
		return schema.GroupVersionKind{}, false, nil
	case err != nil:
		return schema.GroupVersionKind{}, false, err
	}
	return m.GroupVersionKind, true, nil
}

// metadataOnly returns an empty object of kind gvk for reading metadata
// only, so that reads never fetch the content of Secrets.
func metadataOnly(gvk schema.GroupVersionKind) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	return m
}
