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

package cli

import (
	"strings"
	"testing"
)

// TestCheckFormat: -o never names a file (issue 11, item 1).
func TestCheckFormat(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		wantErr bool
	}{
		{"a known format is accepted", "json", false},
		{"a file name is refused", "db.secret.yaml", true},
		{"a bare word that is no format is refused", "yml", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkFormat(tt.value, "yaml", "json")
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkFormat(%q) = %v", tt.value, err)
			}
			if err != nil && !strings.Contains(err.Error(), "--output-file") {
				t.Errorf("the error does not name --output-file: %v", err)
			}
		})
	}
}

func TestFormatFlag(t *testing.T) {
	tests := []struct {
		name, output, alias, want string
		wantErr                   bool
	}{
		{"neither gives the default", "", "", "yaml", false},
		{"--output alone wins", "json", "", "json", false},
		{"--format alone is the same", "", "json", "json", false},
		{"both agreeing is fine", "json", "json", "json", false},
		{"both disagreeing is an error", "yaml", "json", "", true},
		{"an unknown alias value is an error", "", "out.yaml", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := formatFlag(tt.output, tt.alias, "yaml", "yaml", "json")
			if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
				t.Fatalf("formatFlag(%q, %q) = %q, %v", tt.output, tt.alias, got, err)
			}
		})
	}
}
