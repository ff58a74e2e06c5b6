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
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"

	"github.com/gitseal/gitseal/internal/keys"
)

// KeysFetchOptions are the options of `gitseal keys fetch`.
type KeysFetchOptions struct {
	IOStreams
	cluster *ClusterOptions

	// OutputFile is the file to write; empty or "-" means standard output.
	OutputFile string
	// Output is the format: recipients (an age recipients file) or json.
	Output string
	// All includes the old keys, not only the active one.
	All bool
}

// NewCmdKeysFetch returns `gitseal keys fetch` (alias pubkey).
func NewCmdKeysFetch(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	return newCmdKeysFetch(streams, cluster, "fetch", []string{"pubkey"})
}

// NewCmdPubkey returns `gitseal pubkey`, the same as `gitseal keys fetch`
// for people used to `kubeseal --fetch-cert`.
func NewCmdPubkey(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	cmd := newCmdKeysFetch(streams, cluster, "pubkey", nil)
	cmd.Short = "Fetch the cluster's public key (same as `keys fetch`)"
	return cmd
}

func newCmdKeysFetch(streams IOStreams, cluster *ClusterOptions, use string, aliases []string) *cobra.Command {
	o := &KeysFetchOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:     use,
		Aliases: aliases,
		Short:   "Fetch the cluster's public key as an age recipients file",
		Long: `Fetch the public key values are sealed to. Like kubeseal --fetch-cert, it
asks the controller's /v1/keys endpoint through the API server's service
proxy (or at --controller-url); if the controller does not answer, it reads
the ConfigMap gitseal-keys with your kube credentials, and says so.

The output is an age recipients file, with each key's ID, creation time and
state in a comment: gitseal seal --recipients-file and age -R both read it.
Commit it, and CI can seal offline. -o json prints the keys as a JSON list
instead.`,
		Example: `  # Print the active public key
  gitseal keys fetch

  # Save it for offline sealing
  gitseal keys fetch --output-file .gitseal/prod.txt
  gitseal seal --recipients-file .gitseal/prod.txt < secret.yaml

  # Include the old keys that still open values
  gitseal keys fetch --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(o.Output, "recipients", "json"); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "recipients", "output format: recipients (an age recipients file) or json")
	cmd.Flags().StringVar(&o.OutputFile, outputFileFlag, "", "write to `FILE` instead of standard output")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"recipients", "json"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().BoolVar(&o.All, "all", false, "include the old keys, not only the active one")
	return cmd
}

// Run fetches the keys and writes them.
func (o *KeysFetchOptions) Run(ctx context.Context) error {
	published, source, err := o.cluster.fetchPublicKeys(ctx, o.ErrOut)
	if err != nil {
		return err
	}
	published = sealable(published)
	if !o.All {
		published = []publishedKey{activeKey(published)}
	}
	cluster, _ := o.cluster.ContextName()
	text := recipientsFile(published, cluster, source)
	if o.Output == "json" {
		list := make([]keys.PublicKey, len(published))
		for i, k := range published {
			list[i] = k.PublicKey
		}
		raw, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return err
		}
		text = string(raw) + "\n"
	}
	if o.OutputFile == "" || o.OutputFile == "-" {
		_, err := io.WriteString(o.Out, text)
		return err
	}
	if dir := filepath.Dir(o.OutputFile); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // G301: public keys.
			return err
		}
	}
	if err := manifest.WriteFileAtomic(o.OutputFile, []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "wrote %d public key(s) to %s\n", len(published), o.OutputFile)
	return nil
}

// recipientsFile writes keys in age's recipients-file format, each behind
// a comment with its ID, creation time and state.
func recipientsFile(ks []publishedKey, cluster string, source keySource) string {
	var b strings.Builder
	b.WriteString("# gitseal public keys")
	if cluster != "" {
		fmt.Fprintf(&b, " of cluster %q", cluster)
	}
	fmt.Fprintf(&b, ", from %s.\n", source)
	b.WriteString("# Seal with: gitseal seal --recipients-file FILE (or age -R FILE).\n")
	for _, k := range ks {
		b.WriteString(keyComment(k.PublicKey))
		b.WriteString(k.Recipient + "\n")
	}
	return b.String()
}

func keyComment(k keys.PublicKey) string {
	return fmt.Sprintf("# id: %s created: %s state: %s\n", k.ID, k.Created.UTC().Format(time.RFC3339), k.State)
}
