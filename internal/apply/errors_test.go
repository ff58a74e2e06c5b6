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
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

func TestTransient(t *testing.T) {
	gr := schema.GroupResource{Resource: "configmaps"}
	gv := schema.GroupVersion{Group: "example.com", Version: "v1"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"an internal error is transient", apierrors.NewInternalError(errors.New("etcd")), true},
		{"service unavailable is transient", apierrors.NewServiceUnavailable("down"), true},
		{"too many requests is transient", apierrors.NewTooManyRequests("slow down", 1), true},
		{"a timeout is transient", apierrors.NewTimeoutError("late", 1), true},
		{"a server timeout is transient", apierrors.NewServerTimeout(gr, "patch", 1), true},
		{"a conflict is transient", apierrors.NewConflict(gr, "a", errors.New("modified")), true},
		{"a cancelled context is transient", fmt.Errorf("patch: %w", context.Canceled), true},
		{"a network error is transient", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"discovery that failed is transient", &apiutil.ErrResourceDiscoveryFailed{gv: apierrors.NewServiceUnavailable("down")}, true},
		{"an object that does not fit the schema is refused", &apierrors.StatusError{ErrStatus: metav1.Status{
			Status: metav1.StatusFailure, Code: 500,
			Message: "failed to create typed patch object (app/w; example.com/v1, Kind=Widget): .spec.size: expected numeric (int or float), got string",
		}}, false},
		{"an invalid object is refused", apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "a", field.ErrorList{field.Required(field.NewPath("data"), "")}), false},
		{"a wrapped invalid object is refused", fmt.Errorf("apply: %w", apierrors.NewBadRequest("bad")), false},
		{"forbidden is refused", apierrors.NewForbidden(gr, "a", errors.New("rbac")), false},
		{"a missing namespace is refused", apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "app"), false},
		{"an unknown kind is refused", &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "example.com", Kind: "Widget"}}, false},
		{"an unknown group version is refused", &apiutil.ErrResourceDiscoveryFailed{gv: apierrors.NewNotFound(gr, "")}, false},
		{"nil is not transient", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Errorf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestCapMessage(t *testing.T) {
	if got := capMessage("short"); got != "short" {
		t.Errorf("short message changed to %q", got)
	}
	long := strings.Repeat("é", 400) // 2 bytes each: a cut can fall mid-rune
	got := capMessage(long)
	if len(got) > maxMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("capped message is %d bytes, ends %q", len(got), got[len(got)-5:])
	}
	if !utf8.ValidString(got) {
		t.Errorf("capped message is not valid UTF-8")
	}
}

func TestCappedErrorKeepsCause(t *testing.T) {
	cause := apierrors.NewInternalError(errors.New(strings.Repeat("x", 1000)))
	err := refusal("apply", cmA, cause)
	if !apierrors.IsInternalError(err) {
		t.Errorf("refusal lost the API status: %v", err)
	}
	if len(err.Error()) > 400 {
		t.Errorf("transient error message is %d bytes, want it capped", len(err.Error()))
	}
	var e *Error
	if errors.As(err, &e) {
		t.Errorf("a transient failure became an *Error")
	}
	if err := refusal("apply", cmA, apierrors.NewBadRequest("bad")); !errors.As(err, &e) || e.Objects[0].Ref != cmA {
		t.Errorf("a bad request is not an *Error for the object: %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	one := &Error{Objects: []ObjectError{{Ref: cmA, Message: "invalid"}}}
	if got, want := one.Error(), "1 object refused; app_a__ConfigMap: invalid"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var many Error
	for i := range 7 {
		many.Objects = append(many.Objects, ObjectError{Ref: ObjectRef{Kind: "ConfigMap", Name: fmt.Sprint(i)}, Message: "invalid"})
	}
	got := many.Error()
	if !strings.HasPrefix(got, "7 objects refused; ") || !strings.HasSuffix(got, "; and 2 more") || strings.Contains(got, "_5_") {
		t.Errorf("Error() = %q, want five objects listed and 2 more", got)
	}
}

func TestPrepare(t *testing.T) {
	const value = "s3cr3t-value"
	obj := func(apiVersion, kind, name string, extra map[string]any) *unstructured.Unstructured {
		m := map[string]any{"metadata": map[string]any{"namespace": "app", "name": name}}
		if apiVersion != "" {
			m["apiVersion"] = apiVersion
		}
		if kind != "" {
			m["kind"] = kind
		}
		for k, v := range extra {
			m[k] = v
		}
		return &unstructured.Unstructured{Object: m}
	}
	data := map[string]any{"stringData": map[string]any{"token": value}}
	tests := []struct {
		name    string
		objs    []*unstructured.Unstructured
		refused []string // one substring of each refusal, in order
	}{
		{"a well-formed set is accepted", []*unstructured.Unstructured{obj("v1", "Secret", "s", data), obj("v1", "ConfigMap", "a", nil)}, nil},
		{"an object without a name is refused by index", []*unstructured.Unstructured{obj("v1", "Secret", "", data)}, []string{"object 0: no metadata.name"}},
		{"an object without a kind is refused", []*unstructured.Unstructured{obj("v1", "ConfigMap", "a", nil), obj("v1", "", "b", data)}, []string{"object 1: no kind"}},
		{"an object without an apiVersion is refused", []*unstructured.Unstructured{obj("", "Secret", "s", data)}, []string{"object 0: no apiVersion"}},
		{"an invalid apiVersion is refused", []*unstructured.Unstructured{obj("a/b/c", "Secret", "s", data)}, []string{`invalid apiVersion "a/b/c"`}},
		{"a nil object is refused", []*unstructured.Unstructured{nil}, []string{"object 0 is nil"}},
		{"an object that cannot be JSON is refused without its content", []*unstructured.Unstructured{obj("v1", "ConfigMap", "a", map[string]any{"data": map[string]any{"x": math.NaN()}})}, []string{"object 0 cannot be encoded as JSON"}},
		{"the same object twice is refused", []*unstructured.Unstructured{obj("v1", "Secret", "s", data), obj("v1", "Secret", "s", data)}, []string{"more than once"}},
		{"the same object in two versions is refused", []*unstructured.Unstructured{obj("apps/v1", "Deployment", "web", nil), obj("apps/v1beta1", "Deployment", "web", nil)}, []string{"more than once"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := prepare(tt.objs, nil)
			if tt.refused == nil {
				if err != nil || len(items) != len(tt.objs) {
					t.Fatalf("prepare = %d items, %v; want all accepted", len(items), err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("prepare error = %v, want *Error", err)
			}
			if len(e.Objects) != len(tt.refused) {
				t.Fatalf("refused %d objects, want %d: %v", len(e.Objects), len(tt.refused), err)
			}
			for i, want := range tt.refused {
				if !strings.Contains(e.Objects[i].Message, want) {
					t.Errorf("refusal %d = %q, want it to contain %q", i, e.Objects[i].Message, want)
				}
			}
			if strings.Contains(err.Error(), value) {
				t.Errorf("error contains a field value: %v", err)
			}
		})
	}
}

func TestPrepareStampsCopies(t *testing.T) {
	in := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":   "a",
			"labels": map[string]any{"app": "web", "gitseal.dev/gitsync-name": "forged"},
		},
		// A YAML decoder yields int, which DeepCopy cannot copy.
		"data": map[string]any{"n": "1"}, "replicas": 3,
	}}
	items, err := prepare([]*unstructured.Unstructured{in}, map[string]string{"gitseal.dev/gitsync-name": "sync"})
	if err != nil {
		t.Fatal(err)
	}
	got := items[0].obj.DeepCopy().GetLabels()
	if got["app"] != "web" || got["gitseal.dev/gitsync-name"] != "sync" {
		t.Errorf("labels = %v, want the object's own plus the ownership label over the forged one", got)
	}
	if in.GetLabels()["gitseal.dev/gitsync-name"] != "forged" {
		t.Errorf("prepare changed its input")
	}
}
