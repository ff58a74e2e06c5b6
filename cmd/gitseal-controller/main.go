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

// Command gitseal-controller runs the gitseal controller manager: it keeps
// the sealing keys, unseals SealedSecrets into Secrets, and serves the HTTP
// API the CLI uses. It runs in a cluster or, for development, against any
// kubeconfig.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/logging"
	"github.com/gitseal/gitseal/internal/version"
)

// leaderElectionID names the Lease that controller replicas compete for.
const leaderElectionID = "gitseal-controller.gitseal.dev"

// options are the controller's command-line settings.
type options struct {
	metricsAddr    string
	metricsSecure  bool
	metricsCertDir string
	probeAddr      string
	leaderElect    bool
	leaderNS       string
	lease          leaseTimes
	printVersion   bool
	pprofAddr      string
	watch          string
	keyType        string
	qps            float64
	burst          int
	controllers    controllers.Options
	zap            zap.Options
}

// bindFlags registers every flag of the controller on fs.
func (o *options) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443",
		"Address the metrics endpoint binds to; \"0\" disables it.")
	fs.BoolVar(&o.metricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS, only to clients whose token the API server authenticates and authorizes for GET /metrics; false serves plain HTTP to anyone, for development only.")
	fs.StringVar(&o.metricsCertDir, "metrics-cert-dir", "",
		"Directory holding tls.crt and tls.key for the metrics endpoint, reloaded when they change; empty uses a self-signed certificate made at start.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081",
		"Address the health and readiness probe endpoints bind to.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false,
		"Enable leader election, so that only one replica is active at a time.")
	fs.StringVar(&o.leaderNS, "leader-election-namespace", "",
		"Namespace of the leader election Lease; defaults to the pod's namespace, and must be set out of cluster.")
	o.lease = defaultLeaseTimes()
	fs.DurationVar(&o.lease.duration, "leader-election-lease-duration", o.lease.duration,
		"How long a standby waits, after the leader last renewed, before it takes over.")
	fs.DurationVar(&o.lease.renewDeadline, "leader-election-renew-deadline", o.lease.renewDeadline,
		"How long the leader keeps trying to renew before it gives up leading.")
	fs.DurationVar(&o.lease.retryPeriod, "leader-election-retry-period", o.lease.retryPeriod,
		"How often candidates try to acquire or renew the lease.")
	fs.BoolVar(&o.printVersion, "version", false, "Print the version and exit.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "", "Address of the Go profiler endpoints; empty disables them.")

	o.controllers = controllers.DefaultOptions()
	c := &o.controllers
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		c.Namespace = ns
	}
	fs.StringVar(&c.Namespace, "namespace", c.Namespace,
		"The controller's namespace, where the sealing keys and the public-keys ConfigMap live (default: $POD_NAMESPACE or gitseal-system).")
	fs.StringVar(&o.watch, "watch-namespaces", "",
		"Comma-separated namespaces whose SealedSecrets and GitSyncs are reconciled; empty means all.")
	fs.StringVar(&o.keyType, "key-type", string(c.KeyType),
		"Kind of key to generate: hybrid (ML-KEM-768 + X25519, post-quantum) or x25519.")
	fs.DurationVar(&c.KeyRenewalPeriod, "key-renewal-period", c.KeyRenewalPeriod,
		"Generate a new active key this often; old keys are kept. 0 disables renewal.")
	fs.BoolVar(&c.RetiredKeysOpen, "retired-keys-open", c.RetiredKeysOpen,
		"Whether retired keys still open values (they are never offered for sealing).")
	fs.BoolVar(&c.AllowServiceAccountTokens, "allow-service-account-token-secrets", false,
		"Allow templates of type kubernetes.io/service-account-token.")
	fs.StringVar(&c.DefaultServiceAccount, "default-service-account", "",
		"ServiceAccount, in a GitSync's own namespace, that a GitSync without spec.serviceAccountName applies as; empty refuses such GitSyncs (the controller never applies with its own rights).")
	fs.IntVar(&c.Workers, "workers", c.Workers, "SealedSecrets reconciled in parallel.")
	fs.IntVar(&c.GitSyncWorkers, "gitsync-workers", c.GitSyncWorkers, "GitSyncs synced in parallel.")
	fs.Int64Var(&c.MaxRepositoryBytes, "git-max-repository-bytes", c.MaxRepositoryBytes,
		"Largest checked-out revision a GitSync may fetch, in bytes of files; a fetch holds up to about four times as much in memory, two fetches at a time.")
	fs.StringVar(&c.TempDir, "temp-dir", "",
		"Directory for Git checkouts, read-only and shared by the GitSyncs of one revision; each is removed 30s after its last use (default: $TMPDIR or /tmp).")
	fs.StringVar(&c.HTTPAddr, "http-bind-address", c.HTTPAddr,
		"Address of the HTTP API (/v1/keys, /v1/reseal, /v1/validate) and the push webhook (/hook/<receiver>); empty disables both.")
	fs.Float64Var(&c.ResealRate, "reseal-rate", c.ResealRate,
		"SealedSecrets re-sealed or validated per second through the HTTP API (each object of a batch counts); over it clients get 429 with Retry-After.")
	fs.IntVar(&c.ResealBurst, "reseal-burst", c.ResealBurst, "SealedSecrets that may be re-sealed or validated at once above --reseal-rate (at least 500, one full batch).")
	fs.Float64Var(&c.WebhookRate, "webhook-rate", c.WebhookRate,
		"Requests per second to the push webhook, signed or not; over it senders get 429 with Retry-After.")
	fs.IntVar(&c.WebhookBurst, "webhook-burst", c.WebhookBurst, "Requests to the push webhook that may come at once above --webhook-rate.")
	// client-go's default of 5 per second is what makes Bitnami's controller
	// take ten minutes for 1,000 objects; API Priority and Fairness on the
	// server is the real guard against overload.
	fs.Float64Var(&o.qps, "kube-api-qps", 500, "Requests per second to the API server.")
	fs.IntVar(&o.burst, "kube-api-burst", 1000, "Burst of requests to the API server.")
	config.RegisterFlags(fs) // --kubeconfig
	o.zap.BindFlags(fs)
}

// metricsOptions serve metrics as kubebuilder v4 does: over HTTPS, to
// clients the API server authenticates (TokenReview) and authorizes for
// GET /metrics (SubjectAccessReview), with a self-signed certificate unless
// a certificate directory is given. HTTP/2 is off: the HTTP/2 Rapid Reset
// and Stream Cancellation attacks (CVE-2023-44487, CVE-2023-39325) need no
// credentials.
func (o *options) metricsOptions() metricsserver.Options {
	m := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.metricsSecure}
	if !o.metricsSecure {
		return m
	}
	m.FilterProvider = filters.WithAuthenticationAndAuthorization
	m.CertDir = o.metricsCertDir
	m.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	return m
}

// leaseTimes are the leader election timings.
type leaseTimes struct{ duration, renewDeadline, retryPeriod time.Duration }

// defaultLeaseTimes are controller-runtime's, and Flux's.
func defaultLeaseTimes() leaseTimes {
	return leaseTimes{duration: 15 * time.Second, renewDeadline: 10 * time.Second, retryPeriod: 2 * time.Second}
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "gitseal-controller:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var opts options
	fs := flag.NewFlagSet("gitseal-controller", flag.ContinueOnError)
	opts.bindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if opts.printVersion {
		fmt.Println("gitseal-controller", version.Version)
		return nil
	}

	// client-go logs Secret bodies at high verbosity; the safe logger never
	// does, whatever --zap-log-level says. klog gets the same logger.
	logger := logging.Safe(zap.New(zap.UseFlagOptions(&opts.zap)))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	log := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fmt.Errorf("register client-go types: %w", err)
	}
	if err := gitsealv1alpha1.AddToScheme(scheme); err != nil {
		return fmt.Errorf("register gitseal types: %w", err)
	}

	kind, err := crypto.ParseKind(opts.keyType)
	if err != nil {
		return err
	}
	opts.controllers.KeyType = kind
	var watch []string
	for ns := range strings.SplitSeq(opts.watch, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			watch = append(watch, ns)
		}
	}

	opts.controllers.WatchNamespaces = watch

	cfg, err := config.GetConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(opts.qps), opts.burst
	// The API server is a hop away inside the cluster: decompressing every
	// watch event of a ciphertext-heavy object costs more CPU than it saves.
	cfg.DisableCompression = true
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         controllers.CacheOptions(watch, opts.controllers.Namespace),
		Metrics:                       opts.metricsOptions(),
		HealthProbeBindAddress:        opts.probeAddr,
		PprofBindAddress:              opts.pprofAddr,
		LeaderElection:                opts.leaderElect,
		LeaderElectionID:              leaderElectionID,
		LeaderElectionNamespace:       opts.leaderNS,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &opts.lease.duration,
		RenewDeadline:                 &opts.lease.renewDeadline,
		RetryPeriod:                   &opts.lease.retryPeriod,
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	if err := controllers.Setup(mgr, opts.controllers); err != nil {
		return fmt.Errorf("set up controllers: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("add readiness check: %w", err)
	}

	log.Info("starting manager", "version", version.Version,
		"metricsAddress", opts.metricsAddr, "metricsSecure", opts.metricsSecure, "probeAddress", opts.probeAddr,
		"leaderElection", opts.leaderElect, "namespace", opts.controllers.Namespace,
		"watchNamespaces", watch, "keyType", kind, "keyRenewalPeriod", opts.controllers.KeyRenewalPeriod)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		return fmt.Errorf("run manager: %w", err)
	}
	return nil
}
