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
	"strconv"
	"strings"
)

// checker holds the state of one CheckFile or CheckObject call.
type checker struct {
	p    *Policy
	file string // "" for CheckObject
	text string // "" for CheckObject
	// kustom: the file name says it is a kustomization.
	kustom bool

	masks textMask  // which token rules can match, to skip the rest
	lines lineIndex // the raw text's lines, comments and object ranges
	embed embedding // the embedded document being checked, if any
	seen  visited   // the nodes already checked
	rec   recorder  // the findings so far
}

// textMask says which token rules can match: mask holds the rules whose
// keywords occur in the text. all is set when the text has escapes (or
// there is no text), so each scalar is masked on its own.
type textMask struct {
	mask keywordMask
	all  bool
}

func (p *Policy) newChecker(file, text string) *checker {
	c := &checker{p: p, file: file, text: text, kustom: IsKustomization(file),
		masks: textMask{all: true}, seen: newVisited()}
	if text != "" {
		c.rec.allows = allowComments(text)
		if strings.IndexByte(text, '\\') < 0 {
			c.masks.mask, c.masks.all = maskOf(text), false
		}
	}
	return c
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
	c.lines.comments = map[int]bool{}
	c.lines.ranges = nil
	saved := len(c.rec.findings)
	err := parseDocuments(text, 0, c.lines.comments, func(d document) {
		if n := len(c.lines.ranges); n > 0 && c.lines.ranges[n-1].end == 0 && d.root != nil {
			c.lines.ranges[n-1].end = d.root.line - 1
		}
		if oc, handled := c.checkDocument(d); handled && d.root != nil {
			c.lines.ranges = append(c.lines.ranges, objRange{start: d.root.line, oc: oc})
		}
	})
	if err != nil {
		c.rec.findings, c.rec.capped = c.rec.findings[:saved], false
		c.lines.ranges, c.lines.comments = nil, nil
		c.seen = newVisited()
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
	isKust := c.kustom && depth == 0 && c.embed.depth == 0 ||
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
	oc := &objCtx{via: c.embed.via, obj: Object{
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
		if c.seen.dupChecked[n] {
			return 0
		}
		c.seen.dupChecked[n] = true
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
