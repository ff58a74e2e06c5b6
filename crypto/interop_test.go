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
