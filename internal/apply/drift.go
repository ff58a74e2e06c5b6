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
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Drift reports which objects of the set differ from what applying it would
// make them, without changing anything: each object is applied as a
// server-side dry run and the answer compared with the live object. An
// object deleted by hand has drifted; a field someone else set that the
// set does not mention has not, since applying would leave it. Secrets are
// compared only for existence: their data is never read.
//
// Drift is for a set that was applied before, so it does not stage: an
// object whose kind or namespace does not exist is reported as drifted.
// Errors are as Apply's: an *Error for objects the dry run refuses, a
// wrapped transient error otherwise.
func Drift(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, opts Options) ([]ObjectRef, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	items, err := prepare(objs, opts.Labels)
	if err != nil {
		return nil, err
	}
	s := &session{c: c, opts: opts, res: &Result{}, inventory: map[string]ObjectRef{}}
	if err := s.resolveNamespaces(items, indexStage1(desired(items))); err != nil {
		return nil, err
	}
	sortForApply(items)

	var mu sync.Mutex
	drifted := make([]bool, len(items))
	var refused []ObjectError
	err = forEach(ctx, items, opts.concurrency(), func(i int, it *item) error {
		d, err := s.drifted(ctx, it)
		switch {
		case err == nil:
			drifted[i] = d
		case transient(err):
			return fmt.Errorf("drift check of %s: %w", it.ref, capError(err))
		default:
			mu.Lock()
			refused = append(refused, ObjectError{Ref: it.ref, Message: capMessage(err.Error())})
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(refused) > 0 {
		return nil, &Error{Objects: refused}
	}
	var out []ObjectRef
	for i, it := range items {
		if drifted[i] {
			out = append(out, it.ref)
		}
	}
	return out, nil
}

// drifted compares the dry-run answer for one object with the live one.
func (s *session) drifted(ctx context.Context, it *item) (bool, error) {
	key := client.ObjectKey{Namespace: it.ref.Namespace, Name: it.ref.Name}
	if it.ref.Group == "" && it.ref.Kind == "Secret" {
		err := s.c.Get(ctx, key, metadataOnly(it.ref.groupVersionKind()))
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(it.ref.groupVersionKind())
	if err := s.c.Get(ctx, key, live); err != nil {
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			return true, nil
		}
		return false, err
	}
	want := it.obj.DeepCopy() // the answer is decoded into it
	err := s.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(want),
		client.FieldOwner(s.opts.FieldManager), client.ForceOwnership, client.DryRunAll)
	if err != nil {
		return false, err
	}
	return !equality.Semantic.DeepEqual(comparable(want), comparable(live)), nil
}

// comparable drops what an apply changes without the object changing: the
// record of who manages which field, and when.
func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	return c.Object
}
