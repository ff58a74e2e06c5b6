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
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/gitseal/gitseal/internal/version"
)

// VersionOptions are the options of the version command.
type VersionOptions struct {
	IOStreams
}

// NewCmdVersion returns the version command, which prints the gitseal version.
func NewCmdVersion(streams IOStreams) *cobra.Command {
	o := &VersionOptions{IOStreams: streams}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the gitseal version",
		Example: `  gitseal version`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.Run()
		},
	}
}

// Run prints the version, the Go version and the platform of this build.
func (o *VersionOptions) Run() error {
	_, err := fmt.Fprintf(o.Out, "gitseal %s (%s, %s/%s)\n",
		version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
