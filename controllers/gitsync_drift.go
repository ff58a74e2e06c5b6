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

package controllers

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/apply"
)

// driftWatch finds drift as it happens: it watches the metadata of the
// objects that GitSyncs applied, one informer per kind, started as kinds
// appear in inventories, and marks an object pending when a change takes a
// field from gitseal (apply.FieldsTaken) or deletes it. The GitSync is
// then synced at once, and that sync re-applies, or with correctDrift
// false compares, just the pending objects.
//
// A kind the controller may not list and watch cluster-wide is not
// watched: its drift waits for the next full check. That is said once per
// kind in the log and counted in gitseal_gitsync_drift_watches.
type driftWatch struct {
	// allowed reports whether the controller may list and watch a kind
	// cluster-wide; watch starts watching one.
	allowed func(ctx context.Context, gvk schema.GroupVersionKind) (bool, error)
	watch   func(ctx context.Context, gvk schema.GroupVersionKind) error
	now     func() time.Time
	metrics *metrics

	mu sync.Mutex
	// kinds holds every kind seen in an inventory.
	kinds map[schema.GroupKind]*watchedKind
	syncs map[types.NamespacedName]*watchedSync
}

// watchedKind is whether a kind is watched, and if not, when to try again.
type watchedKind struct {
	watched bool
	retryAt time.Time
	// logged is set once the kind was said, in the log, not to be watched.
	logged bool
}

// driftWatchRetry is how long a kind that could not be watched waits
// before it is tried again, so that a grant takes effect without a
// restart and a refusal costs no requests on every sync.
const driftWatchRetry = 10 * time.Minute

// watchedSync is what the drift watch knows of one GitSync.
type watchedSync struct {
	// inventory holds the IDs of its last inventory: only changes to these
	// objects are its drift.
	inventory map[string]struct{}
	// kinds holds the kinds of its last inventory; nil until track has run.
	kinds map[schema.GroupKind]struct{}
	// pruning holds the objects its sync is deleting: their deletion is
	// not drift. track clears it.
	pruning map[string]struct{}
	// pending holds the objects changed since its last sync looked at them.
	pending map[string]struct{}
	// drifted holds the objects reported in its Drifted condition
	// (correctDrift false), with their refs for the message.
	drifted map[string]apply.ObjectRef
}

func newDriftWatch(m *metrics) *driftWatch {
	return &driftWatch{metrics: m, now: time.Now, kinds: map[schema.GroupKind]*watchedKind{}, syncs: map[types.NamespacedName]*watchedSync{}}
}

// track records the inventory of a GitSync after a sync and starts
// watching the kinds in it that are not watched yet. A kind that cannot be
// watched is logged once, left to the full check, and tried again after
// driftWatchRetry; track never fails.
func (d *driftWatch) track(ctx context.Context, gs *gitsealv1alpha1.GitSync) {
	refs := fromInventory(gs.Status.Inventory)
	ids := make(map[string]struct{}, len(refs))
	inventoryKinds := map[schema.GroupKind]struct{}{}
	var kinds []schema.GroupVersionKind
	now := d.now()
	d.mu.Lock()
	s := d.sync(client.ObjectKeyFromObject(gs))
	for _, ref := range refs {
		id := ref.String()
		ids[id] = struct{}{}
		gk := schema.GroupKind{Group: ref.Group, Kind: ref.Kind}
		inventoryKinds[gk] = struct{}{}
		k := d.kinds[gk]
		if k == nil {
			k = &watchedKind{}
			d.kinds[gk] = k
		}
		if !k.watched && !now.Before(k.retryAt) {
			k.retryAt = now.Add(driftWatchRetry) // also keeps another sync from trying it at once
			kinds = append(kinds, gk.WithVersion(ref.Version))
		}
	}
	s.inventory, s.kinds, s.pruning = ids, inventoryKinds, nil
	for id := range s.drifted {
		if _, ok := ids[id]; !ok {
			delete(s.drifted, id)
		}
	}
	d.mu.Unlock()

	log := ctrl.LoggerFrom(ctx)
	for _, gvk := range kinds {
		ok, err := d.allowed(ctx, gvk)
		if err == nil && ok {
			err = d.watch(ctx, gvk)
		}
		state := "watching"
		switch {
		case err != nil:
			state = "failed"
		case !ok:
			state = "refused"
		}
		d.mu.Lock()
		k := d.kinds[gvk.GroupKind()]
		k.watched = state == "watching"
		logNow := !k.watched && !k.logged
		k.logged = k.logged || logNow
		d.mu.Unlock()
		switch {
		case !logNow:
		case err != nil:
			log.Info("drift of this kind is found by the full check only: it could not be watched",
				"kind", gvk.GroupKind().String(), "error", err.Error())
		default:
			log.Info("drift of this kind is found by the full check only: the controller may not list and watch it cluster-wide",
				"kind", gvk.GroupKind().String())
		}
		if d.metrics != nil {
			d.metrics.driftWatches.WithLabelValues(state).Inc()
		}
	}
}

// prunes records that the GitSync's sync is about to delete refs, so that
// their deletion is not taken for drift.
func (d *driftWatch) prunes(key types.NamespacedName, refs []apply.ObjectRef) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sync(key)
	if s.pruning == nil {
		s.pruning = make(map[string]struct{}, len(refs))
	}
	for _, r := range refs {
		s.pruning[r.String()] = struct{}{}
	}
}

// hasPending reports whether the watch saw drift of the GitSync that no
// sync has taken yet.
func (d *driftWatch) hasPending(key types.NamespacedName) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.syncs[key]
	return s != nil && len(s.pending) > 0
}

// watchesAll reports whether every kind of the GitSync's last inventory
// is watched, so that its drift is seen as it happens. It is false until
// track has run for the GitSync: after the controller starts, drift made
// while it was away is not seen by any watch.
func (d *driftWatch) watchesAll(key types.NamespacedName) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.syncs[key]
	if s == nil || s.kinds == nil {
		return false
	}
	for gk := range s.kinds {
		if k := d.kinds[gk]; k == nil || !k.watched {
			return false
		}
	}
	return true
}

// sync returns the record of a GitSync, created empty. d.mu is held.
func (d *driftWatch) sync(key types.NamespacedName) *watchedSync {
	s := d.syncs[key]
	if s == nil {
		s = &watchedSync{pending: map[string]struct{}{}, drifted: map[string]apply.ObjectRef{}}
		d.syncs[key] = s
	}
	return s
}

// forget drops a GitSync that is gone or suspended.
func (d *driftWatch) forget(key types.NamespacedName) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.syncs, key)
}

// take returns and clears the objects of a GitSync changed since its last
// sync: that sync is about to re-apply them.
func (d *driftWatch) take(key types.NamespacedName) map[string]struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.syncs[key]
	if s == nil || len(s.pending) == 0 {
		return nil
	}
	p := s.pending
	s.pending = map[string]struct{}{}
	return p
}

// settle records what a comparison without correction found: of the
// objects checked (nil: all of them), those in found drifted and the
// others did not. It returns every object now drifted, in ID order.
func (d *driftWatch) settle(key types.NamespacedName, checked map[string]struct{}, found []apply.ObjectRef) []apply.ObjectRef {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sync(key)
	if checked == nil {
		clear(s.drifted)
	}
	for id := range checked {
		delete(s.drifted, id)
	}
	for _, ref := range found {
		s.drifted[ref.String()] = ref
	}
	out := make([]apply.ObjectRef, 0, len(s.drifted))
	for _, ref := range s.drifted {
		out = append(out, ref)
	}
	slices.SortFunc(out, func(a, b apply.ObjectRef) int { return cmp.Compare(a.String(), b.String()) })
	return out
}

// changed handles a change to a watched object: after is nil for a
// deletion, before for an object the watch sees for the first time (it
// was created, or the watch just started). It returns the GitSync to sync
// when the change is drift of an object in its inventory: a field taken
// from gitseal, a deletion, an object that holds none of gitseal's fields;
// or when it changes an object already reported drifted, which may have
// been put back.
func (d *driftWatch) changed(gk schema.GroupKind, before, after *metav1.PartialObjectMetadata) (types.NamespacedName, bool) {
	obj := after
	if obj == nil {
		obj = before
	}
	l := obj.GetLabels()
	key := types.NamespacedName{Namespace: l[LabelGitSyncNamespace], Name: l[LabelGitSyncName]}
	id := apply.ObjectRef{Group: gk.Group, Kind: gk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}.String()
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.syncs[key]
	if s == nil {
		return key, false
	}
	if _, ok := s.inventory[id]; !ok {
		return key, false
	}
	if _, pruned := s.pruning[id]; pruned && after == nil {
		return key, false // the sync's own prune
	}
	_, reported := s.drifted[id]
	switch {
	case reported, after == nil:
	case before == nil:
		if appliedByGitseal(after) {
			return key, false
		}
	case !apply.FieldsTaken(before.ManagedFields, after.ManagedFields, FieldManager):
		return key, false
	}
	s.pending[id] = struct{}{}
	if d.metrics != nil {
		d.metrics.driftEvents.Inc()
	}
	return key, true
}

// appliedByGitseal reports whether gitseal's Apply entry is among the
// object's managed fields.
func appliedByGitseal(obj *metav1.PartialObjectMetadata) bool {
	for _, e := range obj.ManagedFields {
		if e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			return true
		}
	}
	return false
}

// handler maps the changes to watched objects of one kind to syncs.
func (d *driftWatch) handler(gk schema.GroupKind) handler.TypedEventHandler[*metav1.PartialObjectMetadata, reconcile.Request] {
	enqueue := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], key types.NamespacedName, ok bool) {
		if ok {
			q.Add(reconcile.Request{NamespacedName: key})
		}
	}
	return handler.TypedFuncs[*metav1.PartialObjectMetadata, reconcile.Request]{
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[*metav1.PartialObjectMetadata], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if e.ObjectOld.GetResourceVersion() == e.ObjectNew.GetResourceVersion() {
				return // a resync, not a change
			}
			key, ok := d.changed(gk, e.ObjectOld, e.ObjectNew)
			enqueue(q, key, ok)
		},
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[*metav1.PartialObjectMetadata], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			key, ok := d.changed(gk, nil, e.Object)
			enqueue(q, key, ok)
		},
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[*metav1.PartialObjectMetadata], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			key, ok := d.changed(gk, e.Object, nil)
			enqueue(q, key, ok)
		},
	}
}

// driftCacheOptions are those of the cache the drift watch reads: the
// metadata of objects that carry the GitSync labels, in every namespace,
// with nothing kept but what the decision and the mapping need
// (driftTransform). With gitSyncNamespaces set (the controller watches
// only some namespaces), only objects of GitSyncs in those namespaces:
// what other controllers' GitSyncs applied is not held.
func driftCacheOptions(gitSyncNamespaces []string) (cache.Options, error) {
	req, err := labels.NewRequirement(LabelGitSyncName, selection.Exists, nil)
	if err != nil {
		return cache.Options{}, fmt.Errorf("drift watch label selector: %w", err)
	}
	sel := labels.NewSelector().Add(*req)
	if len(gitSyncNamespaces) > 0 {
		in, err := labels.NewRequirement(LabelGitSyncNamespace, selection.In, gitSyncNamespaces)
		if err != nil {
			return cache.Options{}, fmt.Errorf("drift watch label selector: %w", err)
		}
		sel = sel.Add(*in)
	}
	return cache.Options{DefaultLabelSelector: sel, DefaultTransform: driftTransform}, nil
}

// driftTransform keeps, of a watched object's metadata, its name,
// namespace, resourceVersion, the two GitSync labels, and gitseal's Apply
// entry of managedFields: the evidence of drift. Annotations (such as a
// last-applied-configuration) and the other managers' entries are
// dropped, which keeps the cache small.
func driftTransform(in any) (any, error) {
	m, ok := in.(*metav1.PartialObjectMetadata)
	if !ok {
		return in, nil
	}
	l := m.GetLabels()
	out := &metav1.PartialObjectMetadata{TypeMeta: m.TypeMeta}
	out.Name, out.Namespace, out.UID, out.ResourceVersion = m.Name, m.Namespace, m.UID, m.ResourceVersion
	out.Labels = map[string]string{LabelGitSyncName: l[LabelGitSyncName], LabelGitSyncNamespace: l[LabelGitSyncNamespace]}
	for _, e := range m.ManagedFields {
		if e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			out.ManagedFields = []metav1.ManagedFieldsEntry{e}
		}
	}
	return out, nil
}

// canListAndWatch asks the API server whether the controller may list
// and watch a kind in every namespace: a watch it may not start would
// retry, and log, forever.
func canListAndWatch(c client.Client, mapper meta.RESTMapper) func(context.Context, schema.GroupVersionKind) (bool, error) {
	return func(ctx context.Context, gvk schema.GroupVersionKind) (bool, error) {
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return false, err
		}
		for _, verb := range []string{"list", "watch"} {
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Group: gvk.Group, Resource: m.Resource.Resource, Verb: verb},
			}}
			if err := c.Create(ctx, review); err != nil {
				return false, fmt.Errorf("review access to %s: %w", m.Resource.Resource, err)
			}
			if !review.Status.Allowed {
				return false, nil
			}
		}
		return true, nil
	}
}

// driftWatchSyncTimeout bounds the wait for a new watch to list its kind.
const driftWatchSyncTimeout = 30 * time.Second

// watchKind starts watching the metadata of one kind in the drift cache,
// its changes going to the GitSync controller's queue.
func watchKind(d *driftWatch, c cache.Cache, w interface {
	Watch(source.TypedSource[reconcile.Request]) error
}) func(context.Context, schema.GroupVersionKind) error {
	return func(ctx context.Context, gvk schema.GroupVersionKind) error {
		obj := &metav1.PartialObjectMetadata{}
		obj.SetGroupVersionKind(gvk)
		src := source.Kind(c, obj, d.handler(gvk.GroupKind()))
		if err := w.Watch(src); err != nil {
			return err
		}
		// Until the watch has listed the kind, a change goes unseen: wait,
		// so that a GitSync reported synced is also watched.
		waitCtx, cancel := context.WithTimeout(ctx, driftWatchSyncTimeout)
		defer cancel()
		return src.WaitForSync(waitCtx)
	}
}
