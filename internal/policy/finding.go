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
	"slices"
	"strings"
)

// Finding is one reason to refuse a file or object. It never holds a secret
// value: Preview is redacted, and the value itself is only ever folded into
// a keyed fingerprint (see [Baseline]).
type Finding struct {
	// Rule is the rule that fired.
	Rule RuleID `json:"rule"`
	// Name is the rule's name, with the token kind for RuleToken
	// ("token-github"), so a reader need not look the ID up.
	Name string `json:"name"`
	// File is the slash-separated path of the file, relative to the scan
	// root. It is empty for CheckObject.
	File string `json:"file,omitempty"`
	// Commit is the commit that introduced the file version, when scanning
	// a git range.
	Commit string `json:"commit,omitempty"`
	// Line and Column are 1-based; 0 when unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Object locates the finding inside a Kubernetes object, when it is in
	// one.
	Object *Object `json:"object,omitempty"`
	// Message says what was found, without the value.
	Message string `json:"message"`
	// Preview is a redacted description of the value, such as
	// "ghp_… (40 chars)" or "base64, 12 bytes". Never the value.
	Preview string `json:"preview,omitempty"`
	// Allowed is set when an allowlist accepts the finding.
	Allowed *Allowance `json:"allowed,omitempty"`

	// fingerprint is the baseline fingerprint, set when the policy has a
	// baseline. It is not part of any output.
	fingerprint string
}

// Fingerprint returns the finding's keyed fingerprint (see Baseline), set
// when the policy has a baseline. It is deliberately not part of any
// output.
func (f *Finding) Fingerprint() string { return f.fingerprint }

// Object is where a finding is inside a Kubernetes object.
type Object struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	// Field is the path of the field, such as "data", "stringData",
	// "spec.encryptedData" or "secretGenerator[db].literals".
	Field string `json:"field,omitempty"`
	// Key is the data key, literal key or env var name, when there is one.
	Key string `json:"key,omitempty"`
}

// String formats the object as "Kind namespace/name field[key]".
func (o *Object) String() string {
	if o == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(cmp.Or(o.Kind, "object"))
	if o.Name != "" || o.Namespace != "" {
		b.WriteByte(' ')
		if o.Namespace != "" {
			b.WriteString(o.Namespace)
			b.WriteByte('/')
		}
		b.WriteString(cmp.Or(o.Name, "(unnamed)"))
	}
	if o.Field != "" {
		b.WriteByte(' ')
		b.WriteString(o.Field)
	}
	if o.Key != "" {
		if o.Field != "" {
			fmt.Fprintf(&b, "[%s]", o.Key)
		} else {
			b.WriteString(" " + o.Key)
		}
	}
	return b.String()
}

// Allowance records why a finding is accepted.
type Allowance struct {
	// By is "comment", "annotation" or "baseline".
	By string `json:"by"`
	// Reason is the reason given in the comment or annotation.
	Reason string `json:"reason,omitempty"`
}

// Ways a finding can be allowed.
const (
	AllowedByComment    = "comment"
	AllowedByAnnotation = "annotation"
	AllowedByBaseline   = "baseline"
)

// AnnotationAllowPlaintext on an object (or in a secretGenerator's
// options.annotations) allows its plaintext findings. Its value is the
// reason; an empty value or "false" allows nothing.
const AnnotationAllowPlaintext = "gitseal.dev/allow-plaintext"

// SortFindings orders findings by file, commit, line, column and rule.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Commit, b.Commit),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Object.String(), b.Object.String()),
		)
	})
}
