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
	"strconv"
	"strings"
)

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
