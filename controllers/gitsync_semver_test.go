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
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// TestGitSyncFollowsASemVerRange: a GitSync with spec.ref.semver applies
// the newest tag in the range (by version, not by name), and a newer tag
// once it is pushed. A range no tag satisfies, and one that does not parse,
// fail with a stable reason naming the range while the last good revision
// and its objects stay (C2, C7).
func TestGitSyncFollowsASemVerRange(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	commits := map[string]string{}
	for _, tag := range []string{"v1.0.0", "v1.2.0", "v2.0.0-rc.1", "v1.10.0", "junk", "v1.11.0"} {
		commits[tag] = repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "version", tag)}, tag)
		if tag != "v1.11.0" { // pushed later
			repo.Tag(t, tag, commits[tag])
		}
	}
	gs := newGitSync(c.ns, "semver", repo.url, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.Ref = &gitsealv1alpha1.GitRef{SemVer: ">=1.0.0 <2.0.0"}
	})
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	applied := func(tag string) {
		t.Helper()
		got := waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, tag+"@sha1:"+commits[tag])
		if got.Status.LastAppliedRevision != tag+"@sha1:"+commits[tag] {
			t.Errorf("last applied revision %q, want %s", got.Status.LastAppliedRevision, tag)
		}
		if cm, err := getConfigMap(t, c.watch, "version"); err != nil || cm.Data["value"] != tag {
			t.Errorf("ConfigMap version: %v %v, want %s", cm.Data, err, tag)
		}
	}
	applied("v1.10.0")

	repo.Tag(t, "v1.11.0", commits["v1.11.0"])
	requestSync(t, key)
	applied("v1.11.0")

	update := func(rng string) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var gs gitsealv1alpha1.GitSync
			if err := env.Client.Get(t.Context(), key, &gs); err != nil {
				return err
			}
			gs.Spec.Ref.SemVer = rng
			return env.Client.Update(t.Context(), &gs)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ rng, reason string }{
		{">=3.0.0", gitsealv1alpha1.ReasonGitFetchFailed},
		{">=1.0.0 <", gitsealv1alpha1.ReasonInvalidSpec},
	} {
		update(tt.rng)
		got := waitSync(t, key, tt.reason, "")
		ready := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady)
		if !strings.Contains(ready.Message, tt.rng) {
			t.Errorf("message %q does not name the range %q", ready.Message, tt.rng)
		}
		if !meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionStalled) {
			t.Errorf("range %q: not Stalled: %+v", tt.rng, got.Status.Conditions)
		}
		if got.Status.LastAppliedRevision != "v1.11.0@sha1:"+commits["v1.11.0"] || got.Status.Inventory == nil || got.Status.Inventory.Len() != 1 {
			t.Errorf("range %q: status lost the last good revision: %+v", tt.rng, got.Status)
		}
		if cm, err := getConfigMap(t, c.watch, "version"); err != nil || cm.Data["value"] != "v1.11.0" {
			t.Errorf("range %q: the applied ConfigMap changed: %v %v", tt.rng, cm.Data, err)
		}
	}
}
