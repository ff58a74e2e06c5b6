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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestFieldsTaken checks the decision the drift watch makes on every
// change to an applied object (issue #12), with managed fields as the API
// server writes them for a ConfigMap that gitseal applied.
func TestFieldsTaken(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	entry := func(manager string, op metav1.ManagedFieldsOperationType, at metav1.Time, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{
			Manager: manager, Operation: op, APIVersion: "v1", Time: &at,
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields),
		}
	}
	const (
		applied   = `{"f:data":{"f:value":{},"f:other":{}},"f:metadata":{"f:labels":{"f:gitseal.dev/gitsync-name":{},"f:gitseal.dev/gitsync-namespace":{}}}}`
		noValue   = `{"f:data":{"f:other":{}},"f:metadata":{"f:labels":{"f:gitseal.dev/gitsync-name":{},"f:gitseal.dev/gitsync-namespace":{}}}}`
		noLabel   = `{"f:data":{"f:value":{},"f:other":{}},"f:metadata":{"f:labels":{"f:gitseal.dev/gitsync-namespace":{}}}}`
		newField  = `{"f:data":{"f:value":{},"f:other":{},"f:more":{}},"f:metadata":{"f:labels":{"f:gitseal.dev/gitsync-name":{},"f:gitseal.dev/gitsync-namespace":{}}}}`
		editValue = `{"f:data":{"f:value":{}}}`
		addNote   = `{"f:metadata":{"f:annotations":{".":{},"f:note":{}}}}`
	)
	gitseal := entry("gitseal", metav1.ManagedFieldsOperationApply, t0, applied)
	tests := []struct {
		name          string
		before, after []metav1.ManagedFieldsEntry
		want          bool
	}{
		{
			name:   "a value changed by kubectl edit is taken",
			before: []metav1.ManagedFieldsEntry{gitseal},
			after: []metav1.ManagedFieldsEntry{
				entry("gitseal", metav1.ManagedFieldsOperationApply, t0, noValue),
				entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, t1, editValue),
			},
			want: true,
		},
		{
			name:   "a value taken by another manager's forced apply is taken",
			before: []metav1.ManagedFieldsEntry{gitseal},
			after: []metav1.ManagedFieldsEntry{
				entry("gitseal", metav1.ManagedFieldsOperationApply, t0, noValue),
				entry("someone", metav1.ManagedFieldsOperationApply, t1, editValue),
			},
			want: true,
		},
		{
			name:   "a label removed by hand is taken",
			before: []metav1.ManagedFieldsEntry{gitseal},
			after: []metav1.ManagedFieldsEntry{
				entry("gitseal", metav1.ManagedFieldsOperationApply, t0, noLabel),
				entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, t1, `{}`),
			},
			want: true,
		},
		{
			name:   "an object replaced by another manager has every field taken",
			before: []metav1.ManagedFieldsEntry{gitseal},
			after:  []metav1.ManagedFieldsEntry{entry("kubectl-replace", metav1.ManagedFieldsOperationUpdate, t1, applied)},
			want:   true,
		},
		{
			name:   "an annotation another manager added is not drift",
			before: []metav1.ManagedFieldsEntry{gitseal},
			after:  []metav1.ManagedFieldsEntry{gitseal, entry("kubectl-annotate", metav1.ManagedFieldsOperationUpdate, t1, addNote)},
			want:   false,
		},
		{
			name:   "a value another manager set to what gitseal applied is shared, not taken",
			before: []metav1.ManagedFieldsEntry{gitseal},
			after:  []metav1.ManagedFieldsEntry{gitseal, entry("someone", metav1.ManagedFieldsOperationApply, t1, editValue)},
			want:   false,
		},
		{
			name:   "gitseal's own apply that drops a field is not drift",
			before: []metav1.ManagedFieldsEntry{gitseal},
			after:  []metav1.ManagedFieldsEntry{entry("gitseal", metav1.ManagedFieldsOperationApply, t1, noValue)},
			want:   false,
		},
		{
			name:   "gitseal's own apply that adds a field is not drift",
			before: []metav1.ManagedFieldsEntry{gitseal},
			after:  []metav1.ManagedFieldsEntry{entry("gitseal", metav1.ManagedFieldsOperationApply, t1, newField)},
			want:   false,
		},
		{
			name:   "an object gitseal never applied is not drift",
			before: []metav1.ManagedFieldsEntry{entry("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate, t0, applied)},
			after:  []metav1.ManagedFieldsEntry{entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, t1, applied)},
			want:   false,
		},
		{
			name:   "gitseal's update entry of a subresource is not its apply",
			before: []metav1.ManagedFieldsEntry{{Manager: "gitseal", Operation: metav1.ManagedFieldsOperationApply, Subresource: "status", Time: &t0, FieldsV1: metav1.NewFieldsV1(applied)}},
			after:  nil,
			want:   false,
		},
		{
			name:   "unreadable fields count as taken",
			before: []metav1.ManagedFieldsEntry{gitseal},
			after:  []metav1.ManagedFieldsEntry{entry("gitseal", metav1.ManagedFieldsOperationApply, t0, `{"f:data":`)},
			want:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FieldsTaken(tt.before, tt.after, "gitseal"); got != tt.want {
				t.Errorf("FieldsTaken = %v, want %v", got, tt.want)
			}
		})
	}
}
