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
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Placeholders are values that stand for a secret without being one. A value
// is a placeholder when, after trimming white space, it is empty or it is
// entirely one of:
//
//   - a variable reference: ${NAME}, $NAME or $(NAME), NAME being letters,
//     digits, '_', '.' or '-' (postBuild substitution, envsubst, Kubernetes
//     env expansion);
//   - a template: {{ ... }}, ${{ ... }}, (( ... )), <% ... %> or %{ ... };
//   - an angle-bracket placeholder of up to 64 characters: <changeme>,
//     <your-token-here>;
//   - one of the words changeme, change-me, change_me, replaceme,
//     replace-me, replace_me, placeholder, redacted, todo, tbd, fixme
//     (any letter case);
//   - a run of three or more 'x', '*' or '.' characters.
var (
	placeholderRef      = lazyRegexp(`^(?:\$\{[A-Za-z_][A-Za-z0-9_.-]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$\([A-Za-z_][A-Za-z0-9_.-]*\))$`)
	placeholderAngle    = lazyRegexp(`^<[^<>\r\n]{1,64}>$`)
	placeholderTemplate = lazyRegexp(`(?s)^(?:\$?\{\{.*\}\}|\(\(.*\)\)|<%.*%>|%\{.*\})$`)
	placeholderRun      = lazyRegexp(`^(?:[xX]{3,}|\*{3,}|\.{3,})$`)
	placeholderWords    = map[string]bool{
		"changeme": true, "change-me": true, "change_me": true,
		"replaceme": true, "replace-me": true, "replace_me": true,
		"placeholder": true, "redacted": true, "todo": true, "tbd": true, "fixme": true,
	}
)

// IsPlaceholder reports whether a value stands for a secret without being
// one (see the list above). Empty and white-space-only values are
// placeholders: they hold nothing.
func IsPlaceholder(v string) bool {
	s := strings.TrimSpace(v)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	switch {
	case s == "":
		return true
	case len(s) > 4096:
		return false
	case placeholderWords[strings.ToLower(s)]:
		return true
	}
	return placeholderRef().MatchString(s) || placeholderAngle().MatchString(s) ||
		placeholderTemplate().MatchString(s) || placeholderRun().MatchString(s)
}

// decodeData decodes a Secret data value as the API server does: standard
// base64 with padding, line breaks ignored.
func decodeData(v string) ([]byte, bool) {
	s := strings.TrimSpace(v)
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil
}

// dataIsEmpty reports whether a data value holds no secret: empty, a
// placeholder, or base64 of a placeholder.
func dataIsEmpty(v string) bool {
	if IsPlaceholder(v) {
		return true
	}
	b, ok := decodeData(v)
	return ok && utf8.Valid(b) && IsPlaceholder(string(b))
}

// previewData describes a data value without revealing it.
func previewData(v string) string {
	if b, ok := decodeData(v); ok {
		return fmt.Sprintf("base64, decodes to %d bytes", len(b))
	}
	return fmt.Sprintf("not valid base64, %d chars", utf8.RuneCountInString(strings.TrimSpace(v)))
}

// previewString describes a plain value without revealing it.
func previewString(v string) string {
	n := utf8.RuneCountInString(v)
	if lines := strings.Count(strings.TrimRight(v, "\n"), "\n") + 1; lines > 1 {
		return fmt.Sprintf("%d chars, %d lines", n, lines)
	}
	return fmt.Sprintf("%d chars", n)
}

// previewPrefixed shows only a token's public, format-defining prefix.
func previewPrefixed(prefix, v string) string {
	return fmt.Sprintf("%s… (%d chars)", prefix, utf8.RuneCountInString(v))
}

// shannon returns the Shannon entropy of s in bits per byte.
func shannon(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// printable makes attacker-chosen text (an error from a ciphertext parser,
// a key name) safe to print on one line.
func printable(s string) string {
	const max = 120
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			b.WriteRune('?')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
