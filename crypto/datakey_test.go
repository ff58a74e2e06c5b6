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
