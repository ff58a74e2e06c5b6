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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/sealer"
)

// notManagedRecheck is how often a SealedSecret blocked by a Secret it does
// not own looks again: foreign Secrets are not watched.
const notManagedRecheck = 2 * time.Minute

// SealedSecretReconciler opens SealedSecrets with the ring's keys and
// writes their Secrets with server-side apply. Wired by hand rather than by
// Setup, it needs only Client and Recorder (setDefaults), and Ring to open
// anything.
type SealedSecretReconciler struct {
	Client                    client.Client
	Reader                    client.Reader // uncached: confirms a Secret is absent before creating it
	Ring                      *keys.Ring
	Recorder                  recorder.EventRecorder
	AllowServiceAccountTokens bool
	Clock                     clock.PassiveClock
	metrics                   *metrics

	// written remembers, per SealedSecret UID, the Secret version this
	// controller last wrote, so the echo of its own write costs no decrypt.
	written sync.Map // types.UID → writtenSecret
	// failing remembers, per SealedSecret, the Ready condition of the
	// failure this controller last wrote: a retry can run before the cache
	// holds that status, and must not report the failure again.
	failing sync.Map // types.NamespacedName → metav1.Condition
	// defaults fills what Setup would (setDefaults).
	defaults sync.Once
}

// writtenSecret is what a successful reconcile produced.
type writtenSecret struct {
	generation      int64
	secretVersion   string
	ringVersion     uint64
	keyIDs, retired []string
}

// SetupWithManager registers the reconciler: it watches SealedSecrets, the
// Secrets they own (so a deleted or edited Secret is restored), and the key
// ring (so objects waiting for a key retry when one appears).
func (r *SealedSecretReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	r.setDefaults()
	keyEvents := make(chan event.TypedGenericEvent[*gitsealv1alpha1.SealedSecret])
	if err := mgr.Add(&retryOnKeyChange{client: mgr.GetClient(), ring: r.Ring, events: keyEvents}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&gitsealv1alpha1.SealedSecret{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.Secret{}).
		WatchesRawSource(source.Channel(keyEvents, &handler.TypedEnqueueRequestForObject[*gitsealv1alpha1.SealedSecret]{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(workers, 1)}).
		Complete(r)
}

// Reconcile brings one SealedSecret's Secret in line with its spec. It
// patches status once, at the end, whatever happened.
func (r *SealedSecretReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.setDefaults()
	var ss gitsealv1alpha1.SealedSecret
	if err := r.Client.Get(ctx, req.NamespacedName, &ss); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.deleteSealedSecret(req.NamespacedName)
			r.failing.Delete(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !ss.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the garbage collector removes the Secret
	}
	if r.unchangedSinceWrite(ctx, &ss) {
		return ctrl.Result{}, nil
	}
	start := r.Clock.Now()
	orig := ss.DeepCopy()
	ringVersion := r.Ring.Version()
	o, opens, secretVersion := r.unseal(ctx, &ss)

	r.metrics.unseals.Inc()
	r.metrics.unsealDuration.Observe(r.Clock.Since(start).Seconds())
	if o.ok() {
		ss.Status.KeyIDs, ss.Status.RetiredKeyIDs = nil, nil
		retiredValues := 0
		for _, id := range slices.Sorted(maps.Keys(opens)) {
			ss.Status.KeyIDs = append(ss.Status.KeyIDs, string(id))
			if state, _ := r.Ring.State(id); state == keys.Retired {
				ss.Status.RetiredKeyIDs = append(ss.Status.RetiredKeyIDs, string(id))
				retiredValues += opens[id]
			}
		}
		r.metrics.setSealedSecret(req.NamespacedName, sealedSecretState{reason: o.Reason, retiredValues: retiredValues})
		r.written.Store(ss.UID, writtenSecret{ss.Generation, secretVersion, ringVersion, ss.Status.KeyIDs, ss.Status.RetiredKeyIDs})
	} else {
		r.metrics.setSealedSecretReason(req.NamespacedName, o.Reason)
		r.written.Delete(ss.UID)
	}
	prevReady := meta.FindStatusCondition(orig.Status.Conditions, gitsealv1alpha1.ConditionReady)
	if v, ok := r.failing.Load(req.NamespacedName); ok {
		last := v.(metav1.Condition)
		prevReady = &last // newer than a cached status that does not show it yet
	}
	var recovered *statusEvent
	if prevReady != nil && prevReady.Status == metav1.ConditionFalse {
		recovered = &statusEvent{corev1.EventTypeNormal, "Recovered", fmt.Sprintf("Secret written from %d sealed values", len(ss.Spec.EncryptedData))}
	}
	ev := finishStatus(&ss.Status.Conditions, &ss.Status.ObservedGeneration, ss.Generation, prevReady, o, recovered)
	if o.ok() {
		r.failing.Delete(req.NamespacedName)
	} else {
		r.failing.Store(req.NamespacedName, *meta.FindStatusCondition(ss.Status.Conditions, gitsealv1alpha1.ConditionReady))
	}
	statusSignals{r.Recorder, "Unseal", r.metrics.unsealErrors}.send(&ss, o, ev)
	if !equality.Semantic.DeepEqual(orig.Status, ss.Status) {
		if err := r.patchStatus(ctx, &ss); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	log := ctrl.LoggerFrom(ctx)
	switch {
	case o.ok():
		log.V(1).Info("unsealed", "keyIDs", ss.Status.KeyIDs)
		return ctrl.Result{}, nil
	case o.Reason == gitsealv1alpha1.ReasonSecretNotManaged:
		return ctrl.Result{RequeueAfter: notManagedRecheck}, nil
	case o.retry == stall:
		log.Info("stalled until the SealedSecret or the keys change", "reason", o.Reason, "message", o.Message)
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, fmt.Errorf("%s: %s", o.Reason, o.Message) // retried with backoff
}

// patchStatus writes the whole status with a merge patch that holds only
// the status: cheaper than diffing two copies of an object whose spec can
// be a megabyte of ciphertext.
func (r *SealedSecretReconciler) patchStatus(ctx context.Context, ss *gitsealv1alpha1.SealedSecret) error {
	patch, err := json.Marshal(map[string]any{"status": ss.Status})
	if err != nil {
		return err
	}
	return r.Client.Status().Patch(ctx, ss, client.RawPatch(types.MergePatchType, patch))
}

// unchangedSinceWrite reports whether nothing has changed since this
// controller last wrote the object's Secret: same generation, same keys, the
// Secret still at the version written, and status already saying so. That
// is the case for the echo of our own write, which then costs no decrypt.
func (r *SealedSecretReconciler) unchangedSinceWrite(ctx context.Context, ss *gitsealv1alpha1.SealedSecret) bool {
	v, ok := r.written.Load(ss.UID)
	if !ok {
		return false
	}
	w := v.(writtenSecret)
	ready := meta.FindStatusCondition(ss.Status.Conditions, gitsealv1alpha1.ConditionReady)
	if w.generation != ss.Generation || w.ringVersion != r.Ring.Version() || ready == nil ||
		ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != ss.Generation {
		return false
	}
	var s corev1.Secret
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(ss), &s); err != nil || s.ResourceVersion != w.secretVersion {
		return false
	}
	return slices.Equal(ss.Status.KeyIDs, w.keyIDs) && slices.Equal(ss.Status.RetiredKeyIDs, w.retired)
}

// unseal opens the values and writes the Secret. On any failure it leaves
// the existing Secret exactly as it was. It returns the outcome, the keys
// that opened the values, with the number of values each opened, and the
// resource version of the Secret.
func (r *SealedSecretReconciler) unseal(ctx context.Context, ss *gitsealv1alpha1.SealedSecret) (outcome, map[crypto.KeyID]int, string) {
	ids := r.Ring.Identities()
	if len(ids) == 0 {
		return outcome{gitsealv1alpha1.ReasonKeyUnavailable, "the controller holds no usable key yet", backoff}, nil, ""
	}
	secretType := corev1.SecretTypeOpaque
	if t := ss.Spec.Template; t != nil && t.Type != "" {
		secretType = corev1.SecretType(t.Type)
	}
	if why := reservedTemplate(ss.Spec.Template); why != "" {
		return outcome{gitsealv1alpha1.ReasonInvalidSpec, why, stall}, nil, ""
	}
	if secretType == corev1.SecretTypeServiceAccountToken && !r.AllowServiceAccountTokens {
		return outcome{gitsealv1alpha1.ReasonPolicyDenied, "a Secret of type kubernetes.io/service-account-token is refused; run the controller with --allow-service-account-token-secrets to allow it", stall}, nil, ""
	}
	opened, err := sealer.Open(ss, ids)
	if err != nil {
		reason := gitsealv1alpha1.ReasonInvalidSpec
		if serr, ok := errors.AsType[*sealer.Error](err); ok {
			reason = serr.Reason
		}
		return outcome{reason, err.Error(), stall}, nil, ""
	}
	defer opened.Wipe()

	existing, err := r.existingSecret(ctx, ss)
	if err != nil {
		return outcome{gitsealv1alpha1.ReasonApplyFailed, fmt.Sprintf("read Secret: %v", err), backoff}, nil, ""
	}
	if existing != nil && !mayWrite(existing, ss) {
		return outcome{gitsealv1alpha1.ReasonSecretNotManaged, fmt.Sprintf(
			"Secret %s/%s exists and is not managed by gitseal; delete it, or annotate it %s=true to let this SealedSecret take it over",
			ss.Namespace, ss.Name, gitsealv1alpha1.AnnotationManaged), stall}, nil, ""
	}
	desired := desiredSecret(ss, secretType, opened.Data)
	var current *corev1.Secret
	if existing != nil {
		current = r.managedSecret(ctx, ss)
		if current != nil && upToDate(current, ss, secretType, opened.Data) {
			return outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: "Secret is up to date"}, opened.Opens, current.ResourceVersion
		}
	}
	if err := r.apply(ctx, desired, existing != nil, current); err != nil {
		return outcome{gitsealv1alpha1.ReasonApplyFailed, fmt.Sprintf("write Secret: %v", err), backoff}, nil, ""
	}
	return outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: "Secret written"}, opened.Opens, *desired.ResourceVersion
}

// reservedTemplate returns why a template may not be written, or "": it
// asks for the key Secret type, or for a label or annotation in gitseal's
// own domain (keys.ReservedPrefix, or a subdomain of it), such as the marks
// the key lifecycle reads. Otherwise whoever may create a SealedSecret in
// the controller's namespace could have the controller write a sealing key
// for them.
func reservedTemplate(t *gitsealv1alpha1.SecretTemplate) string {
	if t == nil {
		return ""
	}
	if corev1.SecretType(t.Type) == keys.SecretType {
		return fmt.Sprintf("template.type %s is reserved for the controller's sealing keys", keys.SecretType)
	}
	if t.Metadata == nil {
		return ""
	}
	for _, f := range []struct {
		field string
		m     map[string]string
	}{{"labels", t.Metadata.Labels}, {"annotations", t.Metadata.Annotations}} {
		for _, k := range slices.Sorted(maps.Keys(f.m)) {
			if reservedKey(k) {
				return fmt.Sprintf("template.metadata.%s %s is not allowed: the %s domain is reserved for gitseal", f.field, k, strings.TrimSuffix(keys.ReservedPrefix, "/"))
			}
		}
	}
	return ""
}

// reservedKey reports whether a label or annotation key is in gitseal's
// domain or a subdomain of it.
func reservedKey(k string) bool {
	prefix, _, ok := strings.Cut(k, "/")
	domain := strings.TrimSuffix(keys.ReservedPrefix, "/")
	return ok && (strings.EqualFold(prefix, domain) || strings.HasSuffix(strings.ToLower(prefix), "."+domain))
}

// existingSecret finds the metadata of the Secret of the same name: its
// data is not needed to decide whether it may be written. When the cache has
// none, the API server is asked, since the cache may not yet have seen a
// Secret someone else just created.
func (r *SealedSecretReconciler) existingSecret(ctx context.Context, ss *gitsealv1alpha1.SealedSecret) (*metav1.PartialObjectMetadata, error) {
	m := secretMetadata()
	err := r.Client.Get(ctx, client.ObjectKeyFromObject(ss), m)
	if apierrors.IsNotFound(err) {
		m = secretMetadata()
		err = r.Reader.Get(ctx, client.ObjectKeyFromObject(ss), m)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return m, nil
}

// managedSecret returns the cached Secret if gitseal manages it.
func (r *SealedSecretReconciler) managedSecret(ctx context.Context, ss *gitsealv1alpha1.SealedSecret) *corev1.Secret {
	var s corev1.Secret
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(ss), &s); err != nil {
		return nil
	}
	return &s
}

// mayWrite decides whether the controller may write an existing Secret:
// it is controlled by this SealedSecret (or an earlier one of the same
// name), or its owner opted in with the managed annotation.
func mayWrite(s metav1.Object, ss *gitsealv1alpha1.SealedSecret) bool {
	if s.GetAnnotations()[gitsealv1alpha1.AnnotationManaged] == "true" {
		return true
	}
	ref := metav1.GetControllerOf(s)
	return ref != nil && ref.Kind == "SealedSecret" && ref.Name == ss.Name &&
		ref.APIVersion == gitsealv1alpha1.GroupVersion.String()
}

func secretLabels(ss *gitsealv1alpha1.SealedSecret) map[string]string {
	labels := map[string]string{}
	if t := ss.Spec.Template; t != nil && t.Metadata != nil {
		maps.Copy(labels, t.Metadata.Labels)
	}
	labels[keys.ManagedByLabel] = keys.ManagedByValue
	return labels
}

func secretAnnotations(ss *gitsealv1alpha1.SealedSecret) map[string]string {
	if t := ss.Spec.Template; t != nil && t.Metadata != nil {
		return t.Metadata.Annotations
	}
	return nil
}

func immutable(ss *gitsealv1alpha1.SealedSecret) *bool {
	if ss.Spec.Template != nil {
		return ss.Spec.Template.Immutable
	}
	return nil
}

// desiredSecret is the apply configuration of the Secret the controller
// writes for a SealedSecret, given its opened data.
func desiredSecret(ss *gitsealv1alpha1.SealedSecret, t corev1.SecretType, data map[string][]byte) *corev1ac.SecretApplyConfiguration {
	s := corev1ac.Secret(ss.Name, ss.Namespace).
		WithLabels(secretLabels(ss)).
		WithType(t).
		WithData(data).
		WithOwnerReferences(metav1ac.OwnerReference().
			WithAPIVersion(gitsealv1alpha1.GroupVersion.String()).
			WithKind("SealedSecret").
			WithName(ss.Name).
			WithUID(ss.UID).
			WithController(true).
			WithBlockOwnerDeletion(true))
	if a := secretAnnotations(ss); len(a) > 0 {
		s.WithAnnotations(a)
	}
	if im := immutable(ss); im != nil {
		s.WithImmutable(*im)
	}
	return s
}

// upToDate reports whether the Secret already holds everything apply would
// write, so that the echo of our own write costs no second write.
func upToDate(s *corev1.Secret, ss *gitsealv1alpha1.SealedSecret, t corev1.SecretType, data map[string][]byte) bool {
	if s.Type != t || !metav1.IsControlledBy(s, ss) || !equality.Semantic.DeepEqual(s.Immutable, immutable(ss)) {
		return false
	}
	for k, v := range data {
		if !bytes.Equal(s.Data[k], v) {
			return false
		}
	}
	return subset(secretLabels(ss), s.Labels) && subset(secretAnnotations(ss), s.Annotations)
}

func subset(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// apply writes the Secret. Ownership is forced only over a Secret that
// exists and may be written, which restores hand edits; a new Secret is
// applied without force, so that one created by someone else in the instant
// since existingSecret looked conflicts on any shared field. An
// immutable Secret whose data must change can only be replaced: it is
// deleted (if it is still the one we read) and written again.
func (r *SealedSecretReconciler) apply(ctx context.Context, desired *corev1ac.SecretApplyConfiguration, exists bool, current *corev1.Secret) error {
	opts := []client.ApplyOption{client.FieldOwner(FieldManager)}
	if exists {
		opts = append(opts, client.ForceOwnership)
	}
	err := r.Client.Apply(ctx, desired, opts...)
	if err == nil || !apierrors.IsInvalid(err) || current == nil || current.Immutable == nil || !*current.Immutable {
		return err
	}
	pre := client.Preconditions{UID: &current.UID, ResourceVersion: &current.ResourceVersion}
	if err := r.Client.Delete(ctx, current, pre); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("replace immutable Secret: %w", err)
	}
	return r.Client.Apply(ctx, desired, client.FieldOwner(FieldManager))
}

// retryOnKeyChange re-queues every SealedSecret when the key ring changes:
// a restored, added or renewed key may open one that failed, and a retired
// key changes the status of those it opened.
type retryOnKeyChange struct {
	client client.Client
	ring   *keys.Ring
	events chan<- event.TypedGenericEvent[*gitsealv1alpha1.SealedSecret]
}

var _ manager.LeaderElectionRunnable = (*retryOnKeyChange)(nil)

func (k *retryOnKeyChange) NeedLeaderElection() bool { return true }

func (k *retryOnKeyChange) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-k.ring.Changed():
		}
		var list gitsealv1alpha1.SealedSecretList
		if err := k.client.List(ctx, &list); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "list SealedSecrets after a key change")
			continue
		}
		for i := range list.Items {
			select {
			case k.events <- event.TypedGenericEvent[*gitsealv1alpha1.SealedSecret]{Object: &list.Items[i]}:
			case <-ctx.Done():
				return nil
			}
		}
	}
}
