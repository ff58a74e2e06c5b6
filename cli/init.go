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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/repoconfig"
)

// InitOptions are the options of `gitseal init`.
type InitOptions struct {
	IOStreams
	cluster *ClusterOptions

	// ClusterName names the cluster in the file; default: the kube
	// context's name.
	ClusterName string
	// File is where to write; default: .gitseal.yaml at the repository
	// root (the nearest directory up with .git), else here.
	File  string
	Scope string
	Force bool
}

// NewCmdInit returns `gitseal init`.
func NewCmdInit(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &InitOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a .gitseal.yaml that seals to the cluster's current key",
		Long: `Fetch the cluster's active public key and write .gitseal.yaml at the
repository root, with one cluster and one rule that seals every path to it.
Commit the file: from then on gitseal seal works offline, in CI too, and
picks keys and scope by file path. Add rules (first match wins) and
clusters by hand; see docs/cli.md. After the cluster rotates or retires a
key, gitseal keys refresh updates the file.`,
		Example: `  gitseal init
  gitseal init --cluster-name prod --scope namespace
  gitseal --context staging init --cluster-name staging --output-file deploy/.gitseal.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.ClusterName, "cluster-name", "", "the cluster's name in the file (default: the kube context's name)")
	cmd.Flags().StringVar(&o.File, outputFileFlag, "", "write the configuration to `FILE` (default: .gitseal.yaml at the repository root)")
	// --file was the old spelling; the file is public, so it still works.
	cmd.Flags().StringVar(&o.File, "file", "", "the same as --output-file")
	_ = cmd.Flags().MarkHidden("file")
	cmd.Flags().StringVar(&o.Scope, "scope", string(crypto.Strict), "the rule's scope: strict, namespace or cluster (kubeseal's namespace-wide and cluster-wide are accepted)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite an existing file")
	_ = cmd.RegisterFlagCompletionFunc("scope", cobra.FixedCompletions([]string{"strict", "namespace", "cluster"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Validate checks the scope and picks the file.
func (o *InitOptions) Validate() error {
	scope, err := parseScope(o.Scope)
	if err != nil {
		return err
	}
	o.Scope = string(scope)
	if o.File == "" {
		o.File = filepath.Join(repoRoot("."), repoconfig.FileName)
	}
	if _, err := os.Lstat(o.File); err == nil && !o.Force {
		return withHint(fmt.Errorf("%s exists", o.File), "edit it by hand to add a cluster, or pass --force to replace it")
	}
	return nil
}

// Run fetches the key and writes the file.
func (o *InitOptions) Run(ctx context.Context) error {
	published, _, err := o.cluster.fetchPublicKeys(ctx, o.ErrOut)
	if err != nil {
		return err
	}
	active := activeKey(published)
	name := o.ClusterName
	if name == "" {
		if name, err = o.cluster.ContextName(); err != nil {
			return withHint(err, "pass --cluster-name")
		}
	}
	text := initialConfig(name, active, crypto.Scope(o.Scope))
	if _, err := repoconfig.Parse([]byte(text)); err != nil {
		return fmt.Errorf("the generated configuration does not parse: %w", err)
	}
	if err := manifest.WriteFileAtomic(o.File, []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "wrote %s: cluster %q, key %s, scope %s. Commit it; gitseal seal now works offline.\n", o.File, name, active.ID, o.Scope)
	return nil
}

// initialConfig is the text of a new .gitseal.yaml.
func initialConfig(cluster string, key publishedKey, scope crypto.Scope) string {
	var b strings.Builder
	b.WriteString("# gitseal: which keys `gitseal seal` seals to, by file path.\n")
	b.WriteString("# Rules are tried in order and the first whose path matches wins;\n")
	b.WriteString("# paths are globs relative to this file, and ** spans directories.\n")
	b.WriteString("# Refresh a cluster's keys after a rotation: gitseal keys refresh.\n")
	b.WriteString("clusters:\n")
	fmt.Fprintf(&b, "  - name: %s\n", manifest.YAMLKey(cluster))
	b.WriteString("    recipients:\n")
	fmt.Fprintf(&b, "      # id: %s created: %s\n", key.ID, key.Created.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "      - %s\n", key.Recipient)
	b.WriteString("rules:\n")
	b.WriteString("  - path: \"**\"\n")
	fmt.Fprintf(&b, "    clusters: [%s]\n", manifest.YAMLKey(cluster))
	fmt.Fprintf(&b, "    scope: %s\n", scope)
	return b.String()
}

// repoRoot returns the nearest directory up from dir that holds .git, or
// dir itself.
func repoRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}
