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

package repoconfig

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Entry is one list entry of a cluster's keys, and the comment written on
// the line above it when the entry is written anew ("" for none).
type Entry struct {
	Value   string
	Comment string
}

// ClusterKeys is what SetClusterKeys writes into a cluster: its
// recipients and its retired list, in order. An empty Retired removes the
// field.
type ClusterKeys struct {
	Recipients []Entry
	Retired    []Entry
}

// ErrNotEditable is wrapped by SetClusterKeys when the file is written in
// a way it does not edit, such as a cluster in flow style.
var ErrNotEditable = errors.New("cannot edit this layout")

// SetClusterKeys returns data, the text of a .gitseal.yaml, with the named
// cluster's recipients and retired lists set to keys, and every other byte
// as it was: the other clusters, the rules, comments, blank lines, quoting
// and key order. A list that already holds the entries is left alone, and
// one that only grows keeps its entries and their comments and gets the
// new ones appended; any other change rewrites that list alone as a block
// sequence, its line comment kept. A missing retired list is added after
// the recipients.
//
// It edits the text at the places the YAML node tree gives, then parses the
// result and checks that it says exactly what was asked and that nothing
// else changed; if not, it fails and data is the caller's to keep.
// Errors: a parse error, ErrNotEditable, or a cluster that does not exist.
func SetClusterKeys(data []byte, cluster string, keys ClusterKeys) ([]byte, error) {
	before, err := Parse(data)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	m, err := clusterNode(&root, cluster)
	if err != nil {
		return nil, err
	}
	t := newText(data)
	var edits []splice
	recipients, err := t.setList(m, "recipients", keys.Recipients, nil)
	if err != nil {
		return nil, err
	}
	edits = append(edits, recipients...)
	retired, err := t.setList(m, "retired", keys.Retired, fieldAfter(m, "recipients"))
	if err != nil {
		return nil, err
	}
	edits = append(edits, retired...)
	out := t.apply(edits)

	after, err := Parse(out)
	if err != nil {
		return nil, fmt.Errorf("%w: the edited file does not parse: %w", ErrNotEditable, err)
	}
	want := *before
	want.Clusters = slices.Clone(before.Clusters)
	for i := range want.Clusters {
		if want.Clusters[i].Name == cluster {
			want.Clusters[i].Recipients = values(keys.Recipients)
			want.Clusters[i].Retired = values(keys.Retired)
		}
	}
	if !reflect.DeepEqual(&want, after) {
		return nil, fmt.Errorf("%w: the edited file does not say what was asked", ErrNotEditable)
	}
	return out, nil
}

func values(es []Entry) []string {
	if len(es) == 0 {
		return nil
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Value
	}
	return out
}

// clusterNode finds the block mapping of the named cluster.
func clusterNode(root *yaml.Node, name string) (*yaml.Node, error) {
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: the file is not a mapping", ErrNotEditable)
	}
	_, clusters := field(root.Content[0], "clusters")
	if clusters == nil || clusters.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("no cluster named %q", name)
	}
	for _, c := range clusters.Content {
		if c.Kind != yaml.MappingNode {
			continue
		}
		if _, n := field(c, "name"); n == nil || n.Value != name {
			continue
		}
		if clusters.Style&yaml.FlowStyle != 0 || c.Style&yaml.FlowStyle != 0 {
			return nil, fmt.Errorf("%w: cluster %q is written in flow style ({…}); write it one key per line", ErrNotEditable, name)
		}
		return c, nil
	}
	return nil, fmt.Errorf("no cluster named %q", name)
}

// field returns the key and value nodes of a mapping's field, or nils.
func field(m *yaml.Node, name string) (key, value *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// fieldAfter returns the key of the named field, else the mapping's last
// key: a new field goes after it.
func fieldAfter(m *yaml.Node, name string) *yaml.Node {
	if k, _ := field(m, name); k != nil {
		return k
	}
	return m.Content[len(m.Content)-2]
}

// text is a file as lines, each with its line ending.
type text struct {
	lines []string
	nl    string
}

func newText(data []byte) *text {
	t := &text{nl: "\n"}
	if bytes.Contains(data, []byte("\r\n")) {
		t.nl = "\r\n"
	}
	s := string(data)
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			t.lines = append(t.lines, s)
			break
		}
		t.lines = append(t.lines, s[:i+1])
		s = s[i+1:]
	}
	return t
}

// splice replaces lines [start, end) with text; start == end inserts.
type splice struct {
	start, end int
	text       string
}

// apply makes the edits, which are in file order: where two insert at the
// same line, the first one's text comes first.
func (t *text) apply(edits []splice) []byte {
	order := make([]int, len(edits))
	for i := range order {
		order[i] = i
	}
	// Bottom up, so that each edit's line numbers still hold.
	slices.SortFunc(order, func(a, b int) int {
		if edits[a].start != edits[b].start {
			return edits[b].start - edits[a].start
		}
		return b - a
	})
	lines := slices.Clone(t.lines)
	for _, i := range order {
		e := edits[i]
		if e.start > 0 && e.start == len(lines) && !strings.HasSuffix(lines[e.start-1], "\n") {
			lines[e.start-1] += t.nl // text goes after a last line without a line break
		}
		lines = slices.Replace(lines, e.start, e.end, e.text)
	}
	return []byte(strings.Join(lines, ""))
}

// indent is the number of spaces a line starts with; content is the rest,
// without the line ending.
func indent(line string) (int, string) {
	trimmed := strings.TrimLeft(line, " ")
	return len(line) - len(trimmed), strings.TrimRight(trimmed, "\r\n")
}

// extent returns the lines [start, end) of a mapping field: its key line
// and every line after that belongs to its value, up to the last such
// line. A value's lines are indented deeper than the key, or, for a block
// sequence written at the key's own indentation, start with "-". Blank
// lines and comments that are not indented deeper than the key belong to
// the value only when more of it follows; trailing ones stay outside.
func (t *text) extent(key, value *yaml.Node) (int, int) {
	start := key.Line - 1
	keyIndent := key.Column - 1
	blockSeq := value.Kind == yaml.SequenceNode && value.Style&yaml.FlowStyle == 0
	last := start
	for i := start + 1; i < len(t.lines); i++ {
		n, content := indent(t.lines[i])
		switch {
		case content == "":
		case strings.HasPrefix(content, "#"):
			if n > keyIndent {
				last = i
			}
		case n > keyIndent, blockSeq && n == keyIndent && (content == "-" || strings.HasPrefix(content, "- ")):
			last = i
		default:
			return start, last + 1
		}
	}
	return start, last + 1
}

// setList returns the edits that make a cluster's list field hold
// entries. A missing field is added after the field of key after.
func (t *text) setList(m *yaml.Node, name string, entries []Entry, after *yaml.Node) ([]splice, error) {
	key, value := field(m, name)
	if key == nil {
		if len(entries) == 0 {
			return nil, nil
		}
		afterValue := m.Content[slices.Index(m.Content, after)+1]
		_, end := t.extent(after, afterValue)
		return []splice{{start: end, end: end, text: t.block(strings.Repeat(" ", after.Column-1), name, "", entries)}}, nil
	}
	var have []string
	if value.Kind == yaml.SequenceNode {
		for _, item := range value.Content {
			if item.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%w: %s holds something else than keys", ErrNotEditable, name)
			}
			have = append(have, item.Value)
		}
	}
	want := values(entries)
	start, end := t.extent(key, value)
	blockSeq := value.Kind == yaml.SequenceNode && value.Style&yaml.FlowStyle == 0 && len(value.Content) > 0
	switch {
	case value.Kind == yaml.SequenceNode && slices.Equal(have, want):
		return nil, nil
	case len(entries) == 0:
		return []splice{{start: start, end: end}}, nil
	case blockSeq && len(want) > len(have) && slices.Equal(have, want[:len(have)]):
		first := value.Content[0]
		dash := strings.LastIndex(t.lines[first.Line-1][:first.Column-1], "-")
		if dash < 0 {
			break // an item not on its dash's line: rewrite the list
		}
		var b strings.Builder
		for _, e := range entries[len(have):] {
			t.entry(&b, dash, e)
		}
		return []splice{{start: end, end: end, text: b.String()}}, nil
	}
	// What comes before the key on its line: spaces, or a sequence's "- "
	// when the key is its item's first.
	prefix := t.lines[start][:key.Column-1]
	keyLine := ""
	if blockSeq {
		keyLine = t.lines[start] // its value starts below: keep the key's line as it is
	} else if c := lineComment(key, value); c != "" {
		keyLine = c
	}
	return []splice{{start: start, end: end, text: t.block(prefix, name, keyLine, entries)}}, nil
}

// lineComment is the comment on a field's key line, with its "#".
func lineComment(key, value *yaml.Node) string {
	if key.LineComment != "" {
		return key.LineComment
	}
	if value.Line == key.Line {
		return value.LineComment
	}
	return ""
}

// block writes a field as a block sequence, its key after prefix and its
// entries two columns deeper. keyLine is the key's line to keep as it is
// (with its line ending), or a comment for a new key line, or "".
func (t *text) block(prefix, name, keyLine string, entries []Entry) string {
	var b strings.Builder
	switch {
	case strings.HasSuffix(keyLine, "\n"):
		b.WriteString(keyLine)
	case keyLine != "":
		fmt.Fprintf(&b, "%s%s: %s%s", prefix, name, keyLine, t.nl)
	default:
		fmt.Fprintf(&b, "%s%s:%s", prefix, name, t.nl)
	}
	for _, e := range entries {
		t.entry(&b, len(prefix)+2, e)
	}
	return b.String()
}

// entry writes one sequence entry at indentation n, behind its comment.
func (t *text) entry(b *strings.Builder, n int, e Entry) {
	pad := strings.Repeat(" ", n)
	if e.Comment != "" {
		fmt.Fprintf(b, "%s# %s%s", pad, e.Comment, t.nl)
	}
	fmt.Fprintf(b, "%s- %s%s", pad, scalar(e.Value), t.nl)
}

// scalar quotes a value if YAML would read it as something else.
func scalar(v string) string {
	out, err := yaml.Marshal(v)
	if err != nil {
		return v
	}
	return strings.TrimSuffix(string(out), "\n")
}
