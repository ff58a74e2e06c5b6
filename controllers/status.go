package controllers

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// outcome is what one reconcile came to.
type outcome struct {
	// Reason is ReasonSucceeded or the failure's Reason.
	Reason string
	// Message explains it; it never contains a secret value.
	Message string
}

func (o outcome) ok() bool { return o.Reason == gitsealv1alpha1.ReasonSucceeded }

// stalled reports whether retrying a SealedSecret cannot help until the
// object, the keys or the cluster change, each of which triggers a new
// reconcile.
func (o outcome) stalled() bool {
	switch o.Reason {
	case gitsealv1alpha1.ReasonSucceeded, gitsealv1alpha1.ReasonApplyFailed, gitsealv1alpha1.ReasonKeyUnavailable:
		return false
	}
	return true
}

// setConditions writes Ready, Reconciling and Stalled the way kstatus reads
// them: Ready=True alone when done; Ready=False with Reconciling=True while a
// transient failure is retried; Ready=False with Stalled=True when only a
// change can help (stalled).
func setConditions(conds *[]metav1.Condition, o outcome, stalled bool, generation int64) {
	ready := metav1.Condition{Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: o.Reason, Message: o.Message, ObservedGeneration: generation}
	switch {
	case o.ok():
		meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionStalled)
	case stalled:
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

// warnNow decides whether a failure deserves a Warning event: only when the
// Ready condition changes to it, so a failure that persists across retries
// and resyncs is reported once, not on every attempt. A failure that is
// retried (retried) is new only with a new reason: its message names
// things that change from one attempt to the next, such as a connection's
// port.
func warnNow(prev *metav1.Condition, o outcome, retried bool) bool {
	if o.ok() {
		return false
	}
	if prev == nil || prev.Status != metav1.ConditionFalse || prev.Reason != o.Reason {
		return true
	}
	return !retried && prev.Message != o.Message
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
