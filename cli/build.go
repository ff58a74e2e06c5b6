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
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/policy"
	"github.com/gitseal/gitseal/internal/render"
	"github.com/gitseal/gitseal/internal/sealedvalue"
)

// sealedPlaceholder stands for a sealed value in gitseal build's output.
const sealedPlaceholder = "<sealed>"

// BuildOptions are the options of `gitseal build`.
type BuildOptions struct {
	IOStreams

	// Path is the directory to render, as a GitSync's spec.path names it
	// within its repository.
	Path string
	// Output is the format: yaml or json.
	Output string
	// OutputFile receives the objects instead of standard output.
	OutputFile string
}

// NewCmdBuild returns `gitseal build`.
func NewCmdBuild(streams IOStreams) *cobra.Command {
	o := &BuildOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "build [PATH]",
		Short: "Render a path as a GitSync would, with sealed values as <sealed>",
		Long: `Render a directory the way the controller renders a GitSync's spec.path,
and print the objects it would apply, in the order it would apply them.
It is what to run before pushing.

The render is the controller's own: kustomize in the same sandbox, rooted
at the Git repository that holds PATH (found from PATH upward, as the
controller's checkout is its root), so a link or a reference out of the
repository is refused here as it is there. A directory without a
kustomization is built as every manifest under it; nothing is written to
it. The working tree is rendered as it is, uncommitted changes included.

A plaintext Secret (data or stringData) is refused as the controller
refuses it: nothing is printed, and the error names the object and its
keys, never a value. Every sealed value, including all of a SealedSecret's
spec.encryptedData, is printed as <sealed>.

Exit status: 0 when the controller would accept the render, 1 when it would
refuse it (a build error, a sandbox refusal or a plaintext Secret), 2 on a
usage error or a failure to write the output.`,
		Example: `  # What the GitSync with spec.path apps/prod would apply
  gitseal build apps/prod

  # Review what a change renders to, before pushing it
  gitseal build apps/prod --output-file /tmp/after.yaml
  git stash && gitseal build apps/prod > /tmp/before.yaml; git stash pop
  diff -u /tmp/before.yaml /tmp/after.yaml`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeDirectory,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Path = "."
			if len(args) == 1 {
				o.Path = args[0]
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", string(manifest.YAML), "output format: yaml (a stream of documents) or json (a stream of objects)")
	cmd.Flags().StringVar(&o.OutputFile, outputFileFlag, "", "write the objects to `FILE` instead of standard output")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{string(manifest.YAML), string(manifest.JSON)}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// completeDirectory completes the one PATH argument with directories.
func completeDirectory(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// Validate checks the options.
func (o *BuildOptions) Validate() error {
	return checkFormat(o.Output, string(manifest.YAML), string(manifest.JSON))
}

// Run renders Path and writes the objects. A render the controller would
// refuse ends it with ExitError{Code: ExitNo} and writes nothing.
func (o *BuildOptions) Run(ctx context.Context) error {
	root, rel, err := buildRoot(o.Path)
	if err != nil {
		return err
	}
	res, err := render.BuildPath(ctx, root, rel, render.Options{})
	if err != nil {
		if errors.Is(err, render.ErrNoPath) || errors.Is(err, render.ErrRefused) || errors.Is(err, render.ErrBuildFailed) {
			return &ExitError{Code: ExitNo, Err: err}
		}
		return err
	}
	objs := res.Objects()
	// The controller's policy: policy.New(policy.Options{}) in
	// GitSyncReconciler.SetupWithManager.
	if msg := policy.New(policy.Options{}).RefusePlaintextSecrets(objs); msg != "" {
		return &ExitError{Code: ExitNo, Err: errors.New(msg)}
	}
	if len(objs) == 0 {
		fmt.Fprintf(o.ErrOut, "warning: %s renders no objects; a GitSync with objects applied refuses an empty revision unless spec.allowEmpty is set\n", o.Path)
	}
	docs := make([][]byte, 0, len(objs))
	for _, obj := range objs {
		doc, err := encodeObject(maskSealed(obj), manifest.Format(o.Output))
		if err != nil {
			return err
		}
		docs = append(docs, doc)
	}
	if o.OutputFile == "" || o.OutputFile == "-" {
		return manifest.WriteDocuments(o.Out, docs, manifest.Format(o.Output))
	}
	var b bytes.Buffer
	if err := manifest.WriteDocuments(&b, docs, manifest.Format(o.Output)); err != nil {
		return err
	}
	if err := manifest.WriteFileAtomic(o.OutputFile, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "wrote %d object(s) to %s\n", len(objs), o.OutputFile)
	return nil
}

// buildRoot returns the sandbox root for path, and path relative to it as
// a GitSync's spec.path: the root of the Git working tree that holds path,
// found from path upward without following links (so that a path that is
// a link out of the repository is refused, as in the controller's
// checkout), or path itself outside a repository.
func buildRoot(path string) (root, rel string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	info, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("%s does not exist", path)
	case err != nil:
		return "", "", err
	case !info.IsDir():
		return "", "", withHint(fmt.Errorf("%s is not a directory", path), "name the directory a GitSync's spec.path would name")
	}
	for d := abs; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			rel, err := filepath.Rel(d, abs)
			if err != nil {
				return "", "", err
			}
			return d, filepath.ToSlash(rel), nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return abs, ".", nil
		}
		d = parent
	}
}

// maskSealed returns a copy of obj with every sealed value replaced by
// <sealed>: each value of a SealedSecret's spec.encryptedData, whatever
// its format (gitseal or Bitnami), each of its spec.dataKeys, and any
// string elsewhere that is a gitseal sealed value or data key.
func maskSealed(obj map[string]any) map[string]any {
	out, _ := maskValue(obj).(map[string]any)
	if kind, _ := out["kind"].(string); kind != "SealedSecret" {
		return out
	}
	spec, _ := out["spec"].(map[string]any)
	data, _ := spec["encryptedData"].(map[string]any)
	for k := range data {
		data[k] = sealedPlaceholder
	}
	if dks, ok := spec["dataKeys"].([]any); ok {
		for i := range dks {
			dks[i] = sealedPlaceholder
		}
	}
	return out
}

// maskValue copies v, replacing gitseal sealed values.
func maskValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = maskValue(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = maskValue(e)
		}
		return out
	case string:
		if looksSealed(v) {
			return sealedPlaceholder
		}
	}
	return v
}

// looksSealed reports whether s is a gitseal sealed value of either format
// or a wrapped data key, as far as that can be told without its object.
func looksSealed(s string) bool {
	if _, err := crypto.Inspect(s); err == nil {
		return true
	}
	if _, err := crypto.InspectDataKey(s); err == nil {
		return true
	}
	if _, err := sealedvalue.DataKeyIndex(s); err != nil {
		return false
	}
	ct := s[strings.LastIndexByte(s, ':')+1:]
	return len(ct) >= 22 && strings.Trim(ct, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == "" // at least an AEAD tag of base64
}

// encodeObject encodes one rendered object as a YAML document or as
// indented JSON.
func encodeObject(obj map[string]any, f manifest.Format) ([]byte, error) {
	if f == manifest.JSON {
		raw, err := json.MarshalIndent(obj, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(raw, '\n'), nil
	}
	return yaml.Marshal(obj)
}
