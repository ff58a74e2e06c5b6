//go:build !gitseal_kustomize

package render

import (
	"context"
	"fmt"
)

// build is the stand-in for binaries built without the gitseal_kustomize
// tag: the sandbox checks run, the build itself does not.
func build(context.Context, *sandbox, string) (*Result, error) {
	return nil, fmt.Errorf("%w: rebuild with -tags gitseal_kustomize", ErrUnavailable)
}
