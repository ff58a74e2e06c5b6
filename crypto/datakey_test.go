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
	"encoding/hex"
	"testing"
)

// TestFormat2EncodingsAreTheDocumentedOnes pins the byte strings that
// docs/format.md spells out for format 2.
func TestFormat2EncodingsAreTheDocumentedOnes(t *testing.T) {
	strict := Binding{Scope: Strict, Namespace: "prod", Name: "db"}
	tests := []struct {
		name string
		got  []byte
		doc  string
	}{
		{"binding, strict", appendBinding(nil, strict), "01" + "04" + "70726f64" + "02" + "6462"},
		{"binding, namespace", appendBinding(nil, Binding{Scope: Namespace, Namespace: "prod"}), "02" + "04" + "70726f64"},
		{"binding, cluster", appendBinding(nil, Binding{Scope: Cluster}), "03"},
		{"value key info", valueKeyInfo(strict, "password"),
			"6769747365616c2e6465762f322076616c7565" + "01" + "04" + "70726f64" + "02" + "6462" + "08" + "70617373776f7264"},
	}
	for _, tt := range tests {
		if hex.EncodeToString(tt.got) != tt.doc {
			t.Errorf("%s: docs/format.md is stale: %x", tt.name, tt.got)
		}
	}
	if len(macInfo) != 22 || macInfo != "gitseal.dev/2 data key" || valueInfo != "gitseal.dev/2 value" {
		t.Error("HKDF labels differ from docs/format.md")
	}
}
