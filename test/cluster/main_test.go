//go:build cluster

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

// Package cluster tests gitseal as it is deployed: the controller image, in
// pods, under its ServiceAccount, on a real node (hack/cluster) with a
// kubelet, a scheduler, kube-proxy and the garbage collector. Run it with
// `make test-cluster`; by hand, after `hack/cluster up` and
// `hack/cluster load dist/image.tar ...`:
//
//	hack/cluster exec go test -tags cluster ./test/cluster
//
// with GITSEAL_TEST_IMAGE, GITSEAL_TEST_UPGRADE_IMAGE,
// GITSEAL_TEST_POD_IMAGE and GITSEAL_TEST_HELM set (see the Makefile).
// It fails, never skips, when the cluster is not there, and refuses to run
// where a default route could carry traffic off the machine.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// suite is what every test shares: one cluster, one install.
type suite struct {
	kubeconfig string
	kubectl    string // the kubectl matching the cluster's version
	gitseal    string // the CLI, built from this tree
	image      string // the controller image, as the install overlay names it
	nextImage  string // another build of it, to upgrade to
	podImage   string // test/cluster/testpod, for workloads
	helm       string // the pinned helm, for the chart's install
	nodeIP     string // the node's address, which pods reach
	repoRoot   string
	client     client.Client
	work       string // scratch directory, removed at the end
	// scraperToken reads metrics as Prometheus would (scraperToken()).
	scraperToken string
}

var s suite

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	if err := setup(); err != nil {
		fmt.Fprintf(os.Stderr, "test/cluster: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(s.work)
	os.Exit(code)
}

func setup() error {
	if err := noRouteOut(); err != nil {
		return err
	}
	need := func(env string) (string, error) {
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("%s is not set; run `make test-cluster`", env)
		}
		return v, nil
	}
	var err error
	if s.kubeconfig, err = need("KUBECONFIG"); err != nil {
		return fmt.Errorf("%w (or hack/cluster exec)", err)
	}
	if s.image, err = need("GITSEAL_TEST_IMAGE"); err != nil {
		return err
	}
	if s.nextImage, err = need("GITSEAL_TEST_UPGRADE_IMAGE"); err != nil {
		return err
	}
	if s.podImage, err = need("GITSEAL_TEST_POD_IMAGE"); err != nil {
		return err
	}
	if s.helm, err = need("GITSEAL_TEST_HELM"); err != nil {
		return err
	}
	if s.nodeIP, err = need("GITSEAL_CLUSTER_NODE_IP"); err != nil {
		return fmt.Errorf("%w (hack/cluster exec sets it)", err)
	}
	if s.kubectl, err = exec.LookPath("kubectl"); err != nil {
		return fmt.Errorf("kubectl: %w", err)
	}
	if s.repoRoot, err = filepath.Abs("../.."); err != nil {
		return err
	}
	if s.work, err = os.MkdirTemp("", "gitseal-cluster-test-"); err != nil {
		return err
	}
	s.gitseal = filepath.Join(s.work, "gitseal")
	build := exec.Command("go", "build", "-o", s.gitseal, "./cmd/gitseal")
	build.Dir = s.repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the gitseal CLI: %v\n%s", err, out)
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		return fmt.Errorf("load %s: %w", s.kubeconfig, err)
	}
	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := gitsealv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	if s.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, s.kubectl, "get", "--raw", "/readyz").CombinedOutput(); err != nil {
		return fmt.Errorf("the cluster's API server is not ready (run `hack/cluster up`): %v: %s", err, out)
	}
	if out, err := exec.CommandContext(ctx, s.kubectl, "get", "namespace", "gitseal-system", "--ignore-not-found", "-o", "name").Output(); err != nil || len(out) > 0 {
		return errors.New("gitseal-system exists already: the suite needs a fresh cluster (hack/cluster down; hack/cluster up)")
	}
	return nil
}

// noRouteOut refuses to run where this process has a default route: the
// suite runs inside the cluster's network namespace, which has none, so that
// nothing it starts can reach beyond the machine.
func noRouteOut() error {
	// IPv4: "Iface Destination Gateway Flags ... Mask ...", in hex.
	if err := scanRoutes("/proc/net/route", func(f []string) (string, bool) {
		return f[0], len(f) > 7 && f[1] == "00000000" && f[7] == "00000000"
	}); err != nil {
		return err
	}
	// IPv6: "Destination PrefixLen Source SourcePrefixLen NextHop ... Iface".
	return scanRoutes("/proc/net/ipv6_route", func(f []string) (string, bool) {
		return f[len(f)-1], len(f) > 9 && f[0] == strings.Repeat("0", 32) && f[1] == "00"
	})
}

// scanRoutes fails if isDefault finds a default route in file whose
// interface is not lo (where the kernel puts unreachable and blackhole
// routes).
func scanRoutes(file string, isDefault func(fields []string) (iface string, ok bool)) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the routing table: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if iface, ok := isDefault(fields); ok && iface != "lo" && iface != "*" {
			return fmt.Errorf("this process has a default route via %s: run the suite inside the cluster's network namespace (hack/cluster exec)", iface)
		}
	}
	return nil
}
