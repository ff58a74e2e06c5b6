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
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"

	"github.com/gitseal/gitseal/internal/gitscan"
)

// hookMarker is in every hook gitseal writes, so it recognises its own.
const hookMarker = "# gitseal-hook: pre-commit"

// HookOptions are the options of `gitseal hook install` and `uninstall`.
type HookOptions struct {
	IOStreams
	// Force replaces a pre-commit hook gitseal did not write, keeping it
	// as pre-commit.gitseal-backup.
	Force bool
	// Binary is the gitseal the hook runs; default "gitseal" on the PATH.
	Binary string

	workDir string
}

// NewCmdHook returns `gitseal hook`, with install and uninstall.
func NewCmdHook(streams IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Install a git pre-commit hook that runs gitseal scan --staged",
		Long: `Manage a plain git pre-commit hook that runs gitseal scan --staged, so a
commit that would add a plaintext secret is refused. For the pre-commit
framework, use the gitseal hook of .pre-commit-hooks.yaml instead.`,
		Example: `  # Refuse commits that add plaintext secrets, in this repository
  gitseal hook install

  # Take the hook out again
  gitseal hook uninstall`,
	}
	cmd.AddCommand(newCmdHookInstall(streams), newCmdHookUninstall(streams))
	return cmd
}

func newCmdHookInstall(streams IOStreams) *cobra.Command {
	o := &HookOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Write .git/hooks/pre-commit (refuses to replace another hook without --force)",
		Example: `  gitseal hook install
  gitseal hook install --binary /usr/local/bin/gitseal`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Install(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace an existing pre-commit hook, keeping it as pre-commit.gitseal-backup")
	cmd.Flags().StringVar(&o.Binary, "binary", "gitseal", "the gitseal `COMMAND` the hook runs")
	return cmd
}

func newCmdHookUninstall(streams IOStreams) *cobra.Command {
	o := &HookOptions{IOStreams: streams}
	return &cobra.Command{
		Use:     "uninstall",
		Short:   "Remove the pre-commit hook gitseal wrote (never another one)",
		Example: `  gitseal hook uninstall`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Uninstall(cmd.Context())
		},
	}
}

// hookScript is the pre-commit hook. It fails the commit, rather than
// letting it through unchecked, when gitseal cannot be found.
func hookScript(binary string) string {
	q := shellQuote(binary)
	return `#!/bin/sh
` + hookMarker + `
# Installed by "gitseal hook install"; remove with "gitseal hook uninstall".
# Refuses a commit that would put a secret into Git in plain text.
if ! command -v ` + q + ` >/dev/null 2>&1; then
	echo "gitseal pre-commit hook: ` + strings.ReplaceAll(binary, `"`, `'`) + ` not found; install gitseal or run gitseal hook uninstall" >&2
	exit 1
fi
exec ` + q + ` scan --staged
`
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (o *HookOptions) hookPath(ctx context.Context) (string, error) {
	dir := o.workDir
	if dir == "" {
		dir = "."
	}
	repo, err := gitscan.Open(ctx, dir)
	if err != nil {
		return "", &ExitError{Code: ExitFailure, Err: err}
	}
	hooks, err := repo.HooksDir(ctx)
	if err != nil {
		return "", &ExitError{Code: ExitFailure, Err: err}
	}
	return filepath.Join(hooks, "pre-commit"), nil
}

// Install writes the hook. An existing hook that gitseal did not write is
// kept unless Force is set, and then it is moved aside, not deleted.
func (o *HookOptions) Install(ctx context.Context) error {
	if strings.TrimSpace(o.Binary) == "" {
		return &ExitError{Code: ExitFailure, Err: errors.New("--binary is empty")}
	}
	path, err := o.hookPath(ctx)
	if err != nil {
		return err
	}
	existing, err := os.ReadFile(path) //nolint:gosec // G304: the pre-commit hook in git's hooks directory.
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("read %s: %w", path, err)}
	case bytes.Contains(existing, []byte(hookMarker)):
		// Ours: update it.
	case !o.Force:
		return &ExitError{Code: ExitFailure, Err: withHint(
			fmt.Errorf("%s exists and was not written by gitseal", path),
			"add `gitseal scan --staged` to it yourself, or run gitseal hook install --force to replace it (it is kept as pre-commit.gitseal-backup)")}
	default:
		backup := path + ".gitseal-backup"
		if err := os.Rename(path, backup); err != nil {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("keep the existing hook: %w", err)}
		}
		fmt.Fprintf(o.ErrOut, "moved the existing hook to %s\n", backup)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // G301: git makes its hooks directory 0755 too.
		return &ExitError{Code: ExitFailure, Err: err}
	}
	if err := manifest.WriteFileAtomic(path, []byte(hookScript(o.Binary)), 0o755); err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	fmt.Fprintf(o.Out, "installed %s: commits now run gitseal scan --staged\n", path)
	return nil
}

// Uninstall removes the hook if gitseal wrote it.
func (o *HookOptions) Uninstall(ctx context.Context) error {
	path, err := o.hookPath(ctx)
	if err != nil {
		return err
	}
	existing, err := os.ReadFile(path) //nolint:gosec // G304: the pre-commit hook in git's hooks directory.
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(o.Out, "no pre-commit hook at %s\n", path)
		return nil
	case err != nil:
		return &ExitError{Code: ExitFailure, Err: err}
	case !bytes.Contains(existing, []byte(hookMarker)):
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s was not written by gitseal; leaving it", path)}
	}
	if err := os.Remove(path); err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	fmt.Fprintf(o.Out, "removed %s\n", path)
	return nil
}
