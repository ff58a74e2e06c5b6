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
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/test/testenv"
)

// configMapRequests counts the requests a controller sends to the real API
// server for the ConfigMaps of one namespace, by method, dry runs apart
// ("PATCH (dry run)").
type configMapRequests struct {
	prefix string // the path of the namespace's ConfigMaps
	mu     sync.Mutex
	counts map[string]int
}

// countConfigMapRequests returns a copy of env.Config whose requests for
// the ConfigMaps of ns are counted; the impersonating clients of the
// GitSync controller copy it, and its counting with it.
func countConfigMapRequests(t *testing.T, ns string) (*rest.Config, *configMapRequests) {
	env := cluster.Get(t)
	r := &configMapRequests{prefix: "/api/v1/namespaces/" + ns + "/configmaps", counts: map[string]int{}}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if strings.HasPrefix(req.URL.Path, r.prefix) {
				what := req.Method
				if req.URL.Query().Has("dryRun") {
					what += " (dry run)"
				}
				r.mu.Lock()
				r.counts[what]++
				r.mu.Unlock()
			}
			return rt.RoundTrip(req)
		})
	}
	return cfg, r
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// reset returns the counts so far and starts again from zero.
func (r *configMapRequests) reset() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counts
	r.counts = map[string]int{}
	return c
}

// manyConfigMaps is a tree of n ConfigMaps in ns, apps/cm-NN.yaml; those
// with an index in changed hold "2", the others "1", and those in gone are
// left out.
func manyConfigMaps(ns string, n int, changed, gone func(i int) bool) map[string]string {
	files := map[string]string{}
	for i := range n {
		value := "1"
		switch {
		case gone(i):
			continue
		case changed(i):
			value = "2"
		}
		files[fmt.Sprintf("apps/cm-%02d.yaml", i)] = configMap(ns, fmt.Sprintf("cm-%02d", i), value)
	}
	return files
}

// waitPeriodicSyncs waits until the GitSync, last synced at since, has
// synced twice more on its own, and returns it. lastSyncTime has seconds
// only: two more seconds are two more syncs of a one-second interval.
func waitPeriodicSyncs(t *testing.T, key client.ObjectKey, since time.Time) *gitsealv1alpha1.GitSync {
	t.Helper()
	env := cluster.Get(t)
	var gs gitsealv1alpha1.GitSync
	testenv.Eventually(t, "two periodic syncs", func() error {
		if err := env.Client.Get(t.Context(), key, &gs); err != nil {
			return err
		}
		if last := gs.Status.LastSyncTime; last == nil || last.Time.Before(since.Add(2*time.Second)) {
			return fmt.Errorf("last sync %v", last)
		}
		return nil
	})
	return &gs
}

// TestGitSyncSendsOnlyWhatChanged (issue #12): between full checks, a
// periodic sync of an unchanged revision sends no write and no dry run for
// the applied objects, and a commit that changes 10 of 50 objects and
// removes 10 sends a dry run and an apply for each changed one and a read
// and a delete for each removed one, nothing for the other 30. C7 still
// holds: what is not sent stays applied and in the inventory.
func TestGitSyncSendsOnlyWhatChanged(t *testing.T) {
	env := cluster.Get(t)
	watch := env.Namespace(t, "apps")
	cfg, sent := countConfigMapRequests(t, watch)
	c := startController(t, setupOpts{cfg: cfg, watch: watch})
	repo := newGitRepo(t, c.ns)
	none := func(int) bool { return false }
	first := repo.Commit(t, manyConfigMaps(watch, 50, none, none), "50 ConfigMaps")
	gs := newGitSync(c.ns, "incremental", repo.url, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.Interval = metav1.Duration{Duration: time.Second}
		gs.Spec.FullCheckInterval = &metav1.Duration{Duration: time.Hour}
	})
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	got := waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)
	if got.Status.LastFullCheckTime == nil || got.Status.Inventory.Len() != 50 || got.Status.Inventory.List()[0].Hash == "" {
		t.Fatalf("after the first sync: last full check %v, inventory %+v", got.Status.LastFullCheckTime, got.Status.Inventory)
	}
	if n := sent.reset(); n["PATCH"] != 50 || n["PATCH (dry run)"] != 50 {
		t.Errorf("the first sync, a full one, sent %v; want 50 dry runs and 50 applies", n)
	}

	got = waitPeriodicSyncs(t, key, got.Status.LastSyncTime.Time)
	if n := sent.reset(); len(n) != 0 {
		t.Errorf("periodic syncs of an unchanged revision sent %v for the ConfigMaps, want nothing", n)
	}
	msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
	// The ref did not move, so the fetch stopped at the ref list.
	if want := "no changes at revision main@sha1:" + first + ": nothing was fetched or sent"; !strings.Contains(msg, want) {
		t.Errorf("Ready message %q, want %q", msg, want)
	}

	second := repo.Commit(t, manyConfigMaps(watch, 50, func(i int) bool { return i < 10 }, func(i int) bool { return i >= 40 }),
		"change 10, remove 10")
	got = waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+second)
	testenv.Eventually(t, "the second revision is applied", func() error {
		if err := env.Client.Get(t.Context(), key, got); err != nil {
			return err
		}
		if got.Status.LastAppliedRevision != "main@sha1:"+second {
			return fmt.Errorf("last applied %q", got.Status.LastAppliedRevision)
		}
		return nil
	})
	want := map[string]int{"PATCH (dry run)": 10, "PATCH": 10, "GET": 10, "DELETE": 10}
	if n := sent.reset(); !maps.Equal(n, want) {
		t.Errorf("a commit changing 10 and removing 10 of 50 sent %v, want %v", n, want)
	}
	msg = meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
	if !strings.Contains(msg, "10 configured, 0 unchanged, 10 pruned, 30 not sent") {
		t.Errorf("Ready message %q", msg)
	}
	if got.Status.Inventory.Len() != 40 {
		t.Errorf("inventory of %d entries, want 40", got.Status.Inventory.Len())
	}
	for i, want := range map[int]string{0: "2", 9: "2", 10: "1", 39: "1"} {
		if cm, err := getConfigMap(t, watch, fmt.Sprintf("cm-%02d", i)); err != nil || cm.Data["value"] != want {
			t.Errorf("cm-%02d: %v, want value %s", i, err, want)
		}
	}
}

// TestGitSyncFullCheckUndoesAHandEdit (issue #12): the drift watch sees
// only what changes while it runs, so a hand edit made while the
// controller was down is left to a full check: the first sync after the
// controller starts is one, and it undoes the edit.
func TestGitSyncFullCheckUndoesAHandEdit(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	first := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "1")}, "first")
	gs := newGitSync(c.ns, "full-check", repo.url, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.Interval = metav1.Duration{Duration: time.Second}
		gs.Spec.FullCheckInterval = &metav1.Duration{Duration: 4 * time.Second}
	})
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	got := waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	handEdit(t, c.watch, "a", "edited by hand")
	restarted := metav1.Now().Rfc3339Copy() // status times have whole seconds
	startController(t, setupOpts{ns: c.ns, watch: c.watch})
	untilValue(t, c.watch, "a", "1")
	// The status is written after the apply that undid the edit.
	testenv.Eventually(t, "a full check since the restart", func() error {
		if err := env.Client.Get(t.Context(), key, got); err != nil {
			return err
		}
		if last := got.Status.LastFullCheckTime; last == nil || last.Before(&restarted) {
			return fmt.Errorf("last full check %v, want one since the restart at %v", last, restarted)
		}
		return nil
	})
}
