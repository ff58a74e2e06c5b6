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
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// TestRetryAfter checks C6: transient failures back off exponentially, from
// retryInterval up to the interval.
func TestRetryAfter(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name                    string
		retryInterval, interval time.Duration
		failures                int64
		want                    time.Duration
	}{
		{"the first failure waits retryInterval", 10 * s, time.Hour, 1, 10 * s},
		{"the second failure waits twice as long", 10 * s, time.Hour, 2, 20 * s},
		{"the fourth failure waits eight times as long", 10 * s, time.Hour, 4, 80 * s},
		{"the wait never exceeds the interval", 10 * s, 5 * time.Minute, 10, 5 * time.Minute},
		{"a huge count neither overflows nor exceeds the interval", 10 * s, time.Hour, 1 << 40, time.Hour},
		{"without retryInterval the first retry waits 30s", 0, time.Hour, 1, 30 * s},
		{"without retryInterval a shorter interval is the wait", 0, 10 * s, 1, 10 * s},
		{"a retryInterval longer than the interval is cut to it", time.Hour, time.Minute, 1, time.Minute},
		{"no failure counted yet waits retryInterval", 10 * s, time.Hour, 0, 10 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.retryInterval, tt.interval, tt.failures); got != tt.want {
				t.Errorf("retryAfter(%s, %s, %d) = %s, want %s", tt.retryInterval, tt.interval, tt.failures, got, tt.want)
			}
		})
	}
}

func TestRequeueAfter(t *testing.T) {
	spec := &gitsealv1alpha1.GitSyncSpec{Interval: metav1.Duration{Duration: time.Hour}, RetryInterval: &metav1.Duration{Duration: 2 * time.Second}}
	ok := syncResult{outcome: outcome{Reason: gitsealv1alpha1.ReasonSucceeded}}
	tests := []struct {
		name     string
		res      syncResult
		failures int64
		want     time.Duration
	}{
		{"a success syncs again after the interval", ok, 0, time.Hour},
		{"a transient failure is retried with backoff", failed(gitsealv1alpha1.ReasonGitFetchFailed, backoff, "", "down"), 3, 8 * time.Second},
		{"a failure only a new commit fixes waits for the interval", failed(gitsealv1alpha1.ReasonBuildFailed, stall, "", "bad"), 0, time.Hour},
		{"a GitSync waiting for a dependency looks again soon", syncResult{outcome: outcome{Reason: gitsealv1alpha1.ReasonDependencyNotReady}, waitFor: 5 * time.Second}, 0, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requeueAfter(tt.res, spec, tt.failures); got != tt.want {
				t.Errorf("requeueAfter = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestConsecutiveFailures(t *testing.T) {
	transient := failed(gitsealv1alpha1.ReasonGitFetchFailed, backoff, "", "down")
	tests := []struct {
		name           string
		res            syncResult
		previous       int64
		sameGeneration bool
		want           int64
	}{
		{"a transient failure counts one more", transient, 2, true, 3},
		{"a transient failure of a new spec counts from one", transient, 5, false, 1},
		{"a success resets the count", syncResult{outcome: outcome{Reason: gitsealv1alpha1.ReasonSucceeded}}, 4, true, 0},
		{"a failure that waits for a new commit resets the count", failed(gitsealv1alpha1.ReasonBuildFailed, stall, "", "bad"), 4, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := consecutiveFailures(tt.res, tt.previous, tt.sameGeneration); got != tt.want {
				t.Errorf("consecutiveFailures = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestStartsNew(t *testing.T) {
	synced := func(mutate func(*gitsealv1alpha1.GitSync)) *gitsealv1alpha1.GitSync {
		gs := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Generation: 2, Annotations: map[string]string{gitsealv1alpha1.AnnotationReconcileRequestedAt: "1"}}}
		gs.Status.ObservedGeneration = 2
		gs.Status.LastHandledReconcileAt = "1"
		gs.Status.Conditions = []metav1.Condition{{Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionTrue}}
		if mutate != nil {
			mutate(gs)
		}
		return gs
	}
	tests := []struct {
		name string
		gs   *gitsealv1alpha1.GitSync
		want bool
	}{
		{"a resync of a synced spec is not new", synced(nil), false},
		{"a new generation is new", synced(func(gs *gitsealv1alpha1.GitSync) { gs.Generation = 3 }), true},
		{"a requested sync is new", synced(func(gs *gitsealv1alpha1.GitSync) {
			gs.Annotations[gitsealv1alpha1.AnnotationReconcileRequestedAt] = "2"
		}), true},
		{"a GitSync never synced is new", synced(func(gs *gitsealv1alpha1.GitSync) { gs.Status.Conditions = nil }), true},
		{"a retry after a failure is not new", synced(func(gs *gitsealv1alpha1.GitSync) { gs.Status.Conditions[0].Status = metav1.ConditionFalse }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := startsNew(tt.gs); got != tt.want {
				t.Errorf("startsNew = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFullCheckDue: a sync sends only what changed in Git unless a full
// check is due; every way a full check becomes due is a case.
func TestFullCheckDue(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	checked := func(mutate func(*gitsealv1alpha1.GitSync)) *gitsealv1alpha1.GitSync {
		gs := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Generation: 2, Annotations: map[string]string{gitsealv1alpha1.AnnotationReconcileRequestedAt: "1"}}}
		gs.Status.LastHandledReconcileAt = "1"
		gs.Status.LastFullCheckTime = &metav1.Time{Time: now.Add(-59 * time.Minute)}
		gs.Status.Conditions = []metav1.Condition{{Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionTrue, ObservedGeneration: 2}}
		if mutate != nil {
			mutate(gs)
		}
		return gs
	}
	tests := []struct {
		name string
		gs   *gitsealv1alpha1.GitSync
		want bool
	}{
		{"a periodic sync within the hour after a full check sends only changes", checked(nil), false},
		{"an hour after the last full check, the default interval, a full check is due", checked(func(gs *gitsealv1alpha1.GitSync) {
			gs.Status.LastFullCheckTime = &metav1.Time{Time: now.Add(-time.Hour)}
		}), true},
		{"a shorter fullCheckInterval makes it due sooner", checked(func(gs *gitsealv1alpha1.GitSync) {
			gs.Spec.FullCheckInterval = &metav1.Duration{Duration: 10 * time.Minute}
		}), true},
		{"a longer fullCheckInterval makes it due later", checked(func(gs *gitsealv1alpha1.GitSync) {
			gs.Spec.FullCheckInterval = &metav1.Duration{Duration: 24 * time.Hour}
			gs.Status.LastFullCheckTime = &metav1.Time{Time: now.Add(-23 * time.Hour)}
		}), false},
		{"a requested sync is a full check", checked(func(gs *gitsealv1alpha1.GitSync) {
			gs.Annotations[gitsealv1alpha1.AnnotationReconcileRequestedAt] = "2"
		}), true},
		{"a new spec is a full check", checked(func(gs *gitsealv1alpha1.GitSync) { gs.Generation = 3 }), true},
		{"the sync after a failure is a full check", checked(func(gs *gitsealv1alpha1.GitSync) { gs.Status.Conditions[0].Status = metav1.ConditionFalse }), true},
		{"a GitSync never synced is a full check", checked(func(gs *gitsealv1alpha1.GitSync) { gs.Status.Conditions = nil }), true},
		{"a GitSync never fully checked is a full check", checked(func(gs *gitsealv1alpha1.GitSync) { gs.Status.LastFullCheckTime = nil }), true},
		{"a last full check in the future, a clock that went back, is a full check", checked(func(gs *gitsealv1alpha1.GitSync) {
			gs.Status.LastFullCheckTime = &metav1.Time{Time: now.Add(time.Hour)}
		}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fullCheckDue(tt.gs, now); got != tt.want {
				t.Errorf("fullCheckDue = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSetSuspended(t *testing.T) {
	ready := func(status metav1.ConditionStatus, reason, msg string) []metav1.Condition {
		return []metav1.Condition{{Type: gitsealv1alpha1.ConditionReady, Status: status, Reason: reason, Message: msg}}
	}
	tests := []struct {
		name        string
		conds       []metav1.Condition
		wantReady   metav1.ConditionStatus
		wantStalled bool
		wantMessage string
	}{
		{"after a success Ready stays True", ready(metav1.ConditionTrue, gitsealv1alpha1.ReasonSucceeded, "applied"), metav1.ConditionTrue, false,
			"syncing is suspended; revision main@sha1:abc stays applied"},
		{"after a failure it is Stalled and says what failed", append(ready(metav1.ConditionFalse, gitsealv1alpha1.ReasonGitFetchFailed, "down"),
			metav1.Condition{Type: gitsealv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: gitsealv1alpha1.ReasonGitFetchFailed}),
			metav1.ConditionFalse, true, "syncing is suspended; the last sync failed: GitFetchFailed: down"},
		{"suspended again keeps the message", ready(metav1.ConditionFalse, gitsealv1alpha1.ReasonSuspended, "syncing is suspended; x"), metav1.ConditionFalse, true,
			"syncing is suspended; x"},
		{"never synced is Stalled", nil, metav1.ConditionFalse, true, "syncing is suspended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conds := tt.conds
			setSuspended(&conds, "main@sha1:abc", 3)
			r := meta.FindStatusCondition(conds, gitsealv1alpha1.ConditionReady)
			if r == nil || r.Status != tt.wantReady || r.Reason != gitsealv1alpha1.ReasonSuspended || r.Message != tt.wantMessage || r.ObservedGeneration != 3 {
				t.Errorf("Ready = %+v, want %s Suspended %q", r, tt.wantReady, tt.wantMessage)
			}
			if got := meta.IsStatusConditionTrue(conds, gitsealv1alpha1.ConditionStalled); got != tt.wantStalled {
				t.Errorf("Stalled = %v, want %v", got, tt.wantStalled)
			}
			if meta.FindStatusCondition(conds, gitsealv1alpha1.ConditionReconciling) != nil {
				t.Error("a suspended GitSync is not Reconciling")
			}
		})
	}
}

// TestWarnNow checks C3: one Warning event when an object starts failing or
// fails in a new way, not one per retry.
func TestWarnNow(t *testing.T) {
	failing := func(reason, msg string) *metav1.Condition {
		return &metav1.Condition{Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg}
	}
	fetch := outcome{gitsealv1alpha1.ReasonGitFetchFailed, "read tcp 127.0.0.1:41474: connection reset", backoff}
	tests := []struct {
		name string
		prev *metav1.Condition
		o    outcome
		want bool
	}{
		{"a first failure warns", nil, fetch, true},
		{"a failure after success warns", &metav1.Condition{Status: metav1.ConditionTrue, Reason: gitsealv1alpha1.ReasonSucceeded}, fetch, true},
		{"the same retried failure does not warn again", failing(fetch.Reason, fetch.Message), fetch, false},
		{"a retried failure with another port in its message does not warn again", failing(fetch.Reason, "read tcp 127.0.0.1:41448: connection reset"), fetch, false},
		{"a retried failure with a new reason warns", failing(gitsealv1alpha1.ReasonApplyFailed, "x"), fetch, true},
		{"a failure that waits for a change warns when its message changes", failing(gitsealv1alpha1.ReasonBuildFailed, "a"), outcome{gitsealv1alpha1.ReasonBuildFailed, "b", stall}, true},
		{"the same failure that waits for a change does not warn again", failing(gitsealv1alpha1.ReasonBuildFailed, "a"), outcome{gitsealv1alpha1.ReasonBuildFailed, "a", stall}, false},
		{"a wait for another dependency is news", failing(gitsealv1alpha1.ReasonDependencyNotReady, "waiting for a"), outcome{gitsealv1alpha1.ReasonDependencyNotReady, "waiting for b", wait}, true},
		{"a failure after suspension warns", failing(gitsealv1alpha1.ReasonSuspended, "syncing is suspended"), fetch, true},
		{"a success never warns", nil, outcome{Reason: gitsealv1alpha1.ReasonSucceeded}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := warnNow(tt.prev, tt.o); got != tt.want {
				t.Errorf("warnNow = %v, want %v", got, tt.want)
			}
		})
	}
}
