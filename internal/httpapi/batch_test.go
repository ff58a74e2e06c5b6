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

package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/sealer"
)

// newRing returns a ring holding one new X25519 key, as the controller
// loads it.
func newRing(t *testing.T) (*keys.Ring, *crypto.Identity) {
	t.Helper()
	id, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	s := keys.NewSecret("gitseal-system", id, time.Now())
	s.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: keys.FieldManagerGenerate, FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(`{"f:data":{}}`)}}
	r := keys.NewRing(true)
	if broken := r.Load([]corev1.Secret{*s}); len(broken) > 0 {
		t.Fatal(broken)
	}
	return r, id
}

func sealedObjects(t *testing.T, r *crypto.Recipient, n int) []*gitsealv1alpha1.SealedSecret {
	t.Helper()
	out := make([]*gitsealv1alpha1.SealedSecret, n)
	for i := range out {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: fmt.Sprintf("s%d", i)}, StringData: map[string]string{"k": "v"}}
		ss, err := sealer.Seal(s, crypto.Strict, []*crypto.Recipient{r})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = ss
	}
	return out
}

// countingServer serves the API and counts the requests to each path.
func countingServer(t *testing.T, h http.Handler) (*Client, map[string]*atomic.Int64) {
	t.Helper()
	counts := map[string]*atomic.Int64{PathResealBatch: {}, PathValidateBatch: {}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := counts[r.URL.Path]; ok {
			c.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, counts
}

func TestBatchesKeepOrderAndRefuseItemsOneByOne(t *testing.T) {
	ring, id := newRing(t)
	c, counts := countingServer(t, NewServer(ring, ServerOptions{ObjectsPerSecond: 1e6, Burst: 1e4}))
	items := sealedObjects(t, id.Recipient(), 1200)
	// One item is moved to another name: its binding no longer matches.
	items[700].Name = "moved"

	valid, err := c.ValidateBatch(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range valid {
		if v.Valid != (i != 700) {
			t.Fatalf("item %d: %+v", i, v)
		}
	}
	if valid[700].Reason != gitsealv1alpha1.ReasonScopeMismatch {
		t.Errorf("moved item: reason %s", valid[700].Reason)
	}

	resealed, err := c.ResealBatch(context.Background(), items, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resealed {
		switch {
		case i == 700 && r.Error == "":
			t.Errorf("the moved item was re-sealed")
		case i != 700 && (r.Error != "" || r.SealedSecret == nil || r.SealedSecret.Name != items[i].Name):
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	// 1,200 items in batches of at most MaxBatchItems: 3 requests each.
	if n, m := counts[PathValidateBatch].Load(), counts[PathResealBatch].Load(); n != 3 || m != 3 {
		t.Errorf("%d validate and %d reseal requests for 1,200 objects, want 3 each", n, m)
	}
}

func TestBatchesSplitBySize(t *testing.T) {
	ring, id := newRing(t)
	c, counts := countingServer(t, NewServer(ring, ServerOptions{ObjectsPerSecond: 1e6, Burst: 1e4}))
	big := strings.Repeat("x", 200<<10)
	var items []*gitsealv1alpha1.SealedSecret
	for i := range 40 { // about 40 × 270 KiB of ciphertext: more than 3 MiB
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: fmt.Sprintf("big%d", i)}, StringData: map[string]string{"k": big}}
		ss, err := sealer.Seal(s, crypto.Strict, []*crypto.Recipient{id.Recipient()})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, ss)
	}
	valid, err := c.ValidateBatch(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range valid {
		if !v.Valid {
			t.Fatalf("item %d: %+v", i, v)
		}
	}
	if n := counts[PathValidateBatch].Load(); n < 3 {
		t.Errorf("%d requests: batches were not split by size", n)
	}
}

func TestTheServerLimitsObjectsNotRequests(t *testing.T) {
	ring, id := newRing(t)
	srv := httptest.NewServer(NewServer(ring, ServerOptions{ObjectsPerSecond: 0.001, Burst: MaxBatchItems}))
	defer srv.Close()
	c, err := New(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	items := sealedObjects(t, id.Recipient(), MaxBatchItems)
	if _, err := c.ValidateBatch(context.Background(), items); err != nil {
		t.Fatalf("a full batch within the burst: %v", err)
	}
	resp, err := http.Post(srv.URL+PathValidate, "application/json", strings.NewReader(`{"metadata":{"name":"a","namespace":"b"},"spec":{"encryptedData":{"k":"gs1:x"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("one more object after the burst: %s, Retry-After %q; want 429 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
}

func TestTheClientWaitsAsRetryAfterSays(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":"rate limit exceeded"}`))
			return
		}
		_, _ = w.Write([]byte(`{"valid":true}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	v, err := c.Validate(context.Background(), &gitsealv1alpha1.SealedSecret{})
	if err != nil || !v.Valid {
		t.Fatalf("Validate = %+v, %v", v, err)
	}
	if took := time.Since(start); calls.Load() != 3 || took < 2*time.Second {
		t.Errorf("%d calls in %v; want 3, waiting 1 s before each retry", calls.Load(), took)
	}
}

func TestTheClientGivesUpWhenTheContextEnds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, err := New(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.Validate(ctx, &gitsealv1alpha1.SealedSecret{}); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("err = %v, want the 429 and the context's end", err)
	}
}
