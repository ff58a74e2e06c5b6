package render

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteKustomizationBuildsADirectoryOfPlainManifests(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  a: b\n"
	}
	write("apps/one.yaml", cm("one"))
	write("apps/nested/two.yml", cm("two"))
	write("apps/three.json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"three"}}`)
	write("apps/base/kustomization.yaml", "resources: [four.yaml]\nnamePrefix: k-\n")
	write("apps/base/four.yaml", cm("four"))
	write("apps/values.yaml", "replicas: 3\n")              // not a manifest
	write("apps/.github/workflow.yaml", cm("hidden"))       // hidden
	write("apps/README.md", "apiVersion and kind in prose") // not a manifest extension
	if err := os.Symlink(filepath.Join(root, "apps/one.yaml"), filepath.Join(root, "apps/link.yaml")); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(root, "apps")
	if err := WriteKustomization(dir); err != nil {
		t.Fatal(err)
	}
	res, err := Build(t.Context(), root, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range res.Unstructured() {
		names = append(names, u.GetName())
	}
	slices.Sort(names)
	if want := []string{"k-four", "one", "three", "two"}; !slices.Equal(names, want) {
		t.Errorf("built %v, want %v", names, want)
	}
}

func TestWriteKustomizationKeepsAnExistingOne(t *testing.T) {
	dir := t.TempDir()
	const own = "resources: []\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yml"), []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteKustomization(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); !os.IsNotExist(err) {
		t.Error("wrote a second kustomization next to the repository's own")
	}
}
