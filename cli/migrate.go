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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
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

// bitnamiJob is one Bitnami SealedSecret to migrate and, once done, the
// gitseal SealedSecret and what to report.
type bitnamiJob struct {
	m      manifest
	target *sealTarget
	out    *gitsealv1alpha1.SealedSecret
	report string
	notes  []string
}

// Run converts.
func (o *MigrateBitnamiOptions) Run(ctx context.Context) error {
	noteTerminalStdin(o.IOStreams, o.Files)
	keys, err := readBitnamiKeys(o.BitnamiKeys)
	if err != nil {
		return err
	}
	inputs, err := readInputs(o.Files, o.In, o.Recursive)
	if err != nil {
		return err
	}
	resolver := newTargetResolver(o.cluster, &o.Recipients, o.ErrOut)
	var jobs []*bitnamiJob
	byInput := map[*input][]*bitnamiJob{}
	docsOf := map[*input][]rawDoc{}
	skipped := 0
	for _, in := range inputs {
		ms, err := in.manifests()
		if err != nil {
			return err
		}
		var found, others []manifest
		for _, m := range ms {
			if bitnami.IsSealedSecret(m.APIVersion, m.Kind) {
				found = append(found, m)
			} else {
				others = append(others, m)
			}
		}
		// Other objects are skipped with -R, and kept in their files with -w.
		othersOK := o.Recursive || (o.Write && len(found) > 0)
		switch {
		case len(others) > 0 && !othersOK:
			return withHint(fmt.Errorf("%s: a %s, not a %s SealedSecret", others[0].where, describeKind(others[0].TypeMeta), bitnami.APIVersion),
				"migrate reads Bitnami SealedSecrets; with -R, other objects are skipped, and with -w they stay in their files as they are")
		case len(found) == 0 && !o.Recursive:
			return fmt.Errorf("%s: no %s SealedSecret found", in.name, bitnami.APIVersion)
		}
		skipped += len(others)
		if len(found) == 0 {
			continue
		}
		if o.Write {
			if docsOf[in], err = rawDocuments(in, found); err != nil {
				return err
			}
		}
		target, err := resolver.resolve(ctx, in.path)
		if err != nil {
			return err
		}
		for _, m := range found {
			j := &bitnamiJob{m: m, target: target}
			jobs = append(jobs, j)
			byInput[in] = append(byInput[in], j)
		}
	}
	if len(jobs) == 0 {
		return withHint(fmt.Errorf("no %s SealedSecret found in the input", bitnami.APIVersion), "migrate reads the SealedSecret files of Bitnami sealed-secrets")
	}

	var errs []error
	for _, j := range jobs {
		if err := o.migrate(j, keys); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case len(errs) == 1:
		return errs[0]
	case len(errs) > 1:
		for _, err := range errs {
			fmt.Fprintf(o.ErrOut, "error: %v\n", err)
		}
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d of %d SealedSecrets could not be migrated; nothing was written", len(errs), len(jobs))}
	}

	if err := o.write(inputs, jobs, byInput, docsOf); err != nil {
		return err
	}
	for _, j := range jobs {
		for _, n := range j.notes {
			fmt.Fprintln(o.ErrOut, "note: "+n)
		}
		fmt.Fprintln(o.ErrOut, j.report)
	}
	switch {
	case o.Write:
		msg := fmt.Sprintf("migrated %d SealedSecret(s) in place in %d file(s)", len(jobs), len(byInput))
		if skipped > 0 {
			msg += fmt.Sprintf("; left %d object(s) that are not Bitnami SealedSecrets as they were", skipped)
		}
		fmt.Fprintln(o.ErrOut, msg)
	case skipped > 0:
		fmt.Fprintf(o.ErrOut, "skipped %d object(s) that are not Bitnami SealedSecrets\n", skipped)
	}
	return nil
}

// write prints the gitseal SealedSecrets, or with --write rewrites each
// file once every new file content is ready.
func (o *MigrateBitnamiOptions) write(inputs []*input, jobs []*bitnamiJob, byInput map[*input][]*bitnamiJob, docsOf map[*input][]rawDoc) error {
	if !o.Write {
		docs := make([][]byte, len(jobs))
		for i, j := range jobs {
			doc, err := marshalSealedSecret(j.out, formatYAML)
			if err != nil {
				return err
			}
			docs[i] = doc
		}
		return writeDocuments(o.Out, docs, formatYAML)
	}
	contents := map[*input][]byte{}
	for _, in := range inputs {
		if len(byInput[in]) == 0 {
			continue
		}
		replace := map[int]*gitsealv1alpha1.SealedSecret{}
		for _, j := range byInput[in] {
			replace[j.m.doc] = j.out
		}
		data, err := replaceDocuments(in.format, docsOf[in], replace)
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		contents[in] = data
	}
	for _, in := range inputs {
		if data, ok := contents[in]; ok {
			if err := writeFileAtomic(in.path, data, fileMode(in.path, 0o644)); err != nil {
				return err
			}
		}
	}
	return nil
}

// readBitnamiKeys reads every --bitnami-key file. The files' bytes are
// cleared once parsed.
func readBitnamiKeys(files []string) ([]*bitnami.Key, error) {
	var keys []*bitnami.Key
	for _, file := range files {
		in, err := readInputFile(file)
		if err != nil {
			return nil, err
		}
		got, err := bitnami.ParseKeys(in.data)
		clear(in.data)
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

// annotationLastApplied is kubectl's copy of the object as last applied:
// of the Bitnami object, so it does not describe the new one.
const annotationLastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// migrate opens one Bitnami SealedSecret and seals its values again to
// the job's target, with the scope Bitnami sealed them for.
func (o *MigrateBitnamiOptions) migrate(j *bitnamiJob, keys []*bitnami.Key) error {
	var b bitnami.SealedSecret
	if err := json.Unmarshal(j.m.raw, &b); err != nil {
		return fmt.Errorf("%s: %w", j.m.where, safeDecodeError(err))
	}
	if b.Namespace == "" {
		b.Namespace = o.Namespace
	}
	name := objectName(b.Namespace, b.Name)
	fail := func(err error, hint string) error {
		return withHint(fmt.Errorf("%s: %s: %w", j.m.where, name, err), hint)
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
	if j.m.in.path != "" {
		what = j.m.in.name + ": " + name
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
	ref := objectName(b.Namespace, b.Name)
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

// rawDoc is one document of an input as written, for rewriting a file in
// place. index is its position among the input's non-empty documents
// (manifest.doc), or -1 for an empty or comment-only document.
type rawDoc struct {
	text  []byte
	index int
	metav1.TypeMeta
}

// rawDocuments splits an input into its documents as splitDocuments does,
// keeping their text. It refuses Bitnami SealedSecrets inside Lists,
// which cannot be replaced as documents.
func rawDocuments(in *input, found []manifest) ([]rawDoc, error) {
	var docs []rawDoc
	n := 0
	add := func(text, asJSON []byte) {
		d := rawDoc{text: text, index: -1}
		if !isNull(asJSON) {
			d.index = n
			n++
			_ = json.Unmarshal(asJSON, &d.TypeMeta) // manifests has parsed it already
		}
		docs = append(docs, d)
	}
	if in.format == formatJSON {
		dec := json.NewDecoder(bytes.NewReader(in.data))
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", in.name, safeDecodeError(err))
			}
			add(raw, raw)
		}
	} else {
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(in.data)))
		for {
			text, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", in.name, err)
			}
			asJSON, err := yaml.YAMLToJSON(text)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", in.name, safeDecodeError(err))
			}
			add(text, asJSON)
		}
	}
	for _, m := range found {
		i := slices.IndexFunc(docs, func(d rawDoc) bool { return d.index == m.doc })
		if i < 0 || !bitnami.IsSealedSecret(docs[i].APIVersion, docs[i].Kind) {
			return nil, withHint(fmt.Errorf("%s: a Bitnami SealedSecret inside a List cannot be replaced in place", m.where),
				"convert the file to standard output (without -w) and replace it yourself")
		}
	}
	return docs, nil
}

// replaceDocuments writes docs again, each document whose index replace
// names as its gitseal SealedSecret and every other one as it was. In
// YAML, the comment lines that open a replaced document are kept.
func replaceDocuments(f format, docs []rawDoc, replace map[int]*gitsealv1alpha1.SealedSecret) ([]byte, error) {
	var b bytes.Buffer
	for i, d := range docs {
		text := d.text
		if ss, ok := replace[d.index]; ok && d.index >= 0 {
			doc, err := marshalSealedSecret(ss, f)
			if err != nil {
				return nil, err
			}
			if f == formatYAML {
				doc = append(leadingComments(d.text), doc...)
			}
			text = doc
		}
		if f == formatYAML && i > 0 {
			b.WriteString("---\n")
		}
		b.Write(bytes.TrimRight(text, "\n"))
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// leadingComments returns the comment and blank lines a YAML document
// starts with.
func leadingComments(text []byte) []byte {
	end := 0
	for end < len(text) {
		line := text[end:]
		if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
			line = line[:nl+1]
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			break
		}
		end += len(line)
	}
	return slices.Clone(text[:end])
}
