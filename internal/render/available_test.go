//go:build !gitseal_kustomize

package render

const kustomizeAvailable = false
