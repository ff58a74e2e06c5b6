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
	"reflect"
	"testing"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/apply"
	"github.com/gitseal/gitseal/internal/health"
)

func TestFromInventory(t *testing.T) {
	entry := func(id, version string) gitsealv1alpha1.InventoryEntry {
		return gitsealv1alpha1.InventoryEntry{ID: id, Version: version, Hash: "h"}
	}
	tests := []struct {
		name string
		inv  *gitsealv1alpha1.Inventory
		want []apply.ObjectRef
	}{
		{"no inventory reads as none", nil, nil},
		{"empty inventory reads as empty", &gitsealv1alpha1.Inventory{}, []apply.ObjectRef{}},
		{"entries read back with their versions, in order",
			inventoryOf(entry("app_web_apps_Deployment", "v1"), entry("_reader_rbac.authorization.k8s.io_ClusterRole", "v1")),
			[]apply.ObjectRef{
				{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "app", Name: "web"},
				{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: "reader"},
			}},
		{"entry this controller did not write is dropped",
			inventoryOf(entry("garbage", "v1"), entry("app_a__ConfigMap", "v1")),
			[]apply.ObjectRef{{Version: "v1", Kind: "ConfigMap", Namespace: "app", Name: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromInventory(tt.inv); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fromInventory = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// inventoryOf is an inventory of entries, as the controller writes it.
func inventoryOf(entries ...gitsealv1alpha1.InventoryEntry) *gitsealv1alpha1.Inventory {
	inv := &gitsealv1alpha1.Inventory{}
	inv.Set(entries)
	return inv
}

// TestInventoryListSkipsLinesItDidNotWrite: a status edited by hand keeps
// the lines that parse; an ID, a version and an optional hash each.
func TestInventoryListSkipsLinesItDidNotWrite(t *testing.T) {
	inv := &gitsealv1alpha1.Inventory{Objects: "app_a__ConfigMap v1 abc\njunk\n\napp_b__ConfigMap v1\napp_c__ConfigMap v1 h extra"}
	want := []gitsealv1alpha1.InventoryEntry{{ID: "app_a__ConfigMap", Version: "v1", Hash: "abc"}, {ID: "app_b__ConfigMap", Version: "v1"}}
	if got := inv.List(); !reflect.DeepEqual(got, want) {
		t.Errorf("List = %+v, want %+v", got, want)
	}
	if n := (*gitsealv1alpha1.Inventory)(nil).Len(); n != 0 {
		t.Errorf("a nil inventory lists %d objects", n)
	}
}

func TestInventoryRoundTrip(t *testing.T) {
	refs := []apply.ObjectRef{
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "app", Name: "web"},
		{Version: "v1", Kind: "Namespace", Name: "app"},
	}
	hashes := map[string]string{refs[0].String(): "abc"}
	inv := toInventory(refs, hashes)
	if got := fromInventory(inv); !reflect.DeepEqual(got, refs) {
		t.Errorf("fromInventory(toInventory(refs)) = %+v, want %+v", got, refs)
	}
	if got := inventoryHashes(inv); !reflect.DeepEqual(got, hashes) {
		t.Errorf("inventoryHashes = %v, want %v", got, hashes)
	}
}

// TestHealthFailed checks C6: objects not ready in time are retried with
// backoff, a failed object waits for a new commit.
func TestHealthFailed(t *testing.T) {
	tests := []struct {
		name          string
		err           error
		wantTransient bool
		wantMessage   string
	}{
		{"objects not ready in time are retried", &health.NotReadyError{Objects: []string{"Deployment a/web (InProgress: x)"}}, true,
			"applied revision main@sha1:1, but 1 objects were not ready in time: Deployment a/web (InProgress: x)"},
		{"a failed object waits for a new commit", fmt.Errorf("Deployment a/web %w: stuck", health.ErrFailed), false, "Deployment a/web failed: stuck"},
		{"a failed read is retried", errors.New("read Deployment a/web: connection refused"), true, "read Deployment a/web: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := healthFailed(tt.err, "main@sha1:1")
			if res.Reason != gitsealv1alpha1.ReasonHealthCheckFailed || (res.retry == backoff) != tt.wantTransient || res.Message != tt.wantMessage || res.revision != "main@sha1:1" {
				t.Errorf("healthFailed = %+v, want transient %v, message %q", res, tt.wantTransient, tt.wantMessage)
			}
		})
	}
}
