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
	"time"

	"github.com/spf13/cobra"
)

// NewCmdSuspend returns `gitseal suspend`.
func NewCmdSuspend(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &SyncOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "suspend NAME",
		Short: "Stop syncing a GitSync; what it applied stays as it is",
		Long: `Stop syncing a GitSync: the controller no longer fetches, applies, prunes
or corrects drift for it, and what it applied stays as it is, until
gitseal resume. Deleting a suspended GitSync prunes nothing.

It sets spec.suspend, so it needs the right to patch GitSyncs in the
namespace. Git remains the source of truth: a suspension is for an incident
or a migration, not a way of life.`,
		Example: `  gitseal suspend apps -n team-a
  gitseal resume apps -n team-a`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeName,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return o.setSuspend(cmd.Context(), true)
		},
	}
	o.addFlags(cmd, false, "")
	return cmd
}

// NewCmdResume returns `gitseal resume`.
func NewCmdResume(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &SyncOptions{IOStreams: streams, cluster: cluster, PollInterval: 250 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "resume NAME",
		Short: "Resume syncing a suspended GitSync, and wait for its first sync",
		Long: `Resume syncing a GitSync that gitseal suspend stopped, and sync it at once:
like gitseal sync, it waits for the result and prints the revision applied,
or the reason the sync failed (exit 1).`,
		Example: `  gitseal resume apps -n team-a
  gitseal resume apps --no-wait`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeName,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.setSuspend(cmd.Context(), false); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.addFlags(cmd, true, "resume and request the sync, without waiting for its result")
	return cmd
}

// setSuspend sets spec.suspend of the GitSync.
func (o *SyncOptions) setSuspend(ctx context.Context, suspend bool) error {
	kc, err := o.cluster.kube()
	if err != nil {
		return err
	}
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	if _, err := kc.getGitSync(ctx, ns, o.Name); err != nil {
		return gitSyncError(err, ns, o.Name)
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"suspend": suspend}})
	if err := kc.mergePatch(ctx, gitSyncsResource(), ns, o.Name, patch); err != nil {
		return withHint(fmt.Errorf("set spec.suspend of GitSync %s/%s: %w", ns, o.Name, err), apiHint(err, "patch GitSyncs in "+ns))
	}
	if suspend {
		fmt.Fprintf(o.Out, "suspended %s/%s\n", ns, o.Name)
	} else {
		fmt.Fprintf(o.ErrOut, "resumed %s/%s\n", ns, o.Name)
	}
	return nil
}

// completeName completes a GitSync's name.
func (o *SyncOptions) completeName(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return o.gitSyncNames(cmd.Context()), cobra.ShellCompDirectiveNoFileComp
}
