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
	"slices"
	"strings"
)

// maxRefusedNamed bounds the objects RefusePlaintextSecrets names.
const maxRefusedNamed = 10

// RefusePlaintextSecrets returns why rendered objects may not be applied,
// or "": a Secret with data or stringData from Git is plaintext in Git.
// The GitSync reconciler refuses a revision with this message (Reason
// PolicyDenied) and `gitseal build` fails with it, so the two say the same.
// The message names objects, fields and keys, never values. Allowances (a
// comment or annotation) do not apply: an allowed finding is still refused.
func (p *Policy) RefusePlaintextSecrets(objs []map[string]any) string {
	var found []string
	for _, obj := range objs {
		var fields []string
		for _, f := range p.CheckObject(obj) {
			if f.Rule != RuleSecretData && f.Rule != RuleSecretStringData {
				continue
			}
			field := string(f.Rule)
			if f.Object != nil && f.Object.Field != "" {
				field = strings.Trim(f.Object.Field+"."+f.Object.Key, ".")
			}
			fields = append(fields, field)
		}
		if len(fields) > 0 {
			slices.Sort(fields)
			found = append(found, fmt.Sprintf("%s (%s)", describeObject(obj), strings.Join(slices.Compact(fields), ", ")))
		}
	}
	if len(found) == 0 {
		return ""
	}
	list := strings.Join(found, ", ")
	if len(found) > maxRefusedNamed {
		list = fmt.Sprintf("%s and %d more", strings.Join(found[:maxRefusedNamed], ", "), len(found)-maxRefusedNamed)
	}
	return fmt.Sprintf("refused to apply plaintext Secrets from Git: %s; seal them with `gitseal seal` and commit the SealedSecret instead", list)
}

// describeObject names an object in messages: "Kind namespace/name", or
// "Kind name" without a namespace.
func describeObject(obj map[string]any) string {
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	if ns == "" {
		return kind + " " + name
	}
	return kind + " " + ns + "/" + name
}
