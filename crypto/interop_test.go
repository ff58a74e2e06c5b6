package crypto

import (
	"os"
	"strings"
	"testing"
)

// TestInteropVectors opens the fixed sealed values in testdata/interop.txt,
// which docs/format.md offers to other implementations.
func TestInteropVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/interop.txt")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]*Identity{}
	for _, id := range vectorIdentities() {
		ids[string(id.Kind())] = id
	}
	n := 0
	for record := range strings.SplitSeq(string(raw), "\n\n") {
		fields := map[string]string{}
		for line := range strings.SplitSeq(strings.TrimSpace(record), "\n") {
			if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "#") {
				fields[k] = v
			}
		}
		if fields["sealed"] == "" {
			continue
		}
		want := Binding{Scope: Scope(fields["scope"]), Namespace: fields["namespace"], Name: fields["name"], Key: fields["key"]}
		claim := Binding{Namespace: "prod", Name: "db", Key: "password"}
		got, err := Open(fields["sealed"], claim, ids[fields["identity-vector"]])
		if err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
		if string(got.Value) != fields["value"] || got.Binding != want {
			t.Errorf("record %d: got %q %+v", n, got.Value, got.Binding)
		}
		n++
	}
	if n != 6 {
		t.Errorf("read %d records, want 6", n)
	}
}
