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
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/httpapi"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/sealer"
)

// ResealOptions are the options of `gitseal reseal`.
type ResealOptions struct {
	IOStreams
	cluster *ClusterOptions

	Files     []string
	Recursive bool
	// OnlyRetired re-seals only the values sealed to a retired key.
	OnlyRetired bool
	// Identity switches to offline re-sealing with these private keys.
	Identity string
	// DryRun reports what would change without writing.
	DryRun bool
	Recipients
}

// NewCmdReseal returns `gitseal reseal`.
func NewCmdReseal(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &ResealOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "reseal [FILE|DIR...]",
		Short: "Re-seal SealedSecret files to the current key, in place",
		Long: `Re-seal the values of SealedSecret files to the cluster's current key and
rewrite the files in place, keeping their format and every untouched byte.
Each value keeps the scope, namespace, name and item key sealed inside it.
Values already sealed to exactly the current keys are left as they are.

By default the cluster's controller re-seals (POST /v1/reseal through the
service proxy, or --controller-url): plaintext never leaves the cluster.
With --identity FILE it is done offline: values are opened with those
private keys and sealed to --recipient / --recipients-file, the
.gitseal.yaml rule, or else the cluster's active key.

--only-retired re-seals only values still sealed to a retired key: those
the controller reports as retired, or offline those the .gitseal.yaml
lists as retired (else the key Secrets' retired label).`,
		Example: `  gitseal reseal db.sealed.yaml
  gitseal reseal -R --only-retired deploy/
  gitseal reseal --dry-run -R deploy/

  # Offline, from a key backup, to the keys .gitseal.yaml names
  gitseal reseal --identity gitseal-keys.backup -R deploy/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Recursive, "recursive", "R", false, "re-seal every *.yaml, *.yml and *.json file below the directories given")
	f.BoolVar(&o.OnlyRetired, "only-retired", false, "re-seal only values still sealed to a retired key")
	f.StringVar(&o.Identity, "identity", "", "re-seal offline with the private keys in `FILE`")
	f.BoolVar(&o.DryRun, "dry-run", false, "report what would change, write nothing")
	o.addFlags(cmd)
	_ = f.MarkHidden("scope") // re-sealing keeps each value's own scope
	return cmd
}

// Validate checks the flags.
func (o *ResealOptions) Validate() error {
	if o.Scope != "" {
		return errors.New("reseal keeps each value's scope; --scope does not apply")
	}
	if o.Identity == "" && (len(o.Recipient) > 0 || len(o.RecipientsFiles) > 0) {
		return withHint(errors.New("--recipient and --recipients-file need --identity"), "the controller re-seals to its own active key; to choose the keys, re-seal offline with --identity FILE")
	}
	return o.complete()
}

// resealer re-seals one SealedSecret. It returns the re-sealed object, or
// nil when nothing needs to change.
type resealer func(ctx context.Context, ss *gitsealv1alpha1.SealedSecret, target *sealTarget) (*gitsealv1alpha1.SealedSecret, error)

// Run re-seals the files.
func (o *ResealOptions) Run(ctx context.Context) error {
	noteTerminalStdin(o.IOStreams, o.Files)
	inputs, err := manifest.ReadInputs(o.Files, o.In, o.Recursive)
	if err != nil {
		return err
	}
	failed := 0
	var files []*parsedFile
	for _, in := range inputs {
		sf, err := manifest.ParseSealed(in.Name, in.Data, in.Format)
		if err != nil {
			failed++
			fmt.Fprintf(o.ErrOut, "error: %v\n", err)
			continue
		}
		files = append(files, &parsedFile{in: in, sf: sf, docs: sf.SealedSecrets()})
	}
	reseal, err := o.resealer(ctx, files)
	if err != nil {
		return err
	}
	resolver := newTargetResolver(o.cluster, &o.Recipients, o.ErrOut)
	for _, f := range files {
		if err := o.resealFile(ctx, f, reseal, resolver); err != nil {
			failed++
			fmt.Fprintf(o.ErrOut, "error: %v\n", err)
		}
	}
	if failed > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d file(s) could not be re-sealed and were left unchanged", failed)}
	}
	return nil
}

// parsedFile is one input with its SealedSecret documents, by index.
type parsedFile struct {
	in   *manifest.Input
	sf   *manifest.File
	docs map[int]*gitsealv1alpha1.SealedSecret
}

func (o *ResealOptions) resealFile(ctx context.Context, f *parsedFile, reseal resealer, resolver *targetResolver) error {
	in, sf, docs := f.in, f.sf, f.docs
	var err error
	if len(docs) == 0 {
		if in.Path == "" || !o.Recursive {
			return fmt.Errorf("%s: no SealedSecret found", in.Name)
		}
		return nil
	}
	var target *sealTarget
	if o.Identity != "" {
		if target, err = resolver.resolve(ctx, in.Path); err != nil {
			return err
		}
	}
	changes := map[int]manifest.Change{}
	var report []string
	for _, i := range slices.Sorted(maps.Keys(docs)) {
		ss := docs[i]
		name := manifest.ObjectName(ss.Namespace, ss.Name)
		after, err := reseal(ctx, ss, target)
		if err != nil {
			return withHint(fmt.Errorf("%s: %s: %w", in.Name, name, err), resealHint(err, o.cluster))
		}
		var change manifest.Change
		ok := false
		if after != nil {
			change, ok = manifest.ChangeOf(ss, after)
		}
		if !ok {
			report = append(report, fmt.Sprintf("%s: %s: unchanged", in.Name, name))
			continue
		}
		changes[i] = change
		verb := "re-sealed"
		if o.DryRun {
			verb = "would re-seal"
		}
		report = append(report, fmt.Sprintf("%s: %s: %s %s", in.Name, name, verb, resealReport(ss, after)))
	}
	if len(changes) > 0 && !o.DryRun {
		out, err := sf.Edit(changes)
		if err != nil {
			return err
		}
		if in.Path == "" {
			if _, err := o.Out.Write(out); err != nil {
				return err
			}
		} else if err := manifest.WriteFileAtomic(in.Path, out, manifest.ModeOf(in.Path, 0o644)); err != nil {
			return err
		}
	} else if in.Path == "" && !o.DryRun {
		if _, err := o.Out.Write(in.Data); err != nil {
			return err
		}
	}
	w := o.Out
	if in.Path == "" {
		w = o.ErrOut // standard output carries the file
	}
	for _, l := range report {
		fmt.Fprintln(w, l)
	}
	return nil
}

// resealer returns the controller's or the offline re-sealer.
func (o *ResealOptions) resealer(ctx context.Context, files []*parsedFile) (resealer, error) {
	if o.Identity == "" {
		return o.controllerResealer(ctx, files)
	}
	ids, err := readIdentities(o.Identity)
	if err != nil {
		return nil, err
	}
	var retired []crypto.KeyID
	if o.OnlyRetired {
		if retired, err = o.retiredKeyIDs(ctx); err != nil {
			return nil, err
		}
	}
	return func(_ context.Context, ss *gitsealv1alpha1.SealedSecret, target *sealTarget) (*gitsealv1alpha1.SealedSecret, error) {
		current := make([]crypto.KeyID, len(target.recipients))
		for i, r := range target.recipients {
			current[i] = r.ID()
		}
		keep := func(version int, info *crypto.Info) bool {
			if o.OnlyRetired {
				return !slices.ContainsFunc(info.KeyIDs, func(id crypto.KeyID) bool { return slices.Contains(retired, id) })
			}
			return version == 2 && sameKeyIDs(info.KeyIDs, current) // format 1 is always upgraded
		}
		out, changed, err := sealer.Reseal(ss, ids, target.recipients, keep)
		if err != nil || len(changed) == 0 {
			return nil, err
		}
		return out, nil
	}, nil
}

// controllerResealer sends every SealedSecret of the files to the
// controller in batches (a repository of a thousand files in a few
// requests, within its rate limit) and returns a resealer that answers from
// the results.
func (o *ResealOptions) controllerResealer(ctx context.Context, files []*parsedFile) (resealer, error) {
	var items []*gitsealv1alpha1.SealedSecret
	for _, f := range files {
		for _, i := range slices.Sorted(maps.Keys(f.docs)) {
			items = append(items, f.docs[i])
		}
	}
	if len(items) == 0 {
		return func(context.Context, *gitsealv1alpha1.SealedSecret, *sealTarget) (*gitsealv1alpha1.SealedSecret, error) {
			return nil, nil
		}, nil
	}
	client, err := o.cluster.Controller()
	if err != nil {
		return nil, err
	}
	results, err := client.ResealBatch(ctx, items, o.OnlyRetired)
	if err != nil {
		return nil, withHint(fmt.Errorf("re-seal: %w", err), controllerHint(err, o.cluster))
	}
	byObject := make(map[*gitsealv1alpha1.SealedSecret]httpapi.ResealResult, len(items))
	for i, ss := range items {
		byObject[ss] = results[i]
	}
	return func(_ context.Context, ss *gitsealv1alpha1.SealedSecret, _ *sealTarget) (*gitsealv1alpha1.SealedSecret, error) {
		r := byObject[ss]
		if r.Error != "" {
			// As the single-object endpoint answers it, so hints match.
			return nil, &httpapi.StatusError{Code: http.StatusUnprocessableEntity, Message: r.Error}
		}
		if r.SealedSecret == nil || len(r.Changed) == 0 {
			return nil, nil
		}
		return keepCurrent(ss, r.SealedSecret), nil
	}, nil
}

// keepCurrent returns after with the parts that were already sealed to
// exactly the keys they are sealed to now put back as they were: a data key
// re-wrapped for the same keys, or a format-2 value that got a new
// ciphertext for them. The controller re-seals the whole object; this keeps
// a file already on its current key byte for byte.
func keepCurrent(before, after *gitsealv1alpha1.SealedSecret) *gitsealv1alpha1.SealedSecret {
	out := after.DeepCopy()
	for item, v := range before.Spec.EncryptedData {
		if crypto.Version(string(v)) == 2 && out.Spec.EncryptedData[item] != v {
			return out // values renumbered or re-encrypted: the data keys go as a whole
		}
	}
	for i := range min(len(before.Spec.DataKeys), len(out.Spec.DataKeys)) {
		old, err1 := crypto.InspectDataKey(before.Spec.DataKeys[i])
		now, err2 := crypto.InspectDataKey(out.Spec.DataKeys[i])
		if err1 == nil && err2 == nil && sameKeyIDs(old.KeyIDs, now.KeyIDs) {
			out.Spec.DataKeys[i] = before.Spec.DataKeys[i]
		}
	}
	return out
}

// resealReport says which items moved from which keys to which, items that
// moved alike together, and how many items kept their keys.
func resealReport(before, after *gitsealv1alpha1.SealedSecret) string {
	type move struct{ from, to string }
	var order []move
	moved := map[move][]string{}
	kept := 0
	for _, item := range manifest.SortedKeys(before.Spec.EncryptedData) {
		from, to := keyIDsOf(before, item), keyIDsOf(after, item)
		upgraded := crypto.Version(string(before.Spec.EncryptedData[item])) != crypto.Version(string(after.Spec.EncryptedData[item]))
		if from == to && !upgraded {
			kept++
			continue
		}
		m := move{from, to}
		if moved[m] == nil {
			order = append(order, m)
		}
		moved[m] = append(moved[m], item)
	}
	parts := make([]string, len(order))
	for i, m := range order {
		parts[i] = fmt.Sprintf("%s (%s → %s)", strings.Join(moved[m], ", "), m.from, m.to)
	}
	line := strings.Join(parts, "; ")
	if kept > 0 {
		line += fmt.Sprintf("; %d unchanged", kept)
	}
	return line
}

// retiredKeyIDs returns the retired keys for offline --only-retired: from
// .gitseal.yaml, else from the key Secrets' labels.
func (o *ResealOptions) retiredKeyIDs(ctx context.Context) ([]crypto.KeyID, error) {
	r := newTargetResolver(o.cluster, &o.Recipients, o.ErrOut)
	if err := r.loadConfig(); err != nil {
		return nil, err
	}
	if r.config != nil {
		return r.config.RetiredKeyIDs(), nil
	}
	kc, err := o.cluster.kube()
	if err == nil {
		var metas []metav1.PartialObjectMetadata
		metas, err = kc.listSecretMetadata(ctx, o.cluster.ControllerNamespace, keys.LabelSealingKey+"=true")
		if err == nil {
			var out []crypto.KeyID
			for _, k := range keyStates(metas, nil) {
				if k.State == keys.Retired {
					out = append(out, k.ID)
				}
			}
			return out, nil
		}
	}
	return nil, withHint(fmt.Errorf("cannot tell which keys are retired: %w", err),
		"list them under clusters[].retired in .gitseal.yaml, or run with access to the cluster's key Secrets")
}

// resealHint says what to do when re-sealing an object fails.
func resealHint(err error, c *ClusterOptions) string {
	if se, ok := errors.AsType[*httpapi.StatusError](err); ok {
		if h := controllerHint(err, c); h != "" {
			return h
		}
		// The controller could not open a value: its message carries the
		// crypto error's text.
		for _, sentinel := range []error{crypto.ErrNoMatchingKey, crypto.ErrScopeMismatch, crypto.ErrMalformed} {
			if strings.Contains(se.Message, sentinel.Error()) {
				return openHint(sentinel)
			}
		}
		return ""
	}
	if se, ok := errors.AsType[*sealer.Error](err); ok {
		return openHint(se.Err)
	}
	return openHint(err)
}

func sameKeyIDs(a, b []crypto.KeyID) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// keyIDsOf names the keys an item of ss is sealed to, for reports.
func keyIDsOf(ss *gitsealv1alpha1.SealedSecret, item string) string {
	info, err := crypto.InspectValue(string(ss.Spec.EncryptedData[item]), ss.Spec.DataKeys)
	if err != nil {
		return "malformed"
	}
	ids := make([]string, len(info.KeyIDs))
	for i, id := range info.KeyIDs {
		ids[i] = string(id)
	}
	return strings.Join(ids, ",")
}
