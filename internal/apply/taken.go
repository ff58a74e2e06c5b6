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

package apply

import (
	"bytes"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// FieldsTaken decides, from an object's managed fields before and after
// one write to it, whether that write took away a field that manager had
// set with server-side apply: a field of manager's Apply entry before is
// no longer in it after, because another manager now owns it (an update,
// or a forced apply, that changed its value) or because the write removed
// it. That is drift, and applying again undoes it.
//
// Fields that others add, or set to the value manager applied, take
// nothing; neither does a write by manager itself (its entry's time
// moved), which may drop fields a new revision no longer sets. An entry
// whose fields cannot be read counts as taken: applying again is harmless.
func FieldsTaken(before, after []metav1.ManagedFieldsEntry, manager string) bool {
	old := appliedEntry(before, manager)
	if old == nil {
		return false // nothing applied to take: a first apply, or not ours
	}
	cur := appliedEntry(after, manager)
	if cur == nil {
		return true // every field was taken
	}
	if cur.Time != nil && (old.Time == nil || !cur.Time.Equal(old.Time)) {
		return false // manager wrote it
	}
	if old.FieldsV1 == nil || cur.FieldsV1 == nil {
		return old.FieldsV1 != nil
	}
	if bytes.Equal(old.FieldsV1.GetRawBytes(), cur.FieldsV1.GetRawBytes()) {
		return false
	}
	var was, is fieldpath.Set
	if err := was.FromJSON(old.FieldsV1.GetRawReader()); err != nil {
		return true
	}
	if err := is.FromJSON(cur.FieldsV1.GetRawReader()); err != nil {
		return true
	}
	return !was.Difference(&is).Empty()
}

// appliedEntry returns manager's Apply entry for the object itself (not a
// subresource), or nil.
func appliedEntry(entries []metav1.ManagedFieldsEntry, manager string) *metav1.ManagedFieldsEntry {
	for i := range entries {
		e := &entries[i]
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			return e
		}
	}
	return nil
}
