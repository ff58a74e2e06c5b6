package controllers

import (
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
// and resyncs is reported once, not on every attempt.
func warnNow(prev *metav1.Condition, o outcome) bool {
	if o.ok() {
		return false
	}
	return prev == nil || prev.Status != metav1.ConditionFalse || prev.Reason != o.Reason || prev.Message != o.Message
}
