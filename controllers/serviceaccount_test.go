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

package controllers

import (
	"testing"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

func TestServiceAccount(t *testing.T) {
	tests := []struct {
		name            string
		named, fallback string
		want            string
	}{
		{"a named account is used", "deployer", "", "deployer"},
		{"a named account wins over the default", "deployer", "gitsync", "deployer"},
		{"without a named account the default is used", "", "gitsync", "gitsync"},
		{"with neither there is no account, never the controller's own", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := &gitsealv1alpha1.GitSync{Spec: gitsealv1alpha1.GitSyncSpec{ServiceAccountName: tt.named}}
			if got := serviceAccount(gs, tt.fallback); got != tt.want {
				t.Errorf("serviceAccount = %q, want %q", got, tt.want)
			}
		})
	}
}
