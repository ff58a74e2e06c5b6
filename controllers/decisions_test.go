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
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/events"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/apply"
	"github.com/gitseal/gitseal/internal/gitsource"
)

// TestSetConditions checks C2 and C6 as kstatus reads them: done, retried
// (Reconciling) or stalled until something changes (Stalled).
func TestSetConditions(t *testing.T) {
	cond := func(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: "before", ObservedGeneration: 1}
	}
	stalled := []metav1.Condition{cond(gitsealv1alpha1.ConditionReady, metav1.ConditionFalse, gitsealv1alpha1.ReasonBuildFailed),
		cond(gitsealv1alpha1.ConditionStalled, metav1.ConditionTrue, gitsealv1alpha1.ReasonBuildFailed)}
	retrying := []metav1.Condition{cond(gitsealv1alpha1.ConditionReady, metav1.ConditionFalse, gitsealv1alpha1.ReasonGitFetchFailed),
		cond(gitsealv1alpha1.ConditionReconciling, metav1.ConditionTrue, gitsealv1alpha1.ReasonGitFetchFailed)}
	tests := []struct {
		name            string
		conds           []metav1.Condition
		o               outcome
		wantReady       metav1.ConditionStatus
		wantReconciling bool
		wantStalled     bool
	}{
		{"a success is Ready alone", retrying, outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: "done"}, metav1.ConditionTrue, false, false},
		{"a success clears Stalled", stalled, outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: "done"}, metav1.ConditionTrue, false, false},
		{"a failure retried with backoff is Reconciling", nil, outcome{gitsealv1alpha1.ReasonGitFetchFailed, "down", backoff}, metav1.ConditionFalse, true, false},
		{"a failure retried with backoff clears Stalled", stalled, outcome{gitsealv1alpha1.ReasonGitFetchFailed, "down", backoff}, metav1.ConditionFalse, true, false},
		{"a failure only a change fixes is Stalled", retrying, outcome{gitsealv1alpha1.ReasonBuildFailed, "bad", stall}, metav1.ConditionFalse, false, true},
		{"a wait for a dependency is Reconciling, not Stalled", stalled, outcome{gitsealv1alpha1.ReasonDependencyNotReady, "waiting", wait}, metav1.ConditionFalse, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conds := append([]metav1.Condition(nil), tt.conds...)
			setConditions(&conds, tt.o, 2)
			ready := meta.FindStatusCondition(conds, gitsealv1alpha1.ConditionReady)
			if ready == nil || ready.Status != tt.wantReady || ready.Reason != tt.o.Reason || ready.Message != tt.o.Message || ready.ObservedGeneration != 2 {
				t.Errorf("Ready = %+v, want %s %s %q at generation 2", ready, tt.wantReady, tt.o.Reason, tt.o.Message)
			}
			for typ, want := range map[string]bool{gitsealv1alpha1.ConditionReconciling: tt.wantReconciling, gitsealv1alpha1.ConditionStalled: tt.wantStalled} {
				c := meta.FindStatusCondition(conds, typ)
				if (c != nil) != want {
					t.Errorf("%s = %+v, want present %v", typ, c, want)
				} else if c != nil && (c.Status != metav1.ConditionTrue || c.Reason != tt.o.Reason || c.ObservedGeneration != 2) {
					t.Errorf("%s = %+v, want True, %s, generation 2", typ, c, tt.o.Reason)
				}
			}
		})
	}
}

// TestFinishStatus checks C2 and C3: observedGeneration and the conditions
// are written for every outcome, and one event reports what is news.
func TestFinishStatus(t *testing.T) {
	failing := &metav1.Condition{Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: gitsealv1alpha1.ReasonGitFetchFailed, Message: "down"}
	news := &statusEvent{corev1.EventTypeNormal, "Recovered", "back"}
	tests := []struct {
		name      string
		prev      *metav1.Condition
		o         outcome
		succeeded *statusEvent
		want      *statusEvent
	}{
		{"a first failure is a Warning", nil, outcome{gitsealv1alpha1.ReasonBuildFailed, "bad", stall},
			nil, &statusEvent{corev1.EventTypeWarning, gitsealv1alpha1.ReasonBuildFailed, "bad"}},
		{"the same failure retried again is no event", failing, outcome{gitsealv1alpha1.ReasonGitFetchFailed, "down again", backoff}, nil, nil},
		{"a wait for a dependency is a Normal event", nil, outcome{gitsealv1alpha1.ReasonDependencyNotReady, "waiting", wait},
			nil, &statusEvent{corev1.EventTypeNormal, gitsealv1alpha1.ReasonDependencyNotReady, "waiting"}},
		{"a success that is news reports it", failing, outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: "ok"}, news, news},
		{"a success that is no news is no event", nil, outcome{Reason: gitsealv1alpha1.ReasonSucceeded, Message: "ok"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conds []metav1.Condition
			var observed int64
			got := finishStatus(&conds, &observed, 7, tt.prev, tt.o, tt.succeeded)
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("event = %+v, want %+v", got, tt.want)
			}
			if observed != 7 {
				t.Errorf("observedGeneration = %d, want 7", observed)
			}
			if ready := meta.FindStatusCondition(conds, gitsealv1alpha1.ConditionReady); ready == nil || ready.Reason != tt.o.Reason || ready.ObservedGeneration != 7 {
				t.Errorf("Ready = %+v, want reason %s at generation 7", ready, tt.o.Reason)
			}
		})
	}
}

// TestStatusSignalsSend checks C3: a failure counts under its reason, a
// success counts nothing, and the event goes to the recorder.
func TestStatusSignalsSend(t *testing.T) {
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failures_total", Help: "h"}, []string{"reason"})
	rec := events.NewFakeRecorder(10)
	s := statusSignals{recorder: rec, action: "Sync", failures: failures}
	obj := &gitsealv1alpha1.GitSync{}
	s.send(obj, outcome{gitsealv1alpha1.ReasonBuildFailed, "bad", stall}, &statusEvent{corev1.EventTypeWarning, gitsealv1alpha1.ReasonBuildFailed, "bad 100%"})
	s.send(obj, outcome{Reason: gitsealv1alpha1.ReasonSucceeded}, nil)
	if got := testutil.ToFloat64(failures.WithLabelValues(gitsealv1alpha1.ReasonBuildFailed)); got != 1 {
		t.Errorf("BuildFailed counted %v times, want 1", got)
	}
	if got := testutil.CollectAndCount(failures); got != 1 {
		t.Errorf("%d series, want only BuildFailed's", got)
	}
	close(rec.Events)
	var got []string
	for e := range rec.Events {
		got = append(got, e)
	}
	if want := []string{"Warning BuildFailed bad 100%"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %q, want %q", got, want)
	}
	statusSignals{}.send(obj, outcome{gitsealv1alpha1.ReasonBuildFailed, "bad", stall}, &statusEvent{}) // nowhere to send: no panic
}

// TestFetchFailed checks C6 for fetches: what a new commit or spec must fix
// stalls, what may pass is retried.
func TestFetchFailed(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantReason string
		wantRetry  retry
	}{
		{"bad credentials stall as a verification failure", fmt.Errorf("fetch: %w", gitsource.ErrAuth), gitsealv1alpha1.ReasonGitVerificationFailed, stall},
		{"an unsigned commit stalls as a verification failure", fmt.Errorf("fetch: %w", gitsource.ErrVerification), gitsealv1alpha1.ReasonGitVerificationFailed, stall},
		{"an invalid URL stalls as an invalid spec", fmt.Errorf("fetch: %w", gitsource.ErrInvalid), gitsealv1alpha1.ReasonInvalidSpec, stall},
		{"a missing ref stalls", fmt.Errorf("fetch: %w", gitsource.ErrNotFound), gitsealv1alpha1.ReasonGitFetchFailed, stall},
		{"an oversized repository stalls", fmt.Errorf("fetch: %w", gitsource.ErrTooLarge), gitsealv1alpha1.ReasonGitFetchFailed, stall},
		{"a refused redirect stalls", fmt.Errorf("fetch: %w", gitsource.ErrRefused), gitsealv1alpha1.ReasonGitFetchFailed, stall},
		{"an unreachable server is retried", fmt.Errorf("fetch: %w", gitsource.ErrUnavailable), gitsealv1alpha1.ReasonGitFetchFailed, backoff},
		{"an unknown error is retried", errors.New("connection reset"), gitsealv1alpha1.ReasonGitFetchFailed, backoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := fetchFailed(tt.err)
			if res.Reason != tt.wantReason || res.retry != tt.wantRetry || res.Message != tt.err.Error() {
				t.Errorf("fetchFailed = %+v, want %s, retry %d, the error's message", res, tt.wantReason, tt.wantRetry)
			}
		})
	}
}

// TestApplyFailed checks C6 for applies: refused objects wait for a new
// commit, anything else is retried.
func TestApplyFailed(t *testing.T) {
	refused := &apply.Error{Objects: []apply.ObjectError{{Ref: apply.ObjectRef{Kind: "ConfigMap", Namespace: "a", Name: "b"}, Message: "invalid"}}}
	tests := []struct {
		name       string
		err        error
		wantReason string
		wantRetry  retry
	}{
		{"refused objects stall", refused, gitsealv1alpha1.ReasonApplyFailed, stall},
		{"an API server that fails is retried", errors.New("apply ConfigMap a/b: 503"), gitsealv1alpha1.ReasonApplyFailed, backoff},
		{"a refused prune stalls as PruneFailed", fmt.Errorf("%w: %w", apply.ErrPrune, refused), gitsealv1alpha1.ReasonPruneFailed, stall},
		{"a prune that fails is retried as PruneFailed", fmt.Errorf("%w: %w", apply.ErrPrune, errors.New("503")), gitsealv1alpha1.ReasonPruneFailed, backoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := applyFailed(tt.err, "main@sha1:1")
			if res.Reason != tt.wantReason || res.retry != tt.wantRetry || res.revision != "main@sha1:1" || res.Message != tt.err.Error() {
				t.Errorf("applyFailed = %+v, want %s, retry %d", res, tt.wantReason, tt.wantRetry)
			}
		})
	}
}

// TestTenancyViolations checks the tenant rule: a GitSync outside the
// controller's namespace writes only namespaced objects in its own.
func TestTenancyViolations(t *testing.T) {
	obj := func(kind, ns, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind(kind)
		u.SetNamespace(ns)
		u.SetName(name)
		return u
	}
	namespaced := func(u *unstructured.Unstructured) (bool, error) {
		switch u.GetKind() {
		case "ClusterRole", "Namespace":
			return false, nil
		case "Gadget":
			return false, errors.New("no matches for kind Gadget")
		}
		return true, nil
	}
	many := make([]*unstructured.Unstructured, 12)
	for i := range many {
		many[i] = obj("Namespace", "", fmt.Sprintf("n%02d", i))
	}
	tests := []struct {
		name string
		objs []*unstructured.Unstructured
		want []string // substrings; none means no violation
	}{
		{"objects in its own namespace, or in none, are allowed", []*unstructured.Unstructured{obj("ConfigMap", "team", "a"), obj("ConfigMap", "", "b")}, nil},
		{"an object in another namespace is refused", []*unstructured.Unstructured{obj("ConfigMap", "other", "a")}, []string{"ConfigMap other/a (namespace other)"}},
		{"a cluster-scoped object is refused", []*unstructured.Unstructured{obj("ClusterRole", "", "admin")}, []string{"ClusterRole admin (cluster-scoped)"}},
		{"an object of an unknown kind is refused", []*unstructured.Unstructured{obj("Gadget", "team", "g")}, []string{"Gadget team/g (unknown kind)"}},
		{"the message lists ten and counts the rest", many, []string{"a GitSync in team may only write namespaced objects in team; refused: ", "n09 (cluster-scoped) and 2 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tenancyViolations(tt.objs, "team", namespaced)
			if (got == "") != (len(tt.want) == 0) {
				t.Fatalf("tenancyViolations = %q, want %q", got, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("tenancyViolations = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func sealedSecretNamed(name string) *gitsealv1alpha1.SealedSecret {
	return &gitsealv1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, UID: "uid-" + "1"}}
}

// TestMayWrite checks that the controller takes over only a Secret it
// controls or one annotated for it.
func TestMayWrite(t *testing.T) {
	ss := sealedSecretNamed("db")
	owned := func(kind, apiVersion, name string) metav1.Object {
		s := &corev1.Secret{}
		s.OwnerReferences = []metav1.OwnerReference{{Kind: kind, APIVersion: apiVersion, Name: name, Controller: new(true)}}
		return s
	}
	annotated := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{gitsealv1alpha1.AnnotationManaged: "true"}}}
	tests := []struct {
		name string
		s    metav1.Object
		want bool
	}{
		{"a Secret this SealedSecret controls may be written", owned("SealedSecret", gitsealv1alpha1.GroupVersion.String(), "db"), true},
		{"a Secret annotated managed may be taken over", annotated, true},
		{"a Secret of no owner may not", &corev1.Secret{}, false},
		{"a Secret another SealedSecret controls may not", owned("SealedSecret", gitsealv1alpha1.GroupVersion.String(), "other"), false},
		{"a Secret a Deployment controls may not", owned("Deployment", "apps/v1", "db"), false},
		{"a Secret of another API group's SealedSecret may not", owned("SealedSecret", "bitnami.com/v1alpha1", "db"), false},
		{"a Secret annotated anything but true may not", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{gitsealv1alpha1.AnnotationManaged: "yes"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mayWrite(tt.s, ss); got != tt.want {
				t.Errorf("mayWrite = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUpToDate checks that the echo of the controller's own write costs
// no second write, and that anything apply would change is seen.
func TestUpToDate(t *testing.T) {
	ss := sealedSecretNamed("db")
	ss.Spec.Template = &gitsealv1alpha1.SecretTemplate{Metadata: &gitsealv1alpha1.SecretTemplateMetadata{
		Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"note": "x"},
	}}
	data := map[string][]byte{"password": []byte("p")}
	written := func(mutate func(*corev1.Secret)) *corev1.Secret {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Labels:          map[string]string{"team": "a", "app.kubernetes.io/managed-by": "gitseal", "extra": "kept"},
				Annotations:     map[string]string{"note": "x"},
				OwnerReferences: []metav1.OwnerReference{{Kind: "SealedSecret", APIVersion: gitsealv1alpha1.GroupVersion.String(), Name: "db", UID: ss.UID, Controller: new(true)}},
			},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"password": []byte("p")},
		}
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	tests := []struct {
		name string
		s    *corev1.Secret
		want bool
	}{
		{"the Secret as written is up to date", written(nil), true},
		{"changed data is not", written(func(s *corev1.Secret) { s.Data["password"] = []byte("q") }), false},
		{"missing data is not", written(func(s *corev1.Secret) { delete(s.Data, "password") }), false},
		{"another type is not", written(func(s *corev1.Secret) { s.Type = corev1.SecretTypeBasicAuth }), false},
		{"a lost label is not", written(func(s *corev1.Secret) { delete(s.Labels, "team") }), false},
		{"a changed annotation is not", written(func(s *corev1.Secret) { s.Annotations["note"] = "y" }), false},
		{"a Secret no longer controlled by it is not", written(func(s *corev1.Secret) { s.OwnerReferences = nil }), false},
		{"an immutable flag the template lacks is not", written(func(s *corev1.Secret) { s.Immutable = new(true) }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := upToDate(tt.s, ss, corev1.SecretTypeOpaque, data); got != tt.want {
				t.Errorf("upToDate = %v, want %v", got, tt.want)
			}
		})
	}
}
