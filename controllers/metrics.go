package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metrics are the controller's Prometheus metrics. Labels carry only
// reasons and key states: never names, values or key material.
type metrics struct {
	unseals        prometheus.Counter
	unsealErrors   *prometheus.CounterVec
	unsealDuration prometheus.Histogram
	keys           *prometheus.GaugeVec
	onRetired      prometheus.Gauge
	syncs          prometheus.Counter
	syncErrors     *prometheus.CounterVec
	syncDuration   prometheus.Histogram
	driftWatches   *prometheus.CounterVec
	driftEvents    prometheus.Counter

	mu        sync.Mutex
	retiredOn map[types.NamespacedName]bool
}

var registerOnce = sync.OnceValue(func() *metrics {
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
		onRetired: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitseal_sealedsecrets_on_retired_keys",
			Help: "SealedSecrets with a value still sealed to a retired key.",
		}),
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
		driftWatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitseal_gitsync_drift_watches_total",
			Help: "Kinds whose applied objects the drift watch tried to watch, by result (watching, refused for want of list and watch, failed).",
		}, []string{"result"}),
		driftEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gitseal_gitsync_drift_detected_total",
			Help: "Changes to applied objects that the drift watch found to be drift: a field taken from gitseal, or a deletion.",
		}),
		retiredOn: map[types.NamespacedName]bool{},
	}
	ctrlmetrics.Registry.MustRegister(m.unseals, m.unsealErrors, m.unsealDuration, m.keys, m.onRetired,
		m.syncs, m.syncErrors, m.syncDuration, m.driftWatches, m.driftEvents)
	return m
})

// newMetrics returns the process's metrics, registered once: several
// managers in one test process share them.
func newMetrics() *metrics { return registerOnce() }

// setOnRetired records whether an object is on a retired key.
func (m *metrics) setOnRetired(obj types.NamespacedName, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if on {
		m.retiredOn[obj] = true
	} else {
		delete(m.retiredOn, obj)
	}
	m.onRetired.Set(float64(len(m.retiredOn)))
}

func (m *metrics) setKeys(counts map[string]int) {
	for state, n := range counts {
		m.keys.WithLabelValues(state).Set(float64(n))
	}
}
