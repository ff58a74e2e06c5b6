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
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// node is the one tree every decision runs on, whether it came from YAML or
// JSON text or from a decoded object. Unlike a decoded map, a mapping keeps
// every pair in order, duplicates included, so duplicate keys are seen and
// every value of a repeated key is checked. Aliases are shared, not copied;
// size counts them at every use, which is what bounds the work.
type node struct {
	kind   nodeKind
	value  string // scalars
	tag    string // short YAML tag of a scalar, "!!str" for decoded strings
	block  bool   // a literal or folded block scalar: its text starts on the next line
	line   int
	column int
	pairs  []pair  // mappings
	items  []*node // sequences
	// size is the number of nodes in the subtree, aliases expanded; depth is
	// its height. Both are computed once, bottom up.
	size  int
	depth int
}

type nodeKind uint8

const (
	nullNode nodeKind = iota
	scalarNode
	mapNode
	seqNode
)

type pair struct {
	key    *node
	value  *node
	merged bool // brought in by a YAML merge key (<<), which may override
}

func (n *node) isScalar() bool { return n != nil && n.kind == scalarNode }

// keyString is the key of a pair as decoders see it: the scalar's value,
// unquoted and unescaped.
func (p pair) keyString() string {
	if p.key.isScalar() {
		return p.key.value
	}
	return ""
}

// lookup returns the values of every pair whose key is name, in order.
// Kubernetes' own well-known fields are matched in any letter case when fold
// is set, since some decoders fold case.
func (n *node) lookup(name string, fold bool) []*node {
	if n == nil || n.kind != mapNode {
		return nil
	}
	var out []*node
	for _, p := range n.pairs {
		k := p.keyString()
		if k == name || fold && strings.EqualFold(k, name) {
			out = append(out, p.value)
		}
	}
	return out
}

// last returns the value of the last pair named name: the one a
// last-wins decoder keeps.
func (n *node) last(name string, fold bool) *node {
	vs := n.lookup(name, fold)
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

// str returns a scalar's value, or "" for anything else.
func (n *node) str() string {
	if n.isScalar() {
		return n.value
	}
	return ""
}

func (n *node) finish() *node {
	n.size, n.depth = 1, 1
	for _, p := range n.pairs {
		n.size = satAdd(n.size, satAdd(p.key.size, p.value.size))
		n.depth = max(n.depth, 1+p.value.depth, 1+p.key.depth)
	}
	for _, it := range n.items {
		n.size = satAdd(n.size, it.size)
		n.depth = max(n.depth, 1+it.depth)
	}
	return n
}

func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

var errAliasCycle = errors.New("alias refers to a node that contains it")

// converter turns a yaml.v3 tree into nodes.
type converter struct {
	lineBase int // added to every line: the line an embedded document starts after
	memo     map[*yaml.Node]*node
	busy     map[*yaml.Node]bool
	// commentLines, when not nil, collects the lines with a trailing
	// comment.
	commentLines map[int]bool
}

func (c *converter) convert(y *yaml.Node) (*node, error) {
	if n, ok := c.memo[y]; ok {
		return n, nil
	}
	if c.busy[y] {
		return nil, errAliasCycle
	}
	c.busy[y] = true
	defer delete(c.busy, y)
	c.collectComments(y)

	n := &node{line: y.Line + c.lineBase, column: y.Column}
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return nil, nil
		}
		return c.convert(y.Content[0])
	case yaml.AliasNode:
		if y.Alias == nil {
			return nil, errors.New("alias without a target")
		}
		return c.convert(y.Alias)
	case yaml.ScalarNode:
		n.tag = y.ShortTag()
		if n.tag == "!!null" {
			n.kind = nullNode
		} else {
			n.kind, n.value = scalarNode, y.Value
			n.block = y.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
		}
	case yaml.SequenceNode:
		n.kind = seqNode
		n.items = make([]*node, 0, len(y.Content))
		for _, it := range y.Content {
			cn, err := c.convert(it)
			if err != nil {
				return nil, err
			}
			if cn == nil {
				cn = &node{line: it.Line + c.lineBase, column: it.Column}
			}
			n.items = append(n.items, cn.finishOnce())
		}
	case yaml.MappingNode:
		n.kind = mapNode
		n.pairs = make([]pair, 0, len(y.Content)/2)
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if isMergeKey(k) {
				if err := c.merge(n, v); err != nil {
					return nil, err
				}
				continue
			}
			kn, err := c.convert(k)
			if err != nil {
				return nil, err
			}
			vn, err := c.convert(v)
			if err != nil {
				return nil, err
			}
			if kn == nil {
				kn = &node{line: k.Line + c.lineBase, column: k.Column}
			}
			if vn == nil {
				vn = &node{line: v.Line + c.lineBase, column: v.Column}
			}
			n.pairs = append(n.pairs, pair{key: kn.finishOnce(), value: vn.finishOnce()})
		}
	default:
		return nil, fmt.Errorf("unknown YAML node kind %d", y.Kind)
	}
	n.finish()
	c.memo[y] = n
	return n, nil
}

// finishOnce computes size and depth of a node that has none yet.
func (n *node) finishOnce() *node {
	if n.size == 0 {
		n.finish()
	}
	return n
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && (k.Tag == "!!merge" || k.Value == "<<" && k.Style == 0)
}

// merge applies a YAML merge key: the pairs of the merged mapping (or of
// each mapping in a merged sequence) join n, marked as merged. Every value
// is kept and checked, even one a later key overrides.
func (c *converter) merge(n *node, v *yaml.Node) error {
	src, err := c.convert(v)
	if err != nil || src == nil {
		return err
	}
	var maps []*node
	switch src.kind {
	case mapNode:
		maps = []*node{src}
	case seqNode:
		maps = src.items
	}
	for _, m := range maps {
		if m.kind != mapNode {
			continue
		}
		for _, p := range m.pairs {
			p.merged = true
			n.pairs = append(n.pairs, p)
		}
	}
	return nil
}

// collectComments records the lines that end in a comment, so the raw
// text scan can tell a token in a trailing comment from one in a value.
func (c *converter) collectComments(y *yaml.Node) {
	if c.commentLines != nil && y.LineComment != "" {
		c.commentLines[y.Line+c.lineBase] = true
	}
}

// document is one parsed YAML or JSON document.
type document struct {
	root *node
	err  error // errAliasCycle and the like: the document cannot be checked
	line int
}

// parseDocuments parses every document of a YAML or JSON stream and calls
// fn with each, in order, so that only one document is held at a time. It
// fails when the text is not YAML at all, after the documents before the
// error; a document that parses but whose alias structure is unusable
// comes with err set. Aliases are never expanded: the yaml.v3 node tree is
// linear in the input, and sizes are computed from shared subtrees. Lines
// are shifted by lineBase; commentLines, if not nil, collects the lines
// that end in a comment.
func parseDocuments(text string, lineBase int, commentLines map[int]bool, fn func(document)) error {
	dec := yaml.NewDecoder(strings.NewReader(text))
	for {
		var y yaml.Node
		err := dec.Decode(&y)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		c := &converter{lineBase: lineBase, memo: map[*yaml.Node]*node{}, busy: map[*yaml.Node]bool{}, commentLines: commentLines}
		root, err := c.convert(&y)
		if root != nil {
			root.finishOnce()
		}
		fn(document{root: root, err: err, line: y.Line + lineBase})
	}
}

// errTooDeep: a decoded object nests deeper than the policy allows.
var errTooDeep = errors.New("nesting too deep")

// fromValue builds a node from a decoded value: what encoding/json,
// sigs.k8s.io/yaml or unstructured.Unstructured produce. Map keys are
// visited in sorted order so findings come out the same every time.
func fromValue(v any, depth, maxDepth int) (*node, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	n := &node{}
	switch x := v.(type) {
	case nil:
		n.kind = nullNode
	case string:
		n.kind, n.value, n.tag = scalarNode, x, "!!str"
	case []byte:
		n.kind, n.value, n.tag = scalarNode, string(x), "!!str"
	case bool:
		n.kind, n.value, n.tag = scalarNode, strconv.FormatBool(x), "!!bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		n.kind, n.value, n.tag = scalarNode, fmt.Sprint(x), "!!int"
	case float32, float64:
		n.kind, n.value, n.tag = scalarNode, fmt.Sprint(x), "!!float"
	case map[string]any:
		n.kind = mapNode
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			cv, err := fromValue(x[k], depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			n.pairs = append(n.pairs, pair{key: (&node{kind: scalarNode, value: k, tag: "!!str"}).finish(), value: cv})
		}
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return fromValue(m, depth, maxDepth)
	case []any:
		n.kind = seqNode
		for _, it := range x {
			cv, err := fromValue(it, depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, cv)
		}
	case []string:
		n.kind = seqNode
		for _, s := range x {
			n.items = append(n.items, (&node{kind: scalarNode, value: s, tag: "!!str"}).finish())
		}
	case []map[string]any:
		items := make([]any, len(x))
		for i := range x {
			items[i] = x[i]
		}
		return fromValue(items, depth, maxDepth)
	default:
		// json.Number and other scalars.
		n.kind, n.value, n.tag = scalarNode, fmt.Sprint(x), "!!str"
	}
	return n.finish(), nil
}
