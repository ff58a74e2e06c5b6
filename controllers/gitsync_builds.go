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
	"container/list"
	"path"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// maxRetainedObjects bounds the objects builtRevisions keeps, over all
// GitSyncs. Builds that GitSyncs share (one commit of one repository) are
// counted once per GitSync, so the bound errs on the safe side.
const maxRetainedObjects = 20_000

// builtRevision is what a GitSync last built: the objects of path at
// commit, for the spec of generation. The objects are shared with the
// checkout's memo and other GitSyncs: read-only.
type builtRevision struct {
	commit     string
	path       string
	generation int64
	objs       []*unstructured.Unstructured
}

// builtRevisions keeps the last build of each GitSync, so that a sync that
// finds the ref where it was built (a drift sync, a full check) neither
// downloads nor builds again: a build depends on the commit's files and
// the path alone, the sandbox allowing nothing from elsewhere. The least
// recently used go first once maxRetainedObjects would be passed.
type builtRevisions struct {
	mu    sync.Mutex
	max   int
	total int
	order *list.List // of *retained, the most recently used first
	byKey map[types.NamespacedName]*list.Element
}

type retained struct {
	key types.NamespacedName
	builtRevision
}

func newBuiltRevisions(maxObjects int) *builtRevisions {
	return &builtRevisions{max: maxObjects, order: list.New(), byKey: map[types.NamespacedName]*list.Element{}}
}

// get returns the GitSync's last build when it may stand for a new one of
// the same commit: same path and generation. The caller still asks the Git
// server whether the ref points at its commit.
func (b *builtRevisions) get(key types.NamespacedName, generation int64, relPath string) *builtRevision {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.byKey[key]
	if !ok {
		return nil
	}
	r := e.Value.(*retained)
	if !reusableBuild(&r.builtRevision, generation, relPath) {
		return nil
	}
	b.order.MoveToFront(e)
	return &r.builtRevision
}

// reusableBuild decides whether a GitSync's last build stands for a build
// of the same commit now: the spec that chose the path is the same.
func reusableBuild(last *builtRevision, generation int64, relPath string) bool {
	return last.generation == generation && last.path == cleanPath(relPath)
}

// put records the GitSync's build, replacing its last one, and drops the
// least recently used builds beyond the bound; a build larger than the
// bound alone is not kept.
func (b *builtRevisions) put(key types.NamespacedName, commit, relPath string, generation int64, objs []*unstructured.Unstructured) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.remove(key)
	if len(objs) > b.max {
		return
	}
	b.byKey[key] = b.order.PushFront(&retained{key: key, builtRevision: builtRevision{
		commit: commit, path: cleanPath(relPath), generation: generation, objs: objs,
	}})
	b.total += len(objs)
	for b.total > b.max {
		b.remove(b.order.Back().Value.(*retained).key)
	}
}

// forget drops the GitSync's build.
func (b *builtRevisions) forget(key types.NamespacedName) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.remove(key)
}

func (b *builtRevisions) remove(key types.NamespacedName) {
	if e, ok := b.byKey[key]; ok {
		b.total -= len(e.Value.(*retained).objs)
		b.order.Remove(e)
		delete(b.byKey, key)
	}
}

// cleanPath is spec.path as render.BuildPath reads it.
func cleanPath(relPath string) string {
	return path.Clean("/" + relPath)
}
