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

// Package cli implements the gitseal command line: one cobra command per
// file, each built by a NewCmdX constructor from the streams it writes to.
package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// IOStreams are the streams a command reads from and writes to, so tests can
// capture them.
type IOStreams struct {
	// In is the standard input.
	In io.Reader
	// Out is the standard output.
	Out io.Writer
	// ErrOut is the standard error.
	ErrOut io.Writer
}

// PluginName is the executable name under which gitseal works as a kubectl
// plugin: installed as kubectl-gitseal on the PATH, it runs as
// `kubectl gitseal`.
const PluginName = "kubectl-gitseal"

// PluginCompletionName is the executable name kubectl (1.26 and later)
// runs to complete `kubectl gitseal <TAB>`: installed under it, gitseal
// answers as `kubectl-gitseal __complete`.
const PluginCompletionName = "kubectl_complete-gitseal"

// NewCmdRoot returns the gitseal root command with all subcommands attached.
// Run as kubectl-gitseal (see PluginName), its help speaks of
// `kubectl gitseal`; run as kubectl_complete-gitseal (see
// PluginCompletionName), it completes its arguments.
func NewCmdRoot(streams IOStreams) *cobra.Command {
	cmd := newCmdRoot(streams, filepath.Base(os.Args[0]))
	if strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe") == PluginCompletionName {
		cmd.SetArgs(append([]string{cobra.ShellCompRequestCmd}, os.Args[1:]...))
	}
	return cmd
}

func newCmdRoot(streams IOStreams, executable string) *cobra.Command {
	cluster := &ClusterOptions{}
	var kubeseal kubesealFlags
	var showVersion bool
	cmd := &cobra.Command{
		Use:   "gitseal",
		Short: "Seal Kubernetes Secrets for a cluster's gitseal controller",
		Long: `gitseal seals Kubernetes Secrets so that they can be stored in Git.
Only the gitseal controller in the target cluster can open them, and only
as the Secret they were sealed for.`,
		Example: `  # Fetch the cluster's public key, then seal a Secret with it
  gitseal keys fetch --output-file .gitseal/prod.txt
  gitseal seal --recipients-file .gitseal/prod.txt < secret.yaml > sealed.yaml

  # Or seal with the key the cluster publishes right now
  kubectl create secret generic db --from-literal=password=... --dry-run=client -o yaml | gitseal seal > db.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := kubeseal.check(); err != nil {
				return err
			}
			if showVersion {
				return (&VersionOptions{IOStreams: streams}).Run()
			}
			return cmd.Help()
		},
	}
	cmd.Flags().BoolVar(&showVersion, "version", false, "print the version, like gitseal version")
	kubeseal.addFlags(cmd.Flags())
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cluster.addFlags(cmd.PersistentFlags())
	cluster.registerCompletions(cmd)

	cmd.AddCommand(NewCmdVersion(streams))
	cmd.AddCommand(NewCmdKeys(streams, cluster))
	cmd.AddCommand(NewCmdPubkey(streams, cluster))
	cmd.AddCommand(NewCmdInit(streams, cluster))
	cmd.AddCommand(NewCmdSeal(streams, cluster))
	cmd.AddCommand(NewCmdUnseal(streams))
	cmd.AddCommand(NewCmdReseal(streams, cluster))
	cmd.AddCommand(NewCmdValidate(streams, cluster))
	cmd.AddCommand(NewCmdDiff(streams))
	cmd.AddCommand(NewCmdScan(streams))
	cmd.AddCommand(NewCmdBuild(streams))
	cmd.AddCommand(NewCmdHook(streams))
	cmd.AddCommand(NewCmdSync(streams, cluster))
	cmd.AddCommand(NewCmdMigrate(streams, cluster))
	cmd.AddCommand(NewCmdSuspend(streams, cluster))
	cmd.AddCommand(NewCmdResume(streams, cluster))

	if name := strings.TrimSuffix(executable, ".exe"); name == PluginName || name == PluginCompletionName {
		asKubectlPlugin(cmd)
	}
	return cmd
}

// asKubectlPlugin makes help and completion speak of `kubectl gitseal`.
func asKubectlPlugin(root *cobra.Command) {
	root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl gitseal"}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, lead := range []string{"  ", "| ", "$("} {
			c.Example = strings.ReplaceAll(c.Example, lead+"gitseal ", lead+"kubectl gitseal ")
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
