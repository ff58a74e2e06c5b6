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

package policy

import (
	"slices"
	"testing"
	"time"
)

// FuzzCheckFile checks that any input is decided quickly, the same way
// twice, without a panic, and that findings come out sorted.
func FuzzCheckFile(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: v1\nkind: Secret\nstringData: {a: b}\n",
		"kind: Secret\ndata:\n  a: aGVsbG8=\n  a: aGVsbG8=\n",
		"{\"kind\":\"List\",\"items\":[{\"kind\":\"Secret\",\"data\":{\"a\":\"eA==\"}}]}",
		"a: &a [x,x]\nb: &b [*a,*a]\nkind: Secret\nstringData: {x: *b}\n",
		"kind: Secret\nstringData:\n  <<: {a: b}\n",
		"secretGenerator:\n- name: x\n  literals: [a=b]\n  files: [f]\n",
		"kind: Kustomization\npatches:\n- patch: |\n    kind: Secret\n    stringData: {a: b}\n",
		"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData: {a: gs1:0000000000000000:YQ==}\n",
		"kind: Secret\nmetadata:\n  name: {{ .Release.Name }}\nstringData:\n  a: b\n",
		"-----BEGIN " + "PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		"kind: Secret\n\"str\\x69ngData\": {a: b}\n",
		"[[[[[[[[[[",
		"\xff\xfek\x00",
	} {
		f.Add([]byte(seed))
	}
	p := New(Options{FileExists: func(string) bool { return true }})
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		a := p.CheckFile("kustomization.yaml", data)
		if d := time.Since(start); d > 10*time.Second { // a blow-up would take far longer; this is no performance goal
			t.Fatalf("took %v on %d bytes", d, len(data))
		}
		b := p.CheckFile("kustomization.yaml", data)
		if !slices.Equal(summarize(a.Findings), summarize(b.Findings)) {
			t.Fatalf("two runs disagree: %q and %q", summarize(a.Findings), summarize(b.Findings))
		}
		if !slices.IsSortedFunc(a.Findings, func(x, y Finding) int {
			if x.Line != y.Line {
				return x.Line - y.Line
			}
			return 0
		}) {
			t.Fatalf("findings are not sorted by line: %q", summarize(a.Findings))
		}
	})
}
