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
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"

	"github.com/gitseal/gitseal/internal/gitsource"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/policy"
)

// setDefaults fills, once, what SetupWithManager would, so that a
// reconciler wired by hand with a Client and a Recorder works: the real
// clock, Client as Reader, its scheme and mapper, metrics registered
// nowhere, and no drift watch (every sync is a full check). Without a
// Config it applies nothing: syncs fail with ApplyFailed.
func (r *GitSyncReconciler) setDefaults() {
	r.defaults.Do(func() {
		if r.Clock == nil {
			r.Clock = clock.RealClock{}
		}
		if r.Reader == nil {
			r.Reader = r.Client
		}
		if r.Scheme == nil {
			r.Scheme = r.Client.Scheme()
		}
		if r.Mapper == nil {
			r.Mapper = r.Client.RESTMapper()
		}
		if r.metrics == nil {
			r.metrics = newMetricsIn(prometheus.NewRegistry())
		}
		r.policy = policy.New(policy.Options{})
		r.checkouts = gitsource.NewCache(gitsource.CacheOptions{
			Dir: r.TempDir, MaxBytes: 4 * r.MaxRepositoryBytes, MaxDownloads: maxConcurrentFetches,
		})
		r.builds = newBuiltRevisions(maxRetainedObjects)
		if r.drift == nil {
			r.drift = newDriftWatch(r.metrics)
			r.drift.now = r.Clock.Now
			r.drift.allowed = func(context.Context, schema.GroupVersionKind) (bool, error) { return false, nil }
		}
	})
}

// setDefaults fills, once, what Setup would, so that a reconciler wired
// by hand with a Client and a Recorder works: the real clock, Client as
// Reader, metrics registered nowhere, and without a Ring an empty one
// (every SealedSecret then waits, KeyUnavailable).
func (r *SealedSecretReconciler) setDefaults() {
	r.defaults.Do(func() {
		if r.Clock == nil {
			r.Clock = clock.RealClock{}
		}
		if r.Reader == nil {
			r.Reader = r.Client
		}
		if r.Ring == nil {
			r.Ring = keys.NewRing(true)
		}
		if r.metrics == nil {
			r.metrics = newMetricsIn(prometheus.NewRegistry())
		}
	})
}
