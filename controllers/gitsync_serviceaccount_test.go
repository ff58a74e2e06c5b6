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
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/test/testenv"
)

// TestGitSyncNeverAppliesWithTheControllersRights: a GitSync that names no
// ServiceAccount, even in the controller's own namespace, is refused with
// InvalidSpec, Stalled, and a message that says what to set, and nothing
// is applied (C1, C2); with --default-service-account it applies as that
// account of its own namespace, and nothing else.
func TestGitSyncNeverAppliesWithTheControllersRights(t *testing.T) {
	env := cluster.Get(t)
	t.Run("no ServiceAccount and no default is refused", func(t *testing.T) {
		c := startController(t, setupOpts{})
		repo := newGitRepo(t, c.ns)
		rev := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "1")}, "first")
		gs := newGitSync(c.ns, "no-sa", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.ServiceAccountName = "" })
		create(t, gs)
		got := waitSync(t, client.ObjectKeyFromObject(gs), gitsealv1alpha1.ReasonInvalidSpec, "")
		msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
		for _, want := range []string{"spec.serviceAccountName is required", "a ServiceAccount in " + c.ns, "--default-service-account"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not say %q", msg, want)
			}
		}
		if !meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionStalled) {
			t.Errorf("not Stalled: %+v", got.Status.Conditions)
		}
		if got.Status.LastAttemptedRevision != "" || got.Status.Inventory != nil {
			t.Errorf("refused before fetching, yet the status has %q and %+v", got.Status.LastAttemptedRevision, got.Status.Inventory)
		}
		if _, err := getConfigMap(t, c.watch, "a"); !apierrors.IsNotFound(err) {
			t.Errorf("revision %s was applied with the controller's rights: %v", rev, err)
		}
	})

	t.Run("the default ServiceAccount is the GitSync's own namespace's", func(t *testing.T) {
		c := startController(t, setupOpts{opts: func(o *controllers.Options) { o.DefaultServiceAccount = "deployer" }})
		tenant := c.watch
		repo := newGitRepo(t, c.ns, tenant)
		rev := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(tenant, "a", "1")}, "first")

		// In the controller's namespace there is no deployer: the sync is
		// refused with that account not found (not "forbidden", which would
		// read like missing RBAC), never done with the controller's rights.
		platform := newGitSync(c.ns, "default-sa", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.ServiceAccountName = "" })
		create(t, platform)
		got := waitSync(t, client.ObjectKeyFromObject(platform), gitsealv1alpha1.ReasonInvalidSpec, "")
		msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
		if want := "ServiceAccount " + c.ns + "/deployer not found"; !strings.Contains(msg, want) || strings.Contains(msg, "forbidden") {
			t.Errorf("message %q: want %q", msg, want)
		}
		if _, err := getConfigMap(t, tenant, "a"); !apierrors.IsNotFound(err) {
			t.Errorf("applied without the default account's rights: %v", err)
		}

		// The tenant's deployer may write ConfigMaps: its GitSync applies.
		grantConfigMaps(t, tenant, "deployer")
		gs := newGitSync(tenant, "default-sa", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.ServiceAccountName = "" })
		create(t, gs)
		waitSync(t, client.ObjectKeyFromObject(gs), gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+rev)
		if a, err := getConfigMap(t, tenant, "a"); err != nil || a.Data["value"] != "1" {
			t.Errorf("the tenant's ConfigMap: %v", err)
		}
	})

	t.Run("deleting without a ServiceAccount leaves the objects in place", func(t *testing.T) {
		ns, tenant := env.Namespace(t, "gitseal"), env.Namespace(t, "apps")
		withDefault := startController(t, setupOpts{ns: ns, watch: tenant, opts: func(o *controllers.Options) { o.DefaultServiceAccount = "deployer" }})
		repo := newGitRepo(t, tenant)
		rev := repo.Commit(t, map[string]string{"apps/a.yaml": configMap("", "kept", "1")}, "first")
		grantConfigMaps(t, tenant, "deployer")
		gs := newGitSync(tenant, "orphaning", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.ServiceAccountName = "" })
		create(t, gs)
		key := client.ObjectKeyFromObject(gs)
		waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+rev)
		if err := withDefault.stop(); err != nil {
			t.Fatal(err)
		}

		// The operator drops --default-service-account; the GitSync is
		// deleted. The controller could delete ConfigMaps there with its
		// own rights in this test (it runs as admin) but must not.
		startController(t, setupOpts{ns: ns, watch: tenant})
		if err := env.Client.Delete(t.Context(), gs); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "the GitSync is gone", func() error {
			if err := env.Client.Get(t.Context(), key, &gitsealv1alpha1.GitSync{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there: %v", err)
			}
			return nil
		})
		if _, err := getConfigMap(t, tenant, "kept"); err != nil {
			t.Errorf("pruned with the controller's own rights: %v", err)
		}
		var events eventsv1.EventList
		if err := env.Client.List(t.Context(), &events, client.InNamespace(tenant)); err != nil {
			t.Fatal(err)
		}
		var warned bool
		for _, e := range events.Items {
			if e.Regarding.Name == "orphaning" && e.Type == corev1.EventTypeWarning && e.Reason == gitsealv1alpha1.ReasonPruneFailed &&
				strings.Contains(e.Note, "left in place: no ServiceAccount to act as") {
				warned = true
			}
		}
		if !warned {
			t.Errorf("no Warning event says why the objects were left in place: %+v", events.Items)
		}
	})
}
