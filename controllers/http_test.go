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
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/httpapi"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/sealer"
	"github.com/gitseal/gitseal/test/testenv"
)

func post(t *testing.T, url string, body any) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func TestHTTPKeys(t *testing.T) {
	c := startController(t, setupOpts{})
	r := c.activeKey(t)
	resp, err := http.Get(c.httpURL + httpapi.PathKeys)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got httpapi.KeysResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Keys) != 1 || got.Keys[0].ID != r.ID() || got.Keys[0].Recipient != r.String() || got.Keys[0].State != keys.Active {
		t.Errorf("keys %+v", got.Keys)
	}
}

// TestResealKeepsTheAuthenticatedBinding: the request's metadata cannot
// change what a value is bound to (the CVE-2026-22728 class of bug), and
// only ciphertext comes back.
func TestResealKeepsTheAuthenticatedBinding(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	first := c.activeKey(t)
	const canary = "canary-reseal-51c0"
	ss := c.sealed(t, "db", crypto.Strict, map[string]string{"password": canary, "user": "u"}, first)
	ss.Annotations = map[string]string{"sealedsecrets.bitnami.com/cluster-wide": "true", "gitseal.dev/scope": "cluster"}

	_, cm := c.publishedKeys(t)
	patch := client.MergeFrom(cm.DeepCopy())
	cm.Annotations = map[string]string{keys.AnnotationRotateRequested: "rotate-for-reseal"}
	if err := env.Client.Patch(t.Context(), cm, patch); err != nil {
		t.Fatal(err)
	}
	var second *crypto.Recipient
	testenv.Eventually(t, "rotated", func() error {
		if second = c.activeKey(t); second.ID() == first.ID() {
			_, cm := c.publishedKeys(t)
			return fmt.Errorf("not yet; annotations %v", cm.Annotations)
		}
		return nil
	})

	status, body := post(t, c.httpURL+httpapi.PathReseal, ss)
	if status != http.StatusOK {
		t.Fatalf("reseal: %d %s", status, body)
	}
	assertNoLeak(t, "reseal response", string(body), canary)
	var got httpapi.ResealResponse
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Changed) != 2 {
		t.Errorf("changed %v", got.Changed)
	}
	info, err := crypto.InspectValue(string(got.SealedSecret.Spec.EncryptedData["password"]), got.SealedSecret.Spec.DataKeys)
	if err != nil || len(info.KeyIDs) != 1 || info.KeyIDs[0] != second.ID() {
		t.Fatalf("re-sealed to %v, %v; want the new active key", info, err)
	}
	// Format 2: the data key is re-wrapped; every value keeps its text.
	if !maps.Equal(got.SealedSecret.Spec.EncryptedData, ss.Spec.EncryptedData) || slices.Equal(got.SealedSecret.Spec.DataKeys, ss.Spec.DataKeys) {
		t.Errorf("re-sealing changed a value, or not the data key")
	}
	// Still strict: it does not open under another name, whatever the
	// annotations said.
	opened, err := sealer.Open(got.SealedSecret, c.ring.Identities())
	if err != nil || string(opened.Data["password"]) != canary {
		t.Fatalf("re-sealed object does not open as itself: %v", err)
	}
	moved := got.SealedSecret.DeepCopy()
	moved.Name = "other"
	if _, err := sealer.Open(moved, c.ring.Identities()); err == nil {
		t.Fatal("re-sealing widened a strict value")
	}

	// Presented under another name, a strict value is refused, not re-sealed.
	renamed := ss.DeepCopy()
	renamed.Name = "other"
	status, body = post(t, c.httpURL+httpapi.PathReseal, renamed)
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "scope mismatch") {
		t.Errorf("renamed reseal: %d %s", status, body)
	}
	assertNoLeak(t, "reseal error", string(body), canary)

	// onlyRetired leaves values on keys that are not retired byte for byte.
	status, body = post(t, c.httpURL+httpapi.PathReseal+"?onlyRetired=true", ss)
	if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || len(got.Changed) != 0 ||
		got.SealedSecret.Spec.EncryptedData["user"] != ss.Spec.EncryptedData["user"] {
		t.Errorf("onlyRetired: %d changed %v", status, got.Changed)
	}
}

// TestResealUpgradesFormat1InTheController: a format-1 object sent to
// /v1/reseal comes back in format 2, opened and sealed again inside the
// controller: only ciphertext in the response (issue 13).
func TestResealUpgradesFormat1InTheController(t *testing.T) {
	c := startController(t, setupOpts{})
	r := c.activeKey(t)
	const canary = "canary-upgrade-4e1d"
	ss := &gitsealv1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: c.watch}, Spec: gitsealv1alpha1.SealedSecretSpec{EncryptedData: map[string]gitsealv1alpha1.SealedValue{}}}
	for _, item := range []string{"a", "b"} {
		v, err := sealer.SealItem([]byte(canary+item), crypto.Binding{Scope: crypto.Namespace, Namespace: c.watch, Key: item}, []*crypto.Recipient{r})
		if err != nil {
			t.Fatal(err)
		}
		ss.Spec.EncryptedData[item] = v
	}
	status, body := post(t, c.httpURL+httpapi.PathReseal, ss)
	if status != http.StatusOK {
		t.Fatalf("reseal: %d %s", status, body)
	}
	assertNoLeak(t, "reseal response", string(body), canary)
	var got httpapi.ResealResponse
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	out := got.SealedSecret
	if len(got.Changed) != 2 || len(out.Spec.DataKeys) != 1 || crypto.Version(string(out.Spec.EncryptedData["a"])) != 2 {
		t.Fatalf("not upgraded: changed %v, %d data keys", got.Changed, len(out.Spec.DataKeys))
	}
	// The upgraded object kept namespace scope: it opens under another name.
	out.Name = "renamed"
	if opened, err := sealer.Open(out, c.ring.Identities()); err != nil || string(opened.Data["b"]) != canary+"b" {
		t.Fatalf("upgraded object: %v", err)
	}
}

func TestValidateSaysYesOrNoWithoutPlaintext(t *testing.T) {
	c := startController(t, setupOpts{})
	r := c.activeKey(t)
	const canary = "canary-validate-2b7d"
	ss := c.sealed(t, "app", crypto.Strict, map[string]string{"token": canary}, r)

	status, body := post(t, c.httpURL+httpapi.PathValidate, ss)
	var got httpapi.ValidateResponse
	if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || !got.Valid || got.KeyIDs[0] != string(r.ID()) {
		t.Fatalf("valid object: %d %s", status, body)
	}
	ss.Namespace = "elsewhere"
	status, body = post(t, c.httpURL+httpapi.PathValidate, ss)
	if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || got.Valid ||
		got.Reason != gitsealv1alpha1.ReasonScopeMismatch || got.Item != "token" {
		t.Fatalf("moved object: %d %s", status, body)
	}
	assertNoLeak(t, "validate", string(body), canary)
}

func TestHTTPRefusesBadRequests(t *testing.T) {
	c := startController(t, setupOpts{opts: func(o *controllers.Options) { o.ResealRate, o.ResealBurst = 1, 2 }})
	c.activeKey(t)
	resp, err := http.Post(c.httpURL+httpapi.PathValidate, "application/json", strings.NewReader("not json"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("garbage body: %d", resp.StatusCode)
	}
	huge := strings.NewReader(`{"metadata":{"name":"` + strings.Repeat("a", httpapi.MaxRequestBytes) + `"}}`)
	resp, err = http.Post(c.httpURL+httpapi.PathReseal, "application/json", huge)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge && resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("oversized body: %d", resp.StatusCode)
	}
	// The limit counts objects, a batch's included: a full batch takes
	// the whole burst, and the next object is refused with Retry-After.
	ss := c.sealed(t, "limited", crypto.Strict, map[string]string{"k": "v"}, c.activeKey(t))
	batch := httpapi.BatchRequest{}
	for range httpapi.MaxBatchItems {
		batch.Items = append(batch.Items, *ss)
	}
	if status, body := post(t, c.httpURL+httpapi.PathValidateBatch, batch); status != http.StatusOK {
		t.Fatalf("a full batch within the burst: %d %s", status, body)
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(ss)
	resp, err = http.Post(c.httpURL+httpapi.PathValidate, "application/json", &buf)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("an object past the burst: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestCanary seals a distinctive value, drives success and every kind of
// failure, and then looks for the value in the controller's logs at the
// highest verbosity, in events, in status and in metrics.
func TestCanary(t *testing.T) {
	env := cluster.Get(t)
	const canary = "canary-cf81-d0-not-leak"
	c := startController(t, setupOpts{})
	r := c.activeKey(t)
	stranger := mustIdentity(t)

	good := c.sealed(t, "canary-good", crypto.Strict, map[string]string{"password": canary}, r)
	create(t, good)
	waitReason(t, client.ObjectKeyFromObject(good), gitsealv1alpha1.ReasonSucceeded)
	wrongKey := c.sealed(t, "canary-wrong-key", crypto.Strict, map[string]string{"password": canary}, stranger.Recipient())
	create(t, wrongKey)
	waitReason(t, client.ObjectKeyFromObject(wrongKey), gitsealv1alpha1.ReasonNoMatchingKey)
	moved := c.sealed(t, "canary-good", crypto.Strict, map[string]string{"password": canary}, r)
	moved.Name = "canary-moved"
	create(t, moved)
	waitReason(t, client.ObjectKeyFromObject(moved), gitsealv1alpha1.ReasonScopeMismatch)
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "canary-foreign", Namespace: c.watch}, StringData: map[string]string{"x": "y"}}
	create(t, foreign)
	taken := c.sealed(t, "canary-foreign", crypto.Strict, map[string]string{"password": canary}, r)
	create(t, taken)
	waitReason(t, client.ObjectKeyFromObject(taken), gitsealv1alpha1.ReasonSecretNotManaged)
	post(t, c.httpURL+httpapi.PathValidate, moved)
	post(t, c.httpURL+httpapi.PathReseal, good)

	assertNoLeak(t, "controller logs", c.logs.String(), canary)
	if !strings.Contains(c.logs.String(), `"level"=1`) {
		t.Error("the log capture saw no V(1) lines: it is not at high verbosity")
	}
	var events eventsv1.EventList
	if err := env.Client.List(t.Context(), &events, client.InNamespace(c.watch)); err != nil {
		t.Fatal(err)
	}
	if len(events.Items) == 0 {
		t.Error("no events to check")
	}
	eventsJSON, _ := json.Marshal(events)
	assertNoLeak(t, "events", string(eventsJSON), canary)
	var list gitsealv1alpha1.SealedSecretList
	if err := env.Client.List(t.Context(), &list, client.InNamespace(c.watch)); err != nil {
		t.Fatal(err)
	}
	statusJSON, _ := json.Marshal(list)
	assertNoLeak(t, "SealedSecret objects and status", string(statusJSON), canary)
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, f := range families {
		fmt.Fprintln(&all, f.String())
	}
	if !strings.Contains(all.String(), "gitseal_unseal_errors_total") {
		t.Error("gitseal metrics are not registered")
	}
	assertNoLeak(t, "metrics", all.String(), canary)
}
