package integration

import (
	"cmp"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestInstallManifestsAreAccepted builds config/default, config/platform and
// config/samples with kustomize, as `kubectl apply -k` would, and has the API server
// validate every object with a server-side dry run.
func TestInstallManifestsAreAccepted(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	config := filepath.Join(filepath.Dir(file), "..", "..", "config")
	for _, overlay := range []string{"default", "platform", "samples"} {
		resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(config, overlay))
		if err != nil {
			t.Fatalf("kustomize build config/%s: %v", overlay, err)
		}
		if len(resources.Resources()) == 0 {
			t.Fatalf("config/%s is empty", overlay)
		}
		var objects []*unstructured.Unstructured
		for _, r := range resources.Resources() {
			m, err := r.Map()
			if err != nil {
				t.Fatal(err)
			}
			objects = append(objects, &unstructured.Unstructured{Object: m})
		}
		// Namespaces first, and for real: a dry-run namespace does not
		// exist for the objects in it.
		rank := func(u *unstructured.Unstructured) int { // namespaces first
			if u.GetKind() == "Namespace" {
				return 0
			}
			return 1
		}
		slices.SortStableFunc(objects, func(a, b *unstructured.Unstructured) int {
			return cmp.Compare(rank(a), rank(b))
		})
		for _, u := range objects {
			var opts []client.CreateOption
			switch u.GetKind() {
			case "CustomResourceDefinition":
				continue // installed by testenv already
			case "Namespace":
			default:
				opts = append(opts, client.DryRunAll)
			}
			if err := env.Client.Create(t.Context(), u, opts...); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Errorf("config/%s: %s %s: %v", overlay, u.GetKind(), u.GetName(), err)
			}
		}
	}
}
