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
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// BenchmarkGitSyncWriteCost times the two writes of a no-change sync on a
// GitSync whose inventory lists 0 and 1,000 objects, as the controller
// writes it (status.inventory.objects, one string): the webhook's
// annotation patch and the controller's status patch, and a read.
// Metrics, in ms per request, for n objects:
//   - annotation-ms-n, status-ms-n, get-ms-n.
func BenchmarkGitSyncWriteCost(b *testing.B) {
	env := cluster.Get(b)
	c := env.Client
	ctx := context.Background()
	ns := namespace(b, c, "writecost")
	const requests = 20
	perRequest := func(do func(i int)) float64 {
		start := time.Now()
		for i := range requests {
			do(i)
		}
		return float64(time.Since(start).Microseconds()) / 1000 / requests
	}
	for b.Loop() {
		for _, n := range []int{0, 1000} {
			gs := &gitsealv1alpha1.GitSync{
				ObjectMeta: metav1.ObjectMeta{GenerateName: "apps-", Namespace: ns},
				Spec:       gitsealv1alpha1.GitSyncSpec{URL: "https://127.0.0.1/apps.git", Ref: &gitsealv1alpha1.GitRef{Branch: "main"}},
			}
			must(b, c.Create(ctx, gs))
			entries := make([]gitsealv1alpha1.InventoryEntry, n)
			for i := range entries {
				entries[i] = gitsealv1alpha1.InventoryEntry{ID: fmt.Sprintf("%s_cm-%04d__ConfigMap", ns, i), Version: "v1", Hash: "0123456789abcdef"}
			}
			gs.Status.Inventory = &gitsealv1alpha1.Inventory{}
			gs.Status.Inventory.Set(entries)
			must(b, c.Status().Update(ctx, gs))

			annotation := perRequest(func(i int) {
				p := fmt.Appendf(nil, `{"metadata":{"annotations":{"gitseal.dev/push-received-at":"%d"}}}`, i)
				must(b, c.Patch(ctx, gs, client.RawPatch(types.MergePatchType, p)))
			})
			status := perRequest(func(i int) {
				p := fmt.Appendf(nil, `{"status":{"lastHandledReconcileAt":"%d"}}`, i)
				must(b, c.Status().Patch(ctx, gs, client.RawPatch(types.MergePatchType, p)))
			})
			get := perRequest(func(int) { must(b, c.Get(ctx, client.ObjectKeyFromObject(gs), gs)) })
			b.Logf("inventory of %d objects: annotation patch %.1f ms, status patch %.1f ms, get %.1f ms", n, annotation, status, get)
			b.ReportMetric(annotation, fmt.Sprintf("annotation-ms-%d", n))
			b.ReportMetric(status, fmt.Sprintf("status-ms-%d", n))
			b.ReportMetric(get, fmt.Sprintf("get-ms-%d", n))
		}
	}
}
