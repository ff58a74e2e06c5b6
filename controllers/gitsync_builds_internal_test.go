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
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

func TestReusableBuild(t *testing.T) {
	last := &builtRevision{commit: "c", path: "/apps", generation: 3}
	tests := []struct {
		name       string
		generation int64
		path       string
		want       bool
	}{
		{"same generation and path is reused", 3, "apps", true},
		{"the path written otherwise is the same path", 3, "./apps/", true},
		{"a new generation builds again", 4, "apps", false},
		{"another path builds again", 3, "apps/prod", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reusableBuild(last, tt.generation, tt.path); got != tt.want {
				t.Errorf("reusableBuild(generation %d, path %q) = %v, want %v", tt.generation, tt.path, got, tt.want)
			}
		})
	}
}

// TestBuiltRevisionsStayWithinTheirBound: the least recently used builds
// go first once the objects kept would pass the bound, and a build larger
// than the bound is not kept.
func TestBuiltRevisionsStayWithinTheirBound(t *testing.T) {
	objs := func(n int) []*unstructured.Unstructured { return make([]*unstructured.Unstructured, n) }
	key := func(name string) types.NamespacedName { return types.NamespacedName{Namespace: "ns", Name: name} }
	b := newBuiltRevisions(10)
	b.put(key("a"), "c1", "apps", 1, objs(4))
	b.put(key("b"), "c1", "apps", 1, objs(4))
	if b.get(key("a"), 1, "apps") == nil { // a is now the most recently used
		t.Fatal("a was not kept")
	}
	b.put(key("c"), "c2", "apps", 1, objs(4)) // 12 > 10: b goes
	if b.get(key("b"), 1, "apps") != nil {
		t.Error("the least recently used build was kept past the bound")
	}
	if got := b.get(key("a"), 1, "apps"); got == nil || got.commit != "c1" {
		t.Errorf("a: %+v, want its build at c1", got)
	}
	b.put(key("a"), "c3", "apps", 2, objs(5)) // replaces a's: 9 in all
	if got := b.get(key("a"), 2, "apps"); got == nil || got.commit != "c3" || b.total != 9 {
		t.Errorf("a after a new build: %+v, %d objects kept; want c3, 9", got, b.total)
	}
	b.put(key("huge"), "c4", "apps", 1, objs(11))
	if b.get(key("huge"), 1, "apps") != nil || b.total != 9 {
		t.Errorf("a build over the bound was kept (%d objects)", b.total)
	}
	b.forget(key("a"))
	b.forget(key("c"))
	if b.total != 0 || b.order.Len() != 0 {
		t.Errorf("after forgetting all: %d objects, %d builds", b.total, b.order.Len())
	}
}
