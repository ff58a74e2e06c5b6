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
	"strings"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"

	"github.com/gitseal/gitseal/internal/httpapi"
)

// ValidateOptions are the options of `gitseal validate`.
type ValidateOptions struct {
	IOStreams
	cluster *ClusterOptions

	Files     []string
	Recursive bool
}

// NewCmdValidate returns `gitseal validate`.
func NewCmdValidate(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &ValidateOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "validate [FILE...]",
		Short: "Check that SealedSecrets would open in the cluster",
		Long: `Ask the cluster's controller whether each SealedSecret would open there:
every value decrypts with one of its keys and is bound to the
SealedSecret's namespace, name and item key. The answer is yes, or no with
the reason and the first failing item. A SealedSecret with a value sealed
to a key the cluster retired is reported too, even if it still opens: move
it with gitseal reseal --only-retired. No plaintext leaves the controller.

Exit status: 0 when all are valid and on current keys, 1 when one is not,
2 on failure.`,
		Example: `  gitseal validate db.sealed.yaml
  gitseal validate -R deploy/ && kubectl apply -R -f deploy/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVarP(&o.Recursive, "recursive", "R", false, "validate every SealedSecret in the *.yaml, *.yml and *.json files below the directories given; other objects are skipped")
	return cmd
}

// Run validates every SealedSecret in the input.
func (o *ValidateOptions) Run(ctx context.Context) error {
	noteTerminalStdin(o.IOStreams, o.Files)
	inputs, err := manifest.ReadInputs(o.Files, o.In, o.Recursive)
	if err != nil {
		return err
	}
	if o.Recursive {
		inputs = onlySealedSecrets(inputs)
	}
	sealed, err := manifest.ReadSealedSecrets(inputs)
	if err != nil {
		return err
	}
	client, err := o.cluster.Controller()
	if err != nil {
		return err
	}
	// One request for up to httpapi.MaxBatchItems objects: a repository
	// is validated in a few requests, within the controller's rate limit.
	answers, err := client.ValidateBatch(ctx, sealed)
	if err != nil {
		return withHint(fmt.Errorf("validate: %w", err), controllerHint(err, o.cluster))
	}
	invalid := 0
	for i, ss := range sealed {
		name := manifest.ObjectName(ss.Namespace, ss.Name)
		resp := answers[i]
		retired := ""
		if len(resp.RetiredKeyIDs) > 0 {
			retired = "sealed to retired key " + strings.Join(resp.RetiredKeyIDs, ", ")
		}
		switch {
		case resp.Valid && retired == "":
			fmt.Fprintf(o.Out, "%s: valid (opens with key %s)\n", name, strings.Join(resp.KeyIDs, ", "))
			continue
		case resp.Valid:
			// It opens today, but the key is on its way out: a yes would
			// let it stay there unnoticed.
			fmt.Fprintf(o.Out, "%s: %s (opens with key %s): re-seal it with gitseal reseal --only-retired\n", name, retired, strings.Join(resp.KeyIDs, ", "))
		default:
			item := ""
			if resp.Item != "" {
				item = fmt.Sprintf(" item %q:", resp.Item)
			}
			if retired != "" {
				retired = " (" + retired + ")"
			}
			fmt.Fprintf(o.Out, "%s: invalid: %s:%s %s%s\n", name, resp.Reason, item, trimItemPrefix(resp.Message, resp.Item), retired)
		}
		invalid++
	}
	if invalid > 0 {
		return &ExitError{Code: ExitNo}
	}
	return nil
}

// trimItemPrefix drops the `item "x": ` a sealer error starts with, which
// the output already shows.
func trimItemPrefix(msg, item string) string {
	return strings.TrimPrefix(msg, fmt.Sprintf("item %q: ", item))
}

// controllerHint says what to do when the controller cannot be reached.
func controllerHint(err error, c *ClusterOptions) string {
	se, ok := errors.AsType[*httpapi.StatusError](err)
	switch {
	case c.ControllerURL != "" && !ok:
		return "check --controller-url: is the controller listening there?"
	case !ok:
		return ""
	case se.Code == 403:
		return fmt.Sprintf("your credentials may not use the service proxy (create services/proxy in %s); ask for that RBAC, or reach the controller with --controller-url (e.g. after kubectl port-forward)", c.ControllerNamespace)
	case se.Code == 404 || se.Code == 503:
		return fmt.Sprintf("is the gitseal controller running? Check kubectl -n %s get svc,pods, --controller-namespace and --controller-name", c.ControllerNamespace)
	case se.Code == 429:
		return "the controller is rate limiting; retry in a moment"
	}
	return ""
}

// onlySealedSecrets drops the files that hold no SealedSecret, and keeps
// the SealedSecret documents of the others, for -R over a whole tree of
// manifests.
func onlySealedSecrets(inputs []*manifest.Input) []*manifest.Input {
	var out []*manifest.Input
	for _, in := range inputs {
		ms, err := in.Objects()
		if err != nil {
			out = append(out, in) // reported when read again
			continue
		}
		var docs [][]byte
		for _, m := range ms {
			if manifest.IsSealedSecret(m.TypeMeta) {
				docs = append(docs, m.Raw)
			}
		}
		if len(docs) > 0 {
			var b strings.Builder
			for _, d := range docs {
				b.Write(d)
				b.WriteByte('\n')
			}
			out = append(out, &manifest.Input{Name: in.Name, Path: in.Path, Data: []byte(b.String()), Format: manifest.JSON})
		}
	}
	return out
}
