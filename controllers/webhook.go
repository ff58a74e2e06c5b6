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

package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/webhook"
)

// webhookTargets connects the webhook endpoint to the cluster: receivers
// are Secrets labelled webhook.LabelReceiver in the controller's
// namespace, and a push asks the GitSyncs it concerns for a sync the way
// `gitseal sync` does.
type webhookTargets struct {
	receivers client.Reader // the receiver Secrets' cache
	client    client.Client // GitSyncs from the manager's cache; patches to the API server
	namespace string
	clock     clock.PassiveClock
	log       logr.Logger
}

// newWebhookHandler builds the webhook endpoint with a cache of its own
// for the receiver Secrets, which every replica starts, as it serves the
// HTTP API leader or not.
func newWebhookHandler(mgr manager.Manager, opts Options) (http.Handler, error) {
	labelled, err := labels.NewRequirement(webhook.LabelReceiver, selection.Exists, nil)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver selector: %w", err)
	}
	receivers, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme:            mgr.GetScheme(),
		Mapper:            mgr.GetRESTMapper(),
		DefaultNamespaces: map[string]cache.Config{opts.Namespace: {}},
		DefaultTransform:  cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.NewSelector().Add(*labelled)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("create webhook receiver cache: %w", err)
	}
	if err := mgr.Add(keyCacheRunnable{receivers}); err != nil {
		return nil, fmt.Errorf("add webhook receiver cache: %w", err)
	}
	log := mgr.GetLogger().WithName("webhook")
	t := &webhookTargets{receivers: receivers, client: mgr.GetClient(), namespace: opts.Namespace, clock: opts.Clock, log: log}
	return webhook.NewHandler(webhook.HandlerOptions{
		Receiver:          t.receiver,
		Trigger:           t.trigger,
		RequestsPerSecond: opts.WebhookRate,
		Burst:             opts.WebhookBurst,
		Log:               log,
	}), nil
}

// receiver reads the receiver Secret called name. One without a known
// provider or a token is not a receiver: it says so in the log, not to
// the caller.
func (t *webhookTargets) receiver(ctx context.Context, name string) (webhook.Receiver, bool, error) {
	var s corev1.Secret
	err := t.receivers.Get(ctx, client.ObjectKey{Namespace: t.namespace, Name: name}, &s)
	if apierrors.IsNotFound(err) {
		return webhook.Receiver{}, false, nil
	}
	if err != nil {
		return webhook.Receiver{}, false, fmt.Errorf("read webhook receiver %s: %w", name, err)
	}
	p, err := webhook.ParseProvider(s.Labels[webhook.LabelReceiver])
	if err != nil {
		t.log.Info("webhook receiver refused", "receiver", name, "error", err.Error())
		return webhook.Receiver{}, false, nil
	}
	token := bytes.TrimSpace(s.Data[webhook.TokenKey])
	if len(token) == 0 {
		t.log.Info("webhook receiver refused: its Secret has no "+webhook.TokenKey, "receiver", name)
		return webhook.Receiver{}, false, nil
	}
	return webhook.Receiver{Provider: p, Token: token}, true, nil
}

// trigger requests a sync of every GitSync the push concerns, except
// suspended ones and ones being deleted, and returns how many it asked.
// One that fails to patch does not stop the others.
func (t *webhookTargets) trigger(ctx context.Context, e webhook.Event) (int, error) {
	var list gitsealv1alpha1.GitSyncList
	if err := t.client.List(ctx, &list); err != nil {
		return 0, fmt.Errorf("list GitSyncs: %w", err)
	}
	request := t.clock.Now().UTC().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{gitsealv1alpha1.AnnotationPushReceivedAt: request}}})
	if err != nil {
		return 0, fmt.Errorf("build sync request: %w", err)
	}
	n := 0
	var errs []error
	for i := range list.Items {
		gs := &list.Items[i]
		if gs.Spec.Suspend || !gs.DeletionTimestamp.IsZero() || !webhook.Triggers(e, &gs.Spec) {
			continue
		}
		err := t.client.Patch(ctx, gs, client.RawPatch(types.MergePatchType, patch))
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("request a sync of GitSync %s/%s: %w", gs.Namespace, gs.Name, err))
			continue
		}
		n++
		t.log.V(1).Info("sync requested by a push", "namespace", gs.Namespace, "name", gs.Name)
	}
	return n, errors.Join(errs...)
}
