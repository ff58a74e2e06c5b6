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
