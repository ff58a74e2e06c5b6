package controllers

import (
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/gitseal/gitseal/internal/keys"
)

// SetupWithRing is Setup for the tests, which also read the key ring the
// reconcilers share.
func SetupWithRing(mgr manager.Manager, opts Options) (*keys.Ring, error) { return setup(mgr, opts) }
