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
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/apply"
)

// TestDriftWatchTrack checks how the drift watch takes up the kinds of an
// inventory (issue #12): each kind is watched once; one the controller may
// not watch, or whose watch fails, is left to the full check without
// failing anything, and tried again when a later sync lists it; only
// changes to inventoried objects of a tracked GitSync count.
func TestDriftWatchTrack(t *testing.T) {
	cm := schema.GroupKind{Kind: "ConfigMap"}
	deploy := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	role := schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "Role"}
	allowed := map[schema.GroupKind]bool{cm: true, deploy: false, role: true}
	var asked, watched []schema.GroupKind
	d := newDriftWatch(nil)
	d.allowed = func(_ context.Context, gvk schema.GroupVersionKind) (bool, error) {
		asked = append(asked, gvk.GroupKind())
		return allowed[gvk.GroupKind()], nil
	}
	d.watch = func(_ context.Context, gvk schema.GroupVersionKind) error {
		if gvk.GroupKind() == role {
			return errors.New("no such kind")
		}
		watched = append(watched, gvk.GroupKind())
		return nil
	}
	gs := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "apps"}}
	gs.Status.Inventory = inventoryOf(
		gitsealv1alpha1.InventoryEntry{ID: "team_a__ConfigMap", Version: "v1"},
		gitsealv1alpha1.InventoryEntry{ID: "team_b__ConfigMap", Version: "v1"},
		gitsealv1alpha1.InventoryEntry{ID: "team_web_apps_Deployment", Version: "v1"},
		gitsealv1alpha1.InventoryEntry{ID: "team_reader_rbac.authorization.k8s.io_Role", Version: "v1"},
	)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d.now = func() time.Time { return now }
	d.track(t.Context(), gs)
	d.track(t.Context(), gs)
	if want := []schema.GroupKind{cm, deploy, role}; !slices.Equal(asked, want) {
		t.Errorf("asked about %v, want %v: each kind once until the retry", asked, want)
	}
	now = now.Add(driftWatchRetry)
	d.track(t.Context(), gs)
	if want := []schema.GroupKind{cm, deploy, role, deploy, role}; !slices.Equal(asked, want) {
		t.Errorf("asked about %v, want %v: a watched kind once, the others again after the retry", asked, want)
	}
	if want := []schema.GroupKind{cm}; !slices.Equal(watched, want) {
		t.Errorf("watched %v, want %v", watched, want)
	}

	obj := func(ns, name string, owner types.NamespacedName) *metav1.PartialObjectMetadata {
		o := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{LabelGitSyncName: owner.Name, LabelGitSyncNamespace: owner.Namespace}}}
		return o
	}
	key := types.NamespacedName{Namespace: "team", Name: "apps"}
	other := types.NamespacedName{Namespace: "team", Name: "other"}
	if _, ok := d.changed(cm, obj("team", "a", key), nil); !ok {
		t.Error("deleting an inventoried object is not drift")
	}
	if _, ok := d.changed(cm, obj("team", "c", key), nil); ok {
		t.Error("deleting an object the inventory does not list is drift")
	}
	if _, ok := d.changed(cm, obj("team", "b", other), nil); ok {
		t.Error("an object labelled for another GitSync is drift of it")
	}
	if _, ok := d.changed(cm, nil, obj("team", "b", key)); !ok {
		t.Error("an inventoried object without gitseal's fields is not drift")
	}
	if got := d.take(key); len(got) != 2 {
		t.Errorf("pending %v, want a and b", got)
	}
	if got := d.take(key); len(got) != 0 {
		t.Errorf("pending %v after take, want none", got)
	}
	d.forget(key)
	if _, ok := d.changed(cm, obj("team", "a", key), nil); ok {
		t.Error("a forgotten GitSync still gets drift")
	}
}

// A GitSync is covered by watches only once every kind it holds is
// watched; until then, and before its first sync since the controller
// started, each of its syncs is a full check (C3: drift is still undone at
// every interval without the extra RBAC).
func TestDriftWatchCoversAGitSyncOnlyWhenEveryKindIsWatched(t *testing.T) {
	allowed := map[string]bool{"ConfigMap": true, "Deployment": false}
	d := newDriftWatch(nil)
	d.allowed = func(_ context.Context, gvk schema.GroupVersionKind) (bool, error) { return allowed[gvk.Kind], nil }
	d.watch = func(context.Context, schema.GroupVersionKind) error { return nil }
	inventory := func(ids ...string) *gitsealv1alpha1.Inventory {
		var entries []gitsealv1alpha1.InventoryEntry
		for _, id := range ids {
			entries = append(entries, gitsealv1alpha1.InventoryEntry{ID: id, Version: "v1"})
		}
		return inventoryOf(entries...)
	}
	configOnly := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "config"}}
	configOnly.Status.Inventory = inventory("team_a__ConfigMap")
	mixed := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "mixed"}}
	mixed.Status.Inventory = inventory("team_a__ConfigMap", "team_web_apps_Deployment")
	empty := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "empty"}}

	for _, gs := range []*gitsealv1alpha1.GitSync{configOnly, mixed, empty} {
		if d.watchesAll(client.ObjectKeyFromObject(gs)) {
			t.Errorf("%s is covered before its first sync", gs.Name)
		}
		d.track(t.Context(), gs)
	}
	if !d.watchesAll(client.ObjectKeyFromObject(configOnly)) {
		t.Error("a GitSync of watched ConfigMaps is not covered")
	}
	if d.watchesAll(client.ObjectKeyFromObject(mixed)) {
		t.Error("a GitSync holding an unwatched Deployment is covered")
	}
	if !d.watchesAll(client.ObjectKeyFromObject(empty)) {
		t.Error("a GitSync that applied nothing is not covered")
	}
}

// The sync's own prune is not drift: a deletion of an object the sync
// said it is pruning sends no second sync, while another deletion still
// does.
func TestDriftWatchIgnoresTheSyncsOwnPrune(t *testing.T) {
	d := newDriftWatch(nil)
	d.allowed = func(context.Context, schema.GroupVersionKind) (bool, error) { return true, nil }
	d.watch = func(context.Context, schema.GroupVersionKind) error { return nil }
	gs := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "apps"}}
	gs.Status.Inventory = inventoryOf(
		gitsealv1alpha1.InventoryEntry{ID: "team_a__ConfigMap", Version: "v1"},
		gitsealv1alpha1.InventoryEntry{ID: "team_b__ConfigMap", Version: "v1"},
	)
	d.track(t.Context(), gs)
	key := client.ObjectKeyFromObject(gs)
	cm := schema.GroupKind{Kind: "ConfigMap"}
	obj := func(name string) *metav1.PartialObjectMetadata {
		return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name,
			Labels: map[string]string{LabelGitSyncName: key.Name, LabelGitSyncNamespace: key.Namespace}}}
	}

	d.prunes(key, []apply.ObjectRef{{Namespace: "team", Name: "a", Kind: "ConfigMap", Version: "v1"}})
	if _, drift := d.changed(cm, obj("a"), nil); drift {
		t.Error("the sync's own prune of a is drift")
	}
	if _, drift := d.changed(cm, obj("b"), nil); !drift {
		t.Error("deleting b, which the sync keeps, is not drift")
	}
	gs.Status.Inventory = inventoryOf(gs.Status.Inventory.List()[:1]...)
	d.track(t.Context(), gs) // the next sync's inventory clears what was pruned
	if _, drift := d.changed(cm, obj("a"), nil); !drift {
		t.Error("a deletion of a after the prune was settled is not drift")
	}
}

// TestDriftCacheHoldsOnlyTheWatchedGitSyncsObjects: with watched
// namespaces, the drift watch's cache selects only objects applied by
// GitSyncs in them (or in the controller's own), wherever the objects
// live; without, every object a GitSync applied.
func TestDriftCacheHoldsOnlyTheWatchedGitSyncsObjects(t *testing.T) {
	applied := func(gitSyncNamespace string) labels.Set {
		return labels.Set{LabelGitSyncName: "apps", LabelGitSyncNamespace: gitSyncNamespace}
	}
	tests := []struct {
		name   string
		watch  []string
		labels labels.Set
		want   bool
	}{
		{"an object of a GitSync in a watched namespace is held", []string{"gitseal-system", "team-a"}, applied("team-a"), true},
		{"an object of a GitSync in the controller's namespace is held", []string{"gitseal-system", "team-a"}, applied("gitseal-system"), true},
		{"an object of another controller's GitSync is not held", []string{"gitseal-system", "team-a"}, applied("team-b"), false},
		{"an object without the GitSync labels is not held", []string{"gitseal-system"}, labels.Set{"app": "x"}, false},
		{"watching every namespace holds every GitSync's object", nil, applied("team-b"), true},
		{"watching every namespace still needs the GitSync label", nil, labels.Set{"app": "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := driftCacheOptions(tt.watch)
			if err != nil {
				t.Fatal(err)
			}
			if got := opts.DefaultLabelSelector.Matches(tt.labels); got != tt.want {
				t.Errorf("selector %s matches %v: %v, want %v", opts.DefaultLabelSelector, tt.labels, got, tt.want)
			}
		})
	}
}
