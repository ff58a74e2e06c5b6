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
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitseal/gitseal/cli/internal/backup"
	"github.com/gitseal/gitseal/internal/keys"
)

// KeysRestoreOptions are the options of `gitseal keys restore`.
type KeysRestoreOptions struct {
	IOStreams
	cluster *ClusterOptions

	// File is the backup to restore.
	File string
	// now is the creation time given to keys whose backup comment is
	// missing; time.Now when nil.
	now func() time.Time
}

// NewCmdKeysRestore returns `gitseal keys restore`.
func NewCmdKeysRestore(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &KeysRestoreOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Recreate the key Secrets from a backup",
		Long: `Recreate the key Secrets from a file written by gitseal keys backup, keeping
each key's creation time and retired state, so the key that was active
before is not displaced by an older one. Keys whose Secret exists are
skipped. The controller picks restored keys up at once.

A plain age identity file works too; its keys get the current time as
creation time, which makes the newest of them the active key.`,
		Example: `  # Disaster recovery: install gitseal in the new cluster, then
  gitseal keys restore gitseal-keys.backup
  gitseal keys list`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return o.Run(cmd.Context())
		},
	}
	return cmd
}

// Run restores the keys.
func (o *KeysRestoreOptions) Run(ctx context.Context) error {
	data, err := os.ReadFile(o.File)
	if err != nil {
		return err
	}
	defer clear(data)
	backed, err := backup.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", o.File, err)
	}
	kc, err := o.cluster.kube()
	if err != nil {
		return err
	}
	now := time.Now
	if o.now != nil {
		now = o.now
	}
	ns := o.cluster.ControllerNamespace
	created, skipped := 0, 0
	for _, k := range backed {
		when, retired := k.Created, k.Retired
		if !k.Known {
			when = now()
			fmt.Fprintf(o.ErrOut, "note: key %s has no backup comment; restoring it as created now, not retired\n", k.Identity.ID())
		}
		s := keys.NewSecret(ns, k.Identity, when)
		if retired {
			s.Labels[keys.LabelRetired] = "true"
		}
		err := kc.createSecret(ctx, s, keys.FieldManagerRestore)
		clear(s.Data[keys.SecretDataKey])
		switch {
		case apierrors.IsAlreadyExists(err):
			skipped++
			fmt.Fprintf(o.Out, "key %s: exists, skipped\n", k.Identity.ID())
			continue
		case apierrors.IsNotFound(err):
			return withHint(fmt.Errorf("namespace %s not found", ns), "install gitseal first, or check --controller-namespace")
		case err != nil:
			return withHint(fmt.Errorf("create Secret %s/%s: %w", ns, s.Name, err), apiHint(err, "create Secrets in "+ns))
		}
		created++
		state := ""
		if retired {
			state = ", retired"
		}
		fmt.Fprintf(o.Out, "key %s: restored as Secret %s/%s (created %s%s)\n", k.Identity.ID(), ns, s.Name, when.UTC().Format(time.RFC3339), state)
	}
	fmt.Fprintf(o.ErrOut, "%d key(s) restored, %d skipped\n", created, skipped)
	return nil
}
