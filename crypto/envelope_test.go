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
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// field builds one envelope field by hand, independently of appendField.
func field(tag byte, content string) string {
	n := len(content)
	return string([]byte{tag, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + content
}

var strictEnvelope = "\x01" + field(1, "strict") + field(2, "prod") + field(3, "db") + field(4, "password") + field(5, "hunter2")

func TestEnvelopeEncodingIsTheDocumentedOne(t *testing.T) {
	b := Binding{Scope: Strict, Namespace: "prod", Name: "db", Key: "password"}
	got := marshalEnvelope(b, []byte("hunter2"))
	if string(got) != strictEnvelope {
		t.Fatalf("got  %x\nwant %x", got, strictEnvelope)
	}
	// The hex in docs/format.md.
	const doc = "01010000000673747269637402000000047072" + "6f6403000000026462040000000870617373776f7264050000000768756e74657232"
	if hex.EncodeToString(got) != doc {
		t.Errorf("docs/format.md example is stale: %x", got)
	}
}

func TestParseEnvelopeIsStrict(t *testing.T) {
	cluster := func(fields ...string) string { return "\x01" + strings.Join(fields, "") }
	tests := []struct{ name, in, msg string }{
		{"empty input is an error", "", "empty"},
		{"unknown version is an error", "\x02" + strictEnvelope[1:], "version 2"},
		{"unknown field is an error", cluster(field(1, "cluster"), field(4, "k"), field(6, "x"), field(5, "v")), "unknown field 6"},
		{"field zero is an error", cluster(field(0, "x")), "unknown field 0"},
		{"duplicate field is an error", cluster(field(1, "cluster"), field(4, "k"), field(4, "k"), field(5, "v")), "duplicate key"},
		{"duplicate value is an error", cluster(field(1, "cluster"), field(4, "k"), field(5, "v"), field(5, "v")), "trailing"},
		{"fields out of order are an error", cluster(field(1, "strict"), field(3, "db"), field(2, "prod"), field(4, "k"), field(5, "v")), "out of order"},
		{"trailing bytes are an error", strictEnvelope + "\x00", "trailing"},
		{"truncated field header is an error", strictEnvelope[:3], "truncated"},
		{"length overrunning the input is an error", strictEnvelope[:len(strictEnvelope)-1], "overruns"},
		{"missing value is an error", cluster(field(1, "cluster"), field(4, "k")), "missing value"},
		{"missing scope is an error", cluster(field(4, "k"), field(5, "v")), "missing scope"},
		{"unknown scope is an error", cluster(field(1, "global"), field(4, "k"), field(5, "v")), "unknown scope"},
		{"empty optional field is an error", cluster(field(1, "cluster"), field(2, ""), field(4, "k"), field(5, "v")), "empty namespace"},
		{"cluster scope binding a namespace is an error", cluster(field(1, "cluster"), field(2, "prod"), field(4, "k"), field(5, "v")), "binds no namespace"},
		{"namespace scope binding a name is an error", cluster(field(1, "namespace"), field(2, "prod"), field(3, "db"), field(4, "k"), field(5, "v")), "binds no name"},
		{"strict scope without a name is an error", cluster(field(1, "strict"), field(2, "prod"), field(4, "k"), field(5, "v")), "name must be"},
		{"missing key is an error", cluster(field(1, "cluster"), field(5, "v")), "item key must be"},
		{"invalid namespace is an error", cluster(field(1, "namespace"), field(2, "Prod"), field(4, "k"), field(5, "v")), "DNS label"},
		{"invalid item key is an error", cluster(field(1, "cluster"), field(4, "a/b"), field(5, "v")), "item key"},
		{"huge length does not allocate", cluster(field(1, "cluster"), field(4, "k"), "\x05\xff\xff\xff\xff"), "overruns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseEnvelope([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want an error containing %q", err, tt.msg)
			}
		})
	}
}

func TestParseEnvelopeRoundTripsCanonically(t *testing.T) {
	for _, b := range []Binding{
		{Scope: Strict, Namespace: "prod", Name: "db.primary", Key: "tls.crt"},
		{Scope: Namespace, Namespace: "kube-system", Key: "TOKEN_1"},
		{Scope: Cluster, Key: "k"},
	} {
		for _, v := range [][]byte{nil, []byte("v"), bytes.Repeat([]byte{0}, 1000)} {
			enc := marshalEnvelope(b, v)
			got, value, err := parseEnvelope(enc)
			if err != nil || got != b || !bytes.Equal(value, v) {
				t.Fatalf("%+v: got %+v %q %v", b, got, value, err)
			}
		}
	}
}
