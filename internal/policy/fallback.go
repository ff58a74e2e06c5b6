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
	"path"
	"strings"
)

// Text that does not parse as YAML, typically a Helm template or a shell
// script with a manifest in a here-document, is still searched for
// Secrets, line by line: in each document (split at "---") that has a
// kind: Secret line, every key directly under a data or stringData line
// with a literal value is a finding. Values that contain a template ({{ }})
// are rendered later and are not findings. Source code and documentation
// are left out (see proseOrCode).
var (
	fallbackKind  = lazyRegexp(`(?i)^\s*["']?kind["']?\s*:\s*["']?secret["']?\s*(?:#.*)?$`)
	fallbackField = lazyRegexp(`(?i)^(\s*)["']?(data|stringdata)["']?\s*:\s*(?:#.*)?$`)
	fallbackItem  = lazyRegexp(`^(\s+)("[^"]*"|'[^']*'|[^\s:#'"][^:#]*?)\s*:(?:[ \t]+(.*?))?\s*$`)
)

// proseOrCode are the extensions of source code and documentation, where a
// manifest that is not valid YAML is an example or a test fixture inside a
// string or a code block, not a file anyone applies. Such files are only
// searched for private keys and tokens.
var proseOrCode = map[string]bool{
	".go": true, ".java": true, ".kt": true, ".scala": true, ".rs": true, ".c": true, ".h": true,
	".cc": true, ".cpp": true, ".hpp": true, ".cs": true, ".swift": true, ".py": true, ".rb": true,
	".php": true, ".js": true, ".jsx": true, ".mjs": true, ".ts": true, ".tsx": true,
	".md": true, ".markdown": true, ".rst": true, ".adoc": true, ".html": true, ".txtar": true,
}

func (c *checker) fallbackSecrets() {
	if proseOrCode[strings.ToLower(path.Ext(c.file))] || !containsFold(c.text, "secret") {
		return
	}
	lines := strings.Split(c.text, "\n")
	start := 0
	for i := 0; i <= len(lines); i++ {
		if i == len(lines) || strings.HasPrefix(lines[i], "---") {
			c.fallbackDocument(lines[start:i], start)
			start = i + 1
		}
	}
}

func (c *checker) fallbackDocument(lines []string, base int) {
	secret := false
	for _, l := range lines {
		if fallbackKind().MatchString(l) {
			secret = true
			break
		}
	}
	if !secret {
		return
	}
	for i, l := range lines {
		m := fallbackField().FindStringSubmatch(l)
		if m == nil {
			continue
		}
		rule, field := RuleSecretData, "data"
		if strings.EqualFold(m[2], "stringData") {
			rule, field = RuleSecretStringData, "stringData"
		}
		c.fallbackField(lines, i, len(m[1]), base, rule, field)
	}
}

// fallbackField reports the items under the field on line at, indented by
// indent.
func (c *checker) fallbackField(lines []string, at, indent, base int, rule RuleID, field string) {
	child := -1
	for j := at + 1; j < len(lines); j++ {
		l := lines[j]
		trimmed := strings.TrimSpace(l)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "{{") {
			continue
		}
		ind := len(l) - len(strings.TrimLeft(l, " \t"))
		if ind <= indent {
			return
		}
		if child < 0 {
			child = ind
		}
		if ind != child {
			continue // the body of a block scalar
		}
		m := fallbackItem().FindStringSubmatch(l)
		if m == nil {
			continue
		}
		key := strings.Trim(m[2], `"'`)
		value := m[3]
		if !strings.HasPrefix(value, `"`) && !strings.HasPrefix(value, `'`) {
			if k := strings.Index(value, " #"); k >= 0 {
				value = strings.TrimSpace(value[:k])
			}
		}
		if strings.HasPrefix(value, "|") || strings.HasPrefix(value, ">") {
			value = blockBody(lines[j+1:], child)
		}
		value = strings.Trim(value, `"'`)
		if strings.Contains(value, "{{") || rule == RuleSecretData && dataIsEmpty(value) || IsPlaceholder(value) {
			continue
		}
		preview := previewString(value)
		if rule == RuleSecretData {
			preview = previewData(value)
		}
		c.add(Finding{Rule: rule, Line: base + j + 1, Column: ind + 1,
			Object:  &Object{Kind: "Secret", Field: field, Key: printable(key)},
			Message: "Secret has a plaintext value under " + field + " (file is not valid YAML, found by line matching)",
			Preview: preview}, value, nil)
	}
}

// blockBody returns the lines of a block scalar that follow its key.
func blockBody(lines []string, keyIndent int) string {
	var b strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" && len(l)-len(strings.TrimLeft(l, " \t")) <= keyIndent {
			break
		}
		b.WriteString(strings.TrimSpace(l))
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}
