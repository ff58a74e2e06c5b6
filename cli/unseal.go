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
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/sealer"
)

// UnsealOptions are the options of `gitseal unseal`.
type UnsealOptions struct {
	IOStreams

	// Identity is the file of private keys; it must be given explicitly.
	Identity string
	// OutputFile is a new file that receives the Secrets (mode 0600);
	// empty or "-" means standard output.
	OutputFile string
	// Force allows an OutputFile inside a Git working tree.
	Force bool
	// Output is the format: yaml or json. Format is kubeseal's spelling
	// of it.
	Output string
	Format string
	Files  []string

	format manifest.Format
}

// NewCmdUnseal returns `gitseal unseal`.
func NewCmdUnseal(streams IOStreams) *cobra.Command {
	o := &UnsealOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "unseal --identity FILE [FILE...]",
		Short: "Open SealedSecrets offline with a backup key (recovery)",
		Long: `Open SealedSecrets offline with private keys from a backup (gitseal keys
backup) or any age identity file, and write the Secrets.

Each value's binding is checked against the SealedSecret's own namespace,
name and item key, exactly as the controller does, so a value copied into
another SealedSecret does not open. It is all or nothing: if one value does
not open, nothing is written.

With --output-file the Secrets are written to a new file with mode 0600.
An existing file is never replaced, and a path inside a Git working tree is
refused unless --force is given: plaintext must not be committed by a
careless git add.`,
		Example: `  gitseal unseal --identity gitseal-keys.backup < db.sealed.yaml
  gitseal unseal --identity gitseal-keys.backup -o json --output-file /tmp/db.secret.json db.sealed.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVar(&o.Identity, "identity", "", "age identity `FILE` with the private keys (required)")
	f := cmd.Flags()
	f.StringVar(&o.OutputFile, outputFileFlag, "", "write the Secrets to the new `FILE` (mode 0600) instead of standard output; never inside a Git working tree without --force")
	f.BoolVar(&o.Force, "force", false, "allow --output-file inside a Git working tree")
	f.StringVarP(&o.Output, "output", "o", "", "output format: yaml or json (default yaml)")
	f.StringVar(&o.Format, "format", "", "the same as --output (kubeseal's spelling)")
	formats := cobra.FixedCompletions([]string{"yaml", "json"}, cobra.ShellCompDirectiveNoFileComp)
	_ = cmd.RegisterFlagCompletionFunc("output", formats)
	_ = cmd.RegisterFlagCompletionFunc("format", formats)
	return cmd
}

// Validate checks the flags.
func (o *UnsealOptions) Validate() error {
	if o.Identity == "" {
		return withHint(errors.New("no private key given"), "pass --identity FILE, e.g. a file written by gitseal keys backup")
	}
	out, err := formatFlag(o.Output, o.Format, "yaml", "yaml", "json")
	if err != nil {
		return err
	}
	o.format = manifest.Format(out)
	if o.OutputFile != "" && o.OutputFile != "-" {
		if _, err := os.Lstat(o.OutputFile); err == nil {
			return withHint(fmt.Errorf("%s exists", o.OutputFile), "choose a new file; gitseal never overwrites one with secret material")
		}
		return manifest.CheckSecretFile(o.OutputFile, "plaintext Secrets", o.Force)
	}
	return nil
}

// Run opens the SealedSecrets and writes the Secrets.
func (o *UnsealOptions) Run() error {
	ids, err := readIdentities(o.Identity)
	if err != nil {
		return err
	}
	noteTerminalStdin(o.IOStreams, o.Files)
	inputs, err := manifest.ReadInputs(o.Files, o.In, false)
	if err != nil {
		return err
	}
	sealed, err := manifest.ReadSealedSecrets(inputs)
	if err != nil {
		return err
	}
	var docs [][]byte
	defer func() {
		for _, d := range docs {
			clear(d)
		}
	}()
	for _, ss := range sealed {
		opened, err := sealer.Open(ss, ids)
		if err != nil {
			return withHint(fmt.Errorf("%s: %w", manifest.ObjectName(ss.Namespace, ss.Name), err), openHint(err))
		}
		doc, err := manifest.Marshal(secretOf(ss, opened.Data), o.format)
		opened.Wipe()
		if err != nil {
			return err
		}
		docs = append(docs, doc)
	}
	if o.OutputFile == "" || o.OutputFile == "-" {
		return manifest.WriteDocuments(o.Out, docs, o.format)
	}
	var buf bytes.Buffer
	if err := manifest.WriteDocuments(&buf, docs, o.format); err != nil {
		return err
	}
	defer clear(buf.Bytes())
	if err := manifest.CreateSecretFile(o.OutputFile, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "wrote %d Secret(s) to %s (mode 0600)\n", len(docs), o.OutputFile)
	return nil
}

// readIdentities reads private keys from a file.
func readIdentities(path string) ([]*crypto.Identity, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the user names the key file.
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	ids, err := crypto.ParseIdentities(f)
	if err != nil {
		return nil, withHint(fmt.Errorf("%s: %w", path, err), "--identity takes an age identity file, such as one written by gitseal keys backup")
	}
	return ids, nil
}

// openHint says what to do when a value does not open.
func openHint(err error) string {
	switch {
	case errors.Is(err, crypto.ErrNoMatchingKey):
		return "none of the given keys is one the value was sealed to; check the key IDs with gitseal diff FILE"
	case errors.Is(err, crypto.ErrScopeMismatch):
		return "the value was sealed for another namespace, name or item key; re-seal it from the original Secret"
	case errors.Is(err, crypto.ErrMalformed):
		return "the value is damaged or was tampered with; re-seal it from the original Secret"
	}
	return ""
}

// secretOut is how unseal writes a Secret.
type secretOut struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   manifest.Meta     `json:"metadata"`
	Type       corev1.SecretType `json:"type,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
	Data       map[string][]byte `json:"data"`
}

// secretOf is the Secret the controller would write for ss.
func secretOf(ss *gitsealv1alpha1.SealedSecret, data map[string][]byte) secretOut {
	s := secretOut{
		APIVersion: "v1",
		Kind:       "Secret",
		Metadata:   manifest.Meta{Name: ss.Name, Namespace: ss.Namespace},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
	if t := ss.Spec.Template; t != nil {
		if t.Type != "" {
			s.Type = corev1.SecretType(t.Type)
		}
		s.Immutable = t.Immutable
		if t.Metadata != nil {
			s.Metadata.Labels, s.Metadata.Annotations = t.Metadata.Labels, t.Metadata.Annotations
		}
	}
	return s
}
