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

// NewCmdRoot returns the gitseal root command with all subcommands attached.
func NewCmdRoot(streams IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gitseal",
		Short: "Seal Kubernetes Secrets for a cluster's gitseal controller",
		Long: `gitseal seals Kubernetes Secrets so that they can be stored in Git.
Only the gitseal controller in the target cluster can open them, and only
as the Secret they were sealed for.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)

	cmd.AddCommand(NewCmdVersion(streams))
	return cmd
}
