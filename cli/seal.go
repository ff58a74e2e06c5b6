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
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/sealer"
)

// SealOptions are the options of `gitseal seal`.
type SealOptions struct {
	IOStreams
	cluster *ClusterOptions

	Files []string
	// SecretFiles are input files named with kubeseal's -f; they join
	// Files.
	SecretFiles []string
	Recursive   bool
	// Write replaces each plaintext Secret file with its sealed form.
	Write bool
	// MergeInto is a SealedSecret file whose items are updated.
	MergeInto string
	// Output is yaml or json; empty means yaml, or the input's format
	// with --write. Format is kubeseal's spelling of it.
	Output string
	Format string
	Jobs   int
	// AllowEmptyData skips a Secret with no data, with a note, instead of
	// failing: a SealedSecret needs at least one item.
	AllowEmptyData bool

	Recipients
	// Namespace is the namespace of Secrets that name none.
	Namespace string

	// Raw seals one value: Key of Secret Name in Namespace, read from
	// FromFile or standard input.
	Raw      bool
	Name     string
	Key      string
	FromFile string

	kubeseal kubesealFlags
	format   manifest.Format
}

// NewCmdSeal returns `gitseal seal`.
func NewCmdSeal(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &SealOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "seal [FILE|DIR...]",
		Short: "Seal Secret manifests into SealedSecrets",
		Long: `Seal Kubernetes Secrets (YAML or JSON, one or many documents, Lists) read
from standard input or files, and write SealedSecrets. Each value is bound
to the Secret's namespace and name (strict scope), its namespace
(namespace scope) or nothing (cluster scope), and always to its item key.
A SealedSecret holds one data key, wrapped for each recipient in
spec.dataKeys, and each value encrypted under it (format 2).

Whom to seal to, first match wins:
  1. --recipient and --recipients-file;
  2. the .gitseal.yaml rule matching the file's path (offline: CI needs no
     cluster access; see gitseal init);
  3. the cluster's active key, fetched with your kube credentials.

The scope is --scope, else the Secret's scope annotation (gitseal.dev/scope,
or Bitnami's sealedsecrets.bitnami.com/namespace-wide or cluster-wide set to
"true"), else the rule's scope, else strict. An annotation that disagrees
with --scope or the rule's scope is an error; scope annotations are never
copied into the template. A Secret without a namespace takes --namespace,
else the kube context's namespace when sealing to a fetched key (said on
stderr); offline, it must name one. A Secret that names another namespace
than --namespace is an error.

--write replaces each Secret in its file with its SealedSecret, keeping the
file's other documents (through a temporary file and a rename); comment
lines above a Secret go with it. The old plaintext may remain on disk and in
Git history: seal before committing, and treat a committed plaintext as
leaked. --merge-into updates the items of an existing SealedSecret file and
keeps every other byte of it, untouched ciphertexts included: offline,
without a private key, the new items get a data key of their own, one more
line in spec.dataKeys (at most 16; seal the whole Secret again to start
over with one).

--raw prints one value in format 1, which carries its own wrapped key: a
lone value has no spec.dataKeys to go with it. Such a value opens in any
SealedSecret, next to format-2 values.`,
		Example: `  # Seal a Secret to the cluster's current key
  kubectl create secret generic db --from-literal=password=s3cret --dry-run=client -o yaml \
    | gitseal seal > db.sealed.yaml

  # Offline, to a committed recipients file or by .gitseal.yaml rules
  gitseal seal --recipients-file .gitseal/prod.txt secret.yaml
  gitseal seal secret.yaml > secret.sealed.yaml

  # Seal every Secret below a directory, in place
  gitseal seal -R -w secrets/

  # Add or replace one item in an existing SealedSecret
  kubectl create secret generic db --from-literal=token=abc --dry-run=client -o yaml \
    | gitseal seal --merge-into db.sealed.yaml

  # Seal a single value
  printf %s "s3cret" | gitseal seal --raw --namespace prod --name db --key password`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = append(args, o.SecretFiles...)
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.SecretFiles, "secret-file", "f", nil, "seal the Secrets in `FILE`, like a FILE argument (kubeseal's spelling); repeatable")
	f.BoolVarP(&o.Recursive, "recursive", "R", false, "seal every *.yaml, *.yml and *.json file below the directories given")
	f.BoolVarP(&o.Write, "write", "w", false, "replace each Secret in its file with its SealedSecret")
	f.StringVar(&o.MergeInto, "merge-into", "", "update the items of the SealedSecret in `FILE`, keeping everything else byte for byte")
	f.StringVarP(&o.Output, "output", "o", "", "output format: yaml or json (default yaml); --write keeps each file's")
	f.StringVar(&o.Format, "format", "", "the same as --output (kubeseal's spelling)")
	f.BoolVar(&o.AllowEmptyData, "allow-empty-data", false, "skip a Secret without data, with a note, instead of failing (a SealedSecret needs an item)")
	f.IntVar(&o.Jobs, "jobs", runtime.GOMAXPROCS(0), "Secrets sealed in parallel")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of Secrets that name none; a Secret that names another is an error")
	f.BoolVar(&o.Raw, "raw", false, "seal a single value and print just the sealed value")
	f.StringVar(&o.Name, "name", "", "with --raw: the Secret's name (strict scope)")
	f.StringVar(&o.Key, "key", "", "with --raw: the item key")
	f.StringVar(&o.FromFile, "from-file", "", "with --raw: read the value from `FILE` instead of standard input")
	o.addFlags(cmd)
	o.kubeseal.addFlags(f)
	formats := cobra.FixedCompletions([]string{"yaml", "json"}, cobra.ShellCompDirectiveNoFileComp)
	_ = cmd.RegisterFlagCompletionFunc("output", formats)
	_ = cmd.RegisterFlagCompletionFunc("format", formats)
	return cmd
}

// Validate checks that the flags fit together.
func (o *SealOptions) Validate() error {
	if err := o.kubeseal.check(); err != nil {
		return err
	}
	if o.Output != "" || o.Format != "" {
		f, err := formatFlag(o.Output, o.Format, "", "yaml", "json")
		if err != nil {
			return err
		}
		o.format = manifest.Format(f)
	}
	if err := o.complete(); err != nil {
		return err
	}
	stdin := len(o.Files) == 0 || (len(o.Files) == 1 && o.Files[0] == "-")
	switch {
	case o.Raw && (o.Write || o.MergeInto != "" || o.Recursive || len(o.Files) > 0):
		return errors.New("--raw reads one value from standard input or --from-file; it takes no files, --write, --merge-into or -R")
	case o.Raw && o.Key == "":
		return withHint(errors.New("--raw needs --key"), "name the item key the value is sealed for")
	case !o.Raw && (o.Name != "" || o.Key != "" || o.FromFile != ""):
		return errors.New("--name, --key and --from-file go with --raw")
	case o.Write && o.format != "":
		return errors.New("--write keeps each file's format; -o/--output and --format do not go with it")
	case o.Write && o.MergeInto != "":
		return errors.New("--write and --merge-into do not go together")
	case o.Write && stdin:
		return withHint(errors.New("--write needs files"), "name the Secret files or directories to seal in place")
	case o.Jobs < 1:
		return fmt.Errorf("--jobs must be at least 1, not %d", o.Jobs)
	}
	return nil
}

// Run seals.
func (o *SealOptions) Run(ctx context.Context) error {
	if o.FromFile == "" {
		noteTerminalStdin(o.IOStreams, o.Files)
	}
	resolver := newTargetResolver(o.cluster, &o.Recipients, o.ErrOut)
	switch {
	case o.Raw:
		return o.runRaw(ctx, resolver)
	case o.MergeInto != "":
		return o.runMerge(ctx, resolver)
	}
	return o.runSeal(ctx, resolver)
}

// sealNoneHint is said when the input holds no Secret.
const sealNoneHint = "seal reads v1 Secret manifests, e.g. from kubectl create secret ... --dry-run=client -o yaml"

// sealNamespaces are the namespaces sealOne checks a Secret against.
type sealNamespaces struct {
	// flag is --namespace; a Secret that names another is an error.
	flag string
	// fallback is the namespace of Secrets that name none.
	fallback string
}

func (o *SealOptions) runSeal(ctx context.Context, resolver *targetResolver) error {
	var namespaces sealNamespaces // known once the targets are
	defaulted := atomic.Bool{}
	c := &conversion{
		IOStreams:    o.IOStreams,
		files:        o.Files,
		recursive:    o.Recursive,
		inPlace:      o.Write,
		dropComments: true,
		workers:      o.Jobs,
		format:       cmp.Or(o.format, manifest.YAML),
		resolver:     resolver,
		kind:         "v1 Secret",
		one:          "Secret",
		many:         "Secrets",
		verb:         "sealed",
		doing:        "sealing",
		match:        func(tm metav1.TypeMeta) bool { return tm.APIVersion == "v1" && tm.Kind == "Secret" },
		noneHint:     sealNoneHint,
		othersHint:   "seal reads Secret manifests; with -R, other objects are skipped, and with -w they stay in their files as they are",
		convert: func(j *convertJob) error {
			d, err := sealOne(j, namespaces, o.AllowEmptyData)
			if d {
				defaulted.Store(true)
			}
			return err
		},
	}
	r, err := c.plan(ctx)
	if err != nil {
		if o.Write && errors.Is(err, fs.ErrNotExist) {
			return withHint(err, "gitseal's -w seals the files it is given in place; for kubeseal's -w FILE, redirect standard output: > FILE")
		}
		return err
	}
	defer r.clear()
	if len(r.jobs) == 0 {
		if o.Recursive && o.Write {
			fmt.Fprintf(o.ErrOut, "nothing to seal: no Secret found in %s\n", strings.Join(o.Files, ", "))
			return nil
		}
		return withHint(errors.New("no Secret found in the input"), sealNoneHint)
	}
	defaultNS, fromContext, err := o.defaultNamespace(r.jobs)
	if err != nil {
		return err
	}
	namespaces = sealNamespaces{flag: o.Namespace, fallback: defaultNS}
	c.run(r)
	if err := c.failure(r); err != nil {
		return err
	}
	items := 0
	for _, j := range r.jobs {
		if j.out != nil {
			items += len(j.out.Spec.EncryptedData)
		}
		for _, n := range j.notes {
			fmt.Fprintln(o.ErrOut, "note: "+n)
		}
	}
	if defaulted.Load() && fromContext {
		fmt.Fprintf(o.ErrOut, "using namespace %s from the kube context for Secrets that name none\n", defaultNS)
	}
	sealed, files, err := c.write(r)
	if err != nil {
		return err
	}
	if sealed == 0 {
		fmt.Fprintln(o.ErrOut, "nothing to seal: every Secret is empty")
		return nil
	}
	if o.Write {
		msg := fmt.Sprintf("sealed %d Secret(s), %d item(s), in place in %d file(s)", sealed, items, files)
		if r.others > 0 {
			msg += fmt.Sprintf("; skipped %d object(s) that are not Secrets", r.others)
		}
		fmt.Fprintln(o.ErrOut, msg)
	}
	return nil
}

// defaultNamespace returns the namespace for Secrets that have none:
// --namespace, else the kube context's when a job seals to fetched keys,
// and whether it is the kube context's. Offline, there is none: sealing
// such a Secret fails.
func (o *SealOptions) defaultNamespace(jobs []*convertJob) (string, bool, error) {
	if o.Namespace != "" {
		return o.Namespace, false, nil
	}
	for _, j := range jobs {
		if j.target.online {
			ns, err := o.cluster.ContextNamespace()
			return ns, true, err
		}
	}
	return "", false, nil
}

// sealOne decodes and seals one Secret. defaulted says it named no
// namespace and took the default one.
func sealOne(j *convertJob, ns sealNamespaces, allowEmpty bool) (defaulted bool, err error) {
	m, t := j.m, j.target
	secret, err := manifest.DecodeSecret(m)
	if err != nil {
		return false, err
	}
	defer wipeSecret(secret)
	switch {
	case secret.Namespace == "":
		secret.Namespace, defaulted = ns.fallback, true
	case ns.flag != "" && secret.Namespace != ns.flag:
		return false, withHint(fmt.Errorf("%s: Secret %q is in namespace %q, not %q as --namespace says", m.Where, secret.Name, secret.Namespace, ns.flag),
			"--namespace only fills in Secrets that name none; drop it, or fix metadata.namespace")
	}
	scope, note, err := secretScope(t, secret.Annotations)
	if err != nil {
		return false, withHint(fmt.Errorf("%s: Secret %q: %w", m.Where, secret.Name, err),
			"make the Secret's scope annotations and --scope (or the .gitseal.yaml rule) agree, or remove the annotations")
	}
	if note != "" {
		j.notes = append(j.notes, fmt.Sprintf("%s: Secret %q: %s", m.Where, secret.Name, note))
	}
	if secret.Namespace == "" && scope != crypto.Cluster {
		return false, withHint(fmt.Errorf("%s: Secret %q has no namespace", m.Where, secret.Name),
			"set metadata.namespace in the manifest or pass --namespace; offline sealing never guesses it from your kube context")
	}
	if allowEmpty && len(secret.Data) == 0 && len(secret.StringData) == 0 {
		j.skipped = true
		j.notes = append(j.notes, fmt.Sprintf("%s: Secret %q has no data; skipped (--allow-empty-data), as a SealedSecret needs at least one item", m.Where, secret.Name))
		return defaulted, nil
	}
	if j.out, err = sealer.Seal(secret, scope, t.recipients); err != nil {
		return false, fmt.Errorf("%s: %w", m.Where, err)
	}
	return defaulted, nil
}

// secretScope decides the scope of one Secret from its target and its
// scope annotations: an annotation chooses when nothing else did, must
// agree with --scope or the .gitseal.yaml rule when they did, and is never
// copied into the template. note says so when an annotation was honoured.
func secretScope(t *sealTarget, annotations map[string]string) (crypto.Scope, string, error) {
	annotated, key, err := sealer.AnnotatedScope(annotations)
	switch {
	case err != nil:
		return "", "", err
	case annotated == "":
		return t.scope, "", nil
	case t.scopeFrom != "" && annotated != t.scope:
		return "", "", fmt.Errorf("annotation %s asks for %s scope, but %s says %s", key, annotated, t.scopeFrom, t.scope)
	}
	return annotated, fmt.Sprintf("sealed with %s scope, as annotation %s asks; the scope annotations are not copied into the template", annotated, key), nil
}

func wipeSecret(s *corev1.Secret) {
	for _, v := range s.Data {
		clear(v)
	}
}

// runRaw seals one value.
func (o *SealOptions) runRaw(ctx context.Context, resolver *targetResolver) error {
	target, err := resolver.resolve(ctx, "")
	if err != nil {
		return err
	}
	ns := o.Namespace
	if ns == "" && target.online && target.scope != crypto.Cluster {
		if ns, err = o.cluster.ContextNamespace(); err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "using namespace %s from the kube context\n", ns)
	}
	b := crypto.Binding{Scope: target.scope, Namespace: ns, Name: o.Name, Key: o.Key}
	switch {
	case b.Scope != crypto.Cluster && b.Namespace == "":
		return withHint(fmt.Errorf("%s scope needs a namespace", b.Scope), "pass --namespace")
	case b.Scope == crypto.Strict && b.Name == "":
		return withHint(errors.New("strict scope needs the Secret's name"), "pass --name, or --scope namespace to seal for any name in the namespace")
	}
	var value []byte
	if o.FromFile != "" {
		value, err = os.ReadFile(o.FromFile)
	} else {
		value, err = io.ReadAll(io.LimitReader(o.In, crypto.MaxValueSize+1))
	}
	if err != nil {
		return fmt.Errorf("read the value: %w", err)
	}
	defer clear(value)
	if bytes.HasSuffix(value, []byte("\n")) && o.FromFile == "" {
		fmt.Fprintln(o.ErrOut, "note: the value ends with a newline, which is sealed too; use printf or echo -n if that is not meant")
	}
	v, err := sealer.SealItem(value, b, target.recipients)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.Out, v)
	return err
}

// runMerge seals the items of one Secret into an existing SealedSecret
// file.
func (o *SealOptions) runMerge(ctx context.Context, resolver *targetResolver) error {
	inputs, err := manifest.ReadInputs(o.Files, o.In, false)
	if err != nil {
		return err
	}
	var secrets []manifest.Object
	for _, in := range inputs {
		ms, err := in.Objects()
		if err != nil {
			return err
		}
		secrets = append(secrets, ms...)
	}
	if len(secrets) != 1 {
		return withHint(fmt.Errorf("--merge-into takes exactly one Secret; the input has %d objects", len(secrets)), "merge one Secret at a time")
	}
	secret, err := manifest.DecodeSecret(secrets[0])
	if err != nil {
		return err
	}
	defer wipeSecret(secret)

	data, err := os.ReadFile(o.MergeInto)
	if err != nil {
		return err
	}
	sf, err := manifest.ParseSealed(o.MergeInto, data, manifest.FormatOf(o.MergeInto, data))
	if err != nil {
		return err
	}
	docs := sf.SealedSecrets()
	if len(docs) != 1 {
		return fmt.Errorf("%s holds %d SealedSecrets; --merge-into needs exactly one", o.MergeInto, len(docs))
	}
	doc := slices.Collect(maps.Keys(docs))[0]
	ss := docs[doc]
	switch {
	case secret.Name != "" && secret.Name != ss.Name:
		return fmt.Errorf("the Secret is named %q, but %s holds SealedSecret %q", secret.Name, o.MergeInto, ss.Name)
	case secret.Namespace != "" && secret.Namespace != ss.Namespace:
		return fmt.Errorf("the Secret is in namespace %q, but %s holds a SealedSecret in %q", secret.Namespace, o.MergeInto, ss.Namespace)
	case o.Namespace != "" && o.Namespace != ss.Namespace:
		return fmt.Errorf("--namespace is %q, but %s holds a SealedSecret in %q", o.Namespace, o.MergeInto, ss.Namespace)
	}
	target, err := resolver.resolve(ctx, o.MergeInto)
	if err != nil {
		return err
	}
	scope, note, err := secretScope(target, secret.Annotations)
	if err != nil {
		return withHint(fmt.Errorf("%s: %w", secrets[0].Where, err), "make the Secret's scope annotations and --scope (or the .gitseal.yaml rule) agree, or remove the annotations")
	}
	if note != "" {
		fmt.Fprintf(o.ErrOut, "note: %s: %s\n", secrets[0].Where, note)
	}
	values := map[string][]byte{}
	for k, v := range secret.Data {
		values[k] = v
	}
	for k, v := range secret.StringData {
		values[k] = []byte(v)
	}
	if len(values) == 0 {
		return fmt.Errorf("%s: the Secret has no data", secrets[0].Where)
	}
	defer func() {
		for _, v := range values {
			clear(v)
		}
	}()
	// A new data key for these items: no private key is needed, and the
	// other values keep their text.
	merged, err := sealer.Add(ss, values, crypto.Binding{Scope: scope, Namespace: ss.Namespace, Name: ss.Name}, target.recipients)
	if err != nil {
		return err
	}
	var report []string
	for _, k := range manifest.SortedKeys(values) {
		if _, ok := ss.Spec.EncryptedData[k]; ok {
			report = append(report, k+" (replaced)")
		} else {
			report = append(report, k+" (added)")
		}
	}
	change, _ := manifest.ChangeOf(ss, merged)
	out, err := sf.Edit(map[int]manifest.Change{doc: change})
	if err != nil {
		return err
	}
	if err := manifest.WriteFileAtomic(o.MergeInto, out, manifest.ModeOf(o.MergeInto, 0o644)); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "%s: sealed %s\n", o.MergeInto, strings.Join(report, ", "))
	return nil
}
