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
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// retry says what follows a reconcile that did not succeed.
type retry int

const (
	// stall: retrying cannot help until something changes (the object, the
	// keys, a new commit, the cluster), and each such change starts a new
	// reconcile. The object is Stalled meanwhile.
	stall retry = iota
	// backoff: the failure may pass by itself; it is retried with
	// exponential backoff, and the object is Reconciling meanwhile.
	backoff
	// wait: not a failure but a wait for something else, such as a
	// dependency, to be ready; the object is Reconciling and looks again at
	// a steady pace, without backoff, and its event is Normal.
	wait
)

// outcome is what one reconcile came to, and whether it is retried.
type outcome struct {
	// Reason is ReasonSucceeded or the failure's Reason.
	Reason string
	// Message explains it; it never contains a secret value.
	Message string
	// retry says what follows a failure; a success ignores it.
	retry retry
}

func (o outcome) ok() bool { return o.Reason == gitsealv1alpha1.ReasonSucceeded }

// statusEvent is an Event that reports a reconcile.
type statusEvent struct {
	kind, reason, message string
}

// finishStatus writes what a reconcile came to into the status of an
// object at generation: observedGeneration and the Ready, Reconciling and
// Stalled conditions (setConditions). It returns the event that reports
// the reconcile, or nil. prevReady is the Ready condition before it. A
// failure that the Ready condition did not show yet (warnNow) is a
// Warning, or a Normal event for a wait; a success reports succeeded,
// which the caller passes only when the success is news.
func finishStatus(conds *[]metav1.Condition, observedGeneration *int64, generation int64, prevReady *metav1.Condition, o outcome, succeeded *statusEvent) *statusEvent {
	*observedGeneration = generation
	setConditions(conds, o, generation)
	switch {
	case o.ok():
		return succeeded
	case !warnNow(prevReady, o):
		return nil
	case o.retry == wait:
		return &statusEvent{corev1.EventTypeNormal, o.Reason, o.Message}
	}
	return &statusEvent{corev1.EventTypeWarning, o.Reason, o.Message}
}

// statusSignals are where a reconciler reports what its reconciles came
// to besides the status (C3): events, and failures counted by reason.
type statusSignals struct {
	recorder recorder.EventRecorder
	// action is the events' action, such as "Sync".
	action string
	// failures counts failed reconciles by reason.
	failures *prometheus.CounterVec
}

// send records ev about obj, if any, and counts o if it failed.
func (s statusSignals) send(obj runtime.Object, o outcome, ev *statusEvent) {
	if !o.ok() && s.failures != nil {
		s.failures.WithLabelValues(o.Reason).Inc()
	}
	if ev != nil && s.recorder != nil {
		s.recorder.Eventf(obj, nil, ev.kind, ev.reason, s.action, "%s", ev.message)
	}
}

// setConditions writes Ready, Reconciling and Stalled the way kstatus reads
// them: Ready=True alone when done; Ready=False with Reconciling=True while a
// failure is retried (backoff) or waits for something else (wait);
// Ready=False with Stalled=True when only a change can help (stall).
func setConditions(conds *[]metav1.Condition, o outcome, generation int64) {
	ready := metav1.Condition{Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: o.Reason, Message: o.Message, ObservedGeneration: generation}
	switch {
	case o.ok():
		meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionStalled)
	case o.retry == stall:
		ready.Status = metav1.ConditionFalse
		meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionReconciling)
		meta.SetStatusCondition(conds, metav1.Condition{Type: gitsealv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: o.Reason, Message: o.Message, ObservedGeneration: generation})
	default:
		ready.Status = metav1.ConditionFalse
		meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionStalled)
		meta.SetStatusCondition(conds, metav1.Condition{Type: gitsealv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: o.Reason, Message: o.Message, ObservedGeneration: generation})
	}
	meta.SetStatusCondition(conds, ready)
}

// warnNow decides whether a failure is news worth an event: only when the
// Ready condition changes to it, so a failure that persists across retries
// and resyncs is reported once, not on every attempt. A failure retried
// with backoff is new only with a new reason: its message names things
// that change from one attempt to the next, such as a connection's port.
func warnNow(prev *metav1.Condition, o outcome) bool {
	if o.ok() {
		return false
	}
	if prev == nil || prev.Status != metav1.ConditionFalse || prev.Reason != o.Reason {
		return true
	}
	return o.retry != backoff && prev.Message != o.Message
}

// defaultRetryInterval is a GitSync's spec.retryInterval when it sets none
// (or the interval, when that is shorter).
const defaultRetryInterval = 30 * time.Second

// retryAfter decides how long a GitSync waits before it retries a sync
// after failures retryable failures in a row: retryInterval (zero means
// defaultRetryInterval), doubled for each failure after the first, never
// more than interval.
func retryAfter(retryInterval, interval time.Duration, failures int64) time.Duration {
	if retryInterval <= 0 {
		retryInterval = defaultRetryInterval
	}
	wait := retryInterval
	for i := int64(1); i < failures && wait < interval; i++ {
		wait *= 2
	}
	if interval > 0 && wait > interval {
		return interval
	}
	return wait
}

// setProgressing marks a sync under way the way kstatus reads it
// (InProgress): Reconciling=True and Ready=Unknown, both with reason
// Progressing and msg, and no Stalled.
func setProgressing(conds *[]metav1.Condition, msg string, generation int64) {
	meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionStalled)
	for _, t := range []string{gitsealv1alpha1.ConditionReconciling, gitsealv1alpha1.ConditionReady} {
		status := metav1.ConditionTrue
		if t == gitsealv1alpha1.ConditionReady {
			status = metav1.ConditionUnknown
		}
		meta.SetStatusCondition(conds, metav1.Condition{Type: t, Status: status, Reason: gitsealv1alpha1.ReasonProgressing, Message: msg, ObservedGeneration: generation})
	}
}

// setSuspended marks a suspended GitSync: nothing runs, so no Reconciling.
// After a successful last sync Ready stays True (kstatus: Current), its
// reason Suspended; otherwise Ready=False and Stalled=True, reason
// Suspended (kstatus: Failed), because nothing improves until it is
// resumed. The message keeps what the last sync came to.
func setSuspended(conds *[]metav1.Condition, lastApplied string, generation int64) {
	prev := meta.FindStatusCondition(*conds, gitsealv1alpha1.ConditionReady)
	ready := metav1.Condition{Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: gitsealv1alpha1.ReasonSuspended, ObservedGeneration: generation}
	switch {
	case prev != nil && prev.Reason == gitsealv1alpha1.ReasonSuspended:
		ready.Status, ready.Message = prev.Status, prev.Message
	case prev != nil && prev.Status == metav1.ConditionTrue:
		ready.Status = metav1.ConditionTrue
		ready.Message = "syncing is suspended; the last sync succeeded"
		if lastApplied != "" {
			ready.Message = fmt.Sprintf("syncing is suspended; revision %s stays applied", lastApplied)
		}
	case prev != nil && prev.Status == metav1.ConditionFalse:
		ready.Message = fmt.Sprintf("syncing is suspended; the last sync failed: %s: %s", prev.Reason, prev.Message)
	default:
		ready.Message = "syncing is suspended"
	}
	meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionReconciling)
	if ready.Status == metav1.ConditionTrue {
		meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionStalled)
	} else {
		meta.SetStatusCondition(conds, metav1.Condition{Type: gitsealv1alpha1.ConditionStalled, Status: metav1.ConditionTrue,
			Reason: gitsealv1alpha1.ReasonSuspended, Message: ready.Message, ObservedGeneration: generation})
	}
	meta.SetStatusCondition(conds, ready)
}
