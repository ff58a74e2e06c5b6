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
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// TestSealedSecretMetricsCountByNamespaceAndReason checks C3 (a metric
// labelled by reason) with bounded cardinality: SealedSecrets are counted
// by namespace and reason, values on retired keys by namespace, a series
// whose count drops to zero goes away, and no object name is a label.
func TestSealedSecretMetricsCountByNamespaceAndReason(t *testing.T) {
	m := newMetricsIn(prometheus.NewRegistry())
	a := types.NamespacedName{Namespace: "prod", Name: "a"}
	b := types.NamespacedName{Namespace: "prod", Name: "b"}
	c := types.NamespacedName{Namespace: "dev", Name: "c"}
	m.setSealedSecret(a, sealedSecretState{reason: gitsealv1alpha1.ReasonSucceeded, retiredValues: 2})
	m.setSealedSecret(b, sealedSecretState{reason: gitsealv1alpha1.ReasonSucceeded})
	m.setSealedSecret(c, sealedSecretState{reason: gitsealv1alpha1.ReasonSucceeded, retiredValues: 1})
	m.setSealedSecretReason(b, gitsealv1alpha1.ReasonDecryptionFailed)
	m.setSealedSecretReason(a, gitsealv1alpha1.ReasonDecryptionFailed) // keeps its 2 retired values
	m.deleteSealedSecret(c)

	want := `
# HELP gitseal_sealedsecrets SealedSecrets by namespace and the Reason of their Ready condition (Succeeded when ready).
# TYPE gitseal_sealedsecrets gauge
gitseal_sealedsecrets{namespace="prod",reason="DecryptionFailed"} 2
# HELP gitseal_sealedsecrets_on_retired_keys SealedSecrets with a value still sealed to a retired key.
# TYPE gitseal_sealedsecrets_on_retired_keys gauge
gitseal_sealedsecrets_on_retired_keys 1
# HELP gitseal_values_sealed_to_retired_keys Values of SealedSecrets still sealed to a retired key, by namespace: re-seal them.
# TYPE gitseal_values_sealed_to_retired_keys gauge
gitseal_values_sealed_to_retired_keys{namespace="prod"} 2
`
	if err := testutil.CollectAndCompare(m.sealedSecrets, strings.NewReader(want[:strings.Index(want, "# HELP gitseal_sealedsecrets_on")]), "gitseal_sealedsecrets"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(m.onRetired); got != 1 {
		t.Errorf("gitseal_sealedsecrets_on_retired_keys = %v, want 1", got)
	}
	if err := testutil.CollectAndCompare(m.retiredValues, strings.NewReader(want[strings.Index(want, "# HELP gitseal_values"):]), "gitseal_values_sealed_to_retired_keys"); err != nil {
		t.Error(err)
	}

	m.setSealedSecret(a, sealedSecretState{reason: gitsealv1alpha1.ReasonSucceeded}) // re-sealed
	m.deleteSealedSecret(b)
	if n := testutil.CollectAndCount(m.retiredValues); n != 0 {
		t.Errorf("%d series of values on retired keys after re-sealing, want none", n)
	}
	if err := testutil.CollectAndCompare(m.sealedSecrets, strings.NewReader(`
# HELP gitseal_sealedsecrets SealedSecrets by namespace and the Reason of their Ready condition (Succeeded when ready).
# TYPE gitseal_sealedsecrets gauge
gitseal_sealedsecrets{namespace="prod",reason="Succeeded"} 1
`), "gitseal_sealedsecrets"); err != nil {
		t.Error(err)
	}
}

// TestGitSyncSeries checks what each GitSync's series say, from the
// object alone.
func TestGitSyncSeries(t *testing.T) {
	created := metav1.NewTime(time.Unix(1000, 0))
	synced := metav1.NewTime(time.Unix(5000, 0))
	gitSync := func(edit func(*gitsealv1alpha1.GitSync)) *gitsealv1alpha1.GitSync {
		gs := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: created}}
		gs.Spec.Interval = metav1.Duration{Duration: 10 * time.Minute}
		edit(gs)
		return gs
	}
	ready := func(gs *gitsealv1alpha1.GitSync) {
		meta.SetStatusCondition(&gs.Status.Conditions, metav1.Condition{Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: gitsealv1alpha1.ReasonSucceeded})
	}
	tests := []struct {
		name string
		gs   *gitsealv1alpha1.GitSync
		want gitSyncState
	}{
		{"a GitSync never synced counts from its creation", gitSync(func(*gitsealv1alpha1.GitSync) {}),
			gitSyncState{lastSuccess: 1000, interval: 600}},
		{"a synced GitSync is ready at its last sync time and revision", gitSync(func(gs *gitsealv1alpha1.GitSync) {
			ready(gs)
			gs.Status.LastSyncTime, gs.Status.LastAppliedRevision = &synced, "main@sha1:abc"
		}), gitSyncState{ready: 1, lastSuccess: 5000, interval: 600, revision: "main@sha1:abc"}},
		{"a failing GitSync keeps its last success and applied revision", gitSync(func(gs *gitsealv1alpha1.GitSync) {
			meta.SetStatusCondition(&gs.Status.Conditions, metav1.Condition{Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: gitsealv1alpha1.ReasonGitFetchFailed})
			gs.Status.LastSyncTime, gs.Status.LastAppliedRevision = &synced, "main@sha1:abc"
		}), gitSyncState{lastSuccess: 5000, interval: 600, revision: "main@sha1:abc"}},
		{"a suspended GitSync says so", gitSync(func(gs *gitsealv1alpha1.GitSync) { gs.Spec.Suspend = true }),
			gitSyncState{suspended: 1, lastSuccess: 1000, interval: 600}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gitSyncSeries(tt.gs); got != tt.want {
				t.Errorf("gitSyncSeries = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestGitSyncMetricsKeepOneRevisionSeries checks that the revision label
// stays bounded: a new revision replaces the old series, and a deleted
// GitSync leaves no series behind.
func TestGitSyncMetricsKeepOneRevisionSeries(t *testing.T) {
	m := newMetricsIn(prometheus.NewRegistry())
	gs := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}}
	for _, rev := range []string{"main@sha1:1", "main@sha1:2"} {
		gs.Status.LastAppliedRevision = rev
		m.setGitSync(gs)
	}
	if err := testutil.CollectAndCompare(m.gitSyncRev, strings.NewReader(`
# HELP gitseal_gitsync_applied_revision_info The revision the GitSync last applied in full, as a label; the value is always 1.
# TYPE gitseal_gitsync_applied_revision_info gauge
gitseal_gitsync_applied_revision_info{name="web",namespace="apps",revision="main@sha1:2"} 1
`)); err != nil {
		t.Error(err)
	}
	m.deleteGitSync(types.NamespacedName{Namespace: "apps", Name: "web"})
	for _, c := range []prometheus.Collector{m.gitSyncRev, m.gitSyncReady, m.gitSyncSusp, m.gitSyncSuccess, m.gitSyncEvery} {
		if n := testutil.CollectAndCount(c); n != 0 {
			t.Errorf("%d series left after the GitSync was deleted", n)
		}
	}
}

// externalMetrics are the metrics of controller-runtime and client-go that
// config/prometheus and the tests read.
var externalMetrics = []string{"controller_runtime_reconcile_total", "leader_election_master_status", "workqueue_depth"}

// TestServedMetricsListIsCurrent keeps config/prometheus/tests/metrics.txt,
// which hack/promcheck checks the alerts and the dashboard against, equal
// to the metrics the controller serves. -update rewrites it.
func TestServedMetricsListIsCurrent(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetricsIn(reg)
	// One series in each metric, so that all of them are gathered.
	m.unseals.Inc()
	m.unsealErrors.WithLabelValues("r").Inc()
	m.unsealDuration.Observe(1)
	m.setKeys(map[string]int{"active": 1}, time.Unix(1, 0))
	m.renewalPeriod.Set(1)
	m.setSealedSecret(types.NamespacedName{Namespace: "n", Name: "a"}, sealedSecretState{reason: "r", retiredValues: 1})
	m.syncs.Inc()
	m.syncErrors.WithLabelValues("r").Inc()
	m.syncDuration.Observe(1)
	m.setGitSync(&gitsealv1alpha1.GitSync{Status: gitsealv1alpha1.GitSyncStatus{LastAppliedRevision: "r"}})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Clone(externalMetrics)
	for _, f := range families {
		names = append(names, f.GetName())
	}
	slices.Sort(names)
	want := "# Metrics the controller serves: written by `go test ./controllers -run TestServedMetricsListIsCurrent -update`.\n" +
		strings.Join(names, "\n") + "\n"
	const golden = "../config/prometheus/tests/metrics.txt"
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is stale; run with -update:\n%s", golden, want)
	}
}
