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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	"github.com/spf13/cobra"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
)

// DiffOptions are the options of `gitseal diff`.
type DiffOptions struct {
	IOStreams

	Args []string
}

// NewCmdDiff returns `gitseal diff`.
func NewCmdDiff(streams IOStreams) *cobra.Command {
	o := &DiffOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW | diff FILE",
		Short: "Show which sealed items changed, without decrypting anything",
		Long: `Compare two versions of a file of SealedSecrets: which items were added,
removed or changed, and which keys they are sealed to. Nothing is
decrypted, and no fingerprint of any plaintext is shown; a changed item is
one whose ciphertext changed.

With one file, print a stable summary of it: each item, the keys it is
sealed to and a short hash of its ciphertext. That is the form for git's
textconv. Called with git's seven diff-driver arguments, it works as a git
external diff driver. See docs/cli.md for the .gitattributes and git config
lines.

Exit status with two files: 0 when nothing changed, 1 when something did,
2 on failure, like diff(1). As a git diff driver it exits 0, as git expects.`,
		Example: `  gitseal diff old/db.yaml db.yaml
  git show HEAD~1:db.yaml > /tmp/old.yaml && gitseal diff /tmp/old.yaml db.yaml

  # Let git diff sealed files with it
  echo '*.sealed.yaml diff=gitseal' >> .gitattributes
  git config diff.gitseal.textconv "gitseal diff"`,
		Args: func(_ *cobra.Command, args []string) error {
			switch len(args) {
			case 1, 2, 7:
				return nil
			}
			return fmt.Errorf("diff takes one file (textconv), two files, or git's seven diff-driver arguments; got %d", len(args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			return o.Run()
		},
	}
	return cmd
}

// Run prints the summary or the differences.
func (o *DiffOptions) Run() error {
	switch len(o.Args) {
	case 1:
		return o.textconv(o.Args[0])
	case 7:
		// path old-file old-hex old-mode new-file new-hex new-mode
		fmt.Fprintf(o.Out, "diff --gitseal a/%s b/%s\n", o.Args[0], o.Args[0])
		_, err := o.compare(o.Args[1], o.Args[4])
		return err
	}
	changed, err := o.compare(o.Args[0], o.Args[1])
	if err == nil && changed {
		return &ExitError{Code: ExitNo}
	}
	return err
}

// sealedSummary is what can be said about a SealedSecret without a key.
type sealedSummary struct {
	title    string
	template string
	items    map[string]itemSummary
	// dataKeys summarizes spec.dataKeys (format 2), in order.
	dataKeys []itemSummary
}

type itemSummary struct {
	keyIDs      string
	fingerprint string
	problem     string
}

// describe is how the summary shows an item.
func (s itemSummary) describe() string {
	if s.problem != "" {
		return s.problem
	}
	return "sealed to " + s.keyIDs
}

// summarize reads a file leniently. Documents that are not SealedSecrets
// are summarized as their kind and name. ok is false when the file is not
// YAML or JSON at all.
func summarize(path string) (sums []sealedSummary, raw []byte, ok bool, err error) {
	in, err := manifest.ReadFile(path)
	if err != nil {
		return nil, nil, false, err
	}
	ms, err := in.Objects()
	if err != nil {
		return nil, in.Data, false, nil
	}
	for _, m := range ms {
		if !manifest.IsSealedSecret(m.TypeMeta) {
			var meta struct {
				Metadata struct{ Name, Namespace string }
			}
			_ = json.Unmarshal(m.Raw, &meta)
			sums = append(sums, sealedSummary{title: manifest.DescribeKind(m.TypeMeta) + " " + manifest.ObjectName(meta.Metadata.Namespace, meta.Metadata.Name)})
			continue
		}
		ss, err := manifest.DecodeSealedSecret(m)
		if err != nil {
			return nil, nil, false, err
		}
		sums = append(sums, summarizeSealed(ss))
	}
	return sums, in.Data, true, nil
}

func summarizeSealed(ss *gitsealv1alpha1.SealedSecret) sealedSummary {
	s := sealedSummary{title: "SealedSecret " + manifest.ObjectName(ss.Namespace, ss.Name), items: map[string]itemSummary{}}
	if ss.Spec.Template != nil {
		t, _ := json.Marshal(ss.Spec.Template)
		s.template = string(t)
	}
	for item, v := range ss.Spec.EncryptedData {
		s.items[item] = summarizeValue(string(v), ss.Spec.DataKeys)
	}
	for _, dk := range ss.Spec.DataKeys {
		sum := sha256.Sum256([]byte(dk))
		it := itemSummary{fingerprint: hex.EncodeToString(sum[:8])}
		if info, err := crypto.InspectDataKey(dk); err != nil {
			it.problem = "not a valid data key"
		} else {
			it.keyIDs = joinKeyIDs(info.KeyIDs)
		}
		s.dataKeys = append(s.dataKeys, it)
	}
	return s
}

// summarizeValue names the keys a value is sealed to (for format 2, the
// keys its data key is wrapped for) and a hash of its ciphertext, which
// changes whenever the value is sealed again, but not when only its data
// key is re-wrapped.
func summarizeValue(v string, dataKeys []string) itemSummary {
	sum := sha256.Sum256([]byte(v))
	fp := hex.EncodeToString(sum[:8])
	info, err := crypto.InspectValue(v, dataKeys)
	if err != nil {
		return itemSummary{fingerprint: fp, problem: "not a valid sealed value"}
	}
	return itemSummary{keyIDs: joinKeyIDs(info.KeyIDs), fingerprint: fp}
}

func joinKeyIDs(ids []crypto.KeyID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ",")
}

// textconv prints the stable one-file summary.
func (o *DiffOptions) textconv(path string) error {
	sums, raw, ok, err := summarize(path)
	if err != nil {
		return err
	}
	if !ok {
		_, err := o.Out.Write(raw) // not a manifest: let git diff it as text
		return err
	}
	for _, s := range sums {
		fmt.Fprintln(o.Out, s.title)
		if s.items == nil {
			continue
		}
		if s.template != "" {
			fmt.Fprintf(o.Out, "  template: %s\n", s.template)
		}
		for _, item := range manifest.SortedKeys(s.items) {
			it := s.items[item]
			fmt.Fprintf(o.Out, "  %s: %s (ciphertext %s)\n", item, it.describe(), it.fingerprint)
		}
		for i, dk := range s.dataKeys {
			fmt.Fprintf(o.Out, "  dataKeys[%d]: %s (wrapped %s)\n", i, dk.describe(), dk.fingerprint)
		}
	}
	return nil
}

// compare prints what changed between two files and says whether
// anything did. /dev/null, which git passes for an added or deleted file,
// is an empty file.
func (o *DiffOptions) compare(oldPath, newPath string) (bool, error) {
	before, err := summarizeOrEmpty(oldPath)
	if err != nil {
		return false, err
	}
	after, err := summarizeOrEmpty(newPath)
	if err != nil {
		return false, err
	}
	byTitle := func(sums []sealedSummary) map[string]sealedSummary {
		m := make(map[string]sealedSummary, len(sums))
		for _, s := range sums {
			m[s.title] = s
		}
		return m
	}
	oldBy, newBy := byTitle(before), byTitle(after)
	changed := false
	var order []string
	for _, s := range before {
		order = append(order, s.title)
	}
	for _, s := range after {
		if _, ok := oldBy[s.title]; !ok {
			order = append(order, s.title)
		}
	}
	for _, title := range order {
		o1, inOld := oldBy[title]
		n1, inNew := newBy[title]
		switch {
		case !inNew:
			changed = true
			fmt.Fprintf(o.Out, "- %s: removed\n", title)
		case !inOld:
			changed = true
			fmt.Fprintf(o.Out, "+ %s: added\n", title)
			for _, item := range manifest.SortedKeys(n1.items) {
				fmt.Fprintf(o.Out, "  + %s: %s\n", item, n1.items[item].describe())
			}
		default:
			lines := diffItems(o1, n1)
			if len(lines) > 0 {
				changed = true
				fmt.Fprintf(o.Out, "~ %s:\n", title)
				for _, l := range lines {
					fmt.Fprintf(o.Out, "  %s\n", l)
				}
			}
		}
	}
	return changed, nil
}

// diffItems lists the changes between two summaries of one object.
func diffItems(before, after sealedSummary) []string {
	var out []string
	if before.template != after.template {
		out = append(out, fmt.Sprintf("~ template: %s → %s", orNone(before.template), orNone(after.template)))
	}
	for _, item := range manifest.SortedKeys(before.items) {
		b := before.items[item]
		a, ok := after.items[item]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("- %s: removed (was %s)", item, b.describe()))
		case a.fingerprint == b.fingerprint && a.keyIDs == b.keyIDs:
		case a.fingerprint == b.fingerprint && a.problem == "" && b.problem == "":
			out = append(out, fmt.Sprintf("~ %s: re-wrapped, %s (was %s)", item, a.describe(), b.describe()))
		case a.keyIDs == b.keyIDs && a.problem == "" && b.problem == "":
			out = append(out, fmt.Sprintf("~ %s: changed, %s", item, a.describe()))
		default:
			out = append(out, fmt.Sprintf("~ %s: changed, %s (was %s)", item, a.describe(), b.describe()))
		}
	}
	for _, item := range manifest.SortedKeys(after.items) {
		if _, ok := before.items[item]; !ok {
			out = append(out, fmt.Sprintf("+ %s: added, %s", item, after.items[item].describe()))
		}
	}
	if !slices.Equal(before.dataKeys, after.dataKeys) {
		now, was := describeDataKeys(after.dataKeys), describeDataKeys(before.dataKeys)
		if now == was {
			out = append(out, "~ dataKeys: changed, "+now)
		} else {
			out = append(out, fmt.Sprintf("~ dataKeys: changed, %s (was %s)", now, was))
		}
	}
	return out
}

// describeDataKeys says what an object's data keys are wrapped for.
func describeDataKeys(dks []itemSummary) string {
	if len(dks) == 0 {
		return "none"
	}
	parts := make([]string, len(dks))
	for i, dk := range dks {
		parts[i] = dk.describe()
	}
	return strings.Join(parts, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func summarizeOrEmpty(path string) ([]sealedSummary, error) {
	if path == os.DevNull {
		return nil, nil
	}
	sums, _, ok, err := summarize(path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: not a YAML or JSON manifest", path)
	}
	return sums, nil
}
