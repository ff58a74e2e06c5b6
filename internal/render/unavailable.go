//go:build !gitseal_kustomize

package render

import (
	"context"
	"fmt"
)

// errNoKustomize is what Build returns, after the sandbox checks, in a
// binary built without the gitseal_kustomize tag.
var errNoKustomize = fmt.Errorf("%w: rebuild with -tags gitseal_kustomize", ErrUnavailable)

// build is the stand-in for binaries built without the gitseal_kustomize
// tag: the sandbox checks run, the build itself does not.
func build(context.Context, *sandbox, string) (*Result, error) {
	return nil, errNoKustomize
}
