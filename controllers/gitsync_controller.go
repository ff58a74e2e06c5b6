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
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/apply"
	"github.com/gitseal/gitseal/internal/gitsource"
	"github.com/gitseal/gitseal/internal/policy"
	"github.com/gitseal/gitseal/internal/render"
)

// Labels and finalizer of the GitSync controller.
const (
	// LabelGitSyncName and LabelGitSyncNamespace mark every object a
	// GitSync applied; prune deletes only objects that still carry both.
	LabelGitSyncName      = "gitseal.dev/gitsync-name"
	LabelGitSyncNamespace = "gitseal.dev/gitsync-namespace"
	// GitSyncFinalizer lets a deleted GitSync prune what it applied.
	GitSyncFinalizer = "gitseal.dev/gitsync"
)

const defaultSyncTimeout = 2 * time.Minute

// GitSyncReconciler keeps the objects built from a path of a Git repository
// applied: fetch, build in a sandbox, refuse plaintext Secrets, apply with
// server-side apply, prune. Wired by hand rather than by Setup, it needs
// only Client and Recorder (setDefaults), and Config to apply.
type GitSyncReconciler struct {
	Client   client.Client // cached: GitSyncs
	Reader   client.Reader // uncached: the GitSync at the start of a sync, and its Secrets
	Config   *rest.Config  // for the clients that apply, as the GitSync's ServiceAccount
	Scheme   *runtime.Scheme
	Mapper   meta.RESTMapper
	Recorder recorder.EventRecorder
	Clock    clock.PassiveClock
	// Namespace is the controller's own namespace: a GitSync there may
	// write any namespace, with the rights of its ServiceAccount.
	Namespace string
	// WatchNamespaces are the namespaces whose GitSyncs it reconciles,
	// besides its own; empty means all.
	WatchNamespaces []string
	// DefaultServiceAccount is the ServiceAccount, in the GitSync's own
	// namespace, that a GitSync naming none applies and prunes as. Empty
	// means such a GitSync is refused: the controller never applies with
	// its own rights.
	DefaultServiceAccount string
	// TempDir holds the checkouts, shared by the syncs of one revision
	// and kept a short while after; empty means the system's temporary
	// directory.
	TempDir string
	// MaxRepositoryBytes caps the files of one checked-out revision; the
	// objects of a fetch, held in memory, may take about four times as
	// much. Zero means gitsource's default.
	MaxRepositoryBytes int64

	policy  *policy.Policy
	metrics *metrics
	// drift finds hand edits and deletions of applied objects as they
	// happen (gitsync_drift.go).
	drift *driftWatch
	// checkouts shares one download and checkout of a revision between
	// the GitSyncs that read it, and bounds the downloads under way, whose
	// objects are in memory, so that several large repositories cannot
	// exhaust the controller's memory between them; builds and applies
	// still run side by side.
	checkouts *gitsource.Cache
	// builds keeps each GitSync's last build (gitsync_builds.go).
	builds *builtRevisions
	// defaults fills what SetupWithManager would (setDefaults).
	defaults sync.Once
}

// maxConcurrentFetches is how many repositories are downloaded at once.
const maxConcurrentFetches = 2

// SetupWithManager registers the reconciler. A sync runs when the spec or
// the annotations change (gitseal.dev/reconcile-requested-at asks for one
// now), again after every interval, and at once when an applied object
// drifts (driftWatch), which gets a cache of its own.
func (r *GitSyncReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	r.setDefaults()
	// Only the leader syncs, and so fills the cache: empty it when it
	// stops leading or the controller stops.
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		r.checkouts.Close()
		return nil
	})); err != nil {
		return err
	}
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&gitsealv1alpha1.GitSync{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(workers, 1)}).
		Build(r)
	if err != nil {
		return err
	}
	var gitSyncNamespaces []string
	if len(r.WatchNamespaces) > 0 {
		gitSyncNamespaces = append([]string{r.Namespace}, r.WatchNamespaces...)
	}
	opts, err := driftCacheOptions(gitSyncNamespaces)
	if err != nil {
		return err
	}
	opts.Scheme, opts.Mapper = mgr.GetScheme(), mgr.GetRESTMapper()
	driftCache, err := cache.New(mgr.GetConfig(), opts)
	if err != nil {
		return fmt.Errorf("create drift watch cache: %w", err)
	}
	if err := mgr.Add(driftCache); err != nil {
		return fmt.Errorf("add drift watch cache: %w", err)
	}
	r.drift = newDriftWatch(r.metrics)
	r.drift.now = r.Clock.Now
	r.drift.allowed = canListAndWatch(mgr.GetClient(), mgr.GetRESTMapper())
	r.drift.watch = watchKind(r.drift, driftCache, c)
	return nil
}

// syncResult is what one sync came to, for the status. Its outcome's
// retry says what follows a failure: backoff, or a wait for a dependency,
// or else (stall) the next interval, a new commit or a new spec.
type syncResult struct {
	outcome
	revision string
	applied  *apply.Result
	// appliedRevision is set when the revision was applied in full but the
	// sync failed after that (a health check).
	appliedRevision bool
	// drifted lists what a check without correction found changed, when
	// driftChecked; a sync that applied corrected any drift.
	drifted      []apply.ObjectRef
	driftChecked bool
	// incremental is set when the sync was not a full check: it sent only
	// what changed in Git since the last sync, so it neither found nor
	// corrected drift.
	incremental bool
	// waitFor, when the outcome is a wait, is when to look again.
	waitFor time.Duration
}

// dependencyPoll is how often a GitSync waiting for its dependencies looks
// again.
const dependencyPoll = 5 * time.Second

// Reconcile runs one sync. The status is patched at the end, and also at
// the start of a sync that acts on something new (a new spec, a requested
// sync, a new revision), so that kstatus sees it in progress.
func (r *GitSyncReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.setDefaults()
	// Read from the API server, not the cache: the status decides the
	// events, the backoff and what to prune, and the cache may not hold the
	// last sync's status write yet when a retry or a request follows it
	// closely; a stale copy would report the same failure twice.
	var gs gitsealv1alpha1.GitSync
	if err := r.Reader.Get(ctx, req.NamespacedName, &gs); err != nil {
		if apierrors.IsNotFound(err) {
			r.drift.forget(req.NamespacedName)
			r.builds.forget(req.NamespacedName)
			r.metrics.deleteGitSync(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !gs.DeletionTimestamp.IsZero() {
		r.drift.forget(req.NamespacedName)
		r.builds.forget(req.NamespacedName)
		r.metrics.deleteGitSync(req.NamespacedName)
		return r.finalize(ctx, &gs)
	}
	if gs.Spec.Suspend {
		r.drift.forget(req.NamespacedName)
		r.builds.forget(req.NamespacedName)
		return ctrl.Result{}, r.suspend(ctx, &gs)
	}
	if !controllerutil.ContainsFinalizer(&gs, GitSyncFinalizer) {
		patch := client.MergeFrom(gs.DeepCopy())
		controllerutil.AddFinalizer(&gs, GitSyncFinalizer)
		if err := r.Client.Patch(ctx, &gs, patch); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	before := gs.DeepCopy() // the status before this sync, which events compare with
	progressed := false
	if startsNew(&gs) {
		if err := r.markProgressing(ctx, &gs, "sync in progress: fetching"); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
		progressed = true
	}
	start := r.Clock.Now()
	timeout := defaultSyncTimeout
	if gs.Spec.Timeout != nil && gs.Spec.Timeout.Duration > 0 {
		timeout = gs.Spec.Timeout.Duration
	}
	syncCtx, cancel := context.WithTimeout(ctx, timeout)
	res := r.sync(syncCtx, &gs, before, func(rev string) {
		if !progressed && rev == before.Status.LastAttemptedRevision {
			return // nothing new: no write for a sync that most likely changes nothing
		}
		if err := r.markProgressing(syncCtx, &gs, fmt.Sprintf("sync in progress: applying revision %s", rev)); err != nil {
			ctrl.LoggerFrom(ctx).Info("could not report the sync in progress", "error", err.Error())
		}
	})
	cancel()
	r.metrics.syncs.Inc()
	r.metrics.syncDuration.Observe(r.Clock.Since(start).Seconds())

	orig := gs.DeepCopy()
	if res.revision != "" {
		gs.Status.LastAttemptedRevision = res.revision
	}
	if res.applied != nil {
		gs.Status.Inventory = toInventory(res.applied.Inventory, res.applied.Hashes)
	}
	if res.ok() || res.appliedRevision {
		gs.Status.LastAppliedRevision = res.revision
	}
	if res.ok() {
		now := metav1.NewTime(r.Clock.Now())
		gs.Status.LastSyncTime = &now
		if !res.incremental {
			gs.Status.LastFullCheckTime = &now
		}
	}
	gs.Status.Failures = consecutiveFailures(res, before.Status.Failures, before.Status.ObservedGeneration == gs.Generation)
	if v, ok := gs.Annotations[gitsealv1alpha1.AnnotationReconcileRequestedAt]; ok {
		gs.Status.LastHandledReconcileAt = v
	}
	prevReady := meta.FindStatusCondition(before.Status.Conditions, gitsealv1alpha1.ConditionReady)
	var applied *statusEvent // a success is news when it ends a failure or applies another revision
	if prevReady == nil || prevReady.Status != metav1.ConditionTrue || before.Status.LastAppliedRevision != res.revision {
		applied = &statusEvent{corev1.EventTypeNormal, res.Reason, res.Message}
	}
	ev := finishStatus(&gs.Status.Conditions, &gs.Status.ObservedGeneration, gs.Generation, prevReady, res.outcome, applied)
	if setDrifted(&gs.Status.Conditions, res, gs.Generation) {
		cond := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionDrifted)
		r.Recorder.Eventf(&gs, nil, corev1.EventTypeWarning, cond.Reason, "Sync", "%s", cond.Message)
	}
	statusSignals{r.Recorder, "Sync", r.metrics.syncErrors}.send(&gs, res.outcome, ev)
	// Watch the inventory before reporting the sync: once it is reported,
	// drift of what it applied is seen.
	r.drift.track(ctx, &gs)
	if err := r.Client.Status().Patch(ctx, &gs, client.MergeFrom(orig)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.metrics.setGitSync(&gs)

	next := requeueAfter(res, &gs.Spec, gs.Status.Failures)
	log := ctrl.LoggerFrom(ctx)
	if res.ok() {
		log.V(1).Info("synced", "revision", res.revision)
	} else {
		log.Info("sync failed", "reason", res.Reason, "message", res.Message, "revision", res.revision, "retryIn", next.String())
	}
	// Never an error for a failed sync: controller-runtime would retry it
	// at once and then every few milliseconds, ignoring retryInterval.
	return ctrl.Result{RequeueAfter: next}, nil
}

// startsNew decides whether a sync acts on something not synced yet: a new
// spec, a sync requested with the annotation, or a GitSync never synced.
// Such a sync is reported in progress before it starts.
func startsNew(gs *gitsealv1alpha1.GitSync) bool {
	requested, ok := gs.Annotations[gitsealv1alpha1.AnnotationReconcileRequestedAt]
	return gs.Status.ObservedGeneration != gs.Generation ||
		(ok && requested != gs.Status.LastHandledReconcileAt) ||
		meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady) == nil
}

// markProgressing writes Reconciling=True and Ready=Unknown, reason
// Progressing, so that kstatus reads the GitSync as InProgress while the
// sync runs.
func (r *GitSyncReconciler) markProgressing(ctx context.Context, gs *gitsealv1alpha1.GitSync, msg string) error {
	orig := gs.DeepCopy()
	setProgressing(&gs.Status.Conditions, msg, gs.Generation)
	return r.Client.Status().Patch(ctx, gs, client.MergeFrom(orig))
}

// suspend records that a GitSync is suspended (setSuspended) at its
// current generation. It writes only when that changes the status.
func (r *GitSyncReconciler) suspend(ctx context.Context, gs *gitsealv1alpha1.GitSync) error {
	orig := gs.DeepCopy()
	gs.Status.ObservedGeneration = gs.Generation
	setSuspended(&gs.Status.Conditions, gs.Status.LastAppliedRevision, gs.Generation)
	defer r.metrics.setGitSync(gs)
	if equality.Semantic.DeepEqual(orig.Status, gs.Status) {
		return nil
	}
	return client.IgnoreNotFound(r.Client.Status().Patch(ctx, gs, client.MergeFrom(orig)))
}

// consecutiveFailures is status.failures after a sync: one more after a
// failure that is retried with backoff (counting from zero again for a new
// spec), zero after anything else.
func consecutiveFailures(res syncResult, previous int64, sameGeneration bool) int64 {
	if res.ok() || res.retry != backoff {
		return 0
	}
	if !sameGeneration {
		previous = 0
	}
	return previous + 1
}

// requeueAfter decides when the next sync runs: a failure that may pass is
// retried after retryAfter; a GitSync waiting for a dependency looks again
// after waitFor; anything else, success or a failure that needs a new
// commit or spec, syncs again after the interval.
func requeueAfter(res syncResult, spec *gitsealv1alpha1.GitSyncSpec, failures int64) time.Duration {
	interval := spec.Interval.Duration
	switch {
	case !res.ok() && res.retry == backoff:
		var retry time.Duration
		if spec.RetryInterval != nil {
			retry = spec.RetryInterval.Duration
		}
		return retryAfter(retry, interval, failures)
	case res.waitFor > 0:
		return min(res.waitFor, interval)
	}
	return interval
}

// sync fetches, builds, checks and applies one revision. Nothing is applied
// or pruned unless every step before it succeeded.
// prev is the GitSync as it was before this sync reported progress;
// progress is called once the revision is known, before it is built.
func (r *GitSyncReconciler) sync(ctx context.Context, gs, prev *gitsealv1alpha1.GitSync, progress func(rev string)) syncResult {
	tenant := gs.Namespace != r.Namespace
	if serviceAccount(gs, r.DefaultServiceAccount) == "" {
		return failed(gitsealv1alpha1.ReasonInvalidSpec, stall, "", "%s", noServiceAccount(gs))
	}
	if res, ok := r.checkServiceAccount(ctx, gs); !ok {
		return res
	}
	if res, waiting := r.waitForDependencies(ctx, gs); waiting {
		return res
	}
	targetNS := cmp.Or(gs.Spec.TargetNamespace, gs.Namespace)
	if tenant && targetNS != gs.Namespace {
		return failed(gitsealv1alpha1.ReasonPolicyDenied, stall, "",
			"spec.targetNamespace %s is refused: a GitSync outside %s may only write its own namespace", targetNS, r.Namespace)
	}

	opts, res, ok := r.fetchOptions(ctx, gs)
	if !ok {
		return res
	}
	key := client.ObjectKeyFromObject(gs)
	// Between full checks only a watch sees drift: a GitSync holding a kind
	// the controller may not watch (config/drift-watch grants it) is fully
	// checked every interval, as if there were no watches.
	full := fullCheckDue(prev, r.Clock.Now()) || !r.drift.watchesAll(key)
	// Nothing to send unless the ref moved: then stop the fetch as soon as
	// the server says where the ref points, and build nothing. A drift
	// event that arrives meanwhile queues the GitSync again. Otherwise,
	// when the ref still points where this GitSync last built, that build
	// stands: nothing is downloaded or built.
	quick := !full && !gs.Spec.Wait && !r.drift.hasPending(key)
	last := r.builds.get(key, gs.Generation, gs.Spec.Path)
	switch {
	case quick:
		opts.UnlessCommit = appliedCommit(prev)
	case last != nil:
		opts.UnlessCommit = last.commit
	}
	checkout, err := r.checkouts.Fetch(ctx, opts, checkoutOwner(gs))
	if err != nil {
		return fetchFailed(err)
	}
	defer checkout.Release()
	rev := checkout.Revision
	progress(rev)
	if checkout.Unchanged && quick {
		return syncResult{
			outcome:     outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: fmt.Sprintf("no changes at revision %s: nothing was fetched or sent", rev)},
			revision:    rev,
			incremental: true,
		}
	}

	var objs []*unstructured.Unstructured
	if checkout.Unchanged {
		objs = last.objs
	} else {
		var res syncResult
		var ok bool
		if objs, res, ok = r.build(ctx, checkout, gs.Spec.Path, rev); !ok {
			return res
		}
		r.builds.put(key, checkout.Commit, gs.Spec.Path, gs.Generation, objs)
	}
	if previous := fromInventory(gs.Status.Inventory); apply.RefuseEmpty(objs, previous, gs.Spec.AllowEmpty) {
		return failed(gitsealv1alpha1.ReasonEmptyRevision, stall, rev,
			"revision %s renders no objects from %s while %d objects are applied: refused, nothing was applied or pruned; set spec.allowEmpty to accept an empty revision",
			rev, path.Clean(gs.Spec.Path), len(previous))
	}
	if msg := plaintextSecrets(r.policy, objs); msg != "" {
		return failed(gitsealv1alpha1.ReasonPolicyDenied, stall, rev, "%s", msg)
	}
	if tenant {
		if msg := tenancyViolations(objs, gs.Namespace, r.namespaced); msg != "" {
			return failed(gitsealv1alpha1.ReasonPolicyDenied, stall, rev, "%s", msg)
		}
	}

	c, err := r.applyClient(gs)
	if err != nil {
		return failed(gitsealv1alpha1.ReasonApplyFailed, backoff, rev, "%v", err)
	}
	// The objects the drift watch saw change since the last sync: a sync
	// that is not a full check sends, or compares, these as well. With
	// correctDrift false a new revision leaves them for the next comparison.
	var pending map[string]struct{}
	if gs.Spec.CorrectDriftEnabled() || onlyCheckDrift(prev, rev) {
		pending = r.drift.take(key)
	}
	if onlyCheckDrift(prev, rev) {
		if !full {
			if len(pending) == 0 {
				return syncResult{
					outcome:     outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: fmt.Sprintf("no changes at revision %s: nothing was sent", rev)},
					revision:    rev,
					incremental: true,
				}
			}
			objs = r.selectObjects(objs, pending, targetNS)
		} else {
			pending = nil // all of them
		}
		found, err := apply.Drift(ctx, c, objs, apply.Options{
			FieldManager: FieldManager, Labels: gitSyncLabels(gs), DefaultNamespace: targetNS,
		})
		if err != nil {
			return applyFailed(err, rev) // a failed sync: the next one is a full check
		}
		drifted := r.drift.settle(key, pending, found)
		return syncResult{
			outcome:      outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: fmt.Sprintf("revision %s is applied; %d objects drifted from it", rev, len(drifted))},
			revision:     rev,
			drifted:      drifted,
			driftChecked: true,
			incremental:  !full,
		}
	}
	applyOpts := apply.Options{
		FieldManager:     FieldManager,
		Labels:           gitSyncLabels(gs),
		Prune:            gs.Spec.PruneEnabled(),
		DefaultNamespace: targetNS,
		BeforePrune:      func(refs []apply.ObjectRef) { r.drift.prunes(key, refs) },
	}
	if !full {
		applyOpts.Applied = inventoryHashes(gs.Status.Inventory)
		for id := range pending {
			delete(applyOpts.Applied, id) // drifted: send it again
		}
	}
	applied, err := apply.Apply(ctx, c, objs, fromInventory(gs.Status.Inventory), applyOpts)
	if err != nil {
		// A failed sync: the next one is a full check, which sends the
		// pending objects too.
		res := applyFailed(err, rev)
		res.applied = applied // what may have been written stays in the inventory
		return res
	}
	if full {
		r.drift.settle(key, nil, nil) // everything applied: nothing is left drifted
	}
	if gs.Spec.Wait {
		if res := waitReady(ctx, c, applied.Inventory, rev); res.Reason != "" {
			res.applied, res.appliedRevision = applied, true
			return res
		}
	}
	return syncResult{
		outcome:     outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: summary(rev, applied)},
		revision:    rev,
		applied:     applied,
		incremental: !full,
	}
}

// selectObjects returns the rendered objects whose inventory ID ids holds,
// their namespace defaulted to targetNS as apply defaults it. An object of
// an unknown kind is kept: the comparison says what is wrong with it.
func (r *GitSyncReconciler) selectObjects(objs []*unstructured.Unstructured, ids map[string]struct{}, targetNS string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range objs {
		ns := u.GetNamespace()
		if ns == "" {
			if namespaced, err := r.namespaced(u); err != nil || namespaced {
				ns = targetNS
			}
		}
		gvk := u.GroupVersionKind()
		if _, ok := ids[apply.ObjectRef{Group: gvk.Group, Kind: gvk.Kind, Namespace: ns, Name: u.GetName()}.String()]; ok {
			out = append(out, u)
		}
	}
	return out
}

// defaultFullCheckInterval is spec.fullCheckInterval when it is not set.
const defaultFullCheckInterval = time.Hour

// appliedCommit returns the commit of status.lastAppliedRevision
// ("<name>@sha1:<hex>" or "sha1:<hex>"), or "" when there is none.
func appliedCommit(gs *gitsealv1alpha1.GitSync) string {
	_, commit, ok := strings.Cut(gs.Status.LastAppliedRevision, "sha1:")
	if !ok || len(commit) != 40 {
		return ""
	}
	return commit
}

// fullCheckDue decides whether a sync is a full check, which dry-runs and
// applies every object (or, with correctDrift false, compares every object
// with the cluster), rather than one that sends only the objects whose hash
// in the inventory changed. gs is the GitSync as the last sync left it. A
// sync is a full check when it was asked for (a new
// gitseal.dev/reconcile-requested-at), when the last sync did not succeed
// at the current generation (a new spec, a failure, never synced), and
// when fullCheckInterval has passed since the last full check.
func fullCheckDue(gs *gitsealv1alpha1.GitSync, now time.Time) bool {
	requested, asked := gs.Annotations[gitsealv1alpha1.AnnotationReconcileRequestedAt]
	ready := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady)
	last := gs.Status.LastFullCheckTime
	interval := defaultFullCheckInterval
	if gs.Spec.FullCheckInterval != nil {
		interval = gs.Spec.FullCheckInterval.Duration
	}
	switch {
	case asked && requested != gs.Status.LastHandledReconcileAt:
	case ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != gs.Generation:
	case last == nil || now.Before(last.Time) || !now.Before(last.Add(interval)):
	default:
		return false
	}
	return true
}

// waitForDependencies reports whether a GitSync of spec.dependsOn is not
// Ready at its current generation, with the result that says which.
func (r *GitSyncReconciler) waitForDependencies(ctx context.Context, gs *gitsealv1alpha1.GitSync) (syncResult, bool) {
	for _, dep := range gs.Spec.DependsOn {
		var d gitsealv1alpha1.GitSync
		why := ""
		switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: gs.Namespace, Name: dep.Name}, &d); {
		case apierrors.IsNotFound(err):
			why = "does not exist"
		case err != nil:
			return failed(gitsealv1alpha1.ReasonDependencyNotReady, backoff, "", "read GitSync %s/%s: %v", gs.Namespace, dep.Name, err), true
		default:
			ready := meta.FindStatusCondition(d.Status.Conditions, gitsealv1alpha1.ConditionReady)
			switch {
			case d.Spec.Suspend:
				why = "is suspended"
			case ready == nil || ready.ObservedGeneration != d.Generation:
				why = "has not synced its current spec yet"
			case ready.Status != metav1.ConditionTrue:
				why = fmt.Sprintf("is not Ready (%s)", ready.Reason)
			}
		}
		if why != "" {
			res := failed(gitsealv1alpha1.ReasonDependencyNotReady, wait, "", "waiting for GitSync %s/%s, which %s", gs.Namespace, dep.Name, why)
			res.waitFor = dependencyPoll
			return res, true
		}
	}
	return syncResult{}, false
}

// onlyCheckDrift decides whether a sync compares instead of applying: drift
// correction is off, and this revision and generation were already applied
// in full.
func onlyCheckDrift(gs *gitsealv1alpha1.GitSync, rev string) bool {
	ready := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady)
	return !gs.Spec.CorrectDriftEnabled() && rev == gs.Status.LastAppliedRevision &&
		ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == gs.Generation
}

// setDrifted records drift in the Drifted condition, or removes it once a
// sync has applied (and so corrected) the revision. It reports whether
// drift was newly found.
func setDrifted(conds *[]metav1.Condition, res syncResult, generation int64) bool {
	if res.incremental && !res.driftChecked {
		return false // drift was neither looked for nor corrected: the last finding stands
	}
	if !res.driftChecked {
		if res.ok() {
			meta.RemoveStatusCondition(conds, gitsealv1alpha1.ConditionDrifted)
		}
		return false
	}
	was := meta.IsStatusConditionTrue(*conds, gitsealv1alpha1.ConditionDrifted)
	c := metav1.Condition{Type: gitsealv1alpha1.ConditionDrifted, Status: metav1.ConditionFalse, Reason: "NoDrift",
		Message: "the cluster matches the applied revision", ObservedGeneration: generation}
	if len(res.drifted) > 0 {
		names := make([]string, len(res.drifted))
		for i, ref := range res.drifted {
			names[i] = ref.Describe()
		}
		c.Status, c.Reason = metav1.ConditionTrue, "DriftDetected"
		c.Message = fmt.Sprintf("%d objects differ from revision %s and are left as they are (spec.correctDrift is false): %s",
			len(res.drifted), res.revision, limitList(names, 10))
	}
	meta.SetStatusCondition(conds, c)
	return c.Status == metav1.ConditionTrue && !was
}

// fetchOptions reads the spec and the credentials Secret into fetch
// options.
func (r *GitSyncReconciler) fetchOptions(ctx context.Context, gs *gitsealv1alpha1.GitSync) (gitsource.Options, syncResult, bool) {
	opts := gitsource.Options{URL: gs.Spec.URL, MaxBytes: r.MaxRepositoryBytes}
	if ref := gs.Spec.Ref; ref != nil {
		opts.Ref = gitsource.Ref{Branch: ref.Branch, Tag: ref.Tag, Commit: ref.Commit, SemVer: ref.SemVer}
	}
	if gs.Spec.Timeout != nil {
		opts.Timeout = gs.Spec.Timeout.Duration
	}
	if ref := gs.Spec.SecretRef; ref != nil {
		var s corev1.Secret
		err := r.Reader.Get(ctx, client.ObjectKey{Namespace: gs.Namespace, Name: ref.Name}, &s)
		switch {
		case apierrors.IsNotFound(err):
			return opts, failed(gitsealv1alpha1.ReasonGitVerificationFailed, backoff, "", "credentials Secret %s/%s not found", gs.Namespace, ref.Name), false
		case err != nil:
			return opts, failed(gitsealv1alpha1.ReasonGitFetchFailed, backoff, "", "read credentials Secret %s/%s: %v", gs.Namespace, ref.Name, err), false
		}
		auth, err := gitsource.AuthFromSecret(s.Data)
		if err != nil {
			return opts, failed(gitsealv1alpha1.ReasonInvalidSpec, stall, "", "credentials Secret %s/%s: %v", gs.Namespace, ref.Name, err), false
		}
		opts.Auth = auth
	}
	if v := gs.Spec.Verify; v != nil {
		var s corev1.Secret
		err := r.Reader.Get(ctx, client.ObjectKey{Namespace: gs.Namespace, Name: v.SecretRef.Name}, &s)
		switch {
		case apierrors.IsNotFound(err):
			return opts, failed(gitsealv1alpha1.ReasonGitVerificationFailed, backoff, "", "signers Secret %s/%s not found", gs.Namespace, v.SecretRef.Name), false
		case err != nil:
			return opts, failed(gitsealv1alpha1.ReasonGitFetchFailed, backoff, "", "read signers Secret %s/%s: %v", gs.Namespace, v.SecretRef.Name, err), false
		}
		keys, err := gitsource.ParseAllowedSigners(s.Data[signersKey])
		if err != nil {
			return opts, failed(gitsealv1alpha1.ReasonInvalidSpec, stall, "", "signers Secret %s/%s, item %s: %v", gs.Namespace, v.SecretRef.Name, signersKey, err), false
		}
		opts.AllowedSigners = keys
	}
	return opts, syncResult{}, true
}

// signersKey is the item of spec.verify's Secret that lists the signers.
const signersKey = "authorized_keys"

// checkoutOwner decides which GitSyncs may share a checkout, besides the
// repository, the commit and the credentials' content that the cache
// compares itself: those that read it with the same credentials Secret
// (namespace and name), or all that read it anonymously, which anyone may.
func checkoutOwner(gs *gitsealv1alpha1.GitSync) string {
	if ref := gs.Spec.SecretRef; ref != nil {
		return gs.Namespace + "/" + ref.Name
	}
	return ""
}

// build renders the path of the checkout with render.BuildPath, the
// function `gitseal build` calls, so that the two never disagree. The
// GitSyncs sharing the checkout build a path once between them: the
// objects are shared, and read-only.
func (r *GitSyncReconciler) build(ctx context.Context, checkout *gitsource.Shared, relPath, rev string) ([]*unstructured.Unstructured, syncResult, bool) {
	out, err := checkout.Memo(ctx, "build "+cleanPath(relPath), func() (any, error) {
		out, err := render.BuildPath(ctx, checkout.Dir, relPath, render.Options{NoYAML: true})
		if err != nil {
			return nil, err
		}
		return out.Unstructured(), nil
	})
	switch {
	case errors.Is(err, render.ErrNoPath):
		return nil, failed(gitsealv1alpha1.ReasonBuildFailed, stall, rev, "%v in revision %s", err, rev), false
	case err != nil:
		return nil, failed(gitsealv1alpha1.ReasonBuildFailed, stall, rev, "%v", err), false
	}
	return out.([]*unstructured.Unstructured), syncResult{}, true
}

// applyClient returns an uncached client that acts as the GitSync's
// ServiceAccount (impersonation), so that the apply, the prune and the
// health checks have exactly that account's rights. There is no client
// with the controller's own rights: with no ServiceAccount it fails.
func (r *GitSyncReconciler) applyClient(gs *gitsealv1alpha1.GitSync) (client.Client, error) {
	sa := serviceAccount(gs, r.DefaultServiceAccount)
	if sa == "" {
		return nil, errNoServiceAccount
	}
	if r.Config == nil {
		return nil, errors.New("the reconciler has no rest config to apply with")
	}
	cfg := rest.CopyConfig(r.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: serviceAccountUser(gs.Namespace, sa)}
	c, err := client.New(cfg, client.Options{Scheme: r.Scheme, Mapper: r.Mapper})
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	return c, nil
}

// errNoServiceAccount: a GitSync names no ServiceAccount and the
// controller has no default, so there is no account to act as.
var errNoServiceAccount = errors.New("no ServiceAccount to act as: spec.serviceAccountName is empty and the controller has no --default-service-account")

// serviceAccount decides which ServiceAccount, in the GitSync's own
// namespace, a GitSync applies and prunes as: the one it names, else the
// controller's default; "" when there is neither, and the GitSync may not
// apply at all.
func serviceAccount(gs *gitsealv1alpha1.GitSync, defaultSA string) string {
	return cmp.Or(gs.Spec.ServiceAccountName, defaultSA)
}

// checkServiceAccount fails the sync when the ServiceAccount to act as does
// not exist: impersonating it would still authenticate, and every request
// would then come back "forbidden", which reads like missing RBAC. It is
// retried with backoff, since the account may yet be created. Any other
// error to read it lets the sync go on: the apply says what is wrong.
func (r *GitSyncReconciler) checkServiceAccount(ctx context.Context, gs *gitsealv1alpha1.GitSync) (syncResult, bool) {
	sa := &metav1.PartialObjectMetadata{}
	sa.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ServiceAccount"))
	name := serviceAccount(gs, r.DefaultServiceAccount)
	if err := r.Reader.Get(ctx, client.ObjectKey{Namespace: gs.Namespace, Name: name}, sa); apierrors.IsNotFound(err) {
		return failed(gitsealv1alpha1.ReasonInvalidSpec, backoff, "",
			"ServiceAccount %s/%s not found: create it, or name another in spec.serviceAccountName", gs.Namespace, name), false
	}
	return syncResult{}, true
}

// serviceAccountUser is the user name the API server gives a
// ServiceAccount; impersonating it brings the account's groups along.
func serviceAccountUser(ns, name string) string {
	return "system:serviceaccount:" + ns + ":" + name
}

// noServiceAccount says why a GitSync without a ServiceAccount is refused,
// and what to set.
func noServiceAccount(gs *gitsealv1alpha1.GitSync) string {
	return fmt.Sprintf("spec.serviceAccountName is required: name a ServiceAccount in %s whose rights the apply may use "+
		"(the controller never applies with its own), or start the controller with --default-service-account", gs.Namespace)
}

// finalize prunes what a deleted GitSync applied, when it prunes and is not
// suspended, then lets it go. A prune the API server refuses for good (the
// ServiceAccount is gone or may no longer delete), or one with no
// ServiceAccount to prune as, leaves the objects in place, says so in a
// Warning event, and still lets the GitSync go, so a deletion never hangs
// on a finalizer; a transient failure is retried.
func (r *GitSyncReconciler) finalize(ctx context.Context, gs *gitsealv1alpha1.GitSync) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(gs, GitSyncFinalizer) {
		return ctrl.Result{}, nil
	}
	if gs.Spec.PruneEnabled() && !gs.Spec.Suspend && gs.Status.Inventory != nil {
		err := r.pruneAll(ctx, gs)
		var refused *apply.Error
		switch {
		case errors.As(err, &refused), errors.Is(err, errNoServiceAccount):
			r.Recorder.Eventf(gs, nil, corev1.EventTypeWarning, gitsealv1alpha1.ReasonPruneFailed, "Delete",
				"the objects of the deleted GitSync were left in place: %v", err)
		case err != nil:
			return ctrl.Result{}, fmt.Errorf("prune on delete: %w", err)
		}
	}
	patch := client.MergeFrom(gs.DeepCopy())
	controllerutil.RemoveFinalizer(gs, GitSyncFinalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Client.Patch(ctx, gs, patch))
}

// pruneAll deletes what the GitSync's inventory lists, as its
// ServiceAccount.
func (r *GitSyncReconciler) pruneAll(ctx context.Context, gs *gitsealv1alpha1.GitSync) error {
	c, err := r.applyClient(gs)
	if err != nil {
		return err
	}
	_, err = apply.Apply(ctx, c, nil, fromInventory(gs.Status.Inventory), apply.Options{
		FieldManager: FieldManager, Labels: gitSyncLabels(gs), Prune: true,
	})
	return err
}

// namespaced reports whether objects of a kind live in namespaces.
func (r *GitSyncReconciler) namespaced(u *unstructured.Unstructured) (bool, error) {
	m, err := r.Mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
	if err != nil {
		return false, err
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

func gitSyncLabels(gs *gitsealv1alpha1.GitSync) map[string]string {
	return map[string]string{LabelGitSyncName: gs.Name, LabelGitSyncNamespace: gs.Namespace}
}

// failed is a failed sync at revision rev (when known), followed by r:
// backoff for a transient failure, stall until the next interval, a new
// commit or a new spec, or wait for something else.
func failed(reason string, r retry, rev, format string, args ...any) syncResult {
	o := outcome{Reason: reason, Message: fmt.Sprintf(format, args...), retry: r}
	return syncResult{outcome: o, revision: rev}
}

// fetchFailed maps a fetch error to a Reason. A missing ref or an oversized
// repository waits for the next interval; network errors back off.
func fetchFailed(err error) syncResult {
	switch {
	case errors.Is(err, gitsource.ErrAuth), errors.Is(err, gitsource.ErrVerification):
		return failed(gitsealv1alpha1.ReasonGitVerificationFailed, stall, "", "%v", err)
	case errors.Is(err, gitsource.ErrInvalid):
		return failed(gitsealv1alpha1.ReasonInvalidSpec, stall, "", "%v", err)
	case errors.Is(err, gitsource.ErrNotFound), errors.Is(err, gitsource.ErrTooLarge), errors.Is(err, gitsource.ErrRefused):
		return failed(gitsealv1alpha1.ReasonGitFetchFailed, stall, "", "%v", err)
	}
	return failed(gitsealv1alpha1.ReasonGitFetchFailed, backoff, "", "%v", err)
}

// applyFailed maps an apply error: objects the API server refuses wait for
// a new commit; anything else is retried.
func applyFailed(err error, rev string) syncResult {
	reason := gitsealv1alpha1.ReasonApplyFailed
	if errors.Is(err, apply.ErrPrune) {
		reason = gitsealv1alpha1.ReasonPruneFailed
	}
	var refused *apply.Error
	if errors.As(err, &refused) {
		return failed(reason, stall, rev, "%v", err)
	}
	return failed(reason, backoff, rev, "%v", err)
}

func summary(rev string, r *apply.Result) string {
	if len(r.Created)+len(r.Configured)+len(r.Unchanged)+len(r.Pruned)+len(r.Orphaned) == 0 && len(r.Skipped) > 0 {
		return fmt.Sprintf("no changes at revision %s: nothing was sent", rev)
	}
	msg := fmt.Sprintf("applied revision %s: %d created, %d configured, %d unchanged, %d pruned",
		rev, len(r.Created), len(r.Configured), len(r.Unchanged), len(r.Pruned))
	if n := len(r.Skipped); n > 0 {
		msg += fmt.Sprintf(", %d not sent (unchanged in Git)", n)
	}
	if n := len(r.Orphaned); n > 0 {
		msg += fmt.Sprintf(", %d left in place (still in use or not prunable)", n)
	}
	return msg
}

// plaintextSecrets returns why the rendered objects are refused, or "":
// policy.RefusePlaintextSecrets, which `gitseal build` calls too.
func plaintextSecrets(p *policy.Policy, objs []*unstructured.Unstructured) string {
	objects := make([]map[string]any, len(objs))
	for i, u := range objs {
		objects[i] = u.Object
	}
	return p.RefusePlaintextSecrets(objects)
}

// tenancyViolations returns why a GitSync outside the controller's namespace
// may not apply the objects, or "": only namespaced objects in its own
// namespace (or with none, which apply defaults to it).
func tenancyViolations(objs []*unstructured.Unstructured, ns string, namespaced func(*unstructured.Unstructured) (bool, error)) string {
	var bad []string
	for _, u := range objs {
		isNamespaced, err := namespaced(u)
		switch {
		case err != nil:
			bad = append(bad, describe(u)+" (unknown kind)")
		case !isNamespaced:
			bad = append(bad, describe(u)+" (cluster-scoped)")
		case u.GetNamespace() != "" && u.GetNamespace() != ns:
			bad = append(bad, fmt.Sprintf("%s (namespace %s)", describe(u), u.GetNamespace()))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return fmt.Sprintf("a GitSync in %s may only write namespaced objects in %s; refused: %s", ns, ns, limitList(bad, 10))
}

// describe names a rendered object in messages: "Kind namespace/name".
func describe(u *unstructured.Unstructured) string {
	return apply.ObjectRef{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}.Describe()
}

func limitList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// toInventory writes the inventory of the status: the refs, each with its
// hash from hashes when it has one.
func toInventory(refs []apply.ObjectRef, hashes map[string]string) *gitsealv1alpha1.Inventory {
	entries := make([]gitsealv1alpha1.InventoryEntry, 0, len(refs))
	for _, ref := range refs {
		id := ref.String()
		entries = append(entries, gitsealv1alpha1.InventoryEntry{ID: id, Version: ref.Version, Hash: hashes[id]})
	}
	inv := &gitsealv1alpha1.Inventory{}
	inv.Set(entries)
	return inv
}

// inventoryHashes reads the hashes of the status inventory, by ID, for
// apply.Options.Applied.
func inventoryHashes(inv *gitsealv1alpha1.Inventory) map[string]string {
	if inv == nil {
		return nil
	}
	entries := inv.List()
	hashes := make(map[string]string, len(entries))
	for _, e := range entries {
		if e.Hash != "" {
			hashes[e.ID] = e.Hash
		}
	}
	return hashes
}

// fromInventory reads the status inventory back. An entry that does not
// parse is dropped: it was not written by this controller.
func fromInventory(inv *gitsealv1alpha1.Inventory) []apply.ObjectRef {
	if inv == nil {
		return nil
	}
	entries := inv.List()
	refs := make([]apply.ObjectRef, 0, len(entries))
	for _, e := range entries {
		ref, err := apply.ParseObjectRef(e.ID)
		if err != nil {
			continue
		}
		ref.Version = e.Version
		refs = append(refs, ref)
	}
	return refs
}
