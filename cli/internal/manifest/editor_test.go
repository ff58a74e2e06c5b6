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
	"testing"
)

// TestManifestFileReplaceKeepsEveryOtherDocument: seal -w and migrate -w
// replace the documents they convert and keep every other byte, the
// comments that open a replaced document included.
func TestManifestFileReplaceKeepsEveryOtherDocument(t *testing.T) {
	const sealed = "kind: SealedSecret\n"
	tests := []struct {
		name    string
		format  Format
		in      string
		replace map[int][]string
		drop    bool
		want    string
	}{
		{"a document between others is replaced, its opening comments kept", YAML,
			"kind: A # a\n---\n# about b\n\nkind: B\n--- # c\nkind: C\n",
			map[int][]string{1: {sealed}}, false,
			"kind: A # a\n---\n# about b\n\n" + sealed + "--- # c\nkind: C\n"},
		{"a document replaced with the comments that open it (seal: they may be about its values)", YAML,
			"kind: A\n---\n# the password is hunter2\nkind: Secret\n",
			map[int][]string{1: {sealed}}, true,
			"kind: A\n---\n" + sealed},
		{"empty and comment-only documents do not count", YAML,
			"---\n# nothing here\n---\nkind: A\n---\n---\nkind: B\n",
			map[int][]string{1: {sealed}}, false,
			"---\n# nothing here\n---\nkind: A\n---\n---\n" + sealed},
		{"a List is replaced by as many documents", YAML,
			"kind: List\nitems: []\n---\nkind: B\n",
			map[int][]string{0: {sealed, sealed}}, false,
			sealed + "---\n" + sealed + "---\nkind: B\n"},
		{"a last document without a newline gets one", YAML,
			"kind: A\n---\nkind: B",
			map[int][]string{1: {sealed}}, false,
			"kind: A\n---\n" + sealed},
		{"a JSON value is replaced, the space between values kept", JSON,
			"{\"kind\": \"A\"}\n\n  {\"kind\": \"B\"}\n",
			map[int][]string{0: {"{\n  \"kind\": \"SealedSecret\"\n}\n"}}, false,
			"{\n  \"kind\": \"SealedSecret\"\n}\n\n  {\"kind\": \"B\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mf, err := split("f", []byte(tt.in), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			in := &Input{Name: "f", Data: []byte(tt.in), Format: tt.format}
			ms, err := in.Objects()
			if err != nil {
				t.Fatal(err)
			}
			if n := ms[len(ms)-1].Doc + 1; n != len(mf.docs) {
				t.Fatalf("manifests counts %d documents, the editor %d", n, len(mf.docs))
			}
			changes := map[int]Change{}
			for i, docs := range tt.replace {
				c := Change{DropComments: tt.drop}
				for _, d := range docs {
					c.Replace = append(c.Replace, []byte(d))
				}
				changes[i] = c
			}
			got, err := mf.Edit(changes)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("edited file:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}
