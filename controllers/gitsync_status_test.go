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
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/test/testenv"
)

// deadServer accepts connections on 127.0.0.1 and closes each after hold
// without a word, so a fetch from it fails (transiently) after hold. It
// returns an https URL of a repository on it and the times of the
// connections.
func deadServer(t *testing.T, hold time.Duration) (string, func() []time.Time) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var mu sync.Mutex
	var accepted []time.Time
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, time.Now())
			mu.Unlock()
			go func() {
				time.Sleep(hold)
				_ = conn.Close()
			}()
		}
	}()
	return "https://" + ln.Addr().String() + "/env.git", func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Time(nil), accepted...)
	}
}

// kstatusOf computes the GitSync's status the way kstatus (and so Flux's
// health checks and cli-utils' waiters) reads it.
func kstatusOf(t *testing.T, key client.ObjectKey) (*status.Result, *gitsealv1alpha1.GitSync) {
	t.Helper()
	env := cluster.Get(t)
	var u unstructured.Unstructured
	u.SetGroupVersionKind(gitsealv1alpha1.GroupVersion.WithKind("GitSync"))
	if err := env.Client.Get(t.Context(), key, &u); err != nil {
		t.Fatal(err)
	}
	res, err := status.Compute(&u)
	if err != nil {
		t.Fatal(err)
	}
	var gs gitsealv1alpha1.GitSync
	if err := runtimeFromUnstructured(u, &gs); err != nil {
		t.Fatal(err)
	}
	return res, &gs
}

func runtimeFromUnstructured(u unstructured.Unstructured, out any) error {
	raw, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// waitKstatus waits until kstatus reads want and check accepts the GitSync.
func waitKstatus(t *testing.T, key client.ObjectKey, want status.Status, what string, check func(*gitsealv1alpha1.GitSync) error) *gitsealv1alpha1.GitSync {
	t.Helper()
	var gs *gitsealv1alpha1.GitSync
	testenv.Eventually(t, fmt.Sprintf("kstatus reads %s %s", want, what), func() error {
		var res *status.Result
		res, gs = kstatusOf(t, key)
		if res.Status != want {
			return fmt.Errorf("kstatus %s (%s), conditions %+v", res.Status, res.Message, gs.Status.Conditions)
		}
		if check != nil {
			return check(gs)
		}
		return nil
	})
	return gs
}

func readyIs(status metav1.ConditionStatus, reason string) func(*gitsealv1alpha1.GitSync) error {
	return func(gs *gitsealv1alpha1.GitSync) error {
		c := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason || c.ObservedGeneration != gs.Generation || gs.Status.ObservedGeneration != gs.Generation {
			return fmt.Errorf("ready %+v at generation %d, observed %d", c, gs.Generation, gs.Status.ObservedGeneration)
		}
		return nil
	}
}

func updateGitSync(t *testing.T, key client.ObjectKey, mutate func(*gitsealv1alpha1.GitSync)) {
	t.Helper()
	env := cluster.Get(t)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var gs gitsealv1alpha1.GitSync
		if err := env.Client.Get(t.Context(), key, &gs); err != nil {
			return err
		}
		mutate(&gs)
		return env.Client.Update(t.Context(), &gs)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGitSyncStatusReadsRightInKstatus follows a GitSync through every
// state and checks that kstatus reads each one (C2): InProgress while a
// sync runs and while a failure is retried, Current once synced, Failed
// when only a change can help, and, suspended, Current after a successful
// sync or Failed after a failed one, with observedGeneration up to date.
func TestGitSyncStatusReadsRightInKstatus(t *testing.T) {
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	first := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "1")}, "first")
	slow, _ := deadServer(t, 3*time.Second)
	gs := newGitSync(c.ns, "kstatus", slow, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.SecretRef = nil
		gs.Spec.RetryInterval = &metav1.Duration{Duration: time.Hour} // no retry while the test looks
	})
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)

	waitKstatus(t, key, status.InProgressStatus, "while the first fetch hangs", func(gs *gitsealv1alpha1.GitSync) error {
		rec := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReconciling)
		if rec == nil || rec.Status != metav1.ConditionTrue || rec.Reason != gitsealv1alpha1.ReasonProgressing {
			return fmt.Errorf("reconciling %+v", rec)
		}
		if ready := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionUnknown {
			return fmt.Errorf("ready %+v, want Unknown", ready)
		}
		return nil
	})
	waitKstatus(t, key, status.InProgressStatus, "while a failed fetch waits for its retry", readyIs(metav1.ConditionFalse, gitsealv1alpha1.ReasonGitFetchFailed))

	updateGitSync(t, key, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.URL = repo.url
		gs.Spec.SecretRef = &gitsealv1alpha1.LocalObjectReference{Name: "git"}
	})
	got := waitKstatus(t, key, status.CurrentStatus, "once synced", readyIs(metav1.ConditionTrue, gitsealv1alpha1.ReasonSucceeded))
	if got.Status.LastAppliedRevision != "main@sha1:"+first {
		t.Errorf("last applied revision %q", got.Status.LastAppliedRevision)
	}

	updateGitSync(t, key, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.Suspend = true })
	got = waitKstatus(t, key, status.CurrentStatus, "suspended after a success", readyIs(metav1.ConditionTrue, gitsealv1alpha1.ReasonSuspended))
	if msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message; !strings.Contains(msg, "main@sha1:"+first) {
		t.Errorf("suspended message %q does not name the applied revision", msg)
	}

	// Resuming syncs at once (the interval is an hour).
	updateGitSync(t, key, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.Suspend = false
		gs.Spec.Path = "missing"
	})
	waitKstatus(t, key, status.FailedStatus, "when the path is missing", readyIs(metav1.ConditionFalse, gitsealv1alpha1.ReasonBuildFailed))

	updateGitSync(t, key, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.Suspend = true })
	got = waitKstatus(t, key, status.FailedStatus, "suspended after a failure", readyIs(metav1.ConditionFalse, gitsealv1alpha1.ReasonSuspended))
	if msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message; !strings.Contains(msg, gitsealv1alpha1.ReasonBuildFailed) {
		t.Errorf("suspended message %q does not say the last sync failed", msg)
	}
}

// warnings counts the Warning events with reason about the object name in
// ns, an event series counting as many as it says.
func warnings(t *testing.T, ns, name, reason string) int {
	t.Helper()
	env := cluster.Get(t)
	var events eventsv1.EventList
	if err := env.Client.List(t.Context(), &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events.Items {
		if e.Regarding.Name != name || e.Type != corev1.EventTypeWarning || e.Reason != reason {
			continue
		}
		if e.Series != nil && e.Series.Count > 1 {
			n += int(e.Series.Count)
		} else {
			n++
		}
	}
	return n
}

// TestGitSyncRetriesBackOffAndWarnOnce checks C6 and C3: a fetch that keeps
// failing is retried after retryInterval, then after ever longer gaps, not
// several times a second; and the failure raises one Warning event, not
// one per retry.
func TestGitSyncRetriesBackOffAndWarnOnce(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	dead, accepted := deadServer(t, 0)
	gs := newGitSync(c.ns, "retries", dead, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.SecretRef = nil
		gs.Spec.RetryInterval = &metav1.Duration{Duration: time.Second}
	})
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	waitSync(t, key, gitsealv1alpha1.ReasonGitFetchFailed, "")

	// Attempts at about 0, 1, 3 and 7 seconds, then 15.
	time.Sleep(9 * time.Second)
	var attempts []time.Time // a fetch may open more than one connection
	for _, at := range accepted() {
		if len(attempts) == 0 || at.Sub(attempts[len(attempts)-1]) > 500*time.Millisecond {
			attempts = append(attempts, at)
		}
	}
	if len(attempts) < 3 || len(attempts) > 5 {
		t.Fatalf("%d fetch attempts in 9s with retryInterval 1s, want 4 (at 0, 1, 3, 7s): %v", len(attempts), attempts)
	}
	for i := 2; i < len(attempts); i++ {
		prev, gap := attempts[i-1].Sub(attempts[i-2]), attempts[i].Sub(attempts[i-1])
		if gap < prev*3/2 {
			t.Errorf("gap %d is %s after %s: the retries do not back off", i, gap, prev)
		}
	}
	var got gitsealv1alpha1.GitSync
	if err := env.Client.Get(t.Context(), key, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Failures < 3 {
		t.Errorf("status.failures = %d after %d attempts", got.Status.Failures, len(attempts))
	}
	if !meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionReconciling) || meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionStalled) {
		t.Errorf("a retried failure is Reconciling, not Stalled: %+v", got.Status.Conditions)
	}
	if n := warnings(t, c.ns, "retries", gitsealv1alpha1.ReasonGitFetchFailed); n != 1 {
		t.Errorf("%d GitFetchFailed Warning events for one failure retried %d times, want 1", n, len(attempts))
	}
}

// table fetches the objects of resource in ns as the API server's Table,
// the way kubectl get prints them.
func table(t *testing.T, resource, ns string) *metav1.Table {
	t.Helper()
	env := cluster.Get(t)
	hc, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
		fmt.Sprintf("%s/apis/%s/namespaces/%s/%s", strings.TrimSuffix(env.Config.Host, "/"), gitsealv1alpha1.GroupVersion, ns, resource), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get %s: %s: %s", resource, resp.Status, body)
	}
	var tab metav1.Table
	if err := json.Unmarshal(body, &tab); err != nil {
		t.Fatal(err)
	}
	return &tab
}

// defaultColumns returns the names of the columns kubectl get shows
// without -o wide, and the row's cells under them.
func defaultColumns(tab *metav1.Table, row int) (names []string, cells []string) {
	for i, col := range tab.ColumnDefinitions {
		if col.Priority != 0 {
			continue
		}
		names = append(names, col.Name)
		cells = append(cells, fmt.Sprint(tab.Rows[row].Cells[i]))
	}
	return names, cells
}

// TestPrinterColumns checks what kubectl get shows: for a GitSync READY,
// STATUS (the Ready message), REVISION, SUSPENDED and AGE; for a
// SealedSecret READY, STATUS and AGE; no JSON arrays.
func TestPrinterColumns(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	r := c.activeKey(t)
	repo := newGitRepo(t, c.ns)
	first := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "1")}, "first")
	gs := newGitSync(c.ns, "columns", repo.url)
	create(t, gs)
	synced := waitSync(t, client.ObjectKeyFromObject(gs), gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)

	names, cells := defaultColumns(table(t, "gitsyncs", c.ns), 0)
	if want := []string{"Name", "Ready", "Status", "Revision", "Suspended", "Age"}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("GitSync columns %v, want %v", names, want)
	}
	msg := meta.FindStatusCondition(synced.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
	if want := []string{"columns", "True", msg, "main@sha1:" + first, "false"}; len(cells) != 6 || fmt.Sprint(cells[:5]) != fmt.Sprint(want) {
		t.Errorf("GitSync row %q, want %q and the age", cells, want)
	}

	ss := c.sealed(t, "db", crypto.Strict, map[string]string{"password": "x"}, r)
	create(t, ss)
	waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonSucceeded)
	var tab *metav1.Table
	// The controller may write its status again between two reads: compare
	// the row with the object read just after it.
	testenv.Eventually(t, "the SealedSecret's row shows its Ready condition", func() error {
		tab = table(t, "sealedsecrets", c.watch)
		var opened gitsealv1alpha1.SealedSecret
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(ss), &opened); err != nil {
			return err
		}
		names, cells := defaultColumns(tab, 0)
		if want := []string{"Name", "Ready", "Status", "Age"}; fmt.Sprint(names) != fmt.Sprint(want) {
			t.Fatalf("SealedSecret columns %v, want %v", names, want)
		}
		msg := meta.FindStatusCondition(opened.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
		if len(cells) != 4 || cells[1] != "True" || cells[2] != msg {
			return fmt.Errorf("SealedSecret row %q, want True and %q", cells, msg)
		}
		return nil
	})
	for i, cell := range tab.Rows[0].Cells {
		if s := fmt.Sprint(cell); strings.HasPrefix(s, "[") {
			t.Errorf("column %s prints a list: %s", tab.ColumnDefinitions[i].Name, s)
		}
	}
}
