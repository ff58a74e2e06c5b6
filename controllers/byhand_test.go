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

package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/sealer"
)

// TestReconcilersWiredByHandDoNotPanic checks C4 for reconcilers wired
// outside Setup, with only a client and a recorder: each reconciles an
// object, and one that is gone, and says in the status why it could not
// do more.
func TestReconcilersWiredByHandDoNotPanic(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "byhand")
	rec := events.NewFakeRecorder(100)
	id, err := crypto.GenerateIdentity(crypto.X25519) // a key the reconciler does not hold
	if err != nil {
		t.Fatal(err)
	}
	ss, err := sealer.Seal(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, StringData: map[string]string{"password": "p"}},
		crypto.Strict, []*crypto.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	gs := newGitSync(ns, "sync", "https://127.0.0.1:1/env.git", func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.SecretRef, gs.Spec.ServiceAccountName = nil, "deployer" // which does not exist
	})
	create(t, ss)
	create(t, gs)

	reconcile := func(name string, r interface {
		Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error)
	}, key client.ObjectKey) error {
		t.Helper()
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("%s panicked reconciling %s: %v", name, key, p)
			}
		}()
		_, err := r.Reconcile(t.Context(), ctrl.Request{NamespacedName: key})
		return err
	}
	absent := client.ObjectKey{Namespace: ns, Name: "absent"}

	ssr := &controllers.SealedSecretReconciler{Client: env.Client, Recorder: rec}
	if err := reconcile("SealedSecretReconciler", ssr, absent); err != nil {
		t.Errorf("a SealedSecret that is gone: %v", err)
	}
	if err := reconcile("SealedSecretReconciler", ssr, client.ObjectKeyFromObject(ss)); err == nil {
		t.Error("a SealedSecret with no key to open it is retried with backoff: want an error")
	}
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(ss), ss); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(ss.Status.Conditions, gitsealv1alpha1.ConditionReady); c == nil || c.Reason != gitsealv1alpha1.ReasonKeyUnavailable {
		t.Errorf("SealedSecret Ready = %+v, want KeyUnavailable", c)
	}

	gsr := &controllers.GitSyncReconciler{Client: env.Client, Recorder: rec}
	if err := reconcile("GitSyncReconciler", gsr, absent); err != nil {
		t.Errorf("a GitSync that is gone: %v", err)
	}
	if err := reconcile("GitSyncReconciler", gsr, client.ObjectKeyFromObject(gs)); err != nil {
		t.Errorf("a failed sync is not an error: %v", err)
	}
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(gs), gs); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady); c == nil ||
		c.Reason != gitsealv1alpha1.ReasonInvalidSpec || !strings.Contains(c.Message, "ServiceAccount "+ns+"/deployer not found") {
		t.Errorf("GitSync Ready = %+v, want InvalidSpec naming the missing ServiceAccount", c)
	}

	km := &controllers.KeyManager{Client: env.Client, Namespace: ns, KeyType: crypto.X25519, RenewalPeriod: time.Hour}
	if err := reconcile("KeyManager", km, client.ObjectKey{}); err != nil {
		t.Errorf("KeyManager: %v", err)
	}
}
