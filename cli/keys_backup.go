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
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gitseal/gitseal/cli/internal/backup"
	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"

	"github.com/gitseal/gitseal/internal/keys"
)

// KeysBackupOptions are the options of `gitseal keys backup`.
type KeysBackupOptions struct {
	IOStreams
	cluster *ClusterOptions

	// OutputFile is the new backup file; "-" is standard output, allowed
	// only when it is not a terminal.
	OutputFile string
	// Force allows an OutputFile inside a Git working tree. An existing
	// file is never replaced.
	Force bool
	// Output is the old spelling of OutputFile, refused with a hint so
	// that -o never names a file.
	Output string
}

// NewCmdKeysBackup returns `gitseal keys backup`.
func NewCmdKeysBackup(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &KeysBackupOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "backup --output-file FILE",
		Short: "Export the cluster's private keys to a file, for disaster recovery",
		Long: `Export every sealing key, retired ones included, to an age identity file
with mode 0600. Each key is preceded by a comment with its ID, creation
time and retired state, which gitseal keys restore reads back.

This reads the key Secrets, so it needs the right to list Secrets in the
controller's namespace. The file can open every value sealed to these
keys: keep it offline and encrypted, and never commit it.

A key Secret that holds no usable key (damaged, or not made by the
controller or gitseal keys restore) is skipped with a warning naming it;
the good keys are still backed up and the command exits 0, as the
controller goes on with the good keys too. It fails (exit 2) when there is
no usable key at all.

The file must be new, and outside any Git working tree unless --force is
given.`,
		Example: `  gitseal keys backup --output-file ~/gitseal-keys.backup

  # Encrypt it on the way out, e.g. to an offline age key
  gitseal keys backup --output-file - | age -r age1... > gitseal-keys.backup.age`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.OutputFile, outputFileFlag, "", "write the backup to the new `FILE` (required; - is standard output when it is not a terminal)")
	f.BoolVar(&o.Force, "force", false, "allow --output-file inside a Git working tree")
	f.StringVarP(&o.Output, "output", "o", "", "no longer names the file: use --output-file")
	_ = f.MarkHidden("output")
	return cmd
}

// Validate checks that the output is safe to write to.
func (o *KeysBackupOptions) Validate() error {
	switch {
	case o.Output != "":
		return withHint(fmt.Errorf("keys backup has no output format, so -o %q is refused", o.Output),
			"-o/--output is an output format on every command; name the backup file with --"+outputFileFlag+" FILE")
	case o.OutputFile == "":
		return withHint(errors.New("no output file"), "pass --"+outputFileFlag+" FILE; the file gets mode 0600")
	case o.OutputFile == "-" && isTerminal(o.Out):
		return errStdoutIsTerminal("private keys")
	case o.OutputFile != "-":
		if _, err := os.Lstat(o.OutputFile); err == nil {
			return withHint(fmt.Errorf("%s exists", o.OutputFile), "choose a new file; a backup never replaces one")
		}
		return manifest.CheckSecretFile(o.OutputFile, "private keys", o.Force)
	}
	return nil
}

// Run reads the keys and writes the backup.
func (o *KeysBackupOptions) Run(ctx context.Context) error {
	kc, err := o.cluster.kube()
	if err != nil {
		return err
	}
	ns := o.cluster.ControllerNamespace
	secrets, err := kc.listSecrets(ctx, ns, keys.LabelSealingKey+"=true")
	if err != nil {
		return withHint(fmt.Errorf("list the key Secrets in %s: %w", ns, err), apiHint(err, "list Secrets in "+ns))
	}
	var ks []*keys.Key
	var broken []string
	for i := range secrets {
		k, err := keys.Usable(&secrets[i])
		if err != nil {
			broken = append(broken, secrets[i].Name)
			fmt.Fprintf(o.ErrOut, "warning: skipping %v\n", err)
			continue
		}
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		return withHint(fmt.Errorf("no usable keys found in namespace %s", ns), "check --controller-namespace and --context")
	}
	slices.SortFunc(ks, func(a, b *keys.Key) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(string(a.ID()), string(b.ID()))
	})
	cluster, _ := o.cluster.ContextName()
	data := backup.Write(ks, cluster, ns)
	defer clear(data)

	fmt.Fprintln(o.ErrOut, "warning: the backup holds the cluster's private keys. Whoever has it can open every value sealed to them: keep it offline and encrypted, and never commit it.")
	if o.OutputFile == "-" {
		_, err := o.Out.Write(data)
		return err
	}
	if err := manifest.CreateSecretFile(o.OutputFile, data); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "wrote %d key(s) to %s (mode 0600)\n", len(ks), o.OutputFile)
	if len(broken) > 0 {
		fmt.Fprintf(o.ErrOut, "warning: %d key Secret(s) hold no usable key and are not in the backup: %s\n", len(broken), strings.Join(broken, ", "))
	}
	return nil
}
