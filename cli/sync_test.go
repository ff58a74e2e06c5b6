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
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/test/testenv"
)

func TestSyncOutcome(t *testing.T) {
	const request = "2026-11-26T10:00:00.123456789Z"
	ready := func(status metav1.ConditionStatus, reason, message string) []metav1.Condition {
		return []metav1.Condition{{Type: gitsealv1alpha1.ConditionReady, Status: status, Reason: reason, Message: message}}
	}
	tests := []struct {
		name     string
		spec     gitsealv1alpha1.GitSyncSpec
		status   gitsealv1alpha1.GitSyncStatus
		want     syncResult
		wantDone bool
	}{
		{
			name:   "a status from an earlier request is not the answer",
			status: gitsealv1alpha1.GitSyncStatus{LastHandledReconcileAt: "2026-11-26T09:00:00Z", Conditions: ready(metav1.ConditionFalse, gitsealv1alpha1.ReasonBuildFailed, "old")},
		},
		{
			name:   "a GitSync never synced is not done",
			status: gitsealv1alpha1.GitSyncStatus{},
		},
		{
			name:     "handled and Ready is a success at the applied revision",
			status:   gitsealv1alpha1.GitSyncStatus{LastHandledReconcileAt: request, LastAppliedRevision: "main@sha1:0a1b", Conditions: ready(metav1.ConditionTrue, gitsealv1alpha1.ReasonSucceeded, "applied")},
			want:     syncResult{ok: true, revision: "main@sha1:0a1b"},
			wantDone: true,
		},
		{
			name: "handled and not Ready is a failure with the reason",
			status: gitsealv1alpha1.GitSyncStatus{LastHandledReconcileAt: request, LastAppliedRevision: "main@sha1:0a1b",
				Conditions: ready(metav1.ConditionFalse, gitsealv1alpha1.ReasonGitFetchFailed, "no such branch")},
			want:     syncResult{reason: gitsealv1alpha1.ReasonGitFetchFailed, message: "no such branch"},
			wantDone: true,
		},
		{
			name:   "handled with Ready unknown is not done yet",
			status: gitsealv1alpha1.GitSyncStatus{LastHandledReconcileAt: request, Conditions: ready(metav1.ConditionUnknown, gitsealv1alpha1.ReasonProgressing, "")},
		},
		{
			name:     "suspended while waiting ends the wait",
			spec:     gitsealv1alpha1.GitSyncSpec{Suspend: true},
			want:     syncResult{suspended: true},
			wantDone: true,
		},
		{
			name:     "suspended after handling the request still reports the sync",
			spec:     gitsealv1alpha1.GitSyncSpec{Suspend: true},
			status:   gitsealv1alpha1.GitSyncStatus{LastHandledReconcileAt: request, LastAppliedRevision: "v1@sha1:0a1b", Conditions: ready(metav1.ConditionTrue, gitsealv1alpha1.ReasonSucceeded, "")},
			want:     syncResult{ok: true, revision: "v1@sha1:0a1b"},
			wantDone: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, done := syncOutcome(&gitsealv1alpha1.GitSync{Spec: tt.spec, Status: tt.status}, request)
			if got != tt.want || done != tt.wantDone {
				t.Errorf("syncOutcome = %+v, %v; want %+v, %v", got, done, tt.want, tt.wantDone)
			}
		})
	}
}

// TestSync runs gitseal sync against a real API server. No controller runs:
// the test plays its part, answering requested syncs in the status.
func TestSync(t *testing.T) {
	env := testenv.StartFor(t)
	admin, err := env.AdminKubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	ns := env.Namespace(t, "sync")
	dir := t.TempDir()
	inNS := writeKubeconfig(t, admin, filepath.Join(dir, "in-ns"), ns, "")
	noNS := writeKubeconfig(t, admin, filepath.Join(dir, "no-ns"), "", "")
	nobody := writeKubeconfig(t, admin, filepath.Join(dir, "nobody"), ns, "nobody")
	c := env.Client

	var transcript strings.Builder
	gitseal := func(t *testing.T, kubeconfig, what string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		var out, errOut bytes.Buffer
		cmd := newCmdRoot(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, "gitseal")
		cmd.SetArgs(append(args, "--kubeconfig", kubeconfig))
		ctx, cancel := context.WithTimeout(t.Context(), testenv.Wait)
		defer cancel()
		code = Execute(ctx, cmd, &errOut)
		fmt.Fprintf(&transcript, "# %s\n$ gitseal %s\nstdout:\n%sstderr:\n%sexit %d\n\n", what, strings.Join(args, " "), out.String(), errOut.String(), code)
		return out.String(), errOut.String(), code
	}
	requested := func(t *testing.T, name string) string {
		t.Helper()
		var gs gitsealv1alpha1.GitSync
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &gs); err != nil {
			t.Fatal(err)
		}
		return gs.Annotations[gitsealv1alpha1.AnnotationReconcileRequestedAt]
	}

	t.Run("a sync that succeeds prints the revision and exits 0", func(t *testing.T) {
		gs := createGitSync(t, c, ns, "apps", false)
		// An earlier failure stays in the status until the requested sync ends.
		gs.Status = gitsealv1alpha1.GitSyncStatus{
			LastHandledReconcileAt: "2026-01-01T00:00:00Z",
			Conditions:             []metav1.Condition{readyCondition(metav1.ConditionFalse, gitsealv1alpha1.ReasonGitFetchFailed, "an earlier failure")},
		}
		if err := c.Status().Update(t.Context(), gs); err != nil {
			t.Fatal(err)
		}
		playController(t, c, client.ObjectKeyFromObject(gs), func(s *gitsealv1alpha1.GitSyncStatus) {
			s.LastAppliedRevision = "main@sha1:5d1c1a1e2b1f0c3d4e5f60718293a4b5c6d7e8f9"
			s.LastAttemptedRevision = s.LastAppliedRevision
			s.Conditions = []metav1.Condition{readyCondition(metav1.ConditionTrue, gitsealv1alpha1.ReasonSucceeded, "applied 3 objects")}
		})
		stdout, stderr, code := gitseal(t, inNS, "success; the namespace is the kube context's", "sync", "apps")
		if code != ExitOK || stdout != "synced "+ns+"/apps at main@sha1:5d1c1a1e2b1f0c3d4e5f60718293a4b5c6d7e8f9\n" {
			t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
	})

	t.Run("a sync that fails prints the reason and message and exits 1", func(t *testing.T) {
		gs := createGitSync(t, c, ns, "broken", false)
		playController(t, c, client.ObjectKeyFromObject(gs), func(s *gitsealv1alpha1.GitSyncStatus) {
			s.LastAttemptedRevision = "main@sha1:5d1c1a1e2b1f0c3d4e5f60718293a4b5c6d7e8f9"
			s.Conditions = []metav1.Condition{readyCondition(metav1.ConditionFalse, gitsealv1alpha1.ReasonBuildFailed, "kustomize build apps: missing resource deploy.yaml")}
		})
		stdout, stderr, code := gitseal(t, noNS, "failure; -n names the namespace", "sync", "broken", "-n", ns)
		want := "error: sync of " + ns + "/broken failed: BuildFailed: kustomize build apps: missing resource deploy.yaml\n"
		if code != ExitNo || stdout != "" || !strings.HasSuffix(stderr, want) {
			t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d and stderr ending in %q", code, stdout, stderr, ExitNo, want)
		}
	})

	t.Run("--no-wait requests the sync and returns", func(t *testing.T) {
		createGitSync(t, c, ns, "later", false)
		stdout, stderr, code := gitseal(t, inNS, "--no-wait, and no controller", "sync", "later", "--no-wait")
		if code != ExitOK || stdout != "" {
			t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
		if _, err := time.Parse(time.RFC3339Nano, requested(t, "later")); err != nil {
			t.Errorf("the request is not a timestamp: %v", err)
		}
	})

	t.Run("a missing GitSync is an error that says where it looked", func(t *testing.T) {
		_, stderr, code := gitseal(t, inNS, "not found", "sync", "missing")
		if code != ExitFailure || !strings.Contains(stderr, "GitSync "+ns+"/missing not found\nhint: kubectl -n "+ns+" get gitsyncs") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})

	t.Run("a suspended GitSync is refused and not annotated", func(t *testing.T) {
		createGitSync(t, c, ns, "paused", true)
		_, stderr, code := gitseal(t, inNS, "suspended", "sync", "paused")
		wantHint := "hint: resume it, which also syncs it: gitseal resume paused -n " + ns
		if code != ExitFailure || !strings.Contains(stderr, "is suspended") || !strings.Contains(stderr, wantHint) {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		if got := requested(t, "paused"); got != "" {
			t.Errorf("a sync of a suspended GitSync was requested: %q", got)
		}
	})

	t.Run("suspend sets spec.suspend, and resume clears it and syncs", func(t *testing.T) {
		createGitSync(t, c, ns, "incident", false)
		suspended := func() bool {
			var gs gitsealv1alpha1.GitSync
			if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "incident"}, &gs); err != nil {
				t.Fatal(err)
			}
			return gs.Spec.Suspend
		}
		stdout, stderr, code := gitseal(t, inNS, "suspend", "suspend", "incident")
		if code != ExitOK || stdout != "suspended "+ns+"/incident\n" || !suspended() {
			t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
		if requested(t, "incident") != "" {
			t.Error("suspend requested a sync")
		}
		playController(t, c, client.ObjectKey{Namespace: ns, Name: "incident"}, func(s *gitsealv1alpha1.GitSyncStatus) {
			s.LastAppliedRevision = "main@sha1:0123456789abcdef0123456789abcdef01234567"
			s.Conditions = []metav1.Condition{readyCondition(metav1.ConditionTrue, gitsealv1alpha1.ReasonSucceeded, "applied")}
		})
		stdout, stderr, code = gitseal(t, inNS, "resume", "resume", "incident")
		if code != ExitOK || suspended() || stdout != "synced "+ns+"/incident at main@sha1:0123456789abcdef0123456789abcdef01234567\n" ||
			!strings.Contains(stderr, "resumed "+ns+"/incident") {
			t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
	})

	t.Run("no answer in time is an error, and the request stays", func(t *testing.T) {
		createGitSync(t, c, ns, "idle", false)
		_, stderr, code := gitseal(t, inNS, "timeout, no controller", "sync", "idle", "--timeout", "500ms")
		if code != ExitFailure || !strings.Contains(stderr, "did not handle it within 500ms: timed out") ||
			!strings.Contains(stderr, "hint: the request stays") || !strings.Contains(stderr, "kubectl -n gitseal-system get pods") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		if requested(t, "idle") == "" {
			t.Error("the request was withdrawn")
		}
	})

	t.Run("a wait of no time is a usage error", func(t *testing.T) {
		_, stderr, code := gitseal(t, inNS, "--timeout 0", "sync", "apps", "--timeout", "0")
		if code != ExitFailure || !strings.Contains(stderr, "--timeout must be positive") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})

	t.Run("forbidden says which right is missing", func(t *testing.T) {
		_, stderr, code := gitseal(t, nobody, "forbidden", "sync", "apps")
		if code != ExitFailure || !strings.Contains(stderr, "hint: your credentials may not read GitSyncs in "+ns) {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})

	t.Run("NAME completes from the namespace's GitSyncs", func(t *testing.T) {
		var out bytes.Buffer
		cmd := newCmdRoot(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}}, "gitseal")
		cmd.SetArgs([]string{"__complete", "sync", "--kubeconfig", inNS, ""})
		if err := cmd.ExecuteContext(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"apps", "broken", "idle", "incident", "later", "paused"} {
			if !strings.Contains(out.String(), name+"\n") {
				t.Errorf("completion lacks %s:\n%s", name, out.String())
			}
		}
	})

	t.Run("a cluster without GitSyncs is told apart from a missing GitSync", func(t *testing.T) {
		dyn, err := dynamic.NewForConfig(env.Config)
		if err != nil {
			t.Fatal(err)
		}
		unserved := gitsealv1alpha1.GroupVersion.WithResource("gitsyncz")
		_, err = dyn.Resource(unserved).Namespace(ns).Get(t.Context(), "apps", metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Fatalf("get an unserved resource: %v, want NotFound", err)
		}
		if got := gitSyncError(err, ns, "apps").Error(); !strings.Contains(got, "the cluster does not serve GitSyncs") {
			t.Errorf("gitSyncError = %s", got)
		}
	})

	normalized := strings.ReplaceAll(transcript.String(), ns, "NS")
	normalized = regexp.MustCompile(`\d{4}-\d\d-\d\dT[\d:.]+Z`).ReplaceAllString(normalized, "TIME")
	matchGolden(t, "sync.txt", normalized)
}

// createGitSync creates a GitSync that no controller will ever fetch.
func createGitSync(t *testing.T, c client.Client, ns, name string, suspend bool) *gitsealv1alpha1.GitSync {
	t.Helper()
	gs := &gitsealv1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gitsealv1alpha1.GitSyncSpec{
			URL:      "https://git.example.com/fleet.git",
			Path:     "apps",
			Interval: metav1.Duration{Duration: 10 * time.Minute},
			Suspend:  suspend,
		},
	}
	if err := c.Create(t.Context(), gs); err != nil {
		t.Fatal(err)
	}
	return gs
}

func readyCondition(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: gitsealv1alpha1.ConditionReady, Status: status, Reason: reason, Message: message, LastTransitionTime: metav1.Now()}
}

// playController stands in for the controller until the test ends: when a
// sync of key is requested, it writes result into the status along with
// the request it handled, in one status patch, as the controller does.
func playController(t *testing.T, c client.Client, key client.ObjectKey, result func(*gitsealv1alpha1.GitSyncStatus)) {
	t.Helper()
	ctx := t.Context()
	done := make(chan struct{})
	t.Cleanup(func() { <-done })
	go func() {
		defer close(done)
		for {
			var gs gitsealv1alpha1.GitSync
			if err := c.Get(ctx, key, &gs); err == nil {
				if req, ok := gs.Annotations[gitsealv1alpha1.AnnotationReconcileRequestedAt]; ok && req != gs.Status.LastHandledReconcileAt {
					orig := gs.DeepCopy()
					result(&gs.Status)
					gs.Status.LastHandledReconcileAt = req
					gs.Status.ObservedGeneration = gs.Generation
					for i := range gs.Status.Conditions {
						gs.Status.Conditions[i].ObservedGeneration = gs.Generation
					}
					if err := c.Status().Patch(ctx, &gs, client.MergeFrom(orig)); err != nil && ctx.Err() == nil {
						t.Logf("patch the status of %s: %v", key, err)
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
}

// writeKubeconfig writes the admin kubeconfig to path, with ns as its
// context's namespace; with asUser, requests impersonate that user, who
// has no RBAC at all.
func writeKubeconfig(t *testing.T, admin []byte, path, ns, asUser string) string {
	t.Helper()
	cfg, err := clientcmd.Load(admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, ctx := range cfg.Contexts {
		ctx.Namespace = ns
	}
	for _, u := range cfg.AuthInfos {
		u.Impersonate = asUser
	}
	raw, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
