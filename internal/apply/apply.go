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

// Package apply applies the objects rendered from a Git revision with
// server-side apply, records them in an inventory and prunes what left it.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// PruneAnnotation with the value PruneDisabled on an object keeps prune
// from deleting it.
const (
	PruneAnnotation = "gitseal.dev/prune"
	PruneDisabled   = "disabled"
)

const (
	// establishTimeout caps the wait for an applied CRD to be Established.
	establishTimeout = time.Minute
	// mappingTimeout caps the wait for discovery to serve the kind of an
	// Established CRD; the kind is unknown after that.
	mappingTimeout = 5 * time.Second
	// pollInterval paces both waits.
	pollInterval = 100 * time.Millisecond
)

// Options configure Apply.
type Options struct {
	// FieldManager is the server-side apply field manager, e.g. "gitseal".
	// Apply forces ownership of every field the objects set. Required.
	FieldManager string
	// Labels are stamped on every applied object, replacing the object's own
	// values for these keys. Prune deletes only objects that still carry
	// all of them.
	Labels map[string]string
	// Prune deletes the objects of previous that the set no longer holds.
	Prune bool
	// DefaultNamespace is the namespace of namespaced objects that have
	// none. When empty, such objects are refused.
	DefaultNamespace string
	// Concurrency is how many requests Apply sends at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Applied holds, by inventory ID, the Result.Hashes of an earlier
	// Apply. An object whose hash is the same is not sent at all: no dry
	// run, no apply; it is listed in Skipped. Nil sends every object,
	// which also undoes what others changed in the cluster since.
	Applied map[string]string
	// BeforePrune, when set, is called with the objects Apply is about to
	// delete, before the first delete: a watcher of the set can then tell
	// Apply's deletes from others'.
	BeforePrune func(refs []ObjectRef)
}

// DefaultConcurrency is the number of requests Apply sends at once unless
// Options say otherwise.
const DefaultConcurrency = 8

func (o Options) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return DefaultConcurrency
}

func (o Options) validate() error {
	if o.FieldManager == "" {
		return errors.New("invalid apply options: empty field manager")
	}
	for k, v := range o.Labels {
		if len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
			return fmt.Errorf("invalid apply options: invalid label %q=%q", k, v)
		}
	}
	if o.DefaultNamespace != "" && len(validation.IsDNS1123Label(o.DefaultNamespace)) > 0 {
		return fmt.Errorf("invalid apply options: invalid default namespace %q", o.DefaultNamespace)
	}
	return nil
}

// Result is what one Apply did. It holds refs only, never object content.
type Result struct {
	// Inventory is what Apply manages now, sorted by ID: after success,
	// the set. After a failure it is previous plus every object this call
	// may have written, less what it pruned or orphaned, so that recording
	// it loses nothing that a later prune should delete.
	Inventory []ObjectRef
	// Created, Configured and Unchanged list the applied objects, stage 1
	// first and then in the order of the set: created by this call, changed
	// by it (their resourceVersion moved), or left exactly as they were.
	Created, Configured, Unchanged []ObjectRef
	// Skipped lists the objects of the set that were not sent because
	// Options.Applied holds their hash, in the order of the set.
	Skipped []ObjectRef
	// Hashes holds, by inventory ID, the hash of every object of the set
	// that this call applied successfully or skipped: pass it as
	// Options.Applied to a later Apply. An object the call failed to apply
	// or never reached has none, so a later Apply sends it.
	Hashes map[string]string
	// Pruned lists the objects prune deleted or found already gone, in the
	// order it deleted them.
	Pruned []ObjectRef
	// Orphaned lists the objects of previous that left the set but stay in
	// the cluster, no longer in the inventory: Prune is off, they are
	// annotated gitseal.dev/prune: disabled, they lost an ownership label,
	// or they are a Namespace or CRD that objects of the set still need.
	Orphaned []ObjectRef
}

// Apply makes the cluster hold objs, the whole rendered set, and prunes what
// left it since previous, the inventory of the last Apply. It never changes
// objs. c must read from the API server, not from a cache.
//
// It checks the set before any API call: every object needs apiVersion,
// kind and metadata.name, and no object may appear twice. Objects whose
// hash opts.Applied holds are left out of everything that follows, except
// that prune keeps them. It then validates every other object with a
// server-side dry run; if any fails it applies nothing. Dry runs and the applies of stage 2 go out
// opts.Concurrency at a time; the dry run also tells which objects exist,
// so no object is read before it is applied. Otherwise it applies in stages, with server-side apply
// forcing ownership as opts.FieldManager: CustomResourceDefinitions and
// Namespaces first, waiting (bounded by ctx, and a minute per CRD) until the
// CRDs are Established, then the rest. Objects that need a CRD or Namespace
// of the set (of its kind, or inside it) are validated again after stage
// 1; if they fail then, stage 1 stays applied but nothing else is. A
// failure of the real apply, rare after a passing dry run, ends Apply once
// the requests under way have returned. Prune (opts.Prune) runs only after the whole
// set applied: it deletes namespaced objects first, then other
// cluster-scoped ones, then Namespaces, and CRDs last; it skips objects
// that lack an ownership label or are annotated gitseal.dev/prune:
// disabled, and Namespaces or CRDs that objects of the set still need.
//
// Apply always returns a non-nil Result, also with an error. The error is
//   - an *Error when objects were refused (invalid input, an unknown kind,
//     forbidden): retrying the same set fails the same way;
//   - a plain error for invalid opts, a programming error;
//   - otherwise a wrapped API or context error, which is transient: retry.
//
// Errors from the prune step wrap ErrPrune as well.
func Apply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, previous []ObjectRef, opts Options) (*Result, error) {
	s := &session{c: c, opts: opts, res: &Result{Hashes: map[string]string{}}, inventory: map[string]ObjectRef{}}
	for _, r := range previous {
		s.inventory[r.String()] = r
	}
	err := s.run(ctx, objs, previous)
	s.res.Inventory = sortedRefs(s.inventory)
	return s.res, err
}

// session is the state of one Apply.
type session struct {
	c    client.Client
	opts Options
	res  *Result
	// mu guards inventory while objects are applied in parallel.
	mu sync.Mutex
	// inventory is previous, plus what this call applied, less what it
	// pruned or orphaned, by ID.
	inventory map[string]ObjectRef
}

// item is one object of the set.
type item struct {
	// obj is the desired state: a copy with the ownership labels and, once
	// resolved, the final namespace.
	obj *unstructured.Unstructured
	ref ObjectRef
	// before is the object's resourceVersion as its last dry run saw it,
	// "" when it did not exist: a dry run writes nothing, so the API
	// server answers with the live version.
	before string
	// hash is hashObject(obj), once the namespace is resolved.
	hash string
}

// outcome is what the real apply did to one object.
type outcome int

const (
	created outcome = iota
	configured
	unchanged
)

func (s *session) run(ctx context.Context, objs []*unstructured.Unstructured, previous []ObjectRef) error {
	if err := s.opts.validate(); err != nil {
		return err
	}
	items, err := prepare(objs, s.opts.Labels)
	if err != nil {
		return err
	}
	idx := indexStage1(desired(items))
	if err := s.resolveNamespaces(items, idx); err != nil {
		return err
	}
	sortForApply(items)
	all := items
	items, err = s.skipApplied(items)
	if err != nil {
		return err
	}

	// Validate everything that can be validated now; objects that may fail
	// only for want of stage 1 wait until it is applied.
	deferred, err := s.dryRun(ctx, items, func(it *item) bool { return len(idx.dependencies(it.ref)) > 0 })
	if err != nil {
		return err
	}

	n := 0
	for n < len(items) && inStage1(items[n].ref.groupKind()) {
		n++
	}
	stage1, stage2 := items[:n], items[n:]
	changed := map[string]bool{}
	for _, it := range stage1 {
		o, err := s.apply(ctx, it)
		if err != nil {
			return err
		}
		s.record(it, o)
		changed[it.ref.String()] = o != unchanged
	}
	for _, it := range stage1 {
		if it.ref.groupKind() == crdGroupKind {
			if err := s.waitEstablished(ctx, it.ref); err != nil {
				return err
			}
		}
	}

	// Validate again what waited for stage 1 and what a changed CRD or
	// Namespace may now judge differently.
	var recheck []*item
	for _, it := range stage2 {
		if idx.revalidate(it.ref, deferred[it], changed) {
			if _, defined := idx.kinds[it.ref.groupKind()]; defined {
				if err := s.waitMapping(ctx, it.ref.groupVersionKind()); err != nil {
					return err
				}
			}
			recheck = append(recheck, it)
		}
	}
	if _, err := s.dryRun(ctx, recheck, nil); err != nil {
		return err
	}

	outcomes := make([]outcome, len(stage2))
	ok := make([]bool, len(stage2))
	err = forEach(ctx, stage2, s.opts.concurrency(), func(i int, it *item) error {
		o, err := s.apply(ctx, it)
		outcomes[i], ok[i] = o, err == nil
		return err
	})
	for i, it := range stage2 {
		if ok[i] {
			s.record(it, outcomes[i])
		} else if s.applied(it) {
			s.record(&item{ref: it.ref}, outcomes[i]) // sent, but not known to have succeeded: no hash
		}
	}
	if err != nil {
		return err
	}
	// What prune keeps is the whole set, the skipped objects with it.
	current := make([]ObjectRef, 0, len(all))
	for _, it := range all {
		current = append(current, it.ref)
	}

	stale := toPrune(previous, current)
	if !s.opts.Prune {
		for _, r := range stale {
			s.orphan(r)
		}
		return nil
	}
	if s.opts.BeforePrune != nil && len(stale) > 0 {
		s.opts.BeforePrune(stale)
	}
	if err := s.prune(ctx, stale, current); err != nil {
		return fmt.Errorf("%w: %w", ErrPrune, err)
	}
	return nil
}

// prepare checks the set without the API server and returns copies of its
// objects carrying the ownership labels. It refuses, as an *Error, objects
// without apiVersion, kind or name, objects that cannot be encoded as JSON,
// and objects that appear twice as written.
func prepare(objs []*unstructured.Unstructured, labels map[string]string) ([]*item, error) {
	var refused []ObjectError
	items := make([]*item, 0, len(objs))
	for i, o := range objs {
		if o == nil {
			refused = append(refused, ObjectError{Message: fmt.Sprintf("object %d is nil", i)})
			continue
		}
		ref := refOf(o)
		if msg := checkIdentity(o); msg != "" {
			refused = append(refused, ObjectError{Ref: ref, Message: fmt.Sprintf("object %d: %s", i, msg)})
			continue
		}
		// A JSON round trip copies the object with the number types that
		// the API machinery expects, and proves it can be sent. Neither
		// error is quoted: they can carry content.
		data, err := json.Marshal(o.Object)
		if err != nil {
			refused = append(refused, ObjectError{Ref: ref, Message: fmt.Sprintf("object %d cannot be encoded as JSON", i)})
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			refused = append(refused, ObjectError{Ref: ref, Message: fmt.Sprintf("object %d cannot be decoded as an object", i)})
			continue
		}
		if len(labels) > 0 {
			l := u.GetLabels()
			if l == nil {
				l = make(map[string]string, len(labels))
			}
			for k, v := range labels {
				l[k] = v
			}
			u.SetLabels(l)
		}
		items = append(items, &item{obj: u, ref: ref})
	}
	refused = append(refused, duplicates(items)...)
	if len(refused) > 0 {
		return nil, &Error{Objects: refused}
	}
	return items, nil
}

// checkIdentity returns what the object lacks to be named, or "".
func checkIdentity(u *unstructured.Unstructured) string {
	switch {
	case u.GetAPIVersion() == "":
		return "no apiVersion"
	case u.GetKind() == "":
		return "no kind"
	case u.GetName() == "":
		return "no metadata.name"
	}
	if _, err := schema.ParseGroupVersion(u.GetAPIVersion()); err != nil {
		return fmt.Sprintf("invalid apiVersion %q", capMessage(u.GetAPIVersion()))
	}
	return ""
}

// duplicates refuses every object whose ID an earlier object has.
func duplicates(items []*item) []ObjectError {
	var refused []ObjectError
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		id := it.ref.String()
		if seen[id] {
			refused = append(refused, ObjectError{Ref: it.ref, Message: "object appears more than once in the set"})
		}
		seen[id] = true
	}
	return refused
}

func desired(items []*item) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(items))
	for i, it := range items {
		out[i] = it.obj
	}
	return out
}

func sortForApply(items []*item) {
	slices.SortStableFunc(items, func(a, b *item) int { return applyCmp(a.ref, b.ref) })
}

// resolveNamespaces sets each object's namespace by the scope of its kind:
// none for a cluster-scoped kind, opts.DefaultNamespace for a namespaced
// object without one. The scope of a kind that a CRD of the set defines is
// the CRD's; any other comes from the RESTMapper, and a kind it does not
// know is refused. Objects that then appear twice are refused too.
func (s *session) resolveNamespaces(items []*item, idx stage1Index) error {
	var refused []ObjectError
	for _, it := range items {
		var namespaced bool
		if d, ok := idx.kinds[it.ref.groupKind()]; ok {
			namespaced = d.namespaced
		} else {
			m, err := s.c.RESTMapper().RESTMapping(it.ref.groupKind(), it.ref.Version)
			if err != nil {
				if transient(err) {
					return fmt.Errorf("map %s: %w", it.ref, capError(err))
				}
				refused = append(refused, ObjectError{Ref: it.ref, Message: capMessage(err.Error())})
				continue
			}
			namespaced = m.Scope.Name() == meta.RESTScopeNameNamespace
		}
		ns, msg := namespaceFor(it.ref.Namespace, namespaced, s.opts.DefaultNamespace)
		if msg != "" {
			refused = append(refused, ObjectError{Ref: it.ref, Message: msg})
			continue
		}
		it.ref.Namespace = ns
		if ns == "" {
			unstructured.RemoveNestedField(it.obj.Object, "metadata", "namespace")
		} else {
			it.obj.SetNamespace(ns)
		}
	}
	refused = append(refused, duplicates(items)...)
	if len(refused) > 0 {
		return &Error{Objects: refused}
	}
	return nil
}

// namespaceFor returns the namespace an object is applied in, or why it
// cannot be applied.
func namespaceFor(given string, namespaced bool, defaultNamespace string) (ns, refused string) {
	switch {
	case !namespaced:
		return "", ""
	case given != "":
		return given, ""
	case defaultNamespace != "":
		return defaultNamespace, ""
	}
	return "", "namespaced object has no namespace and there is no default namespace"
}

// dryRun validates items with a server-side dry run, several at a time,
// and records in each the resourceVersion the API server answered with.
// Failures of items that deferrable accepts are returned for a second try;
// any other failure refuses the set with an *Error listing every one of
// them, in the order of items. A transient error stops the dry run.
func (s *session) dryRun(ctx context.Context, items []*item, deferrable func(*item) bool) (map[*item]bool, error) {
	failures := make([]error, len(items))
	err := forEach(ctx, items, s.opts.concurrency(), func(i int, it *item) error {
		u := it.obj.DeepCopy() // the response is decoded into it
		err := s.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
			client.FieldOwner(s.opts.FieldManager), client.ForceOwnership, client.DryRunAll)
		switch {
		case err == nil:
			it.before = u.GetResourceVersion()
		case transient(err):
			return fmt.Errorf("dry-run apply %s: %w", it.ref, capError(err))
		default:
			failures[i] = err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	deferred := map[*item]bool{}
	var refused []ObjectError
	for i, it := range items {
		switch err := failures[i]; {
		case err == nil:
		case deferrable != nil && deferrable(it):
			deferred[it] = true
		default:
			refused = append(refused, ObjectError{Ref: it.ref, Message: capMessage(err.Error())})
		}
	}
	if len(refused) > 0 {
		return nil, &Error{Objects: refused}
	}
	return deferred, nil
}

// apply applies one object for real and says whether that created it,
// changed it (its resourceVersion moved since the dry run) or left it as
// it was. The object joins the inventory first: once the request is sent,
// it may exist.
func (s *session) apply(ctx context.Context, it *item) (outcome, error) {
	s.mu.Lock()
	s.inventory[it.ref.String()] = it.ref
	s.mu.Unlock()
	u := it.obj.DeepCopy() // the response is decoded into it
	err := s.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(s.opts.FieldManager), client.ForceOwnership)
	if err != nil {
		return unchanged, refusal("apply", it.ref, err)
	}
	switch after := u.GetResourceVersion(); {
	case it.before == "":
		return created, nil
	case after != it.before:
		return configured, nil
	}
	return unchanged, nil
}

// skipApplied hashes every item and returns those that must be sent: the
// ones whose hash opts.Applied does not hold. The others are recorded as
// Skipped and join the inventory as they are.
func (s *session) skipApplied(items []*item) ([]*item, error) {
	send := items[:0:0]
	for _, it := range items {
		h, err := hashObject(it.obj)
		if err != nil {
			return nil, &Error{Objects: []ObjectError{{Ref: it.ref, Message: "object cannot be encoded as JSON"}}}
		}
		it.hash = h
		id := it.ref.String()
		if prev, ok := s.opts.Applied[id]; ok && prev == h {
			s.inventory[id] = it.ref
			s.res.Skipped = append(s.res.Skipped, it.ref)
			s.res.Hashes[id] = h
			continue
		}
		send = append(send, it)
	}
	return send, nil
}

// hashObject returns a short digest of the object as Apply sends it, the
// ownership labels and the namespace included: the first 64 bits of the
// SHA-256 of its JSON encoding (map keys sorted), in hex. It tells a
// changed object from an unchanged one, not one object from another, so
// 64 bits are plenty.
func hashObject(u *unstructured.Unstructured) (string, error) {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8]), nil
}

// applied reports whether the real apply of it was sent.
func (s *session) applied(it *item) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.inventory[it.ref.String()]
	return ok
}

// record adds an applied object to the Result, with its hash when it has
// one.
func (s *session) record(it *item, o outcome) {
	ref := it.ref
	if it.hash != "" {
		s.res.Hashes[ref.String()] = it.hash
	}
	switch o {
	case created:
		s.res.Created = append(s.res.Created, ref)
	case configured:
		s.res.Configured = append(s.res.Configured, ref)
	default:
		s.res.Unchanged = append(s.res.Unchanged, ref)
	}
}

// forEach calls f for every item, at most n at a time, and returns the
// first error; after an error it starts no more calls, and it returns once
// those under way have ended.
func forEach(ctx context.Context, items []*item, n int, f func(i int, it *item) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for range min(n, len(items)) {
		wg.Go(func() {
			for i := range next {
				if err := f(i, items[i]); err != nil {
					once.Do(func() { first = err; cancel(err) })
				}
			}
		})
	}
feed:
	for i := range items {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return context.Cause(ctx)
}

// waitEstablished waits until the applied CRD ref is Established. A CRD
// whose names were refused is an *Error; running out of time is transient.
func (s *session) waitEstablished(ctx context.Context, ref ObjectRef) error {
	ctx, cancel := context.WithTimeout(ctx, establishTimeout)
	defer cancel()
	for {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(ref.groupVersionKind())
		if err := s.c.Get(ctx, client.ObjectKey{Name: ref.Name}, u); err != nil {
			return refusal("wait for established", ref, err)
		}
		established, refused := crdState(u)
		if refused != "" {
			return &Error{Objects: []ObjectError{{Ref: ref, Message: capMessage(refused)}}}
		}
		if established {
			return nil
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return fmt.Errorf("wait for %s to be established: %w", ref, err)
		}
	}
}

// waitMapping waits, up to mappingTimeout, until discovery serves gvk. It
// returns nil also when time runs out: the dry run then refuses the object
// for its unknown kind.
func (s *session) waitMapping(ctx context.Context, gvk schema.GroupVersionKind) error {
	deadline := time.Now().Add(mappingTimeout)
	for {
		_, err := s.c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		if !meta.IsNoMatchError(err) {
			if err != nil && transient(err) {
				return fmt.Errorf("map %s: %w", gvk, capError(err))
			}
			return nil
		}
		if time.Now().After(deadline) {
			return nil
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return fmt.Errorf("wait for %s to be served: %w", gvk, err)
		}
	}
}

// sleep waits for d or until ctx ends, returning ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *session) orphan(r ObjectRef) {
	s.res.Orphaned = append(s.res.Orphaned, r)
	delete(s.inventory, r.String())
}
