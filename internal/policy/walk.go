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
	"strconv"
	"strings"
)

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
	if len(v) < 9 || c.seen.scanned[scanKey{n, entropy}] {
		return
	}
	c.seen.scanned[scanKey{n, entropy}] = true
	var mask keywordMask
	if c.masks.all || c.masks.mask != 0 {
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

// visited remembers the nodes already checked: an alias shares its node,
// and one finding per node is enough.
type visited struct {
	scanned    map[scanKey]bool
	dupChecked map[*node]bool
}

func newVisited() visited {
	return visited{scanned: map[scanKey]bool{}, dupChecked: map[*node]bool{}}
}

type scanKey struct {
	n       *node
	entropy bool
}
