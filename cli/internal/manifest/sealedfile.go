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

package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	yamlv3 "go.yaml.in/yaml/v3"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// ParseSealed splits a file into its documents and finds the items
// and data keys of each SealedSecret, for edit.
func ParseSealed(name string, data []byte, f Format) (*File, error) {
	mf, err := split(name, data, f)
	if err != nil {
		return nil, err
	}
	for i, d := range mf.docs {
		ss, err := sealedSecretFromJSON(d.raw)
		if err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", name, i+1, err)
		}
		if ss == nil {
			continue
		}
		d.sealed = &sealedDoc{ss: ss}
		if f == JSON {
			if err := d.sealed.findJSONSpans(data, d.start); err != nil {
				return nil, fmt.Errorf("%s, document %d: %w", name, i+1, err)
			}
			continue
		}
		var node yamlv3.Node
		if err := yamlv3.Unmarshal(data[d.start:d.end], &node); err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", name, i+1, SafeDecodeError(err))
		}
		d.sealed.node = &node
		d.sealed.findYAMLSpans(data, mf.lines[d.line:], d.end)
	}
	return mf, nil
}

// SealedSecrets returns the file's SealedSecrets by document index.
func (mf *File) SealedSecrets() map[int]*gitsealv1alpha1.SealedSecret {
	out := map[int]*gitsealv1alpha1.SealedSecret{}
	for i, d := range mf.docs {
		if d.sealed != nil {
			out[i] = d.sealed.ss
		}
	}
	return out
}

// sealedDoc is what editing a SealedSecret document needs.
type sealedDoc struct {
	ss *gitsealv1alpha1.SealedSecret

	// spans locates each item's value text in the file, and keys lists
	// the items in file order. A new item goes before the first item that
	// sorts after it (before, formatted by newItemBefore) when the items
	// are sorted, else at insert, formatted by newItem. They are unset
	// when the document cannot be edited by splicing.
	spans         map[string]span
	keys          []string
	before        map[string]int
	insert        int
	newItem       func(key string, value gitsealv1alpha1.SealedValue) string
	newItemBefore func(key string, value gitsealv1alpha1.SealedValue) string
	// dataKeys is the span spec.dataKeys' text replaced by
	// formatDataKeys; when the document has none, it is empty and placed
	// where the new field goes. A nil formatDataKeys means the data keys
	// cannot be edited by splicing.
	dataKeys       span
	formatDataKeys func(dataKeys []string) string

	// node is the YAML syntax tree, for re-encoding.
	node *yamlv3.Node
}

// ChangeOf returns the change that turns before into after: the values
// whose text differs, and spec.dataKeys if it differs. ok is false when
// nothing differs.
func ChangeOf(before, after *gitsealv1alpha1.SealedSecret) (Change, bool) {
	c := Change{Items: map[string]gitsealv1alpha1.SealedValue{}}
	for item, v := range after.Spec.EncryptedData {
		if before.Spec.EncryptedData[item] != v {
			c.Items[item] = v
		}
	}
	if !slices.Equal(before.Spec.DataKeys, after.Spec.DataKeys) {
		c.DataKeys, c.SetDataKeys = after.Spec.DataKeys, true
	}
	return c, len(c.Items) > 0 || c.SetDataKeys
}

// editSealed returns the splices that make change c to SealedSecret
// document d: its items and data keys, or the whole document re-encoded
// when its layout is too unusual to splice.
func (mf *File) editSealed(i int, d *document, c Change) ([]splice, error) {
	sd := d.sealed
	if sd.spans == nil || c.SetDataKeys && sd.formatDataKeys == nil {
		s, err := mf.reencode(i, d, c)
		return []splice{s}, err
	}
	var splices []splice
	items := c.Items
	sorted := slices.IsSorted(sd.keys)
	var atEnd strings.Builder
	for _, key := range SortedKeys(items) {
		if sp, ok := sd.spans[key]; ok {
			splices = append(splices, splice{sp, string(items[key])})
			continue
		}
		next := -1
		if sorted {
			next, _ = slices.BinarySearch(sd.keys, key)
		}
		if next >= 0 && next < len(sd.keys) {
			at := sd.before[sd.keys[next]]
			splices = append(splices, splice{span{at, at}, sd.newItemBefore(key, items[key])})
		} else {
			atEnd.WriteString(sd.newItem(key, items[key]))
		}
	}
	if atEnd.Len() > 0 {
		splices = append(splices, splice{span{sd.insert, sd.insert}, atEnd.String()})
	}
	if c.SetDataKeys {
		// After new items at the same place, so they stay in order.
		splices = append(splices, splice{sd.dataKeys, sd.formatDataKeys(c.DataKeys)})
	}
	return splices, nil
}

// sealedSecretFromJSON decodes a SealedSecret, or returns nil for any
// other kind of object.
func sealedSecretFromJSON(raw []byte) (*gitsealv1alpha1.SealedSecret, error) {
	var ss gitsealv1alpha1.SealedSecret
	if err := json.Unmarshal(raw, &ss); err != nil {
		return nil, SafeDecodeError(err)
	}
	if !IsSealedSecret(ss.TypeMeta) {
		return nil, nil
	}
	return &ss, nil
}

// findYAMLSpans locates the item values of a block-style encryptedData
// mapping whose values are plain or quoted single-line scalars. Anything
// else leaves spans nil, so the file is re-encoded instead.
func (d *sealedDoc) findYAMLSpans(data []byte, lines []int, docEnd int) {
	m := encryptedDataNode(d.node)
	if m == nil || m.Style&yamlv3.FlowStyle != 0 || len(m.Content) == 0 {
		return
	}
	spans, before := map[string]span{}, map[string]int{}
	var keys []string
	lastEnd := 0
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yamlv3.ScalarNode || v.Kind != yamlv3.ScalarNode {
			return
		}
		start, ok := offsetOf(data, lines, v.Line, v.Column)
		if !ok {
			return
		}
		switch v.Style {
		case 0:
		case yamlv3.DoubleQuotedStyle, yamlv3.SingleQuotedStyle:
			start++ // inside the quotes
		default:
			return
		}
		end := start + len(v.Value)
		if end > len(data) || string(data[start:end]) != v.Value {
			return // escapes or a multi-line scalar
		}
		spans[k.Value] = span{start, end}
		keys = append(keys, k.Value)
		before[k.Value] = lines[k.Line-1]
		lastEnd = end
		if v.Style != 0 {
			lastEnd++
		}
	}
	lastKey := m.Content[len(m.Content)-2]
	indent := strings.Repeat(" ", lastKey.Column-1)
	insert, prefix := docEnd, "\n"
	if nl := bytes.IndexByte(data[lastEnd:docEnd], '\n'); nl >= 0 {
		insert, prefix = lastEnd+nl+1, ""
	}
	for _, k := range keys {
		if strings.TrimLeft(string(data[before[k]:spans[k].start]), " ") == "" {
			return // a key not at the start of its line
		}
	}
	d.spans, d.keys, d.before, d.insert = spans, keys, before, insert
	d.newItem = func(key string, value gitsealv1alpha1.SealedValue) string {
		line := prefix + indent + YAMLKey(key) + ": " + string(value) + "\n"
		prefix = ""
		return line
	}
	d.newItemBefore = func(key string, value gitsealv1alpha1.SealedValue) string {
		return indent + YAMLKey(key) + ": " + string(value) + "\n"
	}
	d.findYAMLDataKeys(data, lines, insert, func() string {
		p := prefix
		prefix = ""
		return p
	})
}

// findYAMLDataKeys locates spec.dataKeys: a block sequence of plain
// scalars, one a line, is replaced line by line; when there is none, the
// field goes after encryptedData (at insert, after lead()), as the CLI
// writes it. Anything else leaves formatDataKeys nil.
func (d *sealedDoc) findYAMLDataKeys(data []byte, lines []int, insert int, lead func() string) {
	spec := specNode(d.node)
	var edKey, dk *yamlv3.Node
	for i := 0; i+1 < len(spec.Content); i += 2 {
		switch spec.Content[i].Value {
		case "encryptedData":
			edKey = spec.Content[i]
		case "dataKeys":
			dk = spec.Content[i+1]
		}
	}
	if dk == nil {
		keyIndent := strings.Repeat(" ", edKey.Column-1)
		d.dataKeys = span{insert, insert}
		d.formatDataKeys = func(dataKeys []string) string {
			if len(dataKeys) == 0 {
				return ""
			}
			return lead() + keyIndent + "dataKeys:\n" + yamlDataKeyLines(keyIndent+"  - ", dataKeys)
		}
		return
	}
	if dk.Kind != yamlv3.SequenceNode || dk.Style&yamlv3.FlowStyle != 0 || len(dk.Content) == 0 {
		return
	}
	var itemPrefix string
	start, end := 0, 0
	for i, it := range dk.Content {
		if it.Kind != yamlv3.ScalarNode || it.Style != 0 || it.Line < 1 || it.Line > len(lines) {
			return
		}
		at, ok := offsetOf(data, lines, it.Line, it.Column)
		if !ok || !strings.HasPrefix(string(data[at:]), it.Value) {
			return
		}
		lineStart, lineEnd := lines[it.Line-1], at+len(it.Value)
		if lineEnd < len(data) && data[lineEnd] != '\n' {
			return // a comment or more after the value
		}
		p := string(data[lineStart:at])
		if strings.Trim(p, " ") != "-" || i > 0 && p != itemPrefix {
			return
		}
		if i == 0 {
			itemPrefix, start = p, lineStart
		}
		end = min(lineEnd+1, len(data))
	}
	trailing := data[end-1] == '\n'
	d.dataKeys = span{start, end}
	d.formatDataKeys = func(dataKeys []string) string {
		out := yamlDataKeyLines(itemPrefix, dataKeys)
		if !trailing {
			out = strings.TrimSuffix(out, "\n")
		}
		return out
	}
}

// yamlDataKeyLines writes data keys one a line, each after prefix. Their
// alphabet never needs quoting in YAML.
func yamlDataKeyLines(prefix string, dataKeys []string) string {
	var b strings.Builder
	for _, k := range dataKeys {
		b.WriteString(prefix + k + "\n")
	}
	return b.String()
}

// specNode returns the spec mapping of a document.
func specNode(doc *yamlv3.Node) *yamlv3.Node {
	n := doc
	if n.Kind == yamlv3.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return mappingValue(n, "spec")
}

// encryptedDataNode returns the spec.encryptedData mapping of a document.
func encryptedDataNode(doc *yamlv3.Node) *yamlv3.Node {
	n := doc
	if n.Kind == yamlv3.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, key := range []string{"spec", "encryptedData"} {
		n = mappingValue(n, key)
		if n == nil {
			return nil
		}
	}
	if n.Kind != yamlv3.MappingNode {
		return nil
	}
	return n
}

func mappingValue(m *yamlv3.Node, key string) *yamlv3.Node {
	if m == nil || m.Kind != yamlv3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// YAMLKey writes an item key as YAML, quoted if it would otherwise read
// as a number, boolean or null.
func YAMLKey(key string) string {
	out, err := yamlv3.Marshal(key)
	if err != nil {
		return `"` + key + `"`
	}
	return strings.TrimSuffix(string(out), "\n")
}

// lineStarts returns the byte offset at which each line starts.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// offsetOf converts yaml's 1-based line and character column to a byte
// offset.
func offsetOf(data []byte, lines []int, line, column int) (int, bool) {
	if line < 1 || line > len(lines) || column < 1 {
		return 0, false
	}
	off := lines[line-1]
	for range column - 1 {
		if off >= len(data) || data[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	return off, true
}

// reencode applies change c to the YAML syntax tree of document d and
// writes the document again. JSON documents always splice: a SealedSecret
// has at least one item.
func (mf *File) reencode(i int, d *document, c Change) (splice, error) {
	if mf.format == JSON {
		return splice{}, fmt.Errorf("%s, document %d: cannot edit spec.encryptedData in place; is it an empty object?", mf.name, i+1)
	}
	node := d.sealed.node
	m := encryptedDataNode(node)
	if m == nil {
		return splice{}, fmt.Errorf("%s, document %d: spec.encryptedData is not a mapping", mf.name, i+1)
	}
	for _, key := range SortedKeys(c.Items) {
		if v := mappingValue(m, key); v != nil {
			v.Value, v.Style, v.Tag = string(c.Items[key]), 0, "!!str"
			continue
		}
		m.Content = append(m.Content,
			&yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!str", Value: key},
			&yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!str", Value: string(c.Items[key])})
	}
	if c.SetDataKeys {
		setYAMLDataKeys(specNode(node), c.DataKeys)
	}
	var buf bytes.Buffer
	enc := yamlv3.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return splice{}, fmt.Errorf("%s, document %d: %w", mf.name, i+1, err)
	}
	if err := enc.Close(); err != nil {
		return splice{}, fmt.Errorf("%s, document %d: %w", mf.name, i+1, err)
	}
	return splice{d.span, buf.String()}, nil
}

// setYAMLDataKeys sets spec.dataKeys in a spec mapping, in the style of
// the sequence it replaces.
func setYAMLDataKeys(spec *yamlv3.Node, dataKeys []string) {
	seq := &yamlv3.Node{Kind: yamlv3.SequenceNode, Tag: "!!seq"}
	for _, k := range dataKeys {
		seq.Content = append(seq.Content, &yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!str", Value: k})
	}
	for i := 0; i+1 < len(spec.Content); i += 2 {
		if spec.Content[i].Value == "dataKeys" {
			seq.Style = spec.Content[i+1].Style & yamlv3.FlowStyle
			spec.Content[i+1] = seq
			return
		}
	}
	spec.Content = append(spec.Content, &yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!str", Value: "dataKeys"}, seq)
}

// jsonMember is one member of a JSON object: where its key starts and its
// value's span.
type jsonMember struct {
	key      string
	keyStart int
	keyEnd   int
	value    span
}

// findJSONSpans locates the members of spec.encryptedData in the object
// starting at offset start.
func (d *sealedDoc) findJSONSpans(data []byte, start int) error {
	var members []jsonMember
	var encryptedData, dataKeys *jsonMember
	w := &jsonWalker{data: data, dec: json.NewDecoder(bytes.NewReader(data[start:])), base: start}
	err := w.value(nil, func(path []string, m jsonMember) {
		switch {
		case len(path) == 3 && path[0] == "spec" && path[1] == "encryptedData":
			members = append(members, m)
		case len(path) == 2 && path[0] == "spec" && path[1] == "encryptedData":
			encryptedData = &m
		case len(path) == 2 && path[0] == "spec" && path[1] == "dataKeys":
			dataKeys = &m
		}
	})
	if err != nil {
		return SafeDecodeError(err)
	}
	if len(members) == 0 {
		return nil // edit reports it
	}
	d.spans, d.before = map[string]span{}, map[string]int{}
	for _, m := range members {
		if data[m.value.start] != '"' {
			return fmt.Errorf("item %q is not a string", m.key)
		}
		d.spans[m.key] = span{m.value.start + 1, m.value.end - 1}
		d.keys = append(d.keys, m.key)
		d.before[m.key] = m.keyStart
	}
	last := members[len(members)-1]
	sep := string(data[last.keyEnd:last.value.start]) // ": " as written
	lineStart := bytes.LastIndexByte(data[:last.keyStart], '\n') + 1
	indent := string(data[lineStart:last.keyStart])
	lead := "\n" + indent
	if strings.Trim(indent, " \t") != "" || lineStart == 0 {
		lead = " " // the object is on one line
	}
	d.insert = last.value.end
	member := func(key string, value gitsealv1alpha1.SealedValue) string {
		k, _ := json.Marshal(key)
		v, _ := json.Marshal(string(value))
		return string(k) + sep + string(v)
	}
	d.newItem = func(key string, value gitsealv1alpha1.SealedValue) string {
		return "," + lead + member(key, value)
	}
	d.newItemBefore = func(key string, value gitsealv1alpha1.SealedValue) string {
		return member(key, value) + "," + lead
	}
	unit := "  "
	if outer := memberIndent(data, encryptedData.keyStart); strings.HasPrefix(indent, outer) && len(indent) > len(outer) && strings.Trim(indent, " \t") == "" {
		unit = indent[len(outer):]
	}
	d.findJSONDataKeys(data, encryptedData, dataKeys, sep, unit)
	return nil
}

// findJSONDataKeys prepares replacing spec.dataKeys' array, one data key a
// line when the file is indented, or adding the member after
// encryptedData. unit is the file's indentation step.
func (d *sealedDoc) findJSONDataKeys(data []byte, encryptedData, dataKeys *jsonMember, sep, unit string) {
	quote := func(k string) string {
		q, _ := json.Marshal(k)
		return string(q)
	}
	if dataKeys != nil {
		text := data[dataKeys.value.start:dataKeys.value.end]
		if len(text) < 2 || text[0] != '[' || text[len(text)-1] != ']' {
			return
		}
		inner := text[1 : len(text)-1]
		lead := string(inner[:len(inner)-len(bytes.TrimLeft(inner, " \t\r\n"))])
		trail := string(inner[len(bytes.TrimRight(inner, " \t\r\n")):])
		if len(bytes.TrimSpace(inner)) == 0 {
			lead, trail = "", ""
		}
		d.dataKeys = dataKeys.value
		d.formatDataKeys = func(keys []string) string {
			q := make([]string, len(keys))
			for i, k := range keys {
				q[i] = quote(k)
			}
			return "[" + lead + strings.Join(q, ","+lead) + trail + "]"
		}
		return
	}
	keyIndent := memberIndent(data, encryptedData.keyStart)
	lead, itemLead, closing := " ", "", ""
	if keyIndent != "" {
		lead, itemLead, closing = "\n"+keyIndent, "\n"+keyIndent+unit, "\n"+keyIndent
	}
	d.dataKeys = span{encryptedData.value.end, encryptedData.value.end}
	d.formatDataKeys = func(keys []string) string {
		if len(keys) == 0 {
			return ""
		}
		q := make([]string, len(keys))
		for i, k := range keys {
			q[i] = quote(k)
		}
		return "," + lead + `"dataKeys"` + sep + "[" + itemLead + strings.Join(q, ","+itemLead) + closing + "]"
	}
}

// memberIndent returns the white space before a JSON member's key when the
// member starts its own line, else "".
func memberIndent(data []byte, keyStart int) string {
	lineStart := bytes.LastIndexByte(data[:keyStart], '\n') + 1
	indent := string(data[lineStart:keyStart])
	if lineStart == 0 || strings.Trim(indent, " \t") != "" {
		return ""
	}
	return indent
}

// jsonWalker walks a JSON value token by token, reporting where each
// object member's key and value are.
type jsonWalker struct {
	data []byte
	dec  *json.Decoder
	base int
}

func (w *jsonWalker) offset() int { return w.base + int(w.dec.InputOffset()) }

// value reads one value at path. For members of objects it calls visit
// with the member's path.
func (w *jsonWalker) value(path []string, visit func([]string, jsonMember)) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '{':
		for w.dec.More() {
			before := w.offset()
			keyTok, err := w.dec.Token()
			if err != nil {
				return err
			}
			key, _ := keyTok.(string)
			keyEnd := w.offset()
			keyStart := before + bytes.IndexByte(w.data[before:keyEnd], '"')
			valueBefore := w.offset()
			child := append(slices.Clone(path), key)
			if err := w.value(child, visit); err != nil {
				return err
			}
			valueEnd := w.offset()
			valueStart := valueBefore + firstNonSpace(w.data[valueBefore:valueEnd], ':')
			visit(child, jsonMember{key: key, keyStart: keyStart, keyEnd: keyEnd, value: span{valueStart, valueEnd}})
		}
	case '[':
		for w.dec.More() {
			if err := w.value(path, visit); err != nil {
				return err
			}
		}
	default:
		return errors.New("unexpected JSON delimiter")
	}
	_, err = w.dec.Token() // the closing delimiter
	return err
}

// firstNonSpace returns the index of the first byte of b that is neither
// white space nor sep.
func firstNonSpace(b []byte, sep byte) int {
	for i, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', sep:
		default:
			return i
		}
	}
	return len(b)
}
