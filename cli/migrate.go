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
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/bitnami"
	"github.com/gitseal/gitseal/internal/sealer"
)

// NewCmdMigrate returns `gitseal migrate`, which groups the converters
// from other sealing tools.
func NewCmdMigrate(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Convert other tools' sealed secrets into gitseal SealedSecrets",
		Long: `Convert the sealed secrets of another tool into gitseal SealedSecrets,
offline, with that tool's private keys. Values are opened and sealed again
in memory: no plaintext is written or printed.`,
		Example: `  gitseal migrate bitnami --bitnami-key bitnami-keys.yaml -R -w deploy/`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdMigrateBitnami(streams, cluster))
	return cmd
}

// MigrateBitnamiOptions are the options of `gitseal migrate bitnami`.
type MigrateBitnamiOptions struct {
	IOStreams
	cluster *ClusterOptions

	Files     []string
	Recursive bool
	// Write replaces each Bitnami SealedSecret in its file.
	Write bool
	// BitnamiKeys are files with the Bitnami controller's private keys.
	BitnamiKeys []string
	// Namespace is the namespace of objects that name none: the one they
	// were sealed for.
	Namespace string
	Recipients
}

// NewCmdMigrateBitnami returns `gitseal migrate bitnami`.
func NewCmdMigrateBitnami(streams IOStreams, cluster *ClusterOptions) *cobra.Command {
	o := &MigrateBitnamiOptions{IOStreams: streams, cluster: cluster}
	cmd := &cobra.Command{
		Use:   "bitnami --bitnami-key FILE [FILE|DIR...]",
		Short: "Convert Bitnami sealed-secrets SealedSecrets into gitseal SealedSecrets",
		Long: `Convert Bitnami sealed-secrets SealedSecrets (bitnami.com/v1alpha1) into
gitseal SealedSecrets, offline. Each value is opened with the Bitnami
controller's private keys (--bitnami-key, repeatable; every key is tried
for every value) and sealed again, in memory, to the keys gitseal seal
would choose:
  1. --recipient and --recipients-file;
  2. the .gitseal.yaml rule matching the file's path;
  3. the cluster's active key, fetched with your kube credentials.

Each object keeps its Bitnami scope: strict stays strict, namespace-wide
becomes namespace, cluster-wide becomes cluster (a .gitseal.yaml rule's
scope does not apply). The scope annotations are not trusted: a Bitnami
value opens only under the namespace and name its scope binds. The
template's labels, annotations, type and immutability carry over; the
sealedsecrets.bitnami.com/ annotations are dropped. Objects that use
spec.template.data (templated values) or the legacy spec.data are refused.

--bitnami-key takes the backup of Bitnami's keys, as written by
  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml
or a PEM file of RSA private keys (PKCS#1 or PKCS#8).

Inputs are read like gitseal seal reads them: standard input or files,
YAML or JSON, many documents, Lists; -R for directories, where files
without Bitnami SealedSecrets are skipped. The SealedSecrets go to
standard output as YAML. --write instead replaces each Bitnami
SealedSecret in its file (through a temporary file and a rename) and keeps
the file's other documents as they are. Nothing is written unless every
object converts. A summary line per object goes to standard error.`,
		Example: `  # Back up Bitnami's keys, then convert a repository in place
  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > bitnami-keys.yaml
  gitseal migrate bitnami --bitnami-key bitnami-keys.yaml -R -w deploy/

  # One file to standard output, sealed to a committed recipients file
  gitseal migrate bitnami --bitnami-key bitnami-keys.yaml --recipients-file .gitseal/prod.txt db.sealed.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.BitnamiKeys, "bitnami-key", nil, "read Bitnami's private keys from `FILE`: its key backup, or PEM; repeatable")
	f.BoolVarP(&o.Recursive, "recursive", "R", false, "convert every *.yaml, *.yml and *.json file below the directories given")
	f.BoolVarP(&o.Write, "write", "w", false, "replace each Bitnami SealedSecret in its file, keeping the file's other documents")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of SealedSecrets that name none (the one they were sealed for)")
	o.addFlags(cmd)
	_ = f.MarkHidden("scope") // each object keeps its Bitnami scope
	return cmd
}

// Validate checks that the flags fit together.
func (o *MigrateBitnamiOptions) Validate() error {
	stdin := len(o.Files) == 0 || (len(o.Files) == 1 && o.Files[0] == "-")
	switch {
	case o.Scope != "":
		return errors.New("migrate keeps each object's Bitnami scope; --scope does not apply")
	case len(o.BitnamiKeys) == 0:
		return withHint(errors.New("--bitnami-key is required"),
			"back up Bitnami's keys first: kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > bitnami-keys.yaml")
	case o.Write && stdin:
		return withHint(errors.New("--write needs files"), "name the files or directories to convert in place")
	}
	return o.complete()
}

// Run converts.
func (o *MigrateBitnamiOptions) Run(ctx context.Context) error {
	noteTerminalStdin(o.IOStreams, o.Files)
	keys, err := readBitnamiKeys(o.BitnamiKeys)
	if err != nil {
		return err
	}
	c := &conversion{
		IOStreams:  o.IOStreams,
		files:      o.Files,
		recursive:  o.Recursive,
		inPlace:    o.Write,
		workers:    runtime.GOMAXPROCS(0),
		format:     manifest.YAML,
		resolver:   newTargetResolver(o.cluster, &o.Recipients, o.ErrOut),
		kind:       bitnami.APIVersion + " SealedSecret",
		one:        "Bitnami SealedSecret",
		many:       "SealedSecrets",
		verb:       "migrated",
		doing:      "migrating",
		match:      func(tm metav1.TypeMeta) bool { return bitnami.IsSealedSecret(tm.APIVersion, tm.Kind) },
		noneHint:   migrateNoneHint,
		othersHint: "migrate reads Bitnami SealedSecrets; with -R, other objects are skipped, and with -w they stay in their files as they are",
		convert:    func(j *convertJob) error { return o.migrate(j, keys) },
	}
	r, err := c.plan(ctx)
	if err != nil {
		return err
	}
	defer r.clear()
	if len(r.jobs) == 0 {
		return withHint(fmt.Errorf("no %s SealedSecret found in the input", bitnami.APIVersion), migrateNoneHint)
	}
	c.run(r)
	if err := c.failure(r); err != nil {
		return err
	}
	objects, files, err := c.write(r)
	if err != nil {
		return err
	}
	for _, j := range r.jobs {
		for _, n := range j.notes {
			fmt.Fprintln(o.ErrOut, "note: "+n)
		}
		fmt.Fprintln(o.ErrOut, j.report)
	}
	switch {
	case o.Write:
		msg := fmt.Sprintf("migrated %d SealedSecret(s) in place in %d file(s)", objects, files)
		if r.others > 0 {
			msg += fmt.Sprintf("; left %d object(s) that are not Bitnami SealedSecrets as they were", r.others)
		}
		fmt.Fprintln(o.ErrOut, msg)
	case r.others > 0:
		fmt.Fprintf(o.ErrOut, "skipped %d object(s) that are not Bitnami SealedSecrets\n", r.others)
	}
	return nil
}

// readBitnamiKeys reads every --bitnami-key file. The files' bytes are
// cleared once parsed.
func readBitnamiKeys(files []string) ([]*bitnami.Key, error) {
	var keys []*bitnami.Key
	for _, file := range files {
		in, err := manifest.ReadFile(file)
		if err != nil {
			return nil, err
		}
		got, err := bitnami.ParseKeys(in.Data)
		clear(in.Data)
		if err != nil {
			return nil, withHint(fmt.Errorf("%s: %w", file, err),
				"--bitnami-key takes Bitnami's key backup (kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml) or a PEM file of RSA private keys")
		}
		for _, k := range got {
			if !slices.ContainsFunc(keys, func(o *bitnami.Key) bool { return o.Fingerprint() == k.Fingerprint() }) {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// migrateNoneHint is said when the input holds no Bitnami SealedSecret.
const migrateNoneHint = "migrate reads the SealedSecret files of Bitnami sealed-secrets"

// annotationLastApplied is kubectl's copy of the object as last applied:
// of the Bitnami object, so it does not describe the new one.
const annotationLastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// migrate opens one Bitnami SealedSecret and seals its values again to
// the job's target, with the scope Bitnami sealed them for.
func (o *MigrateBitnamiOptions) migrate(j *convertJob, keys []*bitnami.Key) error {
	var b bitnami.SealedSecret
	if err := json.Unmarshal(j.m.Raw, &b); err != nil {
		return fmt.Errorf("%s: %w", j.m.Where, manifest.SafeDecodeError(err))
	}
	if b.Namespace == "" {
		b.Namespace = o.Namespace
	}
	name := manifest.ObjectName(b.Namespace, b.Name)
	fail := func(err error, hint string) error {
		return withHint(fmt.Errorf("%s: %s: %w", j.m.Where, name, err), hint)
	}
	tm := b.Spec.Template.ObjectMeta
	if len(tm.Finalizers) > 0 || len(tm.OwnerReferences) > 0 {
		return fail(errors.New("spec.template.metadata sets finalizers or ownerReferences, which a gitseal template may not"),
			"remove them from the template, then migrate it")
	}
	if b.Namespace == "" && bitnami.ScopeOf(b.Annotations) != crypto.Cluster {
		return fail(fmt.Errorf("no namespace, which %s scope needs", bitnami.ScopeOf(b.Annotations)),
			"pass --namespace with the namespace it was sealed for")
	}
	opened, err := b.Unseal(keys)
	if err != nil {
		return fail(err, bitnamiHint(err, &b))
	}
	defer opened.Wipe()

	metaAnnotations, droppedMeta := withoutBitnamiAnnotations(b.Annotations)
	delete(metaAnnotations, annotationLastApplied)
	tplAnnotations, droppedTpl := withoutBitnamiAnnotations(tm.Annotations)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: b.Name, Namespace: b.Namespace, Labels: tm.Labels, Annotations: tplAnnotations},
		Type:       b.Spec.Template.Type,
		Immutable:  b.Spec.Template.Immutable,
		Data:       opened.Data,
	}
	ss, err := sealer.Seal(secret, opened.Scope, j.target.recipients)
	if err != nil {
		return fail(err, "")
	}
	ss.Labels, ss.Annotations = b.Labels, metaAnnotations
	j.out = ss

	// Messages name the file too, unless the object came on standard input.
	what := name
	if j.m.In.Path != "" {
		what = j.m.In.Name + ": " + name
	}
	for _, a := range droppedMeta {
		j.notes = append(j.notes, fmt.Sprintf("%s: dropped annotation %s, a setting of Bitnami's controller", what, a))
	}
	for _, a := range droppedTpl {
		j.notes = append(j.notes, fmt.Sprintf("%s: dropped template annotation %s, a setting of Bitnami's controller", what, a))
	}
	values := "values"
	if len(opened.Data) == 1 {
		values = "value"
	}
	var ids []string
	for _, r := range j.target.recipients {
		if !slices.Contains(ids, string(r.ID())) {
			ids = append(ids, string(r.ID()))
		}
	}
	j.report = fmt.Sprintf("%s: %d %s, %s scope, re-sealed to %s", what, len(opened.Data), values, opened.Scope, strings.Join(ids, ","))
	return nil
}

// withoutBitnamiAnnotations returns a copy of annotations without
// Bitnami's, and the names of those dropped that are more than the scope
// (the scope lives inside gitseal's ciphertext).
func withoutBitnamiAnnotations(annotations map[string]string) (map[string]string, []string) {
	out := maps.Clone(annotations)
	var dropped []string
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		if !strings.HasPrefix(k, bitnami.AnnotationPrefix) {
			continue
		}
		delete(out, k)
		if k != bitnami.AnnotationClusterWide && k != bitnami.AnnotationNamespaceWide {
			dropped = append(dropped, k)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return out, dropped
}

// bitnamiHint says what to do when a Bitnami SealedSecret does not open.
func bitnamiHint(err error, b *bitnami.SealedSecret) string {
	ref := manifest.ObjectName(b.Namespace, b.Name)
	if b.Namespace != "" {
		ref = b.Name + " -n " + b.Namespace
	}
	switch {
	case errors.Is(err, bitnami.ErrNoMatchingKey):
		return "pass every key of Bitnami's controller with --bitnami-key, old ones included; a value also stops opening " +
			"once its object is renamed (strict scope) or moved to another namespace"
	case errors.Is(err, bitnami.ErrUnsupported):
		return "seal the Secret in the cluster with gitseal instead: kubectl get secret " + ref + " -o yaml | gitseal seal > FILE"
	case errors.Is(err, bitnami.ErrMalformed):
		return "the value is damaged or was edited; restore it from Git history"
	}
	return ""
}
