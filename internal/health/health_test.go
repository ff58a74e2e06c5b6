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

package health_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitseal/gitseal/internal/apply"
	"github.com/gitseal/gitseal/internal/health"
	"github.com/gitseal/gitseal/test/testenv"
)

// cluster is the control plane the tests that need one share; the first
// of them starts it.
var cluster testenv.Shared

func TestMain(m *testing.M) { cluster.Main(m) }

func TestNotReadyErrorCountsAllAndListsFive(t *testing.T) {
	tests := []struct {
		name    string
		objects []string
		want    string
	}{
		{"one object is listed", []string{"Deployment a/web (InProgress: x)"}, "1 objects were not ready in time: Deployment a/web (InProgress: x)"},
		{"five objects are all listed", []string{"1", "2", "3", "4", "5"}, "5 objects were not ready in time: 1, 2, 3, 4, 5"},
		{"beyond five the rest are counted", []string{"1", "2", "3", "4", "5", "6", "7"}, "7 objects were not ready in time: 1, 2, 3, 4, 5 and 2 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&health.NotReadyError{Objects: tt.objects}).Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func deployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "example.com/" + name + ":1"}}},
			},
		},
	}
}

// TestWait runs against a real API server, which runs no Deployment
// controller: a Deployment stays InProgress until the test writes its
// status.
func TestWait(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "health")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "a"}}
	web, broken := deployment(ns, "web"), deployment(ns, "broken")
	if err := env.Client.Create(t.Context(), cm); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*appsv1.Deployment{web, broken} {
		if err := env.Client.Create(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	broken.Status = appsv1.DeploymentStatus{
		ObservedGeneration: broken.Generation,
		Conditions:         []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: "stuck"}},
	}
	if err := env.Client.Status().Update(t.Context(), broken); err != nil {
		t.Fatal(err)
	}

	// No client-side rate limit: near the deadline its wait would fail a
	// read before the context ends.
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS = -1
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}

	cmRef := apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "a"}
	absentSecret := apply.ObjectRef{Version: "v1", Kind: "Secret", Namespace: ns, Name: "never-read"}
	webRef := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web"}
	brokenRef := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "broken"}
	missing := apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "missing"}
	unknown := apply.ObjectRef{Group: "example.com", Version: "v1", Kind: "Widget", Namespace: ns, Name: "w"}

	tests := []struct {
		name        string
		refs        []apply.ObjectRef
		wantErr     func(error) bool
		wantMessage []string // substrings of the error
		wantListed  int      // objects a *NotReadyError lists
	}{
		{name: "ready object and a Secret, which is not read, end the wait at once", refs: []apply.ObjectRef{cmRef, absentSecret},
			wantErr: func(err error) bool { return err == nil }},
		{name: "object not ready in time is listed with its status", refs: []apply.ObjectRef{cmRef, webRef},
			wantErr:     func(err error) bool { _, ok := errors.AsType[*health.NotReadyError](err); return ok },
			wantMessage: []string{"1 objects were not ready in time: Deployment " + ns + "/web (InProgress: "}, wantListed: 1},
		{name: "missing object is listed as not found", refs: []apply.ObjectRef{missing},
			wantErr:     func(err error) bool { _, ok := errors.AsType[*health.NotReadyError](err); return ok },
			wantMessage: []string{"ConfigMap " + ns + "/missing (NotFound: not found)"}, wantListed: 1},
		{name: "failed object ends the wait at once", refs: []apply.ObjectRef{webRef, brokenRef},
			wantErr:     func(err error) bool { return errors.Is(err, health.ErrFailed) },
			wantMessage: []string{"Deployment " + ns + "/broken failed: "}},
		{name: "object of an unknown kind is a read error that names it", refs: []apply.ObjectRef{unknown},
			wantErr: func(err error) bool {
				_, notReady := errors.AsType[*health.NotReadyError](err)
				return err != nil && !notReady && !errors.Is(err, health.ErrFailed)
			},
			wantMessage: []string{"read Widget " + ns + "/w: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			start := time.Now()
			err := health.Wait(ctx, c, tt.refs)
			if !tt.wantErr(err) {
				t.Fatalf("Wait = %v", err)
			}
			for _, want := range tt.wantMessage {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if notReady, ok := errors.AsType[*health.NotReadyError](err); ok {
				if len(notReady.Objects) != tt.wantListed {
					t.Errorf("listed %q, want %d objects", notReady.Objects, tt.wantListed)
				}
			} else if took := time.Since(start); took > time.Second {
				t.Errorf("Wait took %v, want an answer at once", took)
			}
		})
	}
}
