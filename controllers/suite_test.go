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

package controllers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/logging"
	"github.com/gitseal/gitseal/internal/sealer"
	"github.com/gitseal/gitseal/test/testenv"
)

// cluster is the control plane the tests that need one share; the first
// of them starts it.
var cluster testenv.Shared

// klogLogs catches what client-go and leader election log through klog
// rather than through a manager's logger.
var klogLogs = &logSink{}

func TestMain(m *testing.M) {
	klog.SetLogger(logging.Safe(klogLogs.logger()))
	cluster.Main(m)
}

// logSink collects every log line of a manager, at every verbosity, so that
// tests can look for secret material in it.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		fmt.Fprintln(&s.buf, prefix, args)
	}, funcr.Options{Verbosity: 10})
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// controller is one running controller manager with its own namespace for
// keys, unsealing only in the namespaces it watches.
type controller struct {
	ns      string // the controller's namespace
	watch   string // the namespace whose SealedSecrets it unseals
	ring    *keys.Ring
	logs    *logSink
	httpURL string
	elected <-chan struct{}
	cancel  context.CancelFunc
	done    chan error
}

type setupOpts struct {
	opts        func(*controllers.Options)
	cfg         *rest.Config
	ns, watch   string
	leaderElect bool
}

// startController starts a manager and waits until it has published a key.
// The platform ServiceAccount of config/platform is installed in its
// namespace.
func startController(t *testing.T, so setupOpts) *controller {
	t.Helper()
	env := cluster.Get(t)
	if so.ns == "" {
		so.ns = env.Namespace(t, "gitseal")
	}
	env.InstallConfig(t, "platform", so.ns)
	if so.watch == "" {
		so.watch = env.Namespace(t, "apps")
	}
	if so.cfg == nil {
		so.cfg = env.Config
	}
	c := &controller{ns: so.ns, watch: so.watch, logs: &logSink{}, done: make(chan error, 1)}
	mgr, err := ctrl.NewManager(so.cfg, ctrl.Options{
		Scheme:                        env.Scheme,
		Logger:                        logging.Safe(c.logs.logger()),
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		Cache:                         controllers.CacheOptions([]string{so.watch}, so.ns),
		Controller:                    config.Controller{SkipNameValidation: new(true)},
		LeaderElection:                so.leaderElect,
		LeaderElectionID:              "gitseal-test",
		LeaderElectionNamespace:       so.ns,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 new(4 * time.Second),
		RenewDeadline:                 new(3 * time.Second),
		RetryPeriod:                   new(500 * time.Millisecond),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.httpURL = "http://" + ln.Addr().String()
	opts := controllers.DefaultOptions()
	opts.Namespace = so.ns
	opts.HTTPListener = ln
	opts.KeyType = crypto.X25519 // fast key generation; hybrid is covered in crypto/
	opts.Workers = 4
	if so.opts != nil {
		so.opts(&opts)
	}
	if c.ring, err = controllers.SetupWithRing(mgr, opts); err != nil {
		t.Fatal(err)
	}
	c.elected = mgr.Elected()
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() { c.done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		if err := c.stop(); err != nil {
			t.Errorf("manager: %v", err)
		}
		if t.Failed() {
			t.Logf("controller logs:\n%s", c.logs)
		}
	})
	return c
}

// stop stops the manager and returns what Start returned; calling it again
// returns nil.
func (c *controller) stop() error {
	c.cancel()
	err := <-c.done
	c.done <- nil
	return err
}

// publishedKeys reads the public-keys ConfigMap.
func (c *controller) publishedKeys(t *testing.T) ([]keys.PublicKey, *corev1.ConfigMap) {
	t.Helper()
	env := cluster.Get(t)
	var cm corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: c.ns, Name: keys.PublicKeysConfigMap}, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		t.Fatal(err)
	}
	var list []keys.PublicKey
	if err := json.Unmarshal([]byte(cm.Data[keys.ConfigMapKeysJSON]), &list); err != nil {
		t.Fatal(err)
	}
	return list, &cm
}

// activeKey waits for a published active key and returns its recipient.
func (c *controller) activeKey(t *testing.T) *crypto.Recipient {
	t.Helper()
	var r *crypto.Recipient
	testenv.Eventually(t, "an active key is published", func() error {
		list, _ := c.publishedKeys(t)
		for _, k := range list {
			if k.State == keys.Active {
				var err error
				r, err = crypto.ParseRecipient(k.Recipient)
				if err != nil {
					return err
				}
				if c.ring.Active() == nil || c.ring.Active().ID() != r.ID() {
					return fmt.Errorf("ring not loaded yet")
				}
				return nil
			}
		}
		return fmt.Errorf("no active key in %v", list)
	})
	return r
}

// sealed builds a SealedSecret in the watched namespace.
func (c *controller) sealed(t *testing.T, name string, scope crypto.Scope, data map[string]string, r ...*crypto.Recipient) *gitsealv1alpha1.SealedSecret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.watch}, StringData: data}
	ss, err := sealer.Seal(s, scope, r)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	env := cluster.Get(t)
	if err := env.Client.Create(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
}

// readyCondition waits until the object's Ready condition has the reason
// for the current generation, and returns the object.
func waitReason(t *testing.T, key client.ObjectKey, reason string) *gitsealv1alpha1.SealedSecret {
	t.Helper()
	env := cluster.Get(t)
	var ss gitsealv1alpha1.SealedSecret
	testenv.Eventually(t, fmt.Sprintf("%s reaches reason %s", key, reason), func() error {
		if err := env.Client.Get(t.Context(), key, &ss); err != nil {
			return err
		}
		c := meta.FindStatusCondition(ss.Status.Conditions, gitsealv1alpha1.ConditionReady)
		if c == nil || c.Reason != reason || c.ObservedGeneration != ss.Generation || ss.Status.ObservedGeneration != ss.Generation {
			return fmt.Errorf("ready condition %+v", c)
		}
		return nil
	})
	return &ss
}

// updateSpec changes a SealedSecret, retrying on conflicts with the
// controller's status writes.
func updateSpec(t *testing.T, key client.ObjectKey, mutate func(*gitsealv1alpha1.SealedSecret)) {
	t.Helper()
	env := cluster.Get(t)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var ss gitsealv1alpha1.SealedSecret
		if err := env.Client.Get(t.Context(), key, &ss); err != nil {
			return err
		}
		mutate(&ss)
		return env.Client.Update(t.Context(), &ss)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func getSecret(t *testing.T, key client.ObjectKey) *corev1.Secret {
	t.Helper()
	env := cluster.Get(t)
	var s corev1.Secret
	if err := env.Client.Get(t.Context(), key, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// assertNoLeak fails if any canary appears in s.
func assertNoLeak(t *testing.T, where, s string, canaries ...string) {
	t.Helper()
	for _, c := range canaries {
		if strings.Contains(s, c) {
			t.Errorf("%s contains the canary %q", where, c)
		}
	}
}
