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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// metrics are the controller's Prometheus metrics. Labels carry only
// reasons, key states, namespaces, and a GitSync's name and applied
// revision: never a SealedSecret's name, a value, a key ID or key material.
// Series per SealedSecret are left out on purpose: a cluster holds
// thousands of them, so they are counted by namespace and reason instead;
// GitSyncs are few, and each has its own series (docs/operations.md,
// Monitoring).
type metrics struct {
	unseals        prometheus.Counter
	unsealErrors   *prometheus.CounterVec
	unsealDuration prometheus.Histogram
	keys           *prometheus.GaugeVec
	activeCreated  prometheus.Gauge
	renewalPeriod  prometheus.Gauge
	onRetired      prometheus.Gauge
	sealedSecrets  *prometheus.GaugeVec
	retiredValues  *prometheus.GaugeVec
	syncs          prometheus.Counter
	syncErrors     *prometheus.CounterVec
	syncDuration   prometheus.Histogram
	driftWatches   *prometheus.CounterVec
	driftEvents    prometheus.Counter
	gitSyncReady   *prometheus.GaugeVec
	gitSyncSusp    *prometheus.GaugeVec
	gitSyncSuccess *prometheus.GaugeVec
	gitSyncEvery   *prometheus.GaugeVec
	gitSyncRev     *prometheus.GaugeVec

	mu       sync.Mutex
	objects  map[types.NamespacedName]sealedSecretState
	byReason map[[2]string]int // {namespace, reason} → SealedSecrets
	retired  map[string]int    // namespace → values sealed to retired keys
	revision map[types.NamespacedName]string
}

// sealedSecretState is what the metrics hold of one SealedSecret.
type sealedSecretState struct {
	reason        string
	retiredValues int
}

var registerOnce = sync.OnceValue(func() *metrics { return newMetricsIn(ctrlmetrics.Registry) })

// newMetrics returns the process's metrics, registered once in
// controller-runtime's registry: several managers in one test process
// share them.
func newMetrics() *metrics { return registerOnce() }

// newMetricsIn creates the metrics and registers them in reg; it panics
// if reg holds them already.
func newMetricsIn(reg prometheus.Registerer) *metrics {
	nsName := []string{"namespace", "name"}
	m := &metrics{
		unseals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gitseal_unseal_operations_total",
			Help: "SealedSecrets unsealed into Secrets, successfully or not.",
		}),
		unsealErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitseal_unseal_errors_total",
			Help: "Failed unseal operations, by the Reason of the Ready condition.",
		}, []string{"reason"}),
		unsealDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gitseal_unseal_duration_seconds",
			Help:    "Time to open a SealedSecret's values and write its Secret.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		keys: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitseal_keys",
			Help: "Sealing keys held by the controller, by state (active, old, retired, broken).",
		}, []string{"state"}),
		activeCreated: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitseal_key_active_created_timestamp_seconds",
			Help: "When the active sealing key was created, in seconds since the epoch; absent while there is none.",
		}),
		renewalPeriod: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitseal_key_renewal_period_seconds",
			Help: "How often a new active key is generated (--key-renewal-period); 0 when renewal is off.",
		}),
		onRetired: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitseal_sealedsecrets_on_retired_keys",
			Help: "SealedSecrets with a value still sealed to a retired key.",
		}),
		sealedSecrets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitseal_sealedsecrets",
			Help: "SealedSecrets by namespace and the Reason of their Ready condition (Succeeded when ready).",
		}, []string{"namespace", "reason"}),
		retiredValues: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitseal_values_sealed_to_retired_keys",
			Help: "Values of SealedSecrets still sealed to a retired key, by namespace: re-seal them.",
		}, []string{"namespace"}),
		syncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gitseal_gitsync_syncs_total",
			Help: "GitSync syncs (fetch, build, apply, prune), successful or not.",
		}),
		syncErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitseal_gitsync_sync_errors_total",
			Help: "Failed GitSync syncs, by the Reason of the Ready condition.",
		}, []string{"reason"}),
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gitseal_gitsync_sync_duration_seconds",
			Help:    "Time of one GitSync sync: fetch, build, apply and prune.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		gitSyncReady: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitseal_gitsync_ready",
			Help: "1 when the GitSync's Ready condition is True, else 0.",
		}, nsName),
		gitSyncSusp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitseal_gitsync_suspended",
			Help: "1 when the GitSync is suspended, else 0.",
		}, nsName),
		gitSyncSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitseal_gitsync_last_success_timestamp_seconds",
			Help: "When the GitSync last synced successfully (its creation until it has), in seconds since the epoch.",
		}, nsName),
		gitSyncEvery: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitseal_gitsync_interval_seconds",
			Help: "The GitSync's spec.interval.",
		}, nsName),
		gitSyncRev: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitseal_gitsync_applied_revision_info",
			Help: "The revision the GitSync last applied in full, as a label; the value is always 1.",
		}, []string{"namespace", "name", "revision"}),
		driftWatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitseal_gitsync_drift_watches_total",
			Help: "Kinds whose applied objects the drift watch tried to watch, by result (watching, refused for want of list and watch, failed).",
		}, []string{"result"}),
		driftEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gitseal_gitsync_drift_detected_total",
			Help: "Changes to applied objects that the drift watch found to be drift: a field taken from gitseal, or a deletion.",
		}),
		objects:  map[types.NamespacedName]sealedSecretState{},
		byReason: map[[2]string]int{},
		retired:  map[string]int{},
		revision: map[types.NamespacedName]string{},
	}
	reg.MustRegister(m.unseals, m.unsealErrors, m.unsealDuration, m.keys, m.activeCreated, m.renewalPeriod,
		m.onRetired, m.sealedSecrets, m.retiredValues, m.syncs, m.syncErrors, m.syncDuration,
		m.gitSyncReady, m.gitSyncSusp, m.gitSyncSuccess, m.gitSyncEvery, m.gitSyncRev, m.driftWatches, m.driftEvents)
	return m
}

// setSealedSecret records a SealedSecret's Ready reason and how many of
// its values are sealed to retired keys. A series whose count drops to
// zero is removed, so that namespaces and reasons that went away do not
// linger.
func (m *metrics) setSealedSecret(obj types.NamespacedName, s sealedSecretState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setSealedSecretLocked(obj, s)
}

func (m *metrics) setSealedSecretLocked(obj types.NamespacedName, s sealedSecretState) {
	m.removeSealedSecretLocked(obj)
	m.objects[obj] = s
	m.addLocked(m.byReason, [2]string{obj.Namespace, s.reason}, 1)
	if s.retiredValues > 0 {
		m.retired[obj.Namespace] += s.retiredValues
		m.retiredValues.WithLabelValues(obj.Namespace).Set(float64(m.retired[obj.Namespace]))
	}
	m.onRetired.Set(float64(m.countOnRetiredLocked()))
}

// setSealedSecretReason records a new Ready reason for a SealedSecret and
// keeps what was known of its retired values: a failed unseal does not
// change the keys its values were sealed to.
func (m *metrics) setSealedSecretReason(obj types.NamespacedName, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setSealedSecretLocked(obj, sealedSecretState{reason: reason, retiredValues: m.objects[obj].retiredValues})
}

// deleteSealedSecret forgets a deleted SealedSecret.
func (m *metrics) deleteSealedSecret(obj types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeSealedSecretLocked(obj)
	m.onRetired.Set(float64(m.countOnRetiredLocked()))
}

func (m *metrics) removeSealedSecretLocked(obj types.NamespacedName) {
	prev, ok := m.objects[obj]
	if !ok {
		return
	}
	delete(m.objects, obj)
	m.addLocked(m.byReason, [2]string{obj.Namespace, prev.reason}, -1)
	if prev.retiredValues > 0 {
		m.retired[obj.Namespace] -= prev.retiredValues
		if m.retired[obj.Namespace] <= 0 {
			delete(m.retired, obj.Namespace)
			m.retiredValues.DeleteLabelValues(obj.Namespace)
		} else {
			m.retiredValues.WithLabelValues(obj.Namespace).Set(float64(m.retired[obj.Namespace]))
		}
	}
}

// addLocked adds delta to the count of {namespace, reason} and updates its
// series, removing it at zero.
func (m *metrics) addLocked(counts map[[2]string]int, k [2]string, delta int) {
	counts[k] += delta
	if counts[k] <= 0 {
		delete(counts, k)
		m.sealedSecrets.DeleteLabelValues(k[0], k[1])
		return
	}
	m.sealedSecrets.WithLabelValues(k[0], k[1]).Set(float64(counts[k]))
}

func (m *metrics) countOnRetiredLocked() int {
	n := 0
	for _, s := range m.objects {
		if s.retiredValues > 0 {
			n++
		}
	}
	return n
}

func (m *metrics) setKeys(counts map[string]int, activeCreated time.Time) {
	for state, n := range counts {
		m.keys.WithLabelValues(state).Set(float64(n))
	}
	if !activeCreated.IsZero() {
		m.activeCreated.Set(float64(activeCreated.Unix()))
	}
}

// setGitSync records a GitSync's state from its status, after a sync or a
// suspension: the status survives restarts and failovers, so the series
// are right from the first sync a new leader runs.
func (m *metrics) setGitSync(gs *gitsealv1alpha1.GitSync) {
	s := gitSyncSeries(gs)
	ns, name := gs.Namespace, gs.Name
	m.gitSyncReady.WithLabelValues(ns, name).Set(s.ready)
	m.gitSyncSusp.WithLabelValues(ns, name).Set(s.suspended)
	m.gitSyncSuccess.WithLabelValues(ns, name).Set(s.lastSuccess)
	m.gitSyncEvery.WithLabelValues(ns, name).Set(s.interval)

	key := types.NamespacedName{Namespace: ns, Name: name}
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.revision[key]; ok && prev != s.revision {
		m.gitSyncRev.DeleteLabelValues(ns, name, prev)
	}
	if s.revision == "" {
		delete(m.revision, key)
		return
	}
	m.revision[key] = s.revision
	m.gitSyncRev.WithLabelValues(ns, name, s.revision).Set(1)
}

// deleteGitSync removes a deleted GitSync's series.
func (m *metrics) deleteGitSync(key types.NamespacedName) {
	for _, v := range []*prometheus.GaugeVec{m.gitSyncReady, m.gitSyncSusp, m.gitSyncSuccess, m.gitSyncEvery} {
		v.DeleteLabelValues(key.Namespace, key.Name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.revision[key]; ok {
		m.gitSyncRev.DeleteLabelValues(key.Namespace, key.Name, prev)
		delete(m.revision, key)
	}
}

// gitSyncState is the value of each of a GitSync's series.
type gitSyncState struct {
	ready, suspended, lastSuccess, interval float64
	revision                                string
}

// gitSyncSeries decides a GitSync's series from the object alone. Until the
// first successful sync, the last success is the GitSync's creation, so
// that one that never syncs is reported late like one that stopped.
func gitSyncSeries(gs *gitsealv1alpha1.GitSync) gitSyncState {
	s := gitSyncState{interval: gs.Spec.Interval.Seconds(), revision: gs.Status.LastAppliedRevision}
	if meta.IsStatusConditionTrue(gs.Status.Conditions, gitsealv1alpha1.ConditionReady) {
		s.ready = 1
	}
	if gs.Spec.Suspend {
		s.suspended = 1
	}
	last := gs.CreationTimestamp
	if gs.Status.LastSyncTime != nil {
		last = *gs.Status.LastSyncTime
	}
	if !last.IsZero() {
		s.lastSuccess = float64(last.Unix())
	}
	return s
}
