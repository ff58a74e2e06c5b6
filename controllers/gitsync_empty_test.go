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
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/test/gitserver"
	"github.com/gitseal/gitseal/test/testenv"
)

// TestGitSyncNeverPrunesEverythingForARevisionThatRendersNothing pushes,
// after a good revision of two objects, a revision that once built to
// nothing, or to less, without saying so: the path or a directory under it
// replaced by a symbolic link, a path with only a README, a kustomization
// with `resources: []`. A link is either followed as kustomize follows it
// or refused (BuildFailed, naming it); a revision of zero objects over a
// non-empty inventory is refused (EmptyRevision). Either way nothing is
// pruned, the last good revision and its inventory stay (C7), and the
// status and a Warning event say why (C2, C3).
func TestGitSyncNeverPrunesEverythingForARevisionThatRendersNothing(t *testing.T) {
	c := startController(t, setupOpts{})
	ns := c.watch
	repo := newGitRepo(t, ns)
	grantConfigMaps(t, ns, "deployer")

	tests := []struct {
		name    string
		good    func(p string) map[string]string // p is the case's directory; the GitSync builds p/apps
		hostile func(p string) (map[string]string, []gitserver.Extra)
		reason  string
		message func(p string) string
	}{
		{
			name: "path replaced by a link to an identical directory is followed",
			hostile: func(p string) (map[string]string, []gitserver.Extra) {
				return map[string]string{p + "/v2/a.yaml": configMap(ns, p+"-a", "1"), p + "/v2/b.yaml": configMap(ns, p+"-b", "1")},
					[]gitserver.Extra{gitserver.Symlink(p+"/apps", "v2")}
			},
			reason:  gitsealv1alpha1.ReasonSucceeded,
			message: func(string) string { return "2 unchanged, 0 pruned" },
		},
		{
			name: "subdirectory replaced by a link is refused",
			good: func(p string) map[string]string {
				return map[string]string{p + "/apps/sub/a.yaml": configMap(ns, p+"-a", "1"), p + "/apps/sub/b.yaml": configMap(ns, p+"-b", "1")}
			},
			hostile: func(p string) (map[string]string, []gitserver.Extra) {
				return map[string]string{p + "/shared/a.yaml": configMap(ns, p+"-a", "1"), p + "/shared/b.yaml": configMap(ns, p+"-b", "1")},
					[]gitserver.Extra{gitserver.Symlink(p+"/apps/sub", "../shared")}
			},
			reason:  gitsealv1alpha1.ReasonBuildFailed,
			message: func(p string) string { return p + "/apps/sub is a symbolic link" },
		},
		{
			name: "manifest replaced by a link is refused",
			hostile: func(p string) (map[string]string, []gitserver.Extra) {
				return map[string]string{p + "/apps/a.yaml": configMap(ns, p+"-a", "1"), p + "/shared/b.yaml": configMap(ns, p+"-b", "1")},
					[]gitserver.Extra{gitserver.Symlink(p+"/apps/b.yaml", "../shared/b.yaml")}
			},
			reason:  gitsealv1alpha1.ReasonBuildFailed,
			message: func(p string) string { return p + "/apps/b.yaml is a symbolic link" },
		},
		{
			name: "path holding only a README is an empty revision",
			hostile: func(p string) (map[string]string, []gitserver.Extra) {
				return map[string]string{p + "/apps/README.md": "moved to another repository"}, nil
			},
			reason:  gitsealv1alpha1.ReasonEmptyRevision,
			message: func(p string) string { return "renders no objects from " + p + "/apps" },
		},
		{
			name: "kustomization listing no resources is an empty revision",
			hostile: func(p string) (map[string]string, []gitserver.Extra) {
				return map[string]string{
					p + "/apps/kustomization.yaml": "resources: []\n",
					p + "/apps/a.yaml":             configMap(ns, p+"-a", "1"),
					p + "/apps/b.yaml":             configMap(ns, p+"-b", "1"),
				}, nil
			},
			reason:  gitsealv1alpha1.ReasonEmptyRevision,
			message: func(p string) string { return "renders no objects from " + p + "/apps" },
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fmt.Sprintf("case%d", i)
			files := map[string]string{p + "/apps/a.yaml": configMap(ns, p+"-a", "1"), p + "/apps/b.yaml": configMap(ns, p+"-b", "1")}
			if tt.good != nil {
				files = tt.good(p)
			}
			good := repo.Commit(t, files, "good")
			gs := newGitSync(ns, p, repo.url, func(gs *gitsealv1alpha1.GitSync) {
				gs.Spec.Path = p + "/apps"
				gs.Spec.ServiceAccountName = "deployer"
			})
			create(t, gs)
			key := client.ObjectKeyFromObject(gs)
			waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+good)

			files, links := tt.hostile(p)
			hostile := repo.Commit(t, files, "hostile", links...)
			requestSync(t, key)
			got := waitSync(t, key, tt.reason, "main@sha1:"+hostile)

			cond := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady)
			if !strings.Contains(cond.Message, tt.message(p)) {
				t.Errorf("message %q does not say %q", cond.Message, tt.message(p))
			}
			for _, name := range []string{p + "-a", p + "-b"} {
				if _, err := getConfigMap(t, ns, name); err != nil {
					t.Errorf("%s was pruned: %v", name, err)
				}
			}
			if got.Status.Inventory == nil || got.Status.Inventory.Len() != 2 {
				t.Errorf("inventory %+v, want the two objects", got.Status.Inventory)
			}
			if tt.reason == gitsealv1alpha1.ReasonSucceeded {
				return
			}
			if got.Status.LastAppliedRevision != "main@sha1:"+good {
				t.Errorf("last applied revision moved to %q", got.Status.LastAppliedRevision)
			}
			if !meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionStalled) {
				t.Errorf("a refused revision waits for the next commit, so is Stalled: %+v", got.Status.Conditions)
			}
			assertWarning(t, ns, p, tt.reason)
		})
	}
}

// TestGitSyncAllowEmptyAcceptsAnEmptyRevision: a first sync of an empty
// path has nothing to lose and succeeds; once objects are applied, an empty
// revision is refused until spec.allowEmpty says it is meant, and then
// prunes everything.
func TestGitSyncAllowEmptyAcceptsAnEmptyRevision(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	ns := c.watch
	repo := newGitRepo(t, ns)
	grantConfigMaps(t, ns, "deployer")

	empty := repo.Commit(t, map[string]string{"apps/README.md": "nothing yet"}, "empty")
	gs := newGitSync(ns, "allow", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.ServiceAccountName = "deployer" })
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+empty)

	good := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(ns, "a", "1"), "apps/b.yaml": configMap(ns, "b", "1")}, "good")
	requestSync(t, key)
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+good)

	emptied := repo.Commit(t, map[string]string{"apps/README.md": "moved away"}, "emptied")
	requestSync(t, key)
	got := waitSync(t, key, gitsealv1alpha1.ReasonEmptyRevision, "main@sha1:"+emptied)
	if msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message; !strings.Contains(msg, "spec.allowEmpty") {
		t.Errorf("message %q does not name the way to accept it", msg)
	}

	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var gs gitsealv1alpha1.GitSync
		if err := env.Client.Get(t.Context(), key, &gs); err != nil {
			return err
		}
		gs.Spec.AllowEmpty = true
		return env.Client.Update(t.Context(), &gs)
	})
	if err != nil {
		t.Fatal(err)
	}
	got = waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+emptied)
	if msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message; !strings.Contains(msg, "2 pruned") {
		t.Errorf("message %q", msg)
	}
	for _, name := range []string{"a", "b"} {
		if _, err := getConfigMap(t, ns, name); !apierrors.IsNotFound(err) {
			t.Errorf("%s was not pruned: %v", name, err)
		}
	}
	if got.Status.LastAppliedRevision != "main@sha1:"+emptied || got.Status.Inventory == nil || got.Status.Inventory.Len() != 0 {
		t.Errorf("status after an accepted empty revision: %+v", got.Status)
	}
}

// assertWarning waits for a Warning event with reason about the GitSync
// name in ns.
func assertWarning(t *testing.T, ns, name, reason string) {
	t.Helper()
	env := cluster.Get(t)
	testenv.Eventually(t, fmt.Sprintf("a Warning event %s for %s", reason, name), func() error {
		var events eventsv1.EventList
		if err := env.Client.List(t.Context(), &events, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Regarding.Name == name && e.Type == corev1.EventTypeWarning && e.Reason == reason {
				return nil
			}
		}
		return fmt.Errorf("none among %d events", len(events.Items))
	})
}
