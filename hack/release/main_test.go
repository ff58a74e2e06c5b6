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

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const testImage = "registry.example/gitseal@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// The release manifest is config/default, object for object, with every
// container on the pinned image.
func TestReleaseIsConfigDefaultPinnedByDigest(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist", "install.yaml")
	if err := run(testImage, "v9.9.9", "../../config/default", out); err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(manifest), "# gitseal v9.9.9:") {
		t.Errorf("the manifest does not start with its header:\n%.200s", manifest)
	}
	released, err := kio.FromBytes(manifest)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "../../config/default")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(released), shipped.Size(); len(got) != want {
		t.Errorf("the manifest has %d objects %v, config/default %d", len(got), got, want)
	}
	for _, r := range shipped.Resources() {
		if !contains(released, r.GetKind(), r.GetNamespace(), r.GetName()) {
			t.Errorf("the manifest lacks %s %s/%s", r.GetKind(), r.GetNamespace(), r.GetName())
		}
	}
	containers := 0
	for _, n := range released {
		for _, path := range [][]string{{"spec", "template", "spec", "containers"}, {"spec", "template", "spec", "initContainers"}} {
			list, err := n.Pipe(yaml.Lookup(path...))
			if err != nil || list == nil {
				continue
			}
			elems, _ := list.Elements()
			for _, c := range elems {
				containers++
				if img := c.Field("image"); img == nil || img.Value.YNode().Value != testImage {
					t.Errorf("%s %s runs a container on another image than %s", n.GetKind(), n.GetName(), testImage)
				}
			}
		}
	}
	if containers == 0 {
		t.Error("the manifest runs no container")
	}
}

func TestReleaseRefusesAnImageWithoutDigest(t *testing.T) {
	for _, image := range []string{"ghcr.io/gitseal/gitseal:v1", "ghcr.io/gitseal/gitseal", "ghcr.io/gitseal/gitseal@sha256:abc"} {
		_, err := build(image, "v1", "../../config/default", t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "not pinned by digest") {
			t.Errorf("image %q: err = %v, want not pinned by digest", image, err)
		}
	}
}

func TestReleaseLeavesNoOverlayBehind(t *testing.T) {
	work := t.TempDir()
	if _, err := build(testImage, "v1", "../../config/default", work); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("build left %v in its work directory", entries)
	}
}

func ids(nodes []*yaml.RNode) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.GetKind()+" "+n.GetNamespace()+"/"+n.GetName())
	}
	return out
}

func contains(nodes []*yaml.RNode, kind, ns, name string) bool {
	for _, n := range nodes {
		if n.GetKind() == kind && n.GetNamespace() == ns && n.GetName() == name {
			return true
		}
	}
	return false
}
