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

// Package testenv starts a real kube-apiserver and etcd with gitseal's CRDs
// installed, for integration tests. Share one per test package: started
// when the first test needs it with Shared, or before any test with Main.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// startTimeoutEnv is envtest's variable for the control plane start timeout.
const startTimeoutEnv = "KUBEBUILDER_CONTROLPLANE_START_TIMEOUT"

// Env is a running kube-apiserver + etcd with the project's CRDs installed.
type Env struct {
	// Config connects to the API server as a member of system:masters.
	Config *rest.Config
	// Client is a client for Config that knows Scheme's types.
	Client client.Client
	// Scheme holds the client-go types and the gitseal API types.
	Scheme *k8sruntime.Scheme

	env *envtest.Environment
}

// KubectlPath is the kubectl that came with the API server, or "" when
// there is none.
func (e *Env) KubectlPath() string { return e.env.ControlPlane.KubectlPath }

// Start starts etcd and kube-apiserver and installs the CRDs from
// config/crd/bases. It finds the binaries through TEST_ASSET_KUBE_APISERVER,
// TEST_ASSET_ETCD and TEST_ASSET_KUBECTL, or else in the directory named by
// KUBEBUILDER_ASSETS; it never downloads them. The error says which binary is
// missing and how to build it. A nil error means the caller must call Stop.
func Start() (*Env, error) {
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	crdDir, err := crdDirectory()
	if err != nil {
		return nil, err
	}

	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("register client-go types: %w", err)
	}
	if err := gitsealv1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("register gitseal types: %w", err)
	}

	useExistingCluster := false
	te := &envtest.Environment{
		Scheme:                scheme,
		CRDDirectoryPaths:     []string{crdDir},
		ErrorIfCRDPathMissing: true,
		UseExistingCluster:    &useExistingCluster,
	}
	te.ControlPlane.GetAPIServer().Path = bins.apiServer
	te.ControlPlane.Etcd = &envtest.Etcd{Path: bins.etcd}
	te.ControlPlane.KubectlPath = bins.kubectl
	if os.Getenv(startTimeoutEnv) == "" {
		// envtest's 20 s default is tight on a 2-core CI machine that is
		// also compiling other test binaries.
		te.ControlPlaneStartTimeout = time.Minute
	}

	cfg, err := te.Start()
	if err != nil {
		// Start can fail after launching etcd or the API server.
		return nil, errors.Join(fmt.Errorf("start control plane: %w", err), stop(te))
	}
	if len(te.CRDs) == 0 {
		return nil, errors.Join(fmt.Errorf("no CRDs found in %s", crdDir), stop(te))
	}

	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create client: %w", err), stop(te))
	}
	return &Env{Config: cfg, Client: c, Scheme: scheme, env: te}, nil
}

// Stop stops the API server and etcd and removes their data.
func (e *Env) Stop() error {
	return stop(e.env)
}

func stop(te *envtest.Environment) error {
	if err := te.Stop(); err != nil {
		return fmt.Errorf("stop control plane: %w", err)
	}
	return nil
}

// AdminKubeconfig returns a kubeconfig file for a new member of
// system:masters, for tools such as kubectl that read one.
func (e *Env) AdminKubeconfig() ([]byte, error) {
	user, err := e.env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("add admin user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, fmt.Errorf("write admin kubeconfig: %w", err)
	}
	return kubeconfig, nil
}

// Main is the body of a TestMain whose tests all need the control plane:
// it starts the control plane into *env, runs the tests, stops it and
// exits. When the control plane cannot start it prints why to stderr and
// exits 1; it never skips the tests. On SIGINT or SIGTERM it stops the
// control plane and exits 1.
func Main(m *testing.M, env **Env) {
	e, err := Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: cannot start the test control plane: %v\n", err)
		os.Exit(1)
	}
	*env = e
	os.Exit(run(m, sync.OnceValue(e.Stop)))
}

// run runs the tests and then calls stop, and also on SIGINT or SIGTERM,
// since kube-apiserver and etcd outlive a killed test binary. It returns
// the exit code: the tests', or 1 when stop fails.
func run(m *testing.M, stop func() error) int {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		fmt.Fprintf(os.Stderr, "testenv: %v received, stopping the test control plane\n", sig)
		if err := stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		}
		os.Exit(1)
	}()

	code := m.Run()
	signal.Stop(signals)

	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// UnitEnv names the environment variable that `make unit` sets to 1: the
// tests that need a control plane are then skipped (Shared.Get), so that
// the others run without one. Nothing else sets it; `make test` clears it.
const UnitEnv = "GITSEAL_TEST_UNIT"

// Shared is a control plane that a package's tests share, started by the
// first test that asks for it (Get), so that tests that need none run
// without it. Its zero value is ready to use; the package's TestMain calls
// Main, which stops it if it was started.
type Shared struct {
	once sync.Once
	mu   sync.Mutex // held while starting and stopping
	env  *Env
	err  error
	done bool // stopped: never start again
}

// Get returns the shared control plane, starting it on the first call.
// When it cannot start, Get fails the test with the reason, in every test
// that calls it; it never skips, except under `make unit` (UnitEnv=1),
// which runs only the tests that need no control plane.
func (s *Shared) Get(t testing.TB) *Env {
	t.Helper()
	skipInUnitMode(t)
	s.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.done {
			s.err = errors.New("the tests are over")
			return
		}
		s.env, s.err = Start()
	})
	if s.err != nil {
		t.Fatalf("testenv: cannot start the test control plane: %v", s.err)
	}
	return s.env
}

// StartFor starts a control plane of t's own, stopped when t ends. Like
// Shared.Get, it fails t when the control plane cannot start, and skips t
// only under `make unit` (UnitEnv=1).
func StartFor(t testing.TB) *Env {
	t.Helper()
	skipInUnitMode(t)
	env, err := Start()
	if err != nil {
		t.Fatalf("testenv: cannot start the test control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	return env
}

// skipInUnitMode skips t under `make unit`, which runs only the tests that
// need no control plane.
func skipInUnitMode(t testing.TB) {
	t.Helper()
	if os.Getenv(UnitEnv) == "1" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("needs the test control plane, and CI never skips: unset %s", UnitEnv)
		}
		t.Skipf("needs the test control plane; %s=1 (make unit) runs only the tests that need none, make test runs this one", UnitEnv)
	}
}

// stop stops the control plane if Get started it; later calls do nothing.
func (s *Shared) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.env == nil {
		s.done = true
		return nil
	}
	s.done = true
	return s.env.Stop()
}

// Main is the body of the TestMain of a package whose tests share s: it
// runs the tests, then stops the control plane if a test started it, and
// exits. On SIGINT or SIGTERM it stops the control plane and exits 1.
func (s *Shared) Main(m *testing.M) {
	os.Exit(run(m, s.stop))
}

// crdDirectory returns <repo>/config/crd/bases.
func crdDirectory() (string, error) {
	config, err := configDirectory()
	if err != nil {
		return "", err
	}
	return filepath.Join(config, "crd", "bases"), nil
}

// Namespace creates a namespace with a generated name starting with prefix
// and returns its name. envtest runs no namespace controller, so it is not
// deleted afterwards; names never collide.
func (e *Env) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := e.Client.Create(t.Context(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// Wait bounds Eventually. It is generous: the first write of a new CRD
// takes about 2 s, and CI machines compile other packages meanwhile.
const Wait = 60 * time.Second

// Eventually polls f every 50 ms until it returns nil, and fails the test
// with what and f's last error if Wait runs out first.
func Eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
