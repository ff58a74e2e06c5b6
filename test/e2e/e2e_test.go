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

// Package e2e runs the gitseal CLI, in process, against a real
// kube-apiserver and etcd with the gitseal controller running.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/cli"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	testenv.Main(m, &env)
}

// The ServiceAccounts of config/rbac and config/platform.
const (
	controllerServiceAccount = "gitseal-controller"
	platformServiceAccount   = "gitseal-platform"
)

// controller is a running gitseal controller, with its keys in ns and the
// SealedSecrets it unseals in apps.
type controller struct {
	ns, apps string
	url      string
	stop     func()
}

func newNamespace(t testing.TB, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := env.Client.Create(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// startController runs controllers.Setup in a manager of its own, with the
// HTTP API on 127.0.0.1, and waits until a key is published. The manager
// runs as the shipped ServiceAccount gitseal-controller, with a token from
// the TokenRequest API and exactly the rights of config/rbac, moved into
// ns; config/platform's ServiceAccount is there too, for platform
// GitSyncs.
func startController(t testing.TB, ns string) *controller {
	t.Helper()
	if ns == "" {
		ns = newNamespace(t, "gitseal")
	}
	c := &controller{ns: ns, apps: newNamespace(t, "apps")}
	env.InstallConfig(t, "rbac", ns)
	env.InstallConfig(t, "platform", ns)
	mgr, err := ctrl.NewManager(env.ServiceAccountConfig(t, ns, controllerServiceAccount), ctrl.Options{
		Scheme:                 env.Scheme,
		Logger:                 logr.Discard(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controllers.CacheOptions([]string{c.apps}, c.ns),
		Controller:             config.Controller{SkipNameValidation: new(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.url = "http://" + ln.Addr().String()
	opts := controllers.DefaultOptions()
	opts.Namespace = ns
	opts.HTTPListener = ln
	opts.Workers = 2
	if err := controllers.Setup(mgr, opts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	c.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller manager: %v", err)
		}
	})
	t.Cleanup(c.stop)
	testenv.Eventually(t, "a key is published", func() error {
		_, err := c.activeKeyID(t)
		return err
	})
	return c
}

// activeKeyID reads the active key's ID from the public keys ConfigMap.
func (c *controller) activeKeyID(t testing.TB) (string, error) {
	t.Helper()
	var cm corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: c.ns, Name: keys.PublicKeysConfigMap}, &cm); err != nil {
		return "", err
	}
	var list []keys.PublicKey
	if err := json.Unmarshal([]byte(cm.Data[keys.ConfigMapKeysJSON]), &list); err != nil {
		return "", err
	}
	for _, k := range list {
		if k.State == keys.Active {
			return string(k.ID), nil
		}
	}
	return "", fmt.Errorf("no active key in %s", cm.Data[keys.ConfigMapKeysJSON])
}

// kubeconfig writes the admin kubeconfig into dir; with asUser, requests
// impersonate that user, who has no RBAC at all.
func kubeconfig(t testing.TB, dir, asUser string) string {
	t.Helper()
	raw, err := env.AdminKubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	if asUser != "" {
		cfg, err := clientcmd.Load(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range cfg.AuthInfos {
			u.Impersonate = asUser
		}
		if raw, err = clientcmd.Write(*cfg); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "kubeconfig-"+strings.NewReplacer(":", "-").Replace(asUser+"admin"))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// result is what one CLI run printed, and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// cliRunner runs gitseal in process, against one controller, with a
// kubeconfig, and records every output for the canary test.
type cliRunner struct {
	t          testing.TB
	kubeconfig string
	c          *controller
	// direct adds --controller-url.
	direct bool
	log    *bytes.Buffer
}

func (r *cliRunner) run(stdin string, args ...string) result {
	r.t.Helper()
	return r.exec(stdin, args, append(args, r.common()...))
}

// complete runs shell completion of the last of args, as a shell asks
// for it: the common flags come before the word being completed.
func (r *cliRunner) complete(args ...string) result {
	r.t.Helper()
	last := len(args) - 1
	full := append(append(append([]string{"__complete"}, args[:last]...), r.common()...), args[last])
	return r.exec("", full, full)
}

// common are the flags every command gets: the test cluster and controller.
func (r *cliRunner) common() []string {
	common := []string{"--kubeconfig", r.kubeconfig, "--controller-namespace", r.c.ns}
	if r.direct {
		common = append(common, "--controller-url", r.c.url)
	}
	return common
}

// exec runs gitseal with full, logged as args.
func (r *cliRunner) exec(stdin string, args, full []string) result {
	r.t.Helper()
	var out, errOut bytes.Buffer
	cmd := cli.NewCmdRoot(cli.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(full)
	ctx, cancel := context.WithTimeout(r.t.Context(), testenv.Wait)
	defer cancel()
	code := cli.Execute(ctx, cmd, &errOut)
	res := result{stdout: out.String(), stderr: errOut.String(), code: code}
	if r.log != nil {
		fmt.Fprintf(r.log, "$ gitseal %s\n%s\n", strings.Join(args, " "), res)
	}
	return res
}

// ok runs and fails the test unless the exit code is 0.
func (r *cliRunner) ok(stdin string, args ...string) result {
	r.t.Helper()
	res := r.run(stdin, args...)
	if res.code != 0 {
		r.t.Fatalf("gitseal %s: %s", strings.Join(args, " "), res)
	}
	return res
}

func newRunner(t testing.TB, c *controller) *cliRunner {
	return &cliRunner{t: t, kubeconfig: kubeconfig(t, t.TempDir(), ""), c: c, direct: true}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// apply creates the SealedSecrets of a YAML file.
func apply(t testing.TB, path string) {
	t.Helper()
	for doc := range strings.SplitSeq(readFile(t, path), "\n---\n") {
		var ss gitsealv1alpha1.SealedSecret
		if err := yaml.Unmarshal([]byte(doc), &ss); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Create(t.Context(), &ss); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

// secretData waits for the controller to write the Secret and returns its
// data.
func secretData(t testing.TB, ns, name string) map[string][]byte {
	t.Helper()
	var s corev1.Secret
	testenv.Eventually(t, "Secret "+ns+"/"+name+" is written", func() error {
		return env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &s)
	})
	return s.Data
}

// git runs git in the working directory, with no user or system
// configuration, and returns its standard output.
func git(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", args...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}
