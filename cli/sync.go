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

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// SyncOptions are the options of `gitseal sync`.
type SyncOptions struct {
	IOStreams
	cluster *ClusterOptions

	// Name is the GitSync's name.
	Name string
	// Namespace is the GitSync's namespace; empty means the kube context's.
	Namespace string
	// Timeout bounds the wait for the sync's result.
	Timeout time.Duration
	// NoWait returns once the sync is requested.
	NoWait bool
	// PollInterval is how often the GitSync is read while waiting.
	PollInterval time.Duration
}

// NewCmdSync returns `gitseal sync`.
func NewCmdSync(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &SyncOptions{IOStreams: streams, cluster: cluster, PollInterval: 250 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "sync NAME",
		Short: "Ask the controller to sync a GitSync now, and wait for the result",
		Long: `Ask the controller to sync a GitSync now rather than at its next interval:
fetch the revision, build it, apply it and prune. Then wait until the
controller has handled the request, and print the revision it applied.

The request is the annotation gitseal.dev/reconcile-requested-at on the
GitSync, so it needs the right to patch GitSyncs in its namespace. A failed
sync prints the reason and the controller's message, and exits 1. A
suspended GitSync is refused: the controller would not act on the request.`,
		Example: `  gitseal sync apps
  gitseal sync apps -n team-a --timeout 10m

  # Request the sync and return; kubectl get gitsync apps shows the result
  gitseal sync apps --no-wait`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeName,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.addFlags(cmd, true, "request the sync and return without waiting for its result")
	return cmd
}

// addFlags binds -n/--namespace and, for the commands that wait for a
// sync, --timeout and --no-wait (described by noWait).
func (o *SyncOptions) addFlags(cmd *cobra.Command, wait bool, noWait string) {
	f := cmd.Flags()
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of the GitSync (default: the kube context's)")
	if wait {
		f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long to wait for the sync's result")
		f.BoolVar(&o.NoWait, "no-wait", false, noWait)
	}
}

// Validate checks that the flags fit together.
func (o *SyncOptions) Validate() error {
	if o.Timeout <= 0 && !o.NoWait {
		return fmt.Errorf("--timeout must be positive, not %s", o.Timeout)
	}
	return nil
}

// Run requests the sync and, unless NoWait, waits for its result. A
// failed sync ends it with an *ExitError of Code ExitNo.
func (o *SyncOptions) Run(ctx context.Context) error {
	kc, err := o.cluster.kube()
	if err != nil {
		return err
	}
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	gs, err := kc.getGitSync(ctx, ns, o.Name)
	if err != nil {
		return gitSyncError(err, ns, o.Name)
	}
	if gs.Spec.Suspend {
		return suspendedError(ns, o.Name)
	}

	request := time.Now().UTC().Format(time.RFC3339Nano)
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{gitsealv1alpha1.AnnotationReconcileRequestedAt: request}}})
	if err := kc.mergePatch(ctx, gitSyncsResource(), ns, o.Name, patch); err != nil {
		return withHint(fmt.Errorf("request a sync of GitSync %s/%s: %w", ns, o.Name, err), apiHint(err, "patch GitSyncs in "+ns))
	}
	if o.NoWait {
		fmt.Fprintf(o.ErrOut, "requested a sync of %s/%s (%s=%s); kubectl -n %s get gitsync %s shows its result\n",
			ns, o.Name, gitsealv1alpha1.AnnotationReconcileRequestedAt, request, ns, o.Name)
		return nil
	}
	fmt.Fprintf(o.ErrOut, "requested a sync of %s/%s (%s=%s); waiting up to %s for the controller\n",
		ns, o.Name, gitsealv1alpha1.AnnotationReconcileRequestedAt, request, o.Timeout)

	waitCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	tick := time.NewTicker(o.PollInterval)
	defer tick.Stop()
	deadline, _ := waitCtx.Deadline()
	var lastErr error // of the last read, retried; reads cut short by the deadline do not count
	for {
		gs, err := kc.getGitSync(waitCtx, ns, o.Name)
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Errorf("GitSync %s/%s was deleted while waiting for its sync", ns, o.Name)
		case err == nil:
			lastErr = nil
			if res, done := syncOutcome(gs, request); done {
				return o.report(ns, res)
			}
		case time.Now().Before(deadline):
			lastErr = err
		}
		select {
		case <-waitCtx.Done():
			msg := "timed out"
			if errors.Is(ctx.Err(), context.Canceled) {
				msg = "interrupted"
			}
			if lastErr != nil {
				msg += " (last error: " + firstLine(lastErr) + ")"
			}
			return withHint(fmt.Errorf("sync of %s/%s requested, but the controller did not handle it within %s: %s", ns, o.Name, o.Timeout, msg),
				fmt.Sprintf("the request stays, so the controller acts on it when it runs; check that it does: kubectl -n %s get pods, and its logs", o.cluster.ControllerNamespace))
		case <-tick.C:
		}
	}
}

// report prints the result of a handled sync.
func (o *SyncOptions) report(ns string, res syncResult) error {
	switch {
	case res.suspended:
		return suspendedError(ns, o.Name)
	case !res.ok:
		return &ExitError{Code: ExitNo, Err: fmt.Errorf("sync of %s/%s failed: %s: %s", ns, o.Name, res.reason, res.message)}
	case res.revision == "":
		fmt.Fprintf(o.Out, "synced %s/%s\n", ns, o.Name)
	default:
		fmt.Fprintf(o.Out, "synced %s/%s at %s\n", ns, o.Name, res.revision)
	}
	return nil
}

// syncResult is what the controller reported for a sync.
type syncResult struct {
	ok bool
	// revision is the revision applied, when ok.
	revision string
	// reason and message say why it failed, when not ok.
	reason, message string
	// suspended: the GitSync was suspended before the sync ran.
	suspended bool
}

// syncOutcome reads the result of the sync asked for by request from gs.
// done is false while the controller has not handled the request: its
// status still speaks of an earlier sync.
func syncOutcome(gs *gitsealv1alpha1.GitSync, request string) (res syncResult, done bool) {
	if gs.Status.LastHandledReconcileAt != request {
		if gs.Spec.Suspend {
			return syncResult{suspended: true}, true
		}
		return syncResult{}, false
	}
	ready := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady)
	if ready == nil {
		return syncResult{}, false
	}
	switch ready.Status {
	case metav1.ConditionTrue:
		return syncResult{ok: true, revision: gs.Status.LastAppliedRevision}, true
	case metav1.ConditionFalse:
		return syncResult{reason: ready.Reason, message: ready.Message}, true
	}
	return syncResult{}, false
}

// gitSyncError explains a failure to read the GitSync ns/name.
func gitSyncError(err error, ns, name string) error {
	var status apierrors.APIStatus
	if apierrors.IsNotFound(err) && errors.As(err, &status) {
		// A missing object names itself in the details; a missing resource
		// (no CRD) does not.
		if d := status.Status().Details; d == nil || d.Name == "" {
			return withHint(fmt.Errorf("the cluster does not serve GitSyncs (%s): %w", gitSyncsResource().GroupResource(), err),
				"is gitseal installed in this cluster? Check --context")
		}
		return withHint(fmt.Errorf("GitSync %s/%s not found", ns, name),
			fmt.Sprintf("kubectl -n %s get gitsyncs lists them; check -n/--namespace and --context", ns))
	}
	return withHint(fmt.Errorf("read GitSync %s/%s: %w", ns, name, err), apiHint(err, "read GitSyncs in "+ns))
}

func suspendedError(ns, name string) error {
	return withHint(fmt.Errorf("GitSync %s/%s is suspended: the controller does not sync it", ns, name),
		fmt.Sprintf("resume it, which also syncs it: gitseal resume %s -n %s", name, ns))
}

// namespace returns --namespace, else the kube context's namespace.
func (o *SyncOptions) namespace() (string, error) {
	if o.Namespace != "" {
		return o.Namespace, nil
	}
	return o.cluster.ContextNamespace()
}

// gitSyncNames lists the GitSyncs of the namespace for shell completion;
// nothing when the cluster cannot be asked.
func (o *SyncOptions) gitSyncNames(ctx context.Context) []string {
	kc, err := o.cluster.kube()
	if err != nil {
		return nil
	}
	ns, err := o.namespace()
	if err != nil {
		return nil
	}
	list, err := kc.meta.Resource(gitSyncsResource()).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	names := make([]string, len(list.Items))
	for i, item := range list.Items {
		names[i] = item.Name
	}
	return names
}

func gitSyncsResource() schema.GroupVersionResource {
	return gitsealv1alpha1.GroupVersion.WithResource("gitsyncs")
}

func (k *kubeClient) getGitSync(ctx context.Context, ns, name string) (*gitsealv1alpha1.GitSync, error) {
	u, err := k.dyn.Resource(gitSyncsResource()).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	var gs gitsealv1alpha1.GitSync
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &gs); err != nil {
		return nil, fmt.Errorf("gitsync %s/%s: %w", ns, name, err)
	}
	return &gs, nil
}
