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

// recorder holds the findings of one check and what decides which count.
type recorder struct {
	findings []Finding
	// capped is set once maxFindings is reached; later findings are dropped.
	capped bool
	// allows maps a line to the reason of the gitseal:allow comment
	// covering it.
	allows map[int]string
}

// maxFindings bounds the findings of one file or object, so aliases cannot
// turn a small file into a huge report.
const maxFindings = 10_000

// annotatable are the rules the allow-plaintext annotation can allow. The
// sealed-value rules are not about plaintext, and the structural rules make
// the annotation itself untrustworthy.
func annotatable(r RuleID) bool {
	switch r {
	case RuleSecretData, RuleSecretStringData, RuleSecretGenerator, RulePrivateKey, RuleToken, RuleHighEntropy:
		return true
	}
	return false
}

// add records a finding. material is what the value-dependent part of the
// fingerprint is computed from; it is never stored.
func (c *checker) add(f Finding, material string, oc *objCtx) {
	if c.rec.capped {
		return
	}
	if len(c.rec.findings) >= maxFindings {
		c.rec.capped = true
		f = Finding{Rule: RuleTooComplex, Line: f.Line,
			Message: fmt.Sprintf("more than %d findings; the rest were not reported", maxFindings)}
		material, oc = "", nil
	}
	f.File = c.file
	if f.Name == "" {
		f.Name = ruleName(f.Rule)
	}
	if oc != nil && oc.allow != "" && annotatable(f.Rule) {
		f.Allowed = &Allowance{By: AllowedByAnnotation, Reason: oc.allow}
	}
	c.p.fingerprint(&f, material)
	c.rec.findings = append(c.rec.findings, f)
}

func (c *checker) tooComplex(line int, msg string) {
	c.add(Finding{Rule: RuleTooComplex, Line: line, Message: msg}, msg, nil)
}

// done removes repeats (a shared alias reports once), applies the comment
// and baseline allowlists, and sorts.
func (c *checker) done() []Finding {
	seen := make(map[string]bool, len(c.rec.findings))
	out := c.rec.findings[:0]
	for _, f := range c.rec.findings {
		k := fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%s", f.Rule, f.Name, f.Line, f.Column, f.Object.String())
		if seen[k] {
			continue
		}
		seen[k] = true
		if r, ok := c.rec.allows[f.Line]; ok && f.Allowed == nil && f.Line > 0 {
			f.Allowed = &Allowance{By: AllowedByComment, Reason: r}
		}
		c.p.applyBaseline(&f)
		out = append(out, f)
	}
	SortFindings(out)
	return out
}

// allowComments finds the gitseal:allow comments of a text. A comment
// allows the findings on its own line; a comment alone on its line allows
// those on the next line too. The reason is required: a bare gitseal:allow
// allows nothing.
func allowComments(text string) map[int]string {
	const marker = "gitseal:allow"
	if !strings.Contains(text, marker) {
		return nil
	}
	out := map[int]string{}
	for i, line := range strings.Split(text, "\n") {
		idx := strings.Index(line, marker)
		if idx < 0 {
			continue
		}
		before := line[:idx]
		if !strings.Contains(before, "#") && !strings.Contains(before, "//") {
			continue
		}
		rest := line[idx+len(marker):]
		reason := strings.TrimSpace(rest)
		if reason == "" || rest[0] != ' ' && rest[0] != '\t' {
			continue
		}
		out[i+1] = printable(reason)
		if strings.Trim(before, " \t#/") == "" {
			out[i+2] = printable(reason)
		}
	}
	return out
}
