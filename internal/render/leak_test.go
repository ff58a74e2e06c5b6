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

package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildErrorsNeverShowValuesOrTheCheckoutPath: a build error names
// the file and what is wrong, on both routes (a plain directory, and a
// kustomization), and never a value: not of data or stringData, and not
// of labels or annotations, which kustomize prints with a whole object
// (C5, "no secret value in an error"). Nor the checkout's path.
func TestBuildErrorsNeverShowValuesOrTheCheckoutPath(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"an object without a name",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  annotations: {k: \"ann]-canary'}\"}\n  labels: {l: lab-canary}\nstringData: {p: sd-canary}\ndata: {q: ZGF0YS1jYW5hcnk=}\n",
			"missing metadata.name"},
		{"an object without a kind, beside one with a kind",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata:\n  name: b\n  annotations: {k: ann-canary}\nstringData: {p: sd-canary}\n",
			"missing kind"},
		{"a duplicate key", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n  k: sd-canary\n  k: sd-canary2\n", "already defined"},
		{"bad YAML", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData: {p: sd-canary\n", "yaml"},
		{"a name that is a mapping", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {x: sd-canary}\n", ""},
		{"a List of strings", "apiVersion: v1\nkind: List\nitems: [sd-canary]\n", ""},
	}
	for _, tt := range tests {
		for _, kustomization := range []bool{false, true} {
			root := t.TempDir()
			dir := filepath.Join(root, "apps")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{"a.yaml": tt.doc}
			if kustomization {
				files["kustomization.yaml"] = "resources: [a.yaml]\n"
			}
			for name, text := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := BuildPath(t.Context(), root, "apps", Options{})
			switch {
			case !errors.Is(err, ErrBuildFailed):
				t.Errorf("%s (kustomization %v): %v, want ErrBuildFailed", tt.name, kustomization, err)
			case strings.Contains(err.Error(), "canary") || strings.Contains(err.Error(), root):
				t.Errorf("%s (kustomization %v) shows a value or the checkout's path: %v", tt.name, kustomization, err)
			case !strings.Contains(err.Error(), tt.want):
				t.Errorf("%s (kustomization %v): %v, want it to say %q", tt.name, kustomization, err, tt.want)
			}
		}
	}
}
