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
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
)

// KeysListOptions are the options of `gitseal keys list`.
type KeysListOptions struct {
	IOStreams
	cluster *ClusterOptions

	// Output is "table" or "json".
	Output string
}

// NewCmdKeysList returns `gitseal keys list`.
func NewCmdKeysList(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &KeysListOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the cluster's keys with their ID, creation time and state",
		Long: `List the sealing keys: ID, creation time and state. The active key is the
one values are sealed to; old keys still open values; retired keys are no
longer offered for sealing.

The list comes from the key Secrets' metadata when you may list Secrets in
the controller's namespace (their private data is never read), else from
the public keys ConfigMap, which does not show retired keys.`,
		Example: `  gitseal keys list
  gitseal keys list -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "output format: table or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Validate checks the output format.
func (o *KeysListOptions) Validate() error {
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q: want table or json", o.Output)
	}
	return nil
}

// keyInfo is what `keys list` shows about a key.
type keyInfo struct {
	ID      crypto.KeyID `json:"id"`
	Created time.Time    `json:"created"`
	State   keys.State   `json:"state"`
}

// Run lists the keys.
func (o *KeysListOptions) Run(ctx context.Context) error {
	kc, err := o.cluster.kube()
	if err != nil {
		return err
	}
	list, err := o.fromSecrets(ctx, kc)
	if err != nil {
		if uerr := o.cluster.unreachable(err); uerr != nil {
			return uerr
		}
		fmt.Fprintf(o.ErrOut, "note: cannot list the key Secrets in %s (%s); showing the published keys, without retired ones\n",
			o.cluster.ControllerNamespace, firstLine(err))
		published, _, ferr := o.cluster.fetchPublicKeys(ctx, o.ErrOut)
		if ferr != nil {
			return ferr
		}
		published = sealable(published) // retired ones come without a creation time
		list = make([]keyInfo, len(published))
		for i, k := range published {
			list[i] = keyInfo{ID: k.ID, Created: k.Created.UTC(), State: k.State}
		}
	}
	return writeKeyList(o.Out, list, o.Output)
}

// writeKeyList prints keys as a table or as JSON.
func writeKeyList(w io.Writer, list []keyInfo, output string) error {
	if output == "json" {
		raw, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", raw)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tSTATE")
	for _, k := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.ID, k.Created.Format(time.RFC3339), k.State)
	}
	return tw.Flush()
}

// fromSecrets reads the keys from the key Secrets' metadata.
func (o *KeysListOptions) fromSecrets(ctx context.Context, kc *kubeClient) ([]keyInfo, error) {
	items, err := kc.listSecretMetadata(ctx, o.cluster.ControllerNamespace, keys.LabelSealingKey+"=true")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("no key Secrets found in namespace %s", o.cluster.ControllerNamespace)
	}
	// The metadata cannot show a damaged key; the controller's published
	// list can, since it holds only the keys the controller loaded.
	var published []crypto.KeyID
	if pub, err := o.cluster.keysFromConfigMap(ctx, kc); err == nil {
		for _, k := range sealable(pub) {
			published = append(published, k.ID)
		}
	}
	return keyStates(items, published), nil
}

// keyStates derives each key's state from its Secret's metadata with the
// controller's own rule (keys.Assign). A key Secret of unknown origin is
// untrusted. When the controller's published list is known (published is
// not nil), a key that is neither retired nor in it is one the controller
// could not load: broken.
func keyStates(items []metav1.PartialObjectMetadata, published []crypto.KeyID) []keyInfo {
	entries := make([]keys.Entry, 0, len(items))
	for _, it := range items {
		id := it.Labels[keys.LabelKeyID]
		if id == "" {
			id = strings.TrimPrefix(it.Name, keys.SecretNamePrefix)
		}
		created := it.CreationTimestamp.UTC()
		if t, err := time.Parse(time.RFC3339, it.Annotations[keys.AnnotationCreated]); err == nil {
			created = t.UTC()
		}
		e := keys.Entry{ID: crypto.KeyID(id), Created: created, Retired: it.Labels[keys.LabelRetired] == "true", Unusable: keys.CheckOriginMetadata(&it)}
		if e.Unusable == nil && !e.Retired && published != nil && !slices.Contains(published, e.ID) {
			e.Unusable = errors.New("the controller does not publish it: its Secret holds no usable key")
		}
		entries = append(entries, e)
	}
	sorted, states := keys.Assign(entries)
	out := make([]keyInfo, len(sorted))
	for i, e := range sorted {
		out[i] = keyInfo{ID: e.ID, Created: e.Created, State: states[i]}
	}
	return out
}
