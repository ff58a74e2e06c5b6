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

package policy

import (
	"cmp"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/sealedvalue"
)

// checker holds the state of one CheckFile or CheckObject call.
type checker struct {
	p    *Policy
	file string // "" for CheckObject
	text string // "" for CheckObject
	// kustom: the file name says it is a kustomization.
	kustom bool
	// mask: the token rules whose keywords occur in the text. maskAll when
	// the text has escapes (or there is no text), so each scalar is masked
	// on its own.
	mask    keywordMask
	maskAll bool
	// allows maps a line to the reason of the gitseal:allow comment
	// covering it.
	allows map[int]string
	// commentLines are the lines with a trailing YAML comment.
	commentLines map[int]bool
	lineStarts   []int
	// ranges are the line ranges of the documents that are objects, whose
	// scalars the object walk checks.
	ranges []objRange
	// via and embedDepth describe an embedded document being checked (a
	// kustomize patch, a last-applied-configuration annotation).
	via        string
	embedDepth int

	// scanned and dupChecked remember the nodes already checked: an alias
	// shares its node, and one finding per node is enough.
	scanned    map[scanKey]bool
	dupChecked map[*node]bool

	findings []Finding
	capped   bool
}

type scanKey struct {
	n       *node
	entropy bool
}

// maxFindings bounds the findings of one file or object, so aliases cannot
// turn a small file into a huge report.
const maxFindings = 10_000

type objRange struct {
	start, end int // inclusive; end 0 means to the end of the file
	oc         *objCtx
}

// objCtx is what findings need to know about the object they are in.
type objCtx struct {
	obj   Object // without Field and Key
	via   string
	allow string // the allow-plaintext annotation's reason
}

// at returns the location of a field of the object; nil outside objects.
func (oc *objCtx) at(field, key string) *Object {
	if oc == nil {
		if field == "" && key == "" {
			return nil
		}
		return &Object{Field: field, Key: printable(key)}
	}
	o := oc.obj
	o.Field, o.Key = field, printable(key)
	if oc.via != "" {
		o.Field = oc.via + " > " + field
	}
	return &o
}

func (p *Policy) newChecker(file, text string) *checker {
	c := &checker{p: p, file: file, text: text, kustom: IsKustomization(file), maskAll: true,
		scanned: map[scanKey]bool{}, dupChecked: map[*node]bool{}}
	if text != "" {
		c.allows = allowComments(text)
		if strings.IndexByte(text, '\\') < 0 {
			c.mask, c.maskAll = maskOf(text), false
		}
	}
	return c
}

// annotatable are the rules the allow-plaintext annotation can allow. The
// sealed-value rules are not about plaintext, and the structural rules make
// the annotation itself untrustworthy.
func annotatable(r RuleID) bool {
	switch r {
	case RuleSecretData, RuleSecretStringData, RuleSecretGenerator, RulePrivateKey, RuleToken, RuleHighEntropy:
		return true
	}
	return false
}

// add records a finding. material is what the value-dependent part of the
// fingerprint is computed from; it is never stored.
func (c *checker) add(f Finding, material string, oc *objCtx) {
	if c.capped {
		return
	}
	if len(c.findings) >= maxFindings {
		c.capped = true
		f = Finding{Rule: RuleTooComplex, Line: f.Line,
			Message: fmt.Sprintf("more than %d findings; the rest were not reported", maxFindings)}
		material, oc = "", nil
	}
	f.File = c.file
	if f.Name == "" {
		f.Name = ruleName(f.Rule)
	}
	if oc != nil && oc.allow != "" && annotatable(f.Rule) {
		f.Allowed = &Allowance{By: AllowedByAnnotation, Reason: oc.allow}
	}
	c.p.fingerprint(&f, material)
	c.findings = append(c.findings, f)
}

func (c *checker) tooComplex(line int, msg string) {
	c.add(Finding{Rule: RuleTooComplex, Line: line, Message: msg}, msg, nil)
}

// done removes repeats (a shared alias reports once), applies the comment
// and baseline allowlists, and sorts.
func (c *checker) done() []Finding {
	seen := make(map[string]bool, len(c.findings))
	out := c.findings[:0]
	for _, f := range c.findings {
		k := fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%s", f.Rule, f.Name, f.Line, f.Column, f.Object.String())
		if seen[k] {
			continue
		}
		seen[k] = true
		if r, ok := c.allows[f.Line]; ok && f.Allowed == nil && f.Line > 0 {
			f.Allowed = &Allowance{By: AllowedByComment, Reason: r}
		}
		c.p.applyBaseline(&f)
		out = append(out, f)
	}
	SortFindings(out)
	return out
}

// checkText checks a whole file.
func (c *checker) checkText() {
	if !worthParsing(c.file, c.text) {
		c.scanRaw()
		return
	}
	err := c.checkDocuments(c.text)
	if err != nil && looksJSON(c.text) && strings.IndexByte(c.text, '\t') >= 0 {
		// JSON allows tabs where YAML does not; outside strings, where JSON
		// cannot have a raw tab, they are only white space.
		err = c.checkDocuments(strings.ReplaceAll(c.text, "\t", " "))
	}
	if err != nil {
		if strings.Contains(err.Error(), "exceeded max depth") {
			c.tooComplex(1, "YAML nests too deeply to parse; not checked")
		} else {
			c.fallbackSecrets()
		}
	}
	c.scanRaw()
}

// checkDocuments checks each document of the text as it is parsed. When
// the text is not YAML, it returns the error having recorded nothing, so
// that the caller can fall back to reading it line by line.
func (c *checker) checkDocuments(text string) error {
	c.commentLines = map[int]bool{}
	c.ranges = nil
	saved := len(c.findings)
	err := parseDocuments(text, 0, c.commentLines, func(d document) {
		if n := len(c.ranges); n > 0 && c.ranges[n-1].end == 0 && d.root != nil {
			c.ranges[n-1].end = d.root.line - 1
		}
		if oc, handled := c.checkDocument(d); handled && d.root != nil {
			c.ranges = append(c.ranges, objRange{start: d.root.line, oc: oc})
		}
	})
	if err != nil {
		c.findings, c.ranges, c.commentLines = c.findings[:saved], nil, nil
		c.scanned, c.dupChecked, c.capped = map[scanKey]bool{}, map[*node]bool{}, false
	}
	return err
}

func looksJSON(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n")
	return s != "" && (s[0] == '{' || s[0] == '[')
}

// checkDocument checks one parsed document. It reports whether the
// document was handled: an object (or a list of them), whose scalars it has
// walked, or one that could not be checked. Other documents are left to the
// raw text scan. oc is the object, when the document is one.
func (c *checker) checkDocument(d document) (oc *objCtx, handled bool) {
	root := d.root
	switch {
	case d.err != nil:
		c.tooComplex(d.line, "document has an alias that refers to itself; not checked")
		return nil, true
	case root == nil:
		return nil, false
	case root.size > c.p.opts.MaxNodes:
		c.tooComplex(root.line, fmt.Sprintf("document expands to more than %d nodes (aliases count at every use); not checked", c.p.opts.MaxNodes))
		return nil, true
	case root.depth > c.p.opts.MaxDepth:
		c.tooComplex(root.line, fmt.Sprintf("document nests deeper than %d levels; not checked", c.p.opts.MaxDepth))
		return nil, true
	}
	switch root.kind {
	case mapNode:
		oc := c.checkObject(root, 0)
		return oc, oc != nil
	case seqNode:
		objects := false
		for _, it := range root.items {
			if it.kind == mapNode && c.checkObject(it, 0) != nil {
				objects = true
			}
		}
		if objects {
			for _, it := range root.items {
				if it.kind != mapNode {
					c.walk(it, &walker{}, walkPlain, "")
				}
			}
		}
		return nil, objects
	}
	return nil, false
}

// checkObject checks a mapping that may be a Kubernetes object or a
// kustomization. It returns nil, having done nothing, when it is neither.
func (c *checker) checkObject(obj *node, depth int) *objCtx {
	kinds := obj.lookup("kind", true)
	apiVersion := obj.last("apiVersion", true).str()
	meta := obj.last("metadata", true)
	isK8s := apiVersion != "" || len(kinds) > 0
	isKust := c.kustom && depth == 0 && c.embedDepth == 0 ||
		len(obj.lookup("secretGenerator", false)) > 0 || hasKind(kinds, "Kustomization", "Component")
	if !isK8s && !isKust {
		return nil
	}
	var kind string
	if len(kinds) > 0 {
		kind = kinds[len(kinds)-1].str()
	} else if isKust {
		kind = "Kustomization"
	}
	oc := &objCtx{via: c.via, obj: Object{
		APIVersion: printable(apiVersion),
		Kind:       printable(kind),
		Namespace:  printable(meta.last("namespace", false).str()),
		Name:       printable(cmp.Or(meta.last("name", false).str(), meta.last("generateName", false).str())),
	}}
	isList := hasKindSuffix(kinds, "List")
	if c.duplicates(obj, oc, nil, isList) == 0 {
		oc.allow = allowAnnotation(meta)
	}
	w := &walker{oc: oc, configMap: hasKind(kinds, "ConfigMap")}

	if isList {
		w.skip = append(w.skip, []string{"items"})
		for _, items := range obj.lookup("items", true) {
			for _, it := range items.items {
				if it.kind == mapNode && c.checkObject(it, depth+1) == nil {
					c.walk(it, &walker{}, walkPlain, "")
				}
			}
		}
	}
	if hasKind(kinds, "Secret") {
		w.skip = append(w.skip, []string{"data"}, []string{"stringData"})
		c.checkSecretFields(obj, "", oc)
	}
	if hasKind(kinds, "SealedSecret") {
		w.skip = append(w.skip, []string{"spec", "encryptedData"}, []string{"spec", "template", "data"}, []string{"spec", "template", "stringData"})
		c.checkSealed(obj, oc, strings.HasPrefix(apiVersion, "gitseal.dev/"))
	}
	if isKust {
		w.skip = append(w.skip, []string{"secretGenerator"}, []string{"patchesStrategicMerge"}, []string{"patches", "*", "patch"})
		c.checkGenerators(obj, oc)
		c.checkPatches(obj)
	}
	w.skip = append(w.skip, []string{"metadata", "annotations", lastApplied})
	c.checkLastApplied(meta)
	c.walk(obj, w, walkPlain, "")
	return oc
}

func hasKind(kinds []*node, want ...string) bool {
	for _, k := range kinds {
		for _, w := range want {
			if strings.EqualFold(k.str(), w) {
				return true
			}
		}
	}
	return false
}

func hasKindSuffix(kinds []*node, suffix string) bool {
	for _, k := range kinds {
		s := k.str()
		if len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
			return true
		}
	}
	return false
}

// allowAnnotation returns the reason of an allow-plaintext annotation, or "".
func allowAnnotation(meta *node) string {
	for _, ann := range meta.lookup("annotations", true) {
		for _, v := range ann.lookup(AnnotationAllowPlaintext, false) {
			if s := strings.TrimSpace(v.str()); s != "" && !strings.EqualFold(s, "false") {
				return printable(s)
			}
		}
	}
	return ""
}

// duplicates reports every repeated key in the object, and returns how many
// there are. Keys are compared exactly, except Kubernetes' own fields at
// the top of the object and in metadata, which some decoders match in any
// letter case. Keys brought in by a YAML merge may be overridden: that is
// what merging is for. A list's items are objects of their own, checked on
// their own.
func (c *checker) duplicates(n *node, oc *objCtx, at []string, isList bool) int {
	count := 0
	if n.kind == mapNode || n.kind == seqNode {
		if c.dupChecked[n] {
			return 0
		}
		c.dupChecked[n] = true
	}
	switch n.kind {
	case mapNode:
		fold := len(at) == 0 || len(at) == 1 && strings.EqualFold(at[0], "metadata")
		first := make(map[string]*node, len(n.pairs))
		for _, p := range n.pairs {
			if p.merged {
				continue
			}
			k := p.keyString()
			norm := k
			if fold {
				norm = strings.ToLower(k)
			}
			if prev, ok := first[norm]; ok {
				count++
				msg := fmt.Sprintf("key %q appears more than once in this mapping; decoders disagree on which value wins", printable(k))
				if prev.line > 0 {
					msg = fmt.Sprintf("key %q repeats the key on line %d; decoders disagree on which value wins", printable(k), prev.line)
				}
				field := joinPath(at)
				c.add(Finding{Rule: RuleDuplicateKey, Line: p.key.line, Column: p.key.column,
					Object: oc.at(field, k), Message: msg}, field+"\x00"+k, oc)
				continue
			}
			first[norm] = p.key
		}
		for _, p := range n.pairs {
			k := p.keyString()
			if isList && len(at) == 0 && strings.EqualFold(k, "items") {
				continue
			}
			count += c.duplicates(p.value, oc, append(at, k), false)
		}
	case seqNode:
		for i, it := range n.items {
			count += c.duplicates(it, oc, append(at, "["+strconv.Itoa(i)+"]"), false)
		}
	}
	return count
}

// checkSecretFields reports the values under data and stringData of a
// Secret, or of a SealedSecret's template (prefix "spec.template.").
func (c *checker) checkSecretFields(obj *node, prefix string, oc *objCtx) {
	for _, p := range obj.pairs {
		k := p.keyString()
		var rule RuleID
		switch {
		case strings.EqualFold(k, "data"):
			rule = RuleSecretData
		case strings.EqualFold(k, "stringData"):
			rule = RuleSecretStringData
		default:
			continue
		}
		field := prefix + k
		v := p.value
		switch v.kind {
		case mapNode:
			for _, item := range v.pairs {
				c.checkSecretValue(rule, field, item.keyString(), item.key, item.value, oc)
			}
		case scalarNode, seqNode:
			c.checkSecretValue(rule, field, "", p.key, v, oc)
		}
	}
}

func (c *checker) checkSecretValue(rule RuleID, field, key string, at, v *node, oc *objCtx) {
	var preview, material string
	switch v.kind {
	case nullNode:
		return
	case scalarNode:
		if rule == RuleSecretData && dataIsEmpty(v.value) || rule == RuleSecretStringData && IsPlaceholder(v.value) {
			return
		}
		material = v.value
		if rule == RuleSecretData {
			preview = previewData(v.value)
		} else {
			preview = previewString(v.value)
		}
	case mapNode, seqNode:
		// A Helm template such as {{ .Values.x }} parses as a nested
		// mapping with no values; only a nested value that holds text
		// counts.
		if !holdsText(v) {
			return
		}
		preview = "a nested structure, not a string"
		material = fmt.Sprint(v.size)
	}
	msg := fmt.Sprintf("%s has a plaintext value under stringData", secretWhat(oc))
	if rule == RuleSecretData {
		msg = fmt.Sprintf("%s has a plaintext value under data (base64 is an encoding, not encryption)", secretWhat(oc))
	}
	c.add(Finding{
		Rule: rule, Line: at.line, Column: at.column, Object: oc.at(field, key),
		Message: msg, Preview: preview,
	}, material, oc)
}

// holdsText reports whether a nested value has a scalar value (not a key)
// that is neither empty nor a placeholder.
func holdsText(n *node) bool {
	switch n.kind {
	case scalarNode:
		return !IsPlaceholder(n.value)
	case mapNode:
		for _, p := range n.pairs {
			if holdsText(p.value) {
				return true
			}
		}
	case seqNode:
		for _, it := range n.items {
			if holdsText(it) {
				return true
			}
		}
	}
	return false
}

func secretWhat(oc *objCtx) string {
	if oc != nil && strings.EqualFold(oc.obj.Kind, "SealedSecret") {
		return "SealedSecret template"
	}
	return "Secret"
}

// checkSealed checks a SealedSecret's values without any key, and its
// template for plaintext. gitseal says whether the apiVersion is ours: other
// SealedSecret kinds (Bitnami's) have another value format.
func (c *checker) checkSealed(obj *node, oc *objCtx, gitseal bool) {
	for _, spec := range obj.lookup("spec", false) {
		for _, tpl := range spec.lookup("template", false) {
			if tpl.kind == mapNode {
				c.checkSecretFields(tpl, "spec.template.", oc)
			}
		}
		if !gitseal {
			continue
		}
		dataKeys := c.checkDataKeys(spec, oc)
		for _, ed := range spec.lookup("encryptedData", false) {
			for _, p := range ed.pairs {
				c.checkSealedValue(p.keyString(), p.key, p.value, dataKeys, oc)
			}
		}
	}
}

// dataKey is one entry of spec.dataKeys as the checker read it: info is nil
// when it is malformed, which is reported where it is.
type dataKey struct {
	text string
	info *crypto.Info
}

// checkDataKeys reports malformed entries of spec.dataKeys (format 2) and
// returns them all, in order, for the values to refer to.
func (c *checker) checkDataKeys(spec *node, oc *objCtx) []dataKey {
	var out []dataKey
	for _, dks := range spec.lookup("dataKeys", false) {
		if dks.kind != seqNode {
			c.add(Finding{Rule: RuleSealedMalformed, Line: dks.line, Column: dks.column, Object: oc.at("spec", "dataKeys"),
				Message: "spec.dataKeys is not a list"}, "", oc)
			continue
		}
		out = out[:0]
		for i, it := range dks.items {
			loc := oc.at("spec.dataKeys", strconv.Itoa(i))
			if it.kind != scalarNode {
				c.add(Finding{Rule: RuleSealedMalformed, Line: it.line, Column: it.column, Object: loc,
					Message: "data key is not a string"}, "", oc)
				out = append(out, dataKey{})
				continue
			}
			info, err := crypto.InspectDataKey(it.value)
			if err != nil {
				c.add(Finding{Rule: RuleSealedMalformed, Line: it.line, Column: it.column, Object: loc,
					Message: "data key is malformed: " + printable(strings.TrimPrefix(err.Error(), crypto.ErrMalformed.Error()+": ")),
					Preview: previewString(it.value)}, it.value, oc)
			}
			out = append(out, dataKey{text: it.value, info: info})
		}
	}
	return out
}

func (c *checker) checkSealedValue(key string, at, v *node, dataKeys []dataKey, oc *objCtx) {
	loc := oc.at("spec.encryptedData", key)
	if v.kind != scalarNode {
		c.add(Finding{Rule: RuleSealedMalformed, Line: at.line, Column: at.column, Object: loc,
			Message: "sealed value is not a string"}, "", oc)
		return
	}
	texts := make([]string, len(dataKeys))
	for i, dk := range dataKeys {
		texts[i] = dk.text
	}
	via := ""
	if i, err := sealedvalue.DataKey(v.value, texts); crypto.Version(v.value) == 2 && err == nil {
		// Format 2: the keys are those of the value's data key.
		if dataKeys[i].info == nil {
			return // the data key is reported where it is
		}
		via = fmt.Sprintf(" (through spec.dataKeys[%d])", i)
	}
	info, err := crypto.InspectValue(v.value, texts)
	if err != nil {
		// The error names the defect, never the text: the text may be a
		// plaintext value pasted where a sealed one belongs.
		c.add(Finding{Rule: RuleSealedMalformed, Line: at.line, Column: at.column, Object: loc,
			Message: "sealed value is malformed: " + printable(strings.TrimPrefix(err.Error(), crypto.ErrMalformed.Error()+": ")),
			Preview: previewString(v.value)}, v.value, oc)
		return
	}
	keys := c.p.opts.Keys
	if keys == nil {
		return
	}
	var retired, known []string
	all := make([]string, len(info.KeyIDs))
	for i, id := range info.KeyIDs {
		all[i] = string(id)
		if keys.retired[id] {
			retired = append(retired, string(id))
		}
		if keys.known[id] {
			known = append(known, string(id))
		}
	}
	switch {
	case len(retired) > 0:
		c.add(Finding{Rule: RuleSealedRetiredKey, Line: at.line, Column: at.column, Object: loc,
			Message: fmt.Sprintf("sealed to retired key %s%s", strings.Join(retired, ", "), via)}, v.value, oc)
	case len(known) == 0:
		c.add(Finding{Rule: RuleSealedUnknownKey, Line: at.line, Column: at.column, Object: loc,
			Message: fmt.Sprintf("sealed only to keys .gitseal.yaml does not list: %s%s", strings.Join(all, ", "), via)}, v.value, oc)
	}
}

// checkGenerators reports kustomize secretGenerator entries that bring
// values in.
func (c *checker) checkGenerators(obj *node, oc *objCtx) {
	for _, gens := range obj.lookup("secretGenerator", false) {
		for _, g := range gens.items {
			if g.kind != mapNode {
				continue
			}
			name := g.last("name", false).str()
			goc := &objCtx{via: oc.via, obj: Object{
				Kind: "Secret", Name: printable(name),
				Namespace: printable(cmp.Or(g.last("namespace", false).str(), obj.last("namespace", false).str())),
			}}
			if oc.allow != "" {
				goc.allow = oc.allow
			}
			for _, opts := range g.lookup("options", false) {
				if r := allowAnnotation(opts); r != "" {
					goc.allow = r
				}
			}
			field := "secretGenerator[" + printable(name) + "]"
			for _, lits := range g.lookup("literals", false) {
				for _, lit := range lits.items {
					c.checkLiteral(lit, field+".literals", goc)
				}
			}
			for _, files := range g.lookup("files", false) {
				for _, f := range files.items {
					key, src, ok := strings.Cut(f.str(), "=")
					if !ok {
						src, key = key, path.Base(key)
					}
					c.checkSourceFile(f, field+".files", key, src, "reads file %s into the Secret: its value is kept in Git in plain text", goc)
				}
			}
			for _, name := range []string{"envs", "env"} {
				for _, envs := range g.lookup(name, false) {
					list := envs.items
					if envs.kind == scalarNode {
						list = []*node{envs}
					}
					for _, e := range list {
						c.checkSourceFile(e, field+"."+name, "", e.str(), "reads env file %s into the Secret: its values are kept in Git in plain text", goc)
					}
				}
			}
		}
	}
}

func (c *checker) checkLiteral(lit *node, field string, oc *objCtx) {
	if lit.kind != scalarNode {
		return
	}
	key, value, ok := strings.Cut(lit.value, "=")
	if !ok {
		key, value = "", lit.value
	}
	if IsPlaceholder(value) {
		return
	}
	c.add(Finding{Rule: RuleSecretGenerator, Line: lit.line, Column: lit.column, Object: oc.at(field, key),
		Message: "secretGenerator literal holds a plaintext value", Preview: previewString(value)}, lit.value, oc)
}

func (c *checker) checkSourceFile(at *node, field, key, src, format string, oc *objCtx) {
	src = strings.TrimSpace(src)
	if at.kind != scalarNode || src == "" || IsPlaceholder(src) {
		return
	}
	if exists := c.p.opts.FileExists; exists != nil && c.file != "" && !strings.Contains(src, "://") {
		rel := path.Join(path.Dir(c.file), src)
		// A file outside the scan root, or named by an absolute path, may
		// well be in Git: only a path under the root can be looked up.
		if rel != ".." && !strings.HasPrefix(rel, "../") && !path.IsAbs(src) && !path.IsAbs(rel) && !exists(rel) {
			return // not in Git: nothing is brought in from the repository
		}
	}
	c.add(Finding{Rule: RuleSecretGenerator, Line: at.line, Column: at.column, Object: oc.at(field, key),
		Message: fmt.Sprintf(format, printable(src)), Preview: "file " + printable(src)}, src, oc)
}

// checkPatches checks the patches a kustomization holds inline, which are
// manifests too: a Secret patch with stringData is plaintext like any other.
func (c *checker) checkPatches(obj *node) {
	for _, patches := range obj.lookup("patches", false) {
		for i, p := range patches.items {
			for _, text := range p.lookup("patch", false) {
				c.checkEmbedded(text, "patches["+strconv.Itoa(i)+"].patch")
			}
		}
	}
	for _, patches := range obj.lookup("patchesStrategicMerge", false) {
		for i, text := range patches.items {
			if strings.Contains(text.str(), "\n") {
				c.checkEmbedded(text, "patchesStrategicMerge["+strconv.Itoa(i)+"]")
			}
		}
	}
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// checkLastApplied checks the copy of an object kubectl keeps in an
// annotation: a Secret exported from a cluster carries its data there too.
func (c *checker) checkLastApplied(meta *node) {
	for _, ann := range meta.lookup("annotations", true) {
		for _, text := range ann.lookup(lastApplied, false) {
			c.checkEmbedded(text, "metadata.annotations["+lastApplied+"]")
		}
	}
}

// checkEmbedded checks a document held in a string. When it does not parse,
// the string is checked as text.
func (c *checker) checkEmbedded(text *node, via string) {
	if text.kind != scalarNode || text.value == "" {
		return
	}
	if c.embedDepth >= 2 {
		c.scanScalar(text, nil, nil, "", false)
		return
	}
	base := text.line - 1
	if text.block {
		base = text.line
	}
	var docs []document
	err := parseDocuments(text.value, base, nil, func(d document) { docs = append(docs, d) })
	handled := false
	if err == nil {
		savedVia := c.via
		c.via = joinVia(c.via, via)
		c.embedDepth++
		for _, d := range docs {
			if _, ok := c.checkDocument(d); ok {
				handled = true
			} else if d.root != nil {
				c.walk(d.root, &walker{}, walkPlain, "")
				handled = true
			}
		}
		c.embedDepth--
		c.via = savedVia
	}
	if !handled {
		c.scanScalar(text, nil, nil, "", false)
	}
}

func joinVia(a, b string) string {
	if a == "" {
		return b
	}
	return a + " > " + b
}

// walker carries the state of the generic walk over one object's scalars.
type walker struct {
	oc        *objCtx
	configMap bool
	path      []string
	// skip lists field paths that other checks own ("*" matches any
	// element). Keys are matched in any letter case.
	skip [][]string
}

func (w *walker) skipped() bool {
	for _, s := range w.skip {
		if len(s) != len(w.path) {
			continue
		}
		match := true
		for i := range s {
			anyItem := s[i] == "*" && strings.HasPrefix(w.path[i], "[")
			if !anyItem && !strings.EqualFold(s[i], w.path[i]) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// location splits the current path into the field and the key a finding
// names: an env var's value is "...env" and the var's name, a map value its
// parent and its key, a list item its own path.
func (w *walker) location(envValue bool) (field, key string) {
	n := len(w.path)
	switch {
	case n == 0:
		return "", ""
	case envValue && n >= 2 && strings.HasPrefix(w.path[n-2], "["):
		return joinPath(w.path[:n-2]), strings.Trim(w.path[n-2], "[]")
	case strings.HasPrefix(w.path[n-1], "["):
		return joinPath(w.path), ""
	}
	return joinPath(w.path[:n-1]), w.path[n-1]
}

// joinPath writes a field path: keys joined by dots, a key that is not a
// plain word as ["key"], and list items as [name] or [index]. Elements of
// list items start with "[" already.
func joinPath(elems []string) string {
	var b strings.Builder
	for i, e := range elems {
		switch {
		case strings.HasPrefix(e, "["):
			b.WriteString(printable(e))
		case e == "" || strings.ContainsAny(e, ".[] \"\t"):
			b.WriteString(`["` + printable(e) + `"]`)
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(printable(e))
		}
	}
	return b.String()
}

// itemElem names a list item in a path: by its name field when it has one,
// as kubectl does for containers and env vars, else by index.
func itemElem(it *node, i int) string {
	if name := it.last("name", false).str(); name != "" && !strings.ContainsAny(name, "[]") {
		return "[" + name + "]"
	}
	return "[" + strconv.Itoa(i) + "]"
}

type walkMode uint8

const (
	walkPlain   walkMode = iota
	walkEnvList          // the items of a container's env
	walkEnvItem          // one env var: {name, value}
	walkCMData           // a ConfigMap's data
	walkEntropy          // a value to check for entropy too
)

// walk checks every scalar of an object for private keys and tokens, and
// env values and ConfigMap values for high entropy too.
func (c *checker) walk(n *node, w *walker, mode walkMode, hint string) {
	switch n.kind {
	case scalarNode:
		c.scanScalar(n, w.oc, w, hint, mode == walkEntropy)
	case mapNode:
		for _, p := range n.pairs {
			k := p.keyString()
			w.path = append(w.path, k)
			if !w.skipped() {
				childMode, childHint := walkPlain, ""
				switch {
				case mode == walkEnvItem && k == "value":
					childMode, childHint = walkEntropy, n.last("name", false).str()
				case mode == walkCMData:
					childMode, childHint = walkEntropy, k
				case k == "env" && p.value.kind == seqNode:
					childMode = walkEnvList
				case w.configMap && len(w.path) == 1 && strings.EqualFold(k, "data"):
					childMode = walkCMData
				}
				c.walk(p.value, w, childMode, childHint)
			}
			w.path = w.path[:len(w.path)-1]
		}
	case seqNode:
		for i, it := range n.items {
			w.path = append(w.path, itemElem(it, i))
			m := walkPlain
			if mode == walkEnvList {
				m = walkEnvItem
			}
			c.walk(it, w, m, "")
			w.path = w.path[:len(w.path)-1]
		}
	}
}

// scanScalar checks one string for private keys and tokens and, when
// entropy is set, for high entropy.
func (c *checker) scanScalar(n *node, oc *objCtx, w *walker, hint string, entropy bool) {
	v := n.value
	if len(v) < 9 || c.scanned[scanKey{n, entropy}] {
		return
	}
	c.scanned[scanKey{n, entropy}] = true
	var mask keywordMask
	if c.maskAll || c.mask != 0 {
		mask = maskOf(v)
	}
	field, key := "", ""
	if w != nil {
		field, key = w.location(entropy && hint != "")
	}
	matches := findTokens(v, mask)
	for _, m := range matches {
		line, col := n.line, n.column
		if nl := strings.Count(v[:m.offset], "\n"); n.block || nl > 0 {
			line, col = n.line+nl, 0
			if n.block {
				line++
			}
		}
		c.add(Finding{Rule: m.rule, Name: m.name, Line: line, Column: col, Object: oc.at(field, key),
			Message: m.message, Preview: m.preview}, m.value, oc)
	}
	if len(matches) == 0 && entropy {
		if m, ok := highEntropy(v, hint); ok {
			c.add(Finding{Rule: m.rule, Name: m.name, Line: n.line, Column: n.column, Object: oc.at(field, key),
				Message: m.message, Preview: m.preview}, m.value, oc)
		}
	}
}

// scanRaw checks the text line by line for private keys and tokens, except
// inside objects, whose scalars the object walk has checked; their trailing
// comments are checked here.
func (c *checker) scanRaw() {
	mask := c.mask
	if c.maskAll {
		mask = maskOf(c.text)
	}
	for _, m := range findTokens(c.text, mask) {
		line, col := c.position(m.offset)
		oc, inObject := c.objectAt(line)
		if inObject && !c.commentLine(line) {
			continue
		}
		c.add(Finding{Rule: m.rule, Name: m.name, Line: line, Column: col, Object: oc.at("", ""),
			Message: m.message, Preview: m.preview}, m.value, oc)
	}
}

func (c *checker) objectAt(line int) (*objCtx, bool) {
	for _, r := range c.ranges {
		if line >= r.start && (r.end == 0 || line <= r.end) {
			return r.oc, true
		}
	}
	return nil, false
}

// commentLine reports whether a line is a comment or ends in one.
func (c *checker) commentLine(line int) bool {
	if c.commentLines[line] {
		return true
	}
	start, end := c.lineBounds(line)
	return strings.HasPrefix(strings.TrimLeft(c.text[start:end], " \t"), "#")
}

func (c *checker) ensureLines() {
	if c.lineStarts != nil {
		return
	}
	c.lineStarts = append(make([]int, 0, strings.Count(c.text, "\n")+1), 0)
	for i := 0; i < len(c.text); i++ {
		if c.text[i] == '\n' {
			c.lineStarts = append(c.lineStarts, i+1)
		}
	}
}

// position turns a byte offset into a 1-based line and column.
func (c *checker) position(off int) (int, int) {
	c.ensureLines()
	i := sort.Search(len(c.lineStarts), func(i int) bool { return c.lineStarts[i] > off }) - 1
	return i + 1, off - c.lineStarts[i] + 1
}

func (c *checker) lineBounds(line int) (int, int) {
	c.ensureLines()
	if line < 1 || line > len(c.lineStarts) {
		return 0, 0
	}
	start := c.lineStarts[line-1]
	end := len(c.text)
	if line < len(c.lineStarts) {
		end = c.lineStarts[line] - 1
	}
	return start, end
}

// allowComments finds the gitseal:allow comments of a text. A comment
// allows the findings on its own line; a comment alone on its line allows
// those on the next line too. The reason is required: a bare gitseal:allow
// allows nothing.
func allowComments(text string) map[int]string {
	const marker = "gitseal:allow"
	if !strings.Contains(text, marker) {
		return nil
	}
	out := map[int]string{}
	for i, line := range strings.Split(text, "\n") {
		idx := strings.Index(line, marker)
		if idx < 0 {
			continue
		}
		before := line[:idx]
		if !strings.Contains(before, "#") && !strings.Contains(before, "//") {
			continue
		}
		rest := line[idx+len(marker):]
		reason := strings.TrimSpace(rest)
		if reason == "" || rest[0] != ' ' && rest[0] != '\t' {
			continue
		}
		out[i+1] = printable(reason)
		if strings.Trim(before, " \t#/") == "" {
			out[i+2] = printable(reason)
		}
	}
	return out
}
