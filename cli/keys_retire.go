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
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
)

// KeysRetireOptions are the options of `gitseal keys retire`.
type KeysRetireOptions struct {
	IOStreams
	cluster *ClusterOptions

	// ID is the key ID, or a prefix of it that names one key.
	ID string
	// Force allows retiring the last key that is not retired.
	Force bool
	// Timeout bounds the wait for the controller to publish the
	// retirement; zero returns as soon as the Secret is labelled.
	Timeout time.Duration
	// PollInterval is how often the published keys are read while waiting.
	PollInterval time.Duration
}

// NewCmdKeysRetire returns `gitseal keys retire`.
func NewCmdKeysRetire(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &KeysRetireOptions{IOStreams: streams, cluster: cluster, PollInterval: 250 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "retire ID",
		Short: "Retire a key: stop offering it for sealing",
		Long: `Retire a key by labelling its Secret gitseal.dev/retired=true. A retired key
is no longer published or sealed to; whether it still opens values is the
controller's --retired-keys-open setting. SealedSecrets that still use it
show it in status.retiredKeyIDs: move them off it with
gitseal reseal --only-retired. Then gitseal keys refresh records the
retirement in .gitseal.yaml, so that offline seals refuse the key and
gitseal scan reports what is still sealed to it; online, gitseal seal
already refuses it.

Retiring the only key that is not retired makes the controller generate a
new active key at once; that needs --force.

The command waits until the controller publishes the retirement, so that a
seal right after it already refuses the key.`,
		Example: `  gitseal keys list
  gitseal keys retire 3f2a9c1b2d3e4f5a
  gitseal keys retire 3f2a   # a unique prefix is enough`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeID,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "retire the key even if it is the only one not retired")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", time.Minute, "how long to wait for the controller to publish the retirement (0: do not wait)")
	return cmd
}

// Run retires the key.
func (o *KeysRetireOptions) Run(ctx context.Context) error {
	kc, err := o.cluster.kube()
	if err != nil {
		return err
	}
	ns := o.cluster.ControllerNamespace
	items, err := kc.listSecretMetadata(ctx, ns, keys.LabelSealingKey+"=true")
	if err != nil {
		return withHint(fmt.Errorf("list the key Secrets in %s: %w", ns, err), apiHint(err, "list Secrets in "+ns))
	}
	list := keyStates(items, nil)
	target, err := pickKey(list, o.ID)
	if err != nil {
		return err
	}
	if target.State == keys.Retired {
		fmt.Fprintf(o.Out, "key %s is already retired\n", target.ID)
		return nil
	}
	others := 0
	for _, k := range list {
		if k.ID != target.ID && k.State != keys.Retired {
			others++
		}
	}
	if others == 0 && !o.Force {
		return withHint(fmt.Errorf("key %s is the only key that is not retired", target.ID),
			"retiring it makes the controller generate a new active key at once, and recipients files in Git go stale; "+
				"rotate first (gitseal keys rotate), or pass --force")
	}
	secretName := secretNameOf(items, target.ID)
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{keys.LabelRetired: "true"}}})
	if err := kc.mergePatch(ctx, secretsResource(), ns, secretName, patch); err != nil {
		return withHint(fmt.Errorf("label Secret %s/%s: %w", ns, secretName, err), apiHint(err, "patch Secrets in "+ns))
	}
	if err := o.waitPublished(ctx, target.ID); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "key %s retired\n", target.ID)
	if others == 0 {
		fmt.Fprintln(o.ErrOut, "note: no key was left to seal to; the controller now generates a new active key")
	}
	if target.State == keys.Active {
		fmt.Fprintln(o.ErrOut, "note: it was the active key; refresh committed recipients files with gitseal keys fetch --output-file FILE")
	}
	fmt.Fprintln(o.ErrOut, "next: record it in .gitseal.yaml with gitseal keys refresh, and re-seal what still uses it with gitseal reseal --only-retired")
	return nil
}

// waitPublished waits until the controller publishes id as retired, read
// the way seal reads it, so that nothing seals to the key after this
// command returns.
func (o *KeysRetireOptions) waitPublished(ctx context.Context, id crypto.KeyID) error {
	if o.Timeout <= 0 {
		return nil
	}
	waitCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	tick := time.NewTicker(o.PollInterval)
	defer tick.Stop()
	var last error
	for {
		published, _, err := o.cluster.fetchPublicKeys(waitCtx, io.Discard)
		if err == nil && slices.Contains(retiredKeyIDs(published), id) {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-waitCtx.Done():
			msg := "timed out"
			if last != nil {
				msg += " (last error: " + firstLine(last) + ")"
			}
			return withHint(fmt.Errorf("key %s is labelled retired, but the controller did not publish it within %s: %s", id, o.Timeout, msg),
				fmt.Sprintf("check that the controller runs: kubectl -n %s get pods, and its logs; it publishes the retirement when it is back", o.cluster.ControllerNamespace))
		case <-tick.C:
		}
	}
}

// pickKey finds the key with the given ID or unique ID prefix.
func pickKey(list []keyInfo, id string) (keyInfo, error) {
	var matches []keyInfo
	for _, k := range list {
		if string(k.ID) == id {
			return k, nil
		}
		if strings.HasPrefix(string(k.ID), id) {
			matches = append(matches, k)
		}
	}
	switch {
	case len(matches) == 1 && len(id) >= 4:
		return matches[0], nil
	case len(matches) > 1:
		return keyInfo{}, withHint(fmt.Errorf("%q matches %d keys", id, len(matches)), "give more of the ID (gitseal keys list)")
	}
	return keyInfo{}, withHint(fmt.Errorf("no key %q", id), "see the key IDs with gitseal keys list")
}

func secretNameOf(items []metav1.PartialObjectMetadata, id crypto.KeyID) string {
	for _, it := range items {
		if it.Labels[keys.LabelKeyID] == string(id) {
			return it.Name
		}
	}
	return keys.SecretName(id)
}

// completeID completes the IDs of the keys that are not retired yet, from
// the key Secrets' metadata; best effort: nothing, and no message, when
// the cluster cannot be read.
func (o *KeysRetireOptions) completeID(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	kc, err := o.cluster.kube()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second) // a shell waits for it
	defer cancel()
	items, err := kc.listSecretMetadata(ctx, o.cluster.ControllerNamespace, keys.LabelSealingKey+"=true")
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var ids []string
	for _, k := range keyStates(items, nil) {
		if k.State != keys.Retired {
			ids = append(ids, fmt.Sprintf("%s\t%s, created %s", k.ID, k.State, k.Created.Format(time.DateOnly)))
		}
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}
