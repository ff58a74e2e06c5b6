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
	"fmt"
	"slices"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/gitseal/gitseal/internal/apply"
)

// requests counts what a client sent to the (real) API server, by kind of
// request.
type requests struct {
	mu     sync.Mutex
	counts map[string]int
}

func (r *requests) add(what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[what]++
}

func (r *requests) get(what string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[what]
}

func (r *requests) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.counts {
		n += c
	}
	return n
}

// countingClient wraps env.Client and counts every request it sends: "get",
// "delete", "apply" and "dry-run apply"; anything else is "other".
func countingClient(t *testing.T) (client.Client, *requests) {
	t.Helper()
	env := cluster.Get(t)
	r := &requests{counts: map[string]int{}}
	base, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Client.Scheme(), Mapper: env.Client.RESTMapper()})
	if err != nil {
		t.Fatal(err)
	}
	c := interceptor.NewClient(base, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			r.add("get")
			return c.Get(ctx, key, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			r.add("delete")
			return c.Delete(ctx, obj, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			what := "apply"
			if slices.ContainsFunc(opts, func(o client.ApplyOption) bool { return o == client.DryRunAll }) {
				what = "dry-run apply"
			}
			r.add(what)
			return c.Apply(ctx, obj, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			r.add("other")
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			r.add("other")
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			r.add("other")
			return c.Patch(ctx, obj, patch, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			r.add("other")
			return c.List(ctx, list, opts...)
		},
	})
	return c, r
}

// manyConfigMaps returns n ConfigMaps named cm-00 and up, with a Namespace
// that they do not live in but that the set also holds.
func manyConfigMaps(t *testing.T, ns string, n int, value func(i int) string) []*unstructured.Unstructured {
	objs := []*unstructured.Unstructured{namespace(t, ns+"-extra")}
	for i := range n {
		objs = append(objs, configMap(t, ns, fmt.Sprintf("cm-%02d", i), value(i)))
	}
	return objs
}

// TestUnchangedSetSendsNothing: with the hashes of the last Apply, the same
// set sends no request at all, and says so in Skipped.
func TestUnchangedSetSendsNothing(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	objs := manyConfigMaps(t, ns, 20, func(int) string { return "v" })
	first := mustApply(t, objs, nil, options(ns))
	if len(first.Hashes) != len(objs) {
		t.Fatalf("hashes for %d of %d objects", len(first.Hashes), len(objs))
	}

	c, sent := countingClient(t)
	opts := options(ns)
	opts.Applied = first.Hashes
	res, err := apply.Apply(t.Context(), c, objs, first.Inventory, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := sent.total(); n != 0 {
		t.Errorf("an unchanged set sent %d requests: %v", n, sent.counts)
	}
	if !sameIDs(res.Skipped, refs(objs...)) || len(res.Created)+len(res.Configured)+len(res.Unchanged)+len(res.Pruned) != 0 {
		t.Errorf("skipped %v, created %v, configured %v, unchanged %v; want all skipped",
			ids(res.Skipped), ids(res.Created), ids(res.Configured), ids(res.Unchanged))
	}
	if !slices.Equal(ids(res.Inventory), ids(first.Inventory)) || !maps(res.Hashes, first.Hashes) {
		t.Errorf("inventory or hashes changed: %v, %v", ids(res.Inventory), res.Hashes)
	}
}

// TestOnlyChangedObjectsAreSent: 2 changed and 2 removed objects of 21 cost
// a dry run and an apply for each changed one and a read and a delete for
// each removed one; the rest is not sent, and prune keeps it.
func TestOnlyChangedObjectsAreSent(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	objs := manyConfigMaps(t, ns, 20, func(int) string { return "v1" })
	first := mustApply(t, objs, nil, options(ns))
	untouched := objs[:19] // the Namespace and cm-00 to cm-17
	before := resourceVersions(t, refs(untouched[3:]...))

	next := manyConfigMaps(t, ns, 18, func(i int) string {
		if i < 2 {
			return "v2"
		}
		return "v1"
	})
	c, sent := countingClient(t)
	opts := options(ns)
	opts.Applied = first.Hashes
	res, err := apply.Apply(t.Context(), c, next, first.Inventory, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"dry-run apply": 2, "apply": 2, "get": 2, "delete": 2}
	for what, n := range want {
		if got := sent.get(what); got != n {
			t.Errorf("%d requests %q, want %d (all: %v)", got, what, n, sent.counts)
		}
	}
	if sent.total() != 8 {
		t.Errorf("requests %v, want only %v", sent.counts, want)
	}
	if !sameIDs(res.Configured, refs(next[1:3]...)) || !sameIDs(res.Pruned, refs(objs[19:]...)) ||
		!sameIDs(res.Skipped, append(refs(next[:1]...), refs(next[3:]...)...)) {
		t.Errorf("configured %v, pruned %v, skipped %v", ids(res.Configured), ids(res.Pruned), ids(res.Skipped))
	}
	if !sameIDs(res.Inventory, refs(next...)) || len(res.Hashes) != len(next) || res.Hashes[refOf(next[1]).String()] == first.Hashes[refOf(next[1]).String()] {
		t.Errorf("inventory %v, hashes %v: want the new set, with the new hash of the changed objects", ids(res.Inventory), res.Hashes)
	}
	if got := dataKey(t, refOf(next[1])); got != "v2" {
		t.Errorf("cm-00 data.key = %q, want v2", got)
	}
	if after := resourceVersions(t, refs(untouched[3:]...)); !maps(before, after) {
		t.Errorf("objects unchanged in the set were written: %v -> %v", before, after)
	}
	if get(t, refOf(objs[0])) == nil {
		t.Errorf("the skipped Namespace was pruned")
	}
}

// TestRefusedSetKeepsNoHashOfWhatItDidNotApply: a refused set returns the
// hashes of the skipped objects only, so that the next Apply sends the
// others again (C7: nothing is taken as applied that was not).
func TestRefusedSetKeepsNoHashOfWhatItDidNotApply(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	a, b := configMap(t, ns, "a", "v1"), configMap(t, ns, "b", "v1")
	first := mustApply(t, []*unstructured.Unstructured{a, b}, nil, options(ns))

	changed := configMap(t, ns, "b", "v2")
	bad := configMap(t, ns, "Bad_Name", "v")
	opts := options(ns)
	opts.Applied = first.Hashes
	res, err := apply.Apply(t.Context(), env.Client, []*unstructured.Unstructured{a, changed, bad}, first.Inventory, opts)
	_ = asError(t, err) // fails the test unless the set was refused
	if _, ok := res.Hashes[refOf(a).String()]; !ok || len(res.Hashes) != 1 {
		t.Errorf("hashes after a refused set %v, want only the skipped a", res.Hashes)
	}
	if got := dataKey(t, refOf(b)); got != "v1" {
		t.Errorf("b.data.key = %q, want the last good v1", got)
	}
}

// TestHandEditOfASkippedObjectStaysUntilAFullApply: an object not sent is
// not corrected; Apply without Applied (a full check) corrects it.
func TestHandEditOfASkippedObjectStaysUntilAFullApply(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "apply")
	a := configMap(t, ns, "a", "from-git")
	first := mustApply(t, []*unstructured.Unstructured{a}, nil, options(ns))
	handEdit(t, ns, "a", "by-hand")

	opts := options(ns)
	opts.Applied = first.Hashes
	mustApply(t, []*unstructured.Unstructured{a}, first.Inventory, opts)
	if got := dataKey(t, refOf(a)); got != "by-hand" {
		t.Errorf("data.key = %q after an incremental apply, want the hand edit left", got)
	}
	mustApply(t, []*unstructured.Unstructured{a}, first.Inventory, options(ns))
	if got := dataKey(t, refOf(a)); got != "from-git" {
		t.Errorf("data.key = %q after a full apply, want from-git", got)
	}
}
