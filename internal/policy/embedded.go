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

// embedding describes an embedded document being checked (a kustomize
// patch, a last-applied-configuration annotation): the path that leads to
// it, and how deeply it is nested.
type embedding struct {
	via   string
	depth int
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
	if c.embed.depth >= 2 {
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
		savedVia := c.embed.via
		c.embed.via = joinVia(c.embed.via, via)
		c.embed.depth++
		for _, d := range docs {
			if _, ok := c.checkDocument(d); ok {
				handled = true
			} else if d.root != nil {
				c.walk(d.root, &walker{}, walkPlain, "")
				handled = true
			}
		}
		c.embed.depth--
		c.embed.via = savedVia
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
