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

package gitsource

import "testing"

func TestSafeName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"plain name is safe", "deployment.yaml", true},
		{"dot file is safe", ".gitignore", true},
		{"empty name is unsafe", "", false},
		{"dot is unsafe", ".", false},
		{"dot dot is unsafe", "..", false},
		{"slash is unsafe", "a/b", false},
		{"NUL is unsafe", "a\x00b", false},
		{".git is unsafe", ".git", false},
		{".GIT is unsafe", ".GIT", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safeName(tt.in); got != tt.want {
				t.Errorf("safeName(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestLinkStaysInside(t *testing.T) {
	tests := []struct {
		name, link, target string
		want               bool
	}{
		{"sibling stays inside", "a/l", "b", true},
		{"parent's sibling stays inside", "a/l", "../b", true},
		{"root itself stays inside", "a/l", "..", true},
		{"above the root leaves", "a/l", "../../b", false},
		{"climbing above the root and back in is refused", "a/l", "../../checkout/x", false},
		{"dots that stay inside are fine", "a/l", "../x/../y", true},
		{"absolute target leaves", "l", "/etc/passwd", false},
		{"empty target is refused", "l", "", false},
		{"NUL in target is refused", "l", "a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := linkStaysInside(tt.link, tt.target); got != tt.want {
				t.Errorf("linkStaysInside(%q, %q) = %v, want %v", tt.link, tt.target, got, tt.want)
			}
		})
	}
}
