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
	"github.com/spf13/cobra"
)

// NewCmdKeys returns the keys command, which groups the commands that
// read and manage the cluster's sealing keys.
func NewCmdKeys(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Fetch, list, rotate, back up, restore and retire the cluster's sealing keys, and refresh .gitseal.yaml",
		Long: `The gitseal controller keeps its private keys in Secrets in its namespace
(default gitseal-system) and publishes the public keys in the ConfigMap
gitseal-keys. These commands read and manage them with your kube credentials.`,
		Example: `  gitseal keys fetch --output-file .gitseal/prod.txt
  gitseal keys list
  gitseal keys rotate
  gitseal keys backup --output-file gitseal-keys.backup
  gitseal keys restore gitseal-keys.backup
  gitseal keys retire 3f2a9c1b2d3e4f5a
  gitseal keys refresh`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdKeysFetch(streams, cluster))
	cmd.AddCommand(NewCmdKeysList(streams, cluster))
	cmd.AddCommand(NewCmdKeysRotate(streams, cluster))
	cmd.AddCommand(NewCmdKeysBackup(streams, cluster))
	cmd.AddCommand(NewCmdKeysRestore(streams, cluster))
	cmd.AddCommand(NewCmdKeysRetire(streams, cluster))
	cmd.AddCommand(NewCmdKeysRefresh(streams, cluster))
	return cmd
}
