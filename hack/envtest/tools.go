//go:build tools

// Package envtest records the control-plane binaries that hack/envtest.sh
// builds for the integration tests.
package envtest

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
