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
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/httpapi"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/test/testenv"
)

func keySecrets(t *testing.T, ns string) []corev1.Secret {
	t.Helper()
	env := cluster.Get(t)
	var list corev1.SecretList
	if err := env.Client.List(t.Context(), &list, client.InNamespace(ns), client.MatchingLabels{keys.LabelSealingKey: "true"}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func TestTheFirstKeyIsGeneratedStoredAndPublished(t *testing.T) {
	c := startController(t, setupOpts{opts: func(o *controllers.Options) { o.KeyType = crypto.Hybrid }})
	r := c.activeKey(t)
	if r.Kind() != crypto.Hybrid {
		t.Errorf("default key kind %s, want hybrid", r.Kind())
	}
	secrets := keySecrets(t, c.ns)
	if len(secrets) != 1 {
		t.Fatalf("%d key secrets", len(secrets))
	}
	s := secrets[0]
	if s.Name != keys.SecretName(r.ID()) || s.Type != keys.SecretType || s.Immutable == nil || !*s.Immutable ||
		s.Labels[keys.LabelKeyID] != string(r.ID()) || s.Annotations[keys.AnnotationCreated] == "" {
		t.Errorf("key secret %s type %s labels %v annotations %v", s.Name, s.Type, s.Labels, s.Annotations)
	}
	_, cm := c.publishedKeys(t)
	if !strings.Contains(cm.Data[keys.ConfigMapRecipients], r.String()) {
		t.Errorf("recipients.txt does not hold the active key")
	}
	assertNoLeak(t, "public keys ConfigMap", fmt.Sprint(cm.Data), string(s.Data[keys.SecretDataKey]))
	assertNoLeak(t, "controller logs", c.logs.String(), string(s.Data[keys.SecretDataKey]))
}

func TestRotationOnRequestKeepsOldKeysOpening(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	first := c.activeKey(t)
	old := c.sealed(t, "before-rotation", crypto.Strict, map[string]string{"k": "old"}, first)
	create(t, old)
	waitReason(t, client.ObjectKeyFromObject(old), gitsealv1alpha1.ReasonSucceeded)

	_, cm := c.publishedKeys(t)
	patch := client.MergeFrom(cm.DeepCopy())
	cm.Annotations = map[string]string{keys.AnnotationRotateRequested: "2026-11-26T12:00:00Z"}
	if err := env.Client.Patch(t.Context(), cm, patch); err != nil {
		t.Fatal(err)
	}
	var second *crypto.Recipient
	testenv.Eventually(t, "a new active key after the request", func() error {
		second = c.activeKey(t)
		if second.ID() == first.ID() {
			return errors.New("still the old key")
		}
		_, cm := c.publishedKeys(t)
		if cm.Annotations[keys.AnnotationRotateHandled] != "2026-11-26T12:00:00Z" {
			return fmt.Errorf("request not marked handled: %v", cm.Annotations)
		}
		return nil
	})
	list, _ := c.publishedKeys(t)
	if len(list) != 2 || list[0].ID != second.ID() || list[1].State != keys.Old {
		t.Errorf("published %+v", list)
	}
	if n := len(keySecrets(t, c.ns)); n != 2 {
		t.Errorf("%d key secrets after one rotation", n)
	}

	// A value sealed to the old key still opens after the rotation.
	updateSpec(t, client.ObjectKeyFromObject(old), func(ss *gitsealv1alpha1.SealedSecret) {
		ss.Spec = c.sealed(t, "before-rotation", crypto.Strict, map[string]string{"k": "still-old"}, first).Spec
	})
	testenv.Eventually(t, "old-key value opens", func() error {
		if v := string(getSecret(t, client.ObjectKeyFromObject(old)).Data["k"]); v != "still-old" {
			return errors.New("not yet")
		}
		return nil
	})
}

func TestRenewalMakesANewActiveKeyEachPeriod(t *testing.T) {
	c := startController(t, setupOpts{opts: func(o *controllers.Options) { o.KeyRenewalPeriod = 2 * time.Second }})
	first := c.activeKey(t)
	testenv.Eventually(t, "a renewed key", func() error {
		if c.activeKey(t).ID() == first.ID() {
			return errors.New("not renewed yet")
		}
		return nil
	})
	if s, ok := c.ring.State(first.ID()); !ok || s != keys.Old {
		t.Errorf("the first key is %q, want old and kept", s)
	}
}

// TestAFailedListNeverGeneratesAKey drives the key manager directly through
// a client that fails on List, on top of the real API server.
func TestAFailedListNeverGeneratesAKey(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "gitseal")
	failing := true
	reader, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	faulty := interceptor.NewClient(reader, interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if failing {
				return errors.New("injected: the API server is unavailable")
			}
			return c.List(ctx, list, opts...)
		},
	})
	km := &controllers.KeyManager{Client: env.Client, Reader: faulty, Namespace: ns, KeyType: crypto.X25519, RenewalPeriod: time.Hour, Clock: clock.RealClock{}}
	for range 3 {
		if _, err := km.Reconcile(t.Context(), reconcile.Request{}); err == nil || !strings.Contains(err.Error(), "no key is generated") {
			t.Fatalf("reconcile with a failing list: %v", err)
		}
	}
	if n := len(keySecrets(t, ns)); n != 0 {
		t.Fatalf("%d keys generated while the keys could not be listed", n)
	}
	failing = false
	res, err := km.Reconcile(t.Context(), reconcile.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(keySecrets(t, ns)); n != 1 {
		t.Fatalf("%d keys after the list recovered, want 1", n)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > time.Hour {
		t.Errorf("requeue after %v, want the time to renewal", res.RequeueAfter)
	}
	// A second pass finds the key and generates nothing.
	if _, err := km.Reconcile(t.Context(), reconcile.Request{}); err != nil || len(keySecrets(t, ns)) != 1 {
		t.Fatalf("second reconcile: %v, %d keys", err, len(keySecrets(t, ns)))
	}
}

func TestACorruptKeyIsSkippedAndTheOthersKeepWorking(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	r := c.activeKey(t)
	corrupt := keys.NewSecret(c.ns, mustIdentity(t), time.Now())
	corrupt.Data[keys.SecretDataKey] = []byte("AGE-SECRET-KEY-1NOTAREALKEYATALLQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ")
	// Restored, so that only its content is wrong.
	if err := env.Client.Create(t.Context(), corrupt, client.FieldOwner(keys.FieldManagerRestore)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "a Warning about the corrupt key", func() error {
		var list eventsv1.EventList
		if err := env.Client.List(t.Context(), &list, client.InNamespace(c.ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == corrupt.Name && e.Reason == "KeyUnusable" {
				assertNoLeak(t, "event", e.Note, "NOTAREALKEY")
				return nil
			}
		}
		return errors.New("no event")
	})
	ss := c.sealed(t, "works", crypto.Strict, map[string]string{"k": "v"}, r)
	create(t, ss)
	waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonSucceeded)
	if c.ring.Active().ID() != r.ID() {
		t.Error("the corrupt key displaced the active one")
	}
	if n := len(keySecrets(t, c.ns)); n != 2 {
		t.Errorf("%d key secrets: a corrupt key must not make the controller generate another", n)
	}
	assertNoLeak(t, "controller logs", c.logs.String(), "NOTAREALKEY")
}

func mustIdentity(t *testing.T) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestADeletedKeyIsRestoredFromBackup: the key Secret is deleted while
// running; the controller makes a new key; values sealed to the lost key
// fail with NoMatchingKey until the backup is restored, and then open
// without a restart.
func TestADeletedKeyIsRestoredFromBackup(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	lost := c.activeKey(t)
	backup := keySecrets(t, c.ns)[0].DeepCopy()

	if err := env.Client.Delete(t.Context(), backup); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "a replacement key", func() error {
		if c.activeKey(t).ID() == lost.ID() {
			return errors.New("still the lost key")
		}
		return nil
	})
	ss := c.sealed(t, "needs-lost-key", crypto.Strict, map[string]string{"k": "v"}, lost)
	create(t, ss)
	waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonNoMatchingKey)

	restored := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: backup.Name, Namespace: backup.Namespace, Labels: backup.Labels, Annotations: backup.Annotations},
		Type:       backup.Type, Data: backup.Data, Immutable: backup.Immutable,
	}
	// As gitseal keys restore creates it.
	if err := env.Client.Create(t.Context(), restored, client.FieldOwner(keys.FieldManagerRestore)); err != nil {
		t.Fatal(err)
	}
	waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonSucceeded)
	if s, _ := c.ring.State(lost.ID()); s != keys.Old {
		t.Errorf("restored key is %q, want old (the replacement stays active)", s)
	}
}

func TestRetiredKeys(t *testing.T) {
	env := cluster.Get(t)
	for _, opens := range []bool{true, false} {
		t.Run(fmt.Sprintf("retired keys open=%v", opens), func(t *testing.T) {
			c := startController(t, setupOpts{opts: func(o *controllers.Options) { o.RetiredKeysOpen = opens }})
			first := c.activeKey(t)
			ss := c.sealed(t, "on-retired", crypto.Strict, map[string]string{"k": "v"}, first)
			create(t, ss)
			waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonSucceeded)

			s := keySecrets(t, c.ns)[0]
			s.Labels[keys.LabelRetired] = "true"
			if err := env.Client.Update(t.Context(), &s); err != nil {
				t.Fatal(err)
			}
			// Retiring the only key makes the manager generate an active one.
			testenv.Eventually(t, "a new active key", func() error {
				if c.activeKey(t).ID() == first.ID() {
					return errors.New("retired key still active")
				}
				return nil
			})
			list, _ := c.publishedKeys(t)
			if slices.ContainsFunc(list, func(k keys.PublicKey) bool { return k.ID == first.ID() }) {
				t.Error("a retired key is still published for sealing")
			}
			// Issue 11, item 3: the CLI learns from the cluster which keys
			// are retired, by ID alone, in the ConfigMap and from /v1/keys.
			testenv.Eventually(t, "the retired key's ID is published", func() error {
				_, cm := c.publishedKeys(t)
				if got := cm.Data[keys.ConfigMapRetiredJSON]; got != `["`+string(first.ID())+`"]`+"\n" {
					return fmt.Errorf("%s: %q", keys.ConfigMapRetiredJSON, got)
				}
				return nil
			})
			resp, err := http.Get(c.httpURL + httpapi.PathKeys)
			if err != nil {
				t.Fatal(err)
			}
			var published httpapi.KeysResponse
			err = json.NewDecoder(resp.Body).Decode(&published)
			_ = resp.Body.Close()
			if err != nil || !slices.Equal(published.Retired, []crypto.KeyID{first.ID()}) || slices.ContainsFunc(published.Keys, func(k keys.PublicKey) bool { return k.ID == first.ID() }) {
				t.Errorf("%s: %+v, %v; want the retired key by ID alone", httpapi.PathKeys, published, err)
			}
			// validate names the retired key a value is sealed to, valid or not.
			status, body := post(t, c.httpURL+httpapi.PathValidate, ss)
			var answer httpapi.ValidateResponse
			if err := json.Unmarshal(body, &answer); err != nil || status != http.StatusOK || answer.Valid != opens ||
				!slices.Equal(answer.RetiredKeyIDs, []string{string(first.ID())}) {
				t.Errorf("validate of a value on the retired key: %d %s", status, body)
			}
			updateSpec(t, client.ObjectKeyFromObject(ss), func(ss *gitsealv1alpha1.SealedSecret) {
				ss.Annotations = map[string]string{"reconcile.gitseal.dev/requestedAt": "after-retire"}
			})
			if opens {
				testenv.Eventually(t, "status names the retired key", func() error {
					var got gitsealv1alpha1.SealedSecret
					if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(ss), &got); err != nil {
						return err
					}
					if !slices.Equal(got.Status.RetiredKeyIDs, []string{string(first.ID())}) {
						return fmt.Errorf("retired key IDs %v", got.Status.RetiredKeyIDs)
					}
					return nil
				})
			} else {
				waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonNoMatchingKey)
			}
		})
	}
}
