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

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
)

// BenchmarkAPIServerRequests1000 measures, one kind of request at a time
// and with nothing watching, what 1,000 of each request the controller's
// work is made of cost the API server: wall time with 8 clients and the
// CPU time of kube-apiserver and etcd. Next to the floor (creating 1,000
// Secrets), it shows the least any controller that writes a Secret and a
// Ready condition for each SealedSecret can cost, whatever it does itself.
func BenchmarkAPIServerRequests1000(b *testing.B) {
	env := cluster.Get(b)
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []crypto.Kind{crypto.Hybrid, crypto.X25519} {
		b.Run(string(kind), func(b *testing.B) {
			for b.Loop() {
				measure := func(what string, request func(i int)) {
					cp := controlPlaneCPU(b)
					start := time.Now()
					parallel(objects, request)
					took, used := time.Since(start), controlPlaneCPU(b)
					b.ReportMetric(took.Seconds(), what+"-s")
					b.ReportMetric(used.apiServer-cp.apiServer, what+"-apiserver-cpu-s")
					b.Logf("1,000 × %s: %.2fs, %s", what, took.Seconds(), used.since(cp))
				}
				floorNS, ns := namespace(b, c, "floor"), namespace(b, c, "requests")
				measure("create-secret", func(i int) {
					s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s-%04d", i), Namespace: floorNS}, Data: data(i)}
					must(b, c.Create(context.Background(), s))
				})
				sealed := sealAll(b, ns, mustRecipient(b, kind), objects)
				measure("create-sealedsecret", func(i int) { must(b, c.Create(context.Background(), sealed[i])) })
				measure("get-absent-secret", func(i int) {
					m := &metav1.PartialObjectMetadata{}
					m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
					if err := c.Get(context.Background(), client.ObjectKeyFromObject(sealed[i]), m); err == nil {
						b.Error("the Secret exists")
					}
				})
				measure("apply-secret", func(i int) {
					s := secretApply(sealed[i], data(i))
					must(b, c.Apply(context.Background(), s, client.FieldOwner(controllers.FieldManager)))
				})
				measure("patch-status", func(i int) {
					patch, err := json.Marshal(map[string]any{"status": readyStatus()})
					must(b, err)
					must(b, c.Status().Patch(context.Background(), sealed[i], client.RawPatch(types.MergePatchType, patch)))
				})
			}
		})
	}
}

// secretApply is the apply request the controller sends for a SealedSecret
// without a template: its name, labels, type, data and controller
// reference.
func secretApply(ss *gitsealv1alpha1.SealedSecret, data map[string][]byte) *corev1ac.SecretApplyConfiguration {
	return corev1ac.Secret(ss.Name, ss.Namespace).
		WithLabels(map[string]string{keys.ManagedByLabel: keys.ManagedByValue}).
		WithType(corev1.SecretTypeOpaque).
		WithData(data).
		WithOwnerReferences(metav1ac.OwnerReference().
			WithAPIVersion(gitsealv1alpha1.GroupVersion.String()).
			WithKind("SealedSecret").
			WithName(ss.Name).
			WithUID(ss.UID).
			WithController(true).
			WithBlockOwnerDeletion(true))
}

func readyStatus() gitsealv1alpha1.SealedSecretStatus {
	return gitsealv1alpha1.SealedSecretStatus{
		ObservedGeneration: 1,
		KeyIDs:             []string{"0123456789abcdef"},
		Conditions: []metav1.Condition{{
			Type: gitsealv1alpha1.ConditionReady, Status: metav1.ConditionTrue, ObservedGeneration: 1,
			Reason: gitsealv1alpha1.ReasonSucceeded, Message: "Secret written", LastTransitionTime: metav1.Now(),
		}},
	}
}

func must(b *testing.B, err error) {
	if err != nil {
		b.Error(err)
	}
}
