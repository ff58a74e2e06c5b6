package cli

import (
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
		format format
		in     string
		want   string
	}{
		{"plain YAML values are spliced, comments and order kept", formatYAML,
			"# top comment\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: prod}\nspec:\n  encryptedData:\n    b: " + oldB + "  # keep me\n    a: " + oldA + "\n",
			"# top comment\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: prod}\nspec:\n  encryptedData:\n    b: " + oldB + "  # keep me\n    a: " + newA + "\n    c: " + newC + "\n"},
		{"a new item goes in key order when the items are sorted", formatYAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n    encryptedData:\n        a: " + oldA + "\n        d: " + oldB + "\n    template: {type: Opaque}\n",
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n    encryptedData:\n        a: " + newA + "\n        c: " + newC + "\n        d: " + oldB + "\n    template: {type: Opaque}\n"},
		{"quoted YAML values keep their quotes", formatYAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: \"" + oldA + "\"\n    b: '" + oldB + "'",
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: \"" + newA + "\"\n    b: '" + oldB + "'\n    c: " + newC + "\n"},
		{"only the named document of a multi-document file changes", formatYAML,
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + oldA + "\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec:\n  encryptedData:\n    a: " + newA + "\n    c: " + newC + "\n"},
		{"a flow-style mapping is re-encoded: values kept, quoting may change", formatYAML,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec: {encryptedData: {a: " + oldA + ", b: " + oldB + "}}\n",
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db}\nspec: {encryptedData: {a: '" + newA + "', b: '" + oldB + "', c: '" + newC + "'}}\n"},
		{"indented JSON keeps its layout", formatJSON,
			"{\n  \"apiVersion\": \"gitseal.dev/v1alpha1\",\n  \"kind\": \"SealedSecret\",\n  \"metadata\": {\"name\": \"db\"},\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"" + oldA + "\",\n      \"b\": \"" + oldB + "\"\n    }\n  }\n}\n",
			"{\n  \"apiVersion\": \"gitseal.dev/v1alpha1\",\n  \"kind\": \"SealedSecret\",\n  \"metadata\": {\"name\": \"db\"},\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"" + newA + "\",\n      \"b\": \"" + oldB + "\",\n      \"c\": \"" + newC + "\"\n    }\n  }\n}\n"},
		{"single-line JSON stays on one line", formatJSON,
			`{"apiVersion":"gitseal.dev/v1alpha1","kind":"SealedSecret","metadata":{"name":"db"},"spec":{"encryptedData":{"b":"` + oldB + `","d":"` + oldA + `"}}}`,
			`{"apiVersion":"gitseal.dev/v1alpha1","kind":"SealedSecret","metadata":{"name":"db"},"spec":{"encryptedData":{"b":"` + oldB + `","c":"` + newC + `", "d":"` + oldA + `"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sf, err := parseSealedFile("f", []byte(tt.in), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			docs := sf.sealedSecrets()
			if len(docs) != 1 {
				t.Fatalf("found %d SealedSecrets, want 1", len(docs))
			}
			changes := map[int]map[string]gitsealv1alpha1.SealedValue{}
			for i, ss := range docs {
				items := map[string]gitsealv1alpha1.SealedValue{"c": newC}
				if _, ok := ss.Spec.EncryptedData["a"]; ok && !strings.Contains(tt.name, "single-line") {
					items["a"] = newA
				}
				changes[i] = items
			}
			got, err := sf.edit(changes)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("edited file:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
