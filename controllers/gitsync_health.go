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
	"errors"

	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/apply"
	"github.com/gitseal/gitseal/internal/health"
)

// waitReady waits, until ctx ends, for the applied objects of revision rev
// to be ready (health.Wait), and says what came of it: a zero result when
// they are, or HealthCheckFailed (healthFailed).
func waitReady(ctx context.Context, c client.Reader, refs []apply.ObjectRef, rev string) syncResult {
	if err := health.Wait(ctx, c, refs); err != nil {
		return healthFailed(err, rev)
	}
	return syncResult{}
}

// healthFailed maps an error of health.Wait: an object that failed waits
// for a new commit; objects not ready in time, or that could not be read,
// are retried with backoff.
func healthFailed(err error, rev string) syncResult {
	if notReady, ok := errors.AsType[*health.NotReadyError](err); ok {
		return failed(gitsealv1alpha1.ReasonHealthCheckFailed, backoff, rev, "applied revision %s, but %v", rev, notReady)
	}
	if errors.Is(err, health.ErrFailed) {
		return failed(gitsealv1alpha1.ReasonHealthCheckFailed, stall, rev, "%v", err)
	}
	return failed(gitsealv1alpha1.ReasonHealthCheckFailed, backoff, rev, "%v", err)
}
