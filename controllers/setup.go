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

// Package controllers holds gitseal's reconcilers: the key manager that
// generates, renews and publishes the sealing keys, the key loader that keeps
// every replica's key ring current, the SealedSecret reconciler that writes
// Secrets, and the GitSync reconciler that keeps a path of a Git repository
// applied. Setup wires them, and the HTTP API, into a manager.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/httpapi"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/webhook"
)

// The controller's permissions, generated into config/rbac by `make manifests`.
// Cluster-wide it reads SealedSecrets and writes the Secrets they own. It
// caches in full only Secrets labelled app.kubernetes.io/managed-by=gitseal
// (RBAC cannot express a label selector, so the cache enforces it), and of
// the others only metadata, to refuse taking one over without reading its
// data. In its own namespace it
// keeps its keys, the public-keys ConfigMap and the leader election Lease,
// whose events go through the core API.
//
// +kubebuilder:rbac:groups=gitseal.dev,resources=sealedsecrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=gitseal.dev,resources=sealedsecrets/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=gitseal.dev,resources=sealedsecrets/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch;update
// +kubebuilder:rbac:groups="",namespace=gitseal-system,resources=configmaps,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=gitseal-system,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",namespace=gitseal-system,resources=events,verbs=create;patch
//
// GitSyncs: it reads them, keeps their status and finalizer, and applies
// and prunes only as the ServiceAccount each one names, or the default one
// (impersonation), so what a GitSync may write is what that ServiceAccount
// may write. It never applies with its own rights, which is why they stop
// here: docs/operations.md lists them.
//
// +kubebuilder:rbac:groups=gitseal.dev,resources=gitsyncs,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=gitseal.dev,resources=gitsyncs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=gitseal.dev,resources=gitsyncs/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;impersonate

// FieldManager is the server-side apply field manager of everything the
// controller writes.
const FieldManager = "gitseal"

// Options configure the controllers. The zero value is not usable: start
// from DefaultOptions.
type Options struct {
	// Namespace is the controller's own namespace, where keys live.
	Namespace string
	// WatchNamespaces are the namespaces whose GitSyncs are reconciled,
	// besides Namespace, as CacheOptions got them; empty means all. The
	// drift watch holds only what those GitSyncs applied.
	WatchNamespaces []string
	// KeyType is the kind of key generated.
	KeyType crypto.Kind
	// KeyRenewalPeriod is how often a new active key is generated; 0
	// disables renewal.
	KeyRenewalPeriod time.Duration
	// RetiredKeysOpen says whether retired keys still open values.
	RetiredKeysOpen bool
	// AllowServiceAccountTokens lets templates of type
	// kubernetes.io/service-account-token through.
	AllowServiceAccountTokens bool
	// DefaultServiceAccount is the ServiceAccount, in a GitSync's own
	// namespace, that a GitSync naming none applies as; empty refuses such
	// a GitSync.
	DefaultServiceAccount string
	// Workers is the number of SealedSecrets reconciled at once.
	Workers int
	// GitSyncWorkers is the number of GitSyncs synced at once.
	GitSyncWorkers int
	// TempDir holds Git checkouts while a sync runs; empty means the
	// system's temporary directory.
	TempDir string
	// MaxRepositoryBytes caps the files of one checked-out revision.
	MaxRepositoryBytes int64
	// HTTPAddr is where the HTTP API listens; empty disables it.
	HTTPAddr string
	// HTTPListener, if set, is used instead of HTTPAddr (tests pass one
	// bound to 127.0.0.1:0).
	HTTPListener net.Listener
	// ResealRate and ResealBurst limit the SealedSecrets re-sealed and
	// validated per second through the HTTP API, batched or not.
	ResealRate  float64
	ResealBurst int
	// WebhookRate and WebhookBurst limit the requests to the push webhook
	// (POST /hook/<receiver>), signed or not.
	WebhookRate  float64
	WebhookBurst int
	// Clock is the time source; tests inject a fake one.
	Clock clock.PassiveClock
}

// DefaultOptions returns the defaults the controller's flags start from.
func DefaultOptions() Options {
	return Options{
		Namespace:          "gitseal-system",
		KeyType:            crypto.Hybrid,
		KeyRenewalPeriod:   720 * time.Hour,
		RetiredKeysOpen:    true,
		Workers:            8,
		GitSyncWorkers:     4,
		MaxRepositoryBytes: 32 << 20,
		HTTPAddr:           ":8000",
		ResealRate:         200,
		ResealBurst:        1000,
		WebhookRate:        10,
		WebhookBurst:       50,
		Clock:              clock.RealClock{},
	}
}

// CacheOptions restrict the manager's cache to what the controllers read,
// in the watched namespaces (all when watch is empty): the Secrets gitseal
// manages, in full, and the metadata of the others, so that taking over a
// Secret can be refused without reading its data. GitSyncs are also watched
// in the controller's own namespace, where the platform's own live.
// Managed fields are dropped from every cached object.
func CacheOptions(watch []string, controllerNamespace string) cache.Options {
	opts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{keys.ManagedByLabel: keys.ManagedByValue})},
			secretMetadata(): {},
		},
	}
	if len(watch) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		gitSyncNamespaces := map[string]cache.Config{controllerNamespace: {}}
		for _, ns := range watch {
			opts.DefaultNamespaces[ns] = cache.Config{}
			gitSyncNamespaces[ns] = cache.Config{}
		}
		opts.ByObject[&gitsealv1alpha1.GitSync{}] = cache.ByObject{Namespaces: gitSyncNamespaces}
	}
	return opts
}

// secretMetadata is the metadata-only view of a Secret.
func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// Setup adds the key loader, key manager, SealedSecret and GitSync
// reconcilers and the HTTP API, with the push webhook, to mgr. The
// manager's cache must be built with CacheOptions.
func Setup(mgr manager.Manager, opts Options) error {
	_, err := setup(mgr, opts)
	return err
}

// setup is Setup, and returns the key ring the reconcilers share.
func setup(mgr manager.Manager, opts Options) (*keys.Ring, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	metrics := newMetrics()
	metrics.renewalPeriod.Set(opts.KeyRenewalPeriod.Seconds())
	ring := keys.NewRing(opts.RetiredKeysOpen)

	// Keys live in one namespace and are read by every replica, so they get
	// a small cache of their own: only labelled key Secrets and the one
	// public-keys ConfigMap.
	keyCache, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme:            mgr.GetScheme(),
		Mapper:            mgr.GetRESTMapper(),
		DefaultNamespaces: map[string]cache.Config{opts.Namespace: {}},
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:    {Label: labels.SelectorFromSet(labels.Set{keys.LabelSealingKey: "true"})},
			&corev1.ConfigMap{}: {Field: fields.OneTermEqualSelector("metadata.name", keys.PublicKeysConfigMap)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("create key cache: %w", err)
	}
	// As a cache, it starts on every replica, before any controller and
	// whether or not this one leads: loading keys needs no leadership, and a
	// standby serves the HTTP API with them. (A plain runnable would start
	// on the leader only.)
	if err := mgr.Add(keyCacheRunnable{keyCache}); err != nil {
		return nil, fmt.Errorf("add key cache: %w", err)
	}

	loader := &KeyLoader{Cache: keyCache, Namespace: opts.Namespace, Ring: ring, Recorder: mgr.GetEventRecorder("gitseal-keys"), metrics: metrics}
	if err := loader.SetupWithManager(mgr, keyCache); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("keys", KeysLoaded(ring)); err != nil {
		return nil, fmt.Errorf("add keys readiness check: %w", err)
	}
	km := &KeyManager{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Namespace: opts.Namespace,
		KeyType: opts.KeyType, RenewalPeriod: opts.KeyRenewalPeriod, Clock: opts.Clock,
	}
	if err := km.SetupWithManager(mgr, keyCache); err != nil {
		return nil, err
	}
	ssr := &SealedSecretReconciler{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Ring: ring,
		Recorder:                  mgr.GetEventRecorder("gitseal"),
		AllowServiceAccountTokens: opts.AllowServiceAccountTokens,
		Clock:                     opts.Clock,
		metrics:                   metrics,
	}
	if err := ssr.SetupWithManager(mgr, opts.Workers); err != nil {
		return nil, err
	}
	gsr := &GitSyncReconciler{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Config: mgr.GetConfig(),
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), DefaultServiceAccount: opts.DefaultServiceAccount,
		Recorder:           mgr.GetEventRecorder("gitseal-gitsync"),
		Clock:              opts.Clock,
		Namespace:          opts.Namespace,
		WatchNamespaces:    opts.WatchNamespaces,
		TempDir:            opts.TempDir,
		MaxRepositoryBytes: opts.MaxRepositoryBytes,
		metrics:            metrics,
	}
	if err := gsr.SetupWithManager(mgr, opts.GitSyncWorkers); err != nil {
		return nil, err
	}
	if opts.HTTPAddr != "" || opts.HTTPListener != nil {
		hook, err := newWebhookHandler(mgr, opts)
		if err != nil {
			return nil, err
		}
		h := http.NewServeMux()
		h.Handle("/", httpapi.NewServer(ring, httpapi.ServerOptions{
			ObjectsPerSecond: opts.ResealRate, Burst: opts.ResealBurst, Log: mgr.GetLogger().WithName("http"),
		}))
		h.Handle(webhook.PathPrefix, hook)
		if err := mgr.Add(&httpRunnable{srv: httpapi.NewHTTPServer(opts.HTTPAddr, h), ln: opts.HTTPListener}); err != nil {
			return nil, fmt.Errorf("add http server: %w", err)
		}
	}
	return ring, nil
}

// keyCacheRunnable puts a cache of its own (the keys', the webhook
// receivers') in the manager's group of caches, which every replica
// starts, leader or not.
type keyCacheRunnable struct{ cache.Cache }

func (c keyCacheRunnable) GetCache() cache.Cache { return c.Cache }

// KeysLoaded is a readiness check that fails until the ring holds an active
// key: a replica that cannot open values or answer /v1/keys must not get
// traffic from the Service.
func KeysLoaded(ring *keys.Ring) healthz.Checker {
	return func(*http.Request) error {
		if ring.Active() == nil {
			return errors.New("no sealing key loaded yet")
		}
		return nil
	}
}

// httpRunnable serves the HTTP API on every replica, leader or not, so that
// the Service can route to any of them.
type httpRunnable struct {
	srv *http.Server
	ln  net.Listener
}

func (h *httpRunnable) NeedLeaderElection() bool { return false }

func (h *httpRunnable) Start(ctx context.Context) error {
	ln := h.ln
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", h.srv.Addr); err != nil {
			return fmt.Errorf("http api: %w", err)
		}
	}
	ctrl.LoggerFrom(ctx).Info("serving the HTTP API", "address", ln.Addr().String())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = h.srv.Shutdown(shutdown)
	}()
	if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http api: %w", err)
	}
	return nil
}
