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
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestBaselineAllowsByFingerprintNotLine(t *testing.T) {
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: " + canary + "\n"
	b := NewBaseline()
	p := New(Options{Baseline: b})
	for _, f := range p.CheckFile("s.yaml", []byte(secret)).Findings {
		if !b.Add(f) {
			t.Fatal("Add refused a finding of this baseline's policy")
		}
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), canary) {
		t.Fatalf("the baseline holds the value:\n%s", buf.String())
	}
	read, err := ReadBaseline(&buf)
	if err != nil {
		t.Fatal(err)
	}
	p = New(Options{Baseline: read})
	cases := []struct {
		name    string
		file    string
		in      string
		allowed bool
	}{
		{"the same finding is allowed", "s.yaml", secret, true},
		{"the finding on another line is allowed", "s.yaml", "# moved\n\n" + secret, true},
		{"another value is not allowed", "s.yaml", strings.Replace(secret, canary, canary+"x", 1), false},
		{"the same value in another file is not allowed", "t.yaml", secret, false},
		{"the same value under another key is not allowed", "s.yaml", strings.Replace(secret, "password:", "token:", 1), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := p.CheckFile(tc.file, []byte(tc.in)).Findings
			if len(fs) != 1 {
				t.Fatalf("%d findings, want 1", len(fs))
			}
			if got := fs[0].Allowed != nil && fs[0].Allowed.By == AllowedByBaseline; got != tc.allowed {
				t.Errorf("allowed by baseline = %v, want %v", got, tc.allowed)
			}
		})
	}
}

func TestBaselineFingerprintsAreKeyed(t *testing.T) {
	doc := []byte("kind: Secret\nstringData: {p: " + canary + "}\n")
	a := New(Options{Baseline: NewBaseline()}).CheckFile("s.yaml", doc).Findings[0]
	b := New(Options{Baseline: NewBaseline()}).CheckFile("s.yaml", doc).Findings[0]
	if a.Fingerprint() == "" || a.Fingerprint() == b.Fingerprint() {
		t.Errorf("fingerprints under two keys: %q and %q; want different, non-empty", a.Fingerprint(), b.Fingerprint())
	}
	if New(Options{}).CheckFile("s.yaml", doc).Findings[0].Fingerprint() != "" {
		t.Error("a finding has a fingerprint without a baseline")
	}
}

func TestReadBaselineRefusesBadFiles(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":          "{",
		"unknown version":   `{"version": 2, "key": "` + strings.Repeat("A", 44) + `"}`,
		"short key":         `{"version": 1, "key": "AAAA"}`,
		"key is not base64": `{"version": 1, "key": "` + strings.Repeat("*", 44) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadBaseline(strings.NewReader(in)); !errors.Is(err, ErrBadBaseline) {
				t.Errorf("ReadBaseline = %v, want ErrBadBaseline", err)
			}
		})
	}
}
