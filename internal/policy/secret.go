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
	"fmt"
	"strings"
)

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
