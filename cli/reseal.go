package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

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

// resealer re-seals one SealedSecret. It returns the new values of the
// items that changed.
type resealer func(ctx context.Context, ss *gitsealv1alpha1.SealedSecret, target *sealTarget) (map[string]gitsealv1alpha1.SealedValue, error)

// Run re-seals the files.
func (o *ResealOptions) Run(ctx context.Context) error {
	noteTerminalStdin(o.IOStreams, o.Files)
	inputs, err := readInputs(o.Files, o.In, o.Recursive)
	if err != nil {
		return err
	}
	failed := 0
	var files []*parsedFile
	for _, in := range inputs {
		sf, err := parseSealedFile(in.name, in.data, in.format)
		if err != nil {
			failed++
			fmt.Fprintf(o.ErrOut, "error: %v\n", err)
			continue
		}
		files = append(files, &parsedFile{in: in, sf: sf, docs: sf.sealedSecrets()})
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
	in   *input
	sf   *sealedFile
	docs map[int]*gitsealv1alpha1.SealedSecret
}

func (o *ResealOptions) resealFile(ctx context.Context, f *parsedFile, reseal resealer, resolver *targetResolver) error {
	in, sf, docs := f.in, f.sf, f.docs
	var err error
	if len(docs) == 0 {
		if in.path == "" || !o.Recursive {
			return fmt.Errorf("%s: no SealedSecret found", in.name)
		}
		return nil
	}
	var target *sealTarget
	if o.Identity != "" {
		if target, err = resolver.resolve(ctx, in.path); err != nil {
			return err
		}
	}
	changes := map[int]map[string]gitsealv1alpha1.SealedValue{}
	var report []string
	for _, i := range slices.Sorted(maps.Keys(docs)) {
		ss := docs[i]
		name := objectName(ss.Namespace, ss.Name)
		changed, err := reseal(ctx, ss, target)
		if err != nil {
			return withHint(fmt.Errorf("%s: %s: %w", in.name, name, err), resealHint(err, o.cluster))
		}
		if len(changed) == 0 {
			report = append(report, fmt.Sprintf("%s: %s: unchanged", in.name, name))
			continue
		}
		changes[i] = changed
		var parts []string
		for _, item := range sortedKeys(changed) {
			parts = append(parts, fmt.Sprintf("%s (%s → %s)", item, keyIDsOf(ss.Spec.EncryptedData[item]), keyIDsOf(changed[item])))
		}
		verb := "re-sealed"
		if o.DryRun {
			verb = "would re-seal"
		}
		line := fmt.Sprintf("%s: %s: %s %s", in.name, name, verb, strings.Join(parts, ", "))
		if kept := len(ss.Spec.EncryptedData) - len(changed); kept > 0 {
			line += fmt.Sprintf("; %d unchanged", kept)
		}
		report = append(report, line)
	}
	if len(changes) > 0 && !o.DryRun {
		out, err := sf.edit(changes)
		if err != nil {
			return err
		}
		if in.path == "" {
			if _, err := o.Out.Write(out); err != nil {
				return err
			}
		} else if err := writeFileAtomic(in.path, out, fileMode(in.path, 0o644)); err != nil {
			return err
		}
	} else if in.path == "" && !o.DryRun {
		if _, err := o.Out.Write(in.data); err != nil {
			return err
		}
	}
	w := o.Out
	if in.path == "" {
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
	return func(_ context.Context, ss *gitsealv1alpha1.SealedSecret, target *sealTarget) (map[string]gitsealv1alpha1.SealedValue, error) {
		current := make([]crypto.KeyID, len(target.recipients))
		for i, r := range target.recipients {
			current[i] = r.ID()
		}
		keep := func(_ string, info *crypto.Info) bool {
			if o.OnlyRetired {
				return !slices.ContainsFunc(info.KeyIDs, func(id crypto.KeyID) bool { return slices.Contains(retired, id) })
			}
			return sameKeyIDs(info.KeyIDs, current)
		}
		out, changed, err := sealer.Reseal(ss, ids, target.recipients, keep)
		if err != nil {
			return nil, err
		}
		return newValues(ss, out, changed), nil
	}, nil
}

// newValues picks the changed items' new values, leaving out those that
// were already sealed to exactly the keys they are sealed to now.
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
		return func(context.Context, *gitsealv1alpha1.SealedSecret, *sealTarget) (map[string]gitsealv1alpha1.SealedValue, error) {
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
	return func(_ context.Context, ss *gitsealv1alpha1.SealedSecret, _ *sealTarget) (map[string]gitsealv1alpha1.SealedValue, error) {
		r := byObject[ss]
		if r.Error != "" {
			// As the single-object endpoint answers it, so hints match.
			return nil, &httpapi.StatusError{Code: http.StatusUnprocessableEntity, Message: r.Error}
		}
		return newValues(ss, r.SealedSecret, r.Changed), nil
	}, nil
}

func newValues(before, after *gitsealv1alpha1.SealedSecret, changed []string) map[string]gitsealv1alpha1.SealedValue {
	out := map[string]gitsealv1alpha1.SealedValue{}
	for _, item := range changed {
		old, ok := before.Spec.EncryptedData[item]
		v := after.Spec.EncryptedData[item]
		if !ok || v == "" {
			continue
		}
		oldInfo, err1 := crypto.Inspect(string(old))
		newInfo, err2 := crypto.Inspect(string(v))
		if err1 == nil && err2 == nil && sameKeyIDs(oldInfo.KeyIDs, newInfo.KeyIDs) {
			continue
		}
		out[item] = v
	}
	return out
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

// keyIDsOf names the keys a value is sealed to, for reports.
func keyIDsOf(v gitsealv1alpha1.SealedValue) string {
	info, err := crypto.Inspect(string(v))
	if err != nil {
		return "malformed"
	}
	ids := make([]string, len(info.KeyIDs))
	for i, id := range info.KeyIDs {
		ids[i] = string(id)
	}
	return strings.Join(ids, ",")
}
