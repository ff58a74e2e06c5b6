package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
)

// keysRequest is the single request both key reconcilers work on: they
// always look at the whole set of keys.
var keysRequest = reconcile.Request{NamespacedName: types.NamespacedName{Name: "keys"}}

func enqueueKeys[T client.Object](context.Context, T) []reconcile.Request {
	return []reconcile.Request{keysRequest}
}

// atStart enqueues the keys request once when the controller starts: before
// the first key exists there is no object whose event would.
var atStart = source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	q.Add(keysRequest)
	return nil
})

// KeyLoader keeps the key ring equal to the key Secrets. It runs on every
// replica, so that any of them can serve the HTTP API and take over as
// leader with its keys loaded. A restored or added key is picked up as soon
// as its Secret appears; a corrupt one is skipped and reported.
type KeyLoader struct {
	Cache     cache.Cache
	Namespace string
	Ring      *keys.Ring
	Recorder  recorder.EventRecorder
	metrics   *metrics

	mu       sync.Mutex
	reported map[string]string // key Secret name → last reported error
}

// SetupWithManager registers the loader, watching the key cache.
func (l *KeyLoader) SetupWithManager(mgr ctrl.Manager, keyCache cache.Cache) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("keyloader").
		WithOptions(controller.Options{NeedLeaderElection: new(false), MaxConcurrentReconciles: 1}).
		WatchesRawSource(source.Kind(keyCache, &corev1.Secret{}, handler.TypedEnqueueRequestsFromMapFunc(enqueueKeys[*corev1.Secret]))).
		WatchesRawSource(atStart).
		Complete(l)
}

// Reconcile reloads the ring from the cached key Secrets.
func (l *KeyLoader) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	var list corev1.SecretList
	if err := l.Cache.List(ctx, &list, client.InNamespace(l.Namespace)); err != nil {
		return reconcile.Result{}, fmt.Errorf("list key secrets: %w", err)
	}
	broken := l.Ring.Load(list.Items)
	l.metrics.setKeys(l.Ring.Counts())

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reported == nil {
		l.reported = map[string]string{}
	}
	for i := range list.Items {
		s := &list.Items[i]
		err, isBroken := broken[s.Name]
		switch {
		case !isBroken:
			delete(l.reported, s.Name)
		case l.reported[s.Name] != err.Error():
			l.reported[s.Name] = err.Error()
			log.Error(err, "skipping unusable sealing key; the other keys keep working", "secret", s.Name)
			l.Recorder.Eventf(s, nil, corev1.EventTypeWarning, "KeyUnusable", "Load", "%s", err.Error())
		}
	}
	log.V(1).Info("key ring loaded", "keys", len(l.Ring.Keys()), "broken", len(broken))
	return reconcile.Result{}, nil
}

// KeyManager generates keys: the first one, a new one every renewal
// period, and one on each rotation request. It publishes the public keys in
// the ConfigMap. It runs only on the leader, and it never generates a key
// unless listing the existing ones succeeded.
type KeyManager struct {
	Client        client.Client
	Reader        client.Reader // uncached: the decision to generate must see the API server's truth
	Namespace     string
	KeyType       crypto.Kind
	RenewalPeriod time.Duration
	Clock         clock.PassiveClock
}

// SetupWithManager registers the manager, watching the key cache.
func (m *KeyManager) SetupWithManager(mgr ctrl.Manager, keyCache cache.Cache) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("keymanager").
		WithOptions(controller.Options{MaxConcurrentReconciles: 1}).
		WatchesRawSource(source.Kind(keyCache, &corev1.Secret{}, handler.TypedEnqueueRequestsFromMapFunc(enqueueKeys[*corev1.Secret]))).
		WatchesRawSource(source.Kind(keyCache, &corev1.ConfigMap{}, handler.TypedEnqueueRequestsFromMapFunc(enqueueKeys[*corev1.ConfigMap]))).
		WatchesRawSource(atStart).
		Complete(m)
}

// maxKeyRecheck bounds how long the manager sleeps between checks.
const maxKeyRecheck = time.Hour

// Reconcile decides whether a key is due, generates it, and publishes.
func (m *KeyManager) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	var list corev1.SecretList
	if err := m.Reader.List(ctx, &list, client.InNamespace(m.Namespace), client.MatchingLabels{keys.LabelSealingKey: "true"}); err != nil {
		// Never generate when the keys can't be seen: that is how
		// controllers end up replacing a key that was there all along.
		return reconcile.Result{}, fmt.Errorf("list key secrets (no key is generated until this succeeds): %w", err)
	}
	var usable []*keys.Key
	for i := range list.Items {
		if k, err := keys.FromSecret(&list.Items[i]); err == nil {
			usable = append(usable, k)
		}
	}
	var cm corev1.ConfigMap
	err := m.Reader.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: keys.PublicKeysConfigMap}, &cm)
	if err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, fmt.Errorf("get %s: %w", keys.PublicKeysConfigMap, err)
	}
	requested := cm.Annotations[keys.AnnotationRotateRequested]
	handled := cm.Annotations[keys.AnnotationRotateHandled]

	now := m.Clock.Now()
	d := keys.Decide(now, usable, m.RenewalPeriod, requested, handled)
	if d.Generate {
		id, err := crypto.GenerateIdentity(m.KeyType)
		if err != nil {
			return reconcile.Result{}, err
		}
		secret := keys.NewSecret(m.Namespace, id, now)
		if err := m.Client.Create(ctx, secret); err != nil {
			return reconcile.Result{}, fmt.Errorf("store new key %s: %w", id.ID(), err)
		}
		log.Info("generated a sealing key", "keyID", id.ID(), "type", m.KeyType, "reason", d.Reason)
		k, err := keys.FromSecret(secret) // the time as stored, so every reader orders keys alike
		if err != nil {
			return reconcile.Result{}, err
		}
		usable = append(usable, k)
		handled = requested
		d = keys.Decide(now, usable, m.RenewalPeriod, requested, handled)
	}
	if err := m.publish(ctx, usable, handled); err != nil {
		return reconcile.Result{}, err
	}
	if d.Next.IsZero() {
		return reconcile.Result{RequeueAfter: maxKeyRecheck}, nil
	}
	return reconcile.Result{RequeueAfter: min(max(d.Next.Sub(now), time.Second), maxKeyRecheck)}, nil
}

// publish writes the public keys ConfigMap with server-side apply. The
// rotation request annotation belongs to whoever asked and is left alone.
func (m *KeyManager) publish(ctx context.Context, usable []*keys.Key, handled string) error {
	public := keys.PublicKeys(usable)
	list, err := json.MarshalIndent(public, "", "  ")
	if err != nil {
		return err
	}
	var recipients strings.Builder
	for _, k := range public {
		if k.State == keys.Active {
			fmt.Fprintf(&recipients, "# gitseal active key %s, created %s\n%s\n", k.ID, k.Created.Format(time.RFC3339), k.Recipient)
		}
	}
	cm := corev1ac.ConfigMap(keys.PublicKeysConfigMap, m.Namespace).
		WithLabels(map[string]string{keys.ManagedByLabel: keys.ManagedByValue}).
		WithData(map[string]string{keys.ConfigMapKeysJSON: string(list) + "\n", keys.ConfigMapRecipients: recipients.String()})
	if handled != "" {
		cm.WithAnnotations(map[string]string{keys.AnnotationRotateHandled: handled})
	}
	if err := m.Client.Apply(ctx, cm, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("publish public keys: %w", err)
	}
	return nil
}
