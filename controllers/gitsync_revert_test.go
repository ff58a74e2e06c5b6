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

package controllers_test

import (
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
)

// TestGitSyncRollbackIsGitRevert: a commit that adds, changes and removes
// objects is rolled back with `git revert`, and the cluster returns to
// exactly the state before it: the removed object back, the added one
// pruned, the changed one as it was. No sync is requested: the periodic
// sync finds each commit, as it would in production.
func TestGitSyncRollbackIsGitRevert(t *testing.T) {
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	apps := c.watch
	first := repo.Commit(t, map[string]string{
		"apps/keep.yaml":   configMap(apps, "keep", "1"),
		"apps/change.yaml": configMap(apps, "change", "1"),
		"apps/remove.yaml": configMap(apps, "remove", "1"),
	}, "first")
	gs := newGitSync(c.ns, "rollback", repo.url, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.Interval = metav1.Duration{Duration: time.Second}
	})
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	synced := waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)
	before, inventoryBefore := appliedState(t, apps, gs.Name), synced.Status.Inventory.List()

	change := repo.Commit(t, map[string]string{
		"apps/keep.yaml":   configMap(apps, "keep", "1"),
		"apps/change.yaml": configMap(apps, "change", "2"),
		"apps/add.yaml":    configMap(apps, "add", "1"),
	}, "change")
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+change)
	want := map[string]string{"keep": "1", "change": "2", "add": "1"}
	if got := appliedState(t, apps, gs.Name); !maps.Equal(got, want) {
		t.Fatalf("after the change the cluster holds %v, want %v", got, want)
	}

	revert := repo.Revert(t, change)
	reverted := waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+revert)
	if got := appliedState(t, apps, gs.Name); !maps.Equal(got, before) {
		t.Errorf("after git revert the cluster holds %v, want the state before the change %v", got, before)
	}
	if got := reverted.Status.Inventory.List(); len(got) != len(inventoryBefore) {
		t.Errorf("inventory after the revert %v, before the change %v", got, inventoryBefore)
	} else {
		for i := range got {
			if got[i].ID != inventoryBefore[i].ID {
				t.Errorf("inventory after the revert %v, before the change %v", got, inventoryBefore)
				break
			}
		}
	}
}

// appliedState returns the value of each ConfigMap in ns that the named
// GitSync applied, by name.
func appliedState(t *testing.T, ns, gitSync string) map[string]string {
	t.Helper()
	env := cluster.Get(t)
	var list corev1.ConfigMapList
	if err := env.Client.List(t.Context(), &list, client.InNamespace(ns),
		client.MatchingLabels{controllers.LabelGitSyncName: gitSync}); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, cm := range list.Items {
		out[cm.Name] = cm.Data["value"]
	}
	return out
}
