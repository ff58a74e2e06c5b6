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

package manifest

import (
	"maps"
	"slices"
	"strings"
	"testing"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// Sealed values only need to look like one for editing; nothing opens them.
const (
	oldA = "gs1:0123456789abcdef:QUFB"
	oldB = "gs1:0123456789abcdef:QkJC"
	newA = "gs1:fedcba9876543210:TkVXQQ=="
	newC = "gs1:fedcba9876543210:TkVXQw=="
)

func TestSealedFileEditKeepsEveryOtherByte(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		in     string
		want   string
	}{
		{"plain YAML values are spliced, comments and order kept", YAML,
			"# top comment\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: prod}\nspec:\n  encryptedData:\n    b: " + oldB + "  # keep me\n    a: " + oldA + "\n",
			"# top comment\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: prod}\nspec:\n  encryptedData:\n    b: " + oldB + "  # keep me\n    a: " + newA + "\n    c: " + newC + "\n"},
		{"a new item goes in key order when the items are sorted", YAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n    encryptedData:\n        a: " + oldA + "\n        d: " + oldB + "\n    template: {type: Opaque}\n",
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n    encryptedData:\n        a: " + newA + "\n        c: " + newC + "\n        d: " + oldB + "\n    template: {type: Opaque}\n"},
		{"quoted YAML values keep their quotes", YAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: \"" + oldA + "\"\n    b: '" + oldB + "'",
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: \"" + newA + "\"\n    b: '" + oldB + "'\n    c: " + newC + "\n"},
		{"only the named document of a multi-document file changes", YAML,
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + oldA + "\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + newA + "\n    c: " + newC + "\n"},
		{"a flow-style mapping is re-encoded: values kept, quoting may change", YAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec: {encryptedData: {a: " + oldA + ", b: " + oldB + "}}\n",
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec: {encryptedData: {a: '" + newA + "', b: '" + oldB + "', c: '" + newC + "'}}\n"},
		{"indented JSON keeps its layout", JSON,
			"{\n  \"apiVersion\": \"gitseal.dev/v1alpha1\",\n  \"kind\": \"SealedSecret\",\n  \"metadata\": {\"name\": \"db\"},\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"" + oldA + "\",\n      \"b\": \"" + oldB + "\"\n    }\n  }\n}\n",
			"{\n  \"apiVersion\": \"gitseal.dev/v1alpha1\",\n  \"kind\": \"SealedSecret\",\n  \"metadata\": {\"name\": \"db\"},\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"" + newA + "\",\n      \"b\": \"" + oldB + "\",\n      \"c\": \"" + newC + "\"\n    }\n  }\n}\n"},
		{"single-line JSON stays on one line", JSON,
			`{"apiVersion":"gitseal.dev/v1alpha1","kind":"SealedSecret","metadata":{"name":"db"},"spec":{"encryptedData":{"b":"` + oldB + `","d":"` + oldA + `"}}}`,
			`{"apiVersion":"gitseal.dev/v1alpha1","kind":"SealedSecret","metadata":{"name":"db"},"spec":{"encryptedData":{"b":"` + oldB + `","c":"` + newC + `", "d":"` + oldA + `"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sf, err := ParseSealed("f", []byte(tt.in), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			docs := sf.SealedSecrets()
			if len(docs) != 1 {
				t.Fatalf("found %d SealedSecrets, want 1", len(docs))
			}
			changes := map[int]Change{}
			for i, ss := range docs {
				items := map[string]gitsealv1alpha1.SealedValue{"c": newC}
				if _, ok := ss.Spec.EncryptedData["a"]; ok && !strings.Contains(tt.name, "single-line") {
					items["a"] = newA
				}
				changes[i] = Change{Items: items}
			}
			got, err := sf.Edit(changes)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("edited file:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// Data keys only need to look like ones for editing.
const (
	dk0    = "gs2k:0123456789abcdef:REswREsw"
	dk1    = "gs2k:0123456789abcdef:REsxREsx"
	newDK0 = "gs2k:fedcba9876543210:TkVXMA=="
	newDK1 = "gs2k:fedcba9876543210:TkVXMQ=="
	v2a    = "gs2:QUFB"
	v2b    = "gs2:1:QkJC"
)

// TestSealedFileEditReplacesDataKeysLineByLine: re-sealing changes
// spec.dataKeys and nothing else, one line per data key, so a key
// rotation's Git diff is one small hunk per object (issue 13); a format-1
// file gets the field after encryptedData.
func TestSealedFileEditReplacesDataKeysLineByLine(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		in     string
		change Change
		want   string
	}{
		{"YAML data keys are replaced in place", YAML,
			"# c\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + v2a + "\n    b: " + v2b + "\n  dataKeys:\n    - " + dk0 + "\n    - " + dk1 + "\n  template: {type: Opaque} # t\n",
			Change{DataKeys: []string{newDK0, newDK1}, SetDataKeys: true},
			"# c\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + v2a + "\n    b: " + v2b + "\n  dataKeys:\n    - " + newDK0 + "\n    - " + newDK1 + "\n  template: {type: Opaque} # t\n"},
		{"YAML data keys may grow, in the sequence's own indentation", YAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  dataKeys:\n  - " + dk0 + "\n  encryptedData:\n    a: " + v2a + "\n",
			Change{Items: map[string]gitsealv1alpha1.SealedValue{"b": v2b}, DataKeys: []string{dk0, newDK1}, SetDataKeys: true},
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  dataKeys:\n  - " + dk0 + "\n  - " + newDK1 + "\n  encryptedData:\n    a: " + v2a + "\n    b: " + v2b + "\n"},
		{"a format-1 YAML file gets data keys after encryptedData", YAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + oldA + "\n  template: {type: Opaque}\n",
			Change{Items: map[string]gitsealv1alpha1.SealedValue{"a": v2a}, DataKeys: []string{newDK0}, SetDataKeys: true},
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + v2a + "\n  dataKeys:\n    - " + newDK0 + "\n  template: {type: Opaque}\n"},
		{"a format-1 YAML file without a final newline gets one before the data keys", YAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + oldA,
			Change{Items: map[string]gitsealv1alpha1.SealedValue{"a": v2a, "b": v2b}, DataKeys: []string{newDK0, newDK1}, SetDataKeys: true},
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + v2a + "\n    b: " + v2b + "\n  dataKeys:\n    - " + newDK0 + "\n    - " + newDK1 + "\n"},
		{"flow-style YAML data keys are re-encoded", YAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + v2a + "\n  dataKeys: [" + dk0 + "]\n",
			Change{DataKeys: []string{newDK0}, SetDataKeys: true},
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + v2a + "\n  dataKeys: ['" + newDK0 + "']\n"},
		{"indented JSON data keys are replaced one a line", JSON,
			"{\n  \"kind\": \"SealedSecret\",\n  \"apiVersion\": \"gitseal.dev/v1alpha1\",\n  \"metadata\": {\"name\": \"db\"},\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"" + v2a + "\"\n    },\n    \"dataKeys\": [\n      \"" + dk0 + "\"\n    ]\n  }\n}\n",
			Change{DataKeys: []string{newDK0, newDK1}, SetDataKeys: true},
			"{\n  \"kind\": \"SealedSecret\",\n  \"apiVersion\": \"gitseal.dev/v1alpha1\",\n  \"metadata\": {\"name\": \"db\"},\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"" + v2a + "\"\n    },\n    \"dataKeys\": [\n      \"" + newDK0 + "\",\n      \"" + newDK1 + "\"\n    ]\n  }\n}\n"},
		{"a format-1 JSON file gets data keys after encryptedData", JSON,
			"{\n  \"kind\": \"SealedSecret\",\n  \"apiVersion\": \"gitseal.dev/v1alpha1\",\n  \"metadata\": {\"name\": \"db\"},\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"" + oldA + "\"\n    }\n  }\n}\n",
			Change{Items: map[string]gitsealv1alpha1.SealedValue{"a": v2a}, DataKeys: []string{newDK0}, SetDataKeys: true},
			"{\n  \"kind\": \"SealedSecret\",\n  \"apiVersion\": \"gitseal.dev/v1alpha1\",\n  \"metadata\": {\"name\": \"db\"},\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"" + v2a + "\"\n    },\n    \"dataKeys\": [\n      \"" + newDK0 + "\"\n    ]\n  }\n}\n"},
		{"single-line JSON gets data keys on the same line", JSON,
			`{"apiVersion":"gitseal.dev/v1alpha1","kind":"SealedSecret","metadata":{"name":"db"},"spec":{"encryptedData":{"a":"` + oldA + `"}}}`,
			Change{Items: map[string]gitsealv1alpha1.SealedValue{"a": v2a}, DataKeys: []string{newDK0}, SetDataKeys: true},
			`{"apiVersion":"gitseal.dev/v1alpha1","kind":"SealedSecret","metadata":{"name":"db"},"spec":{"encryptedData":{"a":"` + v2a + `"}, "dataKeys":["` + newDK0 + `"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sf, err := ParseSealed("f", []byte(tt.in), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if len(sf.SealedSecrets()) != 1 {
				t.Fatal("want one SealedSecret")
			}
			got, err := sf.Edit(map[int]Change{slices.Collect(maps.Keys(sf.SealedSecrets()))[0]: tt.change})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("edited file:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
