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

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
)

// KeysRotateOptions are the options of `gitseal keys rotate`.
type KeysRotateOptions struct {
	IOStreams
	cluster *ClusterOptions

	// Timeout bounds the wait for the new key.
	Timeout time.Duration
	// PollInterval is how often the ConfigMap is read while waiting.
	PollInterval time.Duration
}

// NewCmdKeysRotate returns `gitseal keys rotate`.
func NewCmdKeysRotate(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &KeysRotateOptions{IOStreams: streams, cluster: cluster, PollInterval: 250 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Ask the controller for a new active key and wait until it is published",
		Long: `Ask the controller to generate a new key, and wait until it is published
as the active key; then print its ID. New values are sealed to it; the old
keys stay and keep opening what was sealed to them.

The request is the annotation gitseal.dev/rotate-requested-at on the
ConfigMap gitseal-keys, so it needs the right to patch that ConfigMap.
Afterwards, refresh .gitseal.yaml (gitseal keys refresh) and committed
recipients files (gitseal keys fetch --output-file ...), and re-seal with
gitseal reseal if you mean to retire the old key.`,
		Example: `  gitseal keys rotate
  gitseal keys rotate --timeout 5m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 2*time.Minute, "how long to wait for the new key")
	return cmd
}

// Run requests the rotation and waits for the new key.
func (o *KeysRotateOptions) Run(ctx context.Context) error {
	kc, err := o.cluster.kube()
	if err != nil {
		return err
	}
	ns, name := o.cluster.ControllerNamespace, keys.PublicKeysConfigMap
	before, err := o.publishedIDs(ctx, kc)
	if err != nil {
		return err
	}

	request := time.Now().UTC().Format(time.RFC3339Nano)
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{keys.AnnotationRotateRequested: request}}})
	if err := kc.mergePatch(ctx, configMapsResource(), ns, name, patch); err != nil {
		return withHint(fmt.Errorf("request rotation on ConfigMap %s/%s: %w", ns, name, err), apiHint(err, "patch that ConfigMap"))
	}
	fmt.Fprintf(o.ErrOut, "requested a new key (%s=%s); waiting up to %s for the controller to publish it\n",
		keys.AnnotationRotateRequested, request, o.Timeout)

	waitCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	tick := time.NewTicker(o.PollInterval)
	defer tick.Stop()
	for {
		id, done, err := o.handled(waitCtx, kc, request, before)
		if done {
			if err != nil {
				return err
			}
			fmt.Fprintln(o.Out, id)
			return nil
		}
		select {
		case <-waitCtx.Done():
			msg := "timed out"
			if errors.Is(ctx.Err(), context.Canceled) {
				msg = "interrupted"
			}
			if err != nil {
				msg += " (last error: " + firstLine(err) + ")"
			}
			return withHint(fmt.Errorf("rotation requested, but no new key was published within %s: %s", o.Timeout, msg),
				fmt.Sprintf("check that the controller runs: kubectl -n %s get pods, and its logs; the request stays, so the controller acts on it when it is back", ns))
		case <-tick.C:
		}
	}
}

// publishedIDs returns the IDs of the keys published before the request.
func (o *KeysRotateOptions) publishedIDs(ctx context.Context, kc *kubeClient) ([]crypto.KeyID, error) {
	ns, name := o.cluster.ControllerNamespace, keys.PublicKeysConfigMap
	cm, err := kc.getConfigMap(ctx, ns, name)
	if apierrors.IsNotFound(err) {
		return nil, withHint(fmt.Errorf("ConfigMap %s/%s not found", ns, name), "is gitseal installed in that namespace? Check --controller-namespace and --context")
	}
	if err != nil {
		return nil, withHint(fmt.Errorf("read ConfigMap %s/%s: %w", ns, name, err), apiHint(err, "read that ConfigMap"))
	}
	var published []keys.PublicKey
	_ = json.Unmarshal([]byte(cm.Data[keys.ConfigMapKeysJSON]), &published) // none yet is fine
	ids := make([]crypto.KeyID, len(published))
	for i, k := range published {
		ids[i] = k.ID
	}
	return ids, nil
}

// handled reports whether the controller has handled the request and
// published a new active key. Transient errors are returned with done
// false, to be retried.
func (o *KeysRotateOptions) handled(ctx context.Context, kc *kubeClient, request string, before []crypto.KeyID) (crypto.KeyID, bool, error) {
	cm, err := kc.getConfigMap(ctx, o.cluster.ControllerNamespace, keys.PublicKeysConfigMap)
	if err != nil {
		return "", false, err
	}
	if cm.Annotations[keys.AnnotationRotateHandled] != request {
		return "", false, nil
	}
	var published []keys.PublicKey
	if err := json.Unmarshal([]byte(cm.Data[keys.ConfigMapKeysJSON]), &published); err != nil {
		return "", false, errors.New("the published key list is not valid JSON")
	}
	var fresh []crypto.KeyID
	for _, k := range published {
		if slices.Contains(before, k.ID) {
			continue
		}
		if k.State == keys.Active {
			return k.ID, true, nil
		}
		fresh = append(fresh, k.ID)
	}
	if len(fresh) > 0 {
		return "", true, withHint(fmt.Errorf("the controller generated key %s, but it is not the active key", fresh[0]),
			"see gitseal keys list: another key counts as newer; check the clocks, and rotate again")
	}
	return "", false, nil
}
