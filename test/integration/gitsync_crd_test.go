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

package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

func TestGitSyncCRDValidation(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	ns := newNamespace(ctx, t)

	valid := func() gitsealv1alpha1.GitSyncSpec {
		return gitsealv1alpha1.GitSyncSpec{
			URL:      "https://git.example.com/platform/env.git",
			Interval: metav1.Duration{Duration: 5 * time.Minute},
			Path:     "clusters/prod",
		}
	}
	with := func(f func(*gitsealv1alpha1.GitSyncSpec)) gitsealv1alpha1.GitSyncSpec {
		s := valid()
		f(&s)
		return s
	}
	tests := []struct {
		name string
		spec gitsealv1alpha1.GitSyncSpec
		msg  string // empty: accepted
	}{
		{"an https URL is accepted", valid(), ""},
		{"an ssh URL with a commit is accepted", with(func(s *gitsealv1alpha1.GitSyncSpec) {
			s.URL = "ssh://git@git.example.com:2222/platform/env.git"
			s.Ref = &gitsealv1alpha1.GitRef{Commit: strings.Repeat("ab", 20)}
		}), ""},
		{"an scp-like URL with a branch is accepted", with(func(s *gitsealv1alpha1.GitSyncSpec) {
			s.URL = "git@github.com:platform/env.git"
			s.Ref = &gitsealv1alpha1.GitRef{Branch: "release/1.2"}
		}), ""},
		// The API server's own error repeats the refused URL to whoever
		// sent it; what matters is that it is never stored.
		{"a password in the URL is refused", with(func(s *gitsealv1alpha1.GitSyncSpec) {
			s.URL = "https://bot:canary-token-5d1f@git.example.com/env.git" // gitseal:allow a canary the CRD must refuse
		}), "must not hold a password"},
		{"plain http is refused", with(func(s *gitsealv1alpha1.GitSyncSpec) { s.URL = "http://git.example.com/env.git" }), "should match"},
		{"file URLs are refused", with(func(s *gitsealv1alpha1.GitSyncSpec) { s.URL = "file:///etc" }), "should match"},
		{"an option-like URL is refused", with(func(s *gitsealv1alpha1.GitSyncSpec) { s.URL = "--upload-pack=touch /tmp/x" }), "should match"},
		{"two refs are refused", with(func(s *gitsealv1alpha1.GitSyncSpec) {
			s.Ref = &gitsealv1alpha1.GitRef{Branch: "main", Tag: "v1"}
		}), "at most one of branch, tag, commit and semver"},
		{"a semver range is accepted", with(func(s *gitsealv1alpha1.GitSyncSpec) {
			s.Ref = &gitsealv1alpha1.GitRef{SemVer: ">=1.0.0 <2.0.0"}
		}), ""},
		{"a semver range with a tag is refused", with(func(s *gitsealv1alpha1.GitSyncSpec) {
			s.Ref = &gitsealv1alpha1.GitRef{SemVer: "^1", Tag: "v1.0.0"}
		}), "at most one of branch, tag, commit and semver"},
		{"a short commit is refused", with(func(s *gitsealv1alpha1.GitSyncSpec) {
			s.Ref = &gitsealv1alpha1.GitRef{Commit: "abc123"}
		}), "should match"},
		{"a branch that looks like an option is refused", with(func(s *gitsealv1alpha1.GitSyncSpec) {
			s.Ref = &gitsealv1alpha1.GitRef{Branch: "--force"}
		}), "should match"},
		{"a path escaping the repository is refused", with(func(s *gitsealv1alpha1.GitSyncSpec) { s.Path = "apps/../../etc" }), "must not contain '..'"},
		{"an absolute path is refused", with(func(s *gitsealv1alpha1.GitSyncSpec) { s.Path = "/etc" }), "relative"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("sync-%d", i)}, Spec: tt.spec}
			err := env.Client.Create(ctx, gs)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if gs.Spec.Prune == nil || !*gs.Spec.Prune {
					t.Error("prune does not default to true")
				}
				if gs.Spec.CorrectDrift == nil || !*gs.Spec.CorrectDrift {
					t.Error("correctDrift does not default to true")
				}
				return
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want an Invalid error mentioning %q", err, tt.msg)
			}
		})
	}
}
