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
	"strconv"
	"strings"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/sealedvalue"
)

// checkSealed checks a SealedSecret's values without any key, and its
// template for plaintext. gitseal says whether the apiVersion is ours: other
// SealedSecret kinds (Bitnami's) have another value format.
func (c *checker) checkSealed(obj *node, oc *objCtx, gitseal bool) {
	for _, spec := range obj.lookup("spec", false) {
		for _, tpl := range spec.lookup("template", false) {
			if tpl.kind == mapNode {
				c.checkSecretFields(tpl, "spec.template.", oc)
			}
		}
		if !gitseal {
			continue
		}
		dataKeys := c.checkDataKeys(spec, oc)
		for _, ed := range spec.lookup("encryptedData", false) {
			for _, p := range ed.pairs {
				c.checkSealedValue(p.keyString(), p.key, p.value, dataKeys, oc)
			}
		}
	}
}

// dataKey is one entry of spec.dataKeys as the checker read it: info is nil
// when it is malformed, which is reported where it is.
type dataKey struct {
	text string
	info *crypto.Info
}

// checkDataKeys reports malformed entries of spec.dataKeys (format 2) and
// returns them all, in order, for the values to refer to.
func (c *checker) checkDataKeys(spec *node, oc *objCtx) []dataKey {
	var out []dataKey
	for _, dks := range spec.lookup("dataKeys", false) {
		if dks.kind != seqNode {
			c.add(Finding{Rule: RuleSealedMalformed, Line: dks.line, Column: dks.column, Object: oc.at("spec", "dataKeys"),
				Message: "spec.dataKeys is not a list"}, "", oc)
			continue
		}
		out = out[:0]
		for i, it := range dks.items {
			loc := oc.at("spec.dataKeys", strconv.Itoa(i))
			if it.kind != scalarNode {
				c.add(Finding{Rule: RuleSealedMalformed, Line: it.line, Column: it.column, Object: loc,
					Message: "data key is not a string"}, "", oc)
				out = append(out, dataKey{})
				continue
			}
			info, err := crypto.InspectDataKey(it.value)
			if err != nil {
				c.add(Finding{Rule: RuleSealedMalformed, Line: it.line, Column: it.column, Object: loc,
					Message: "data key is malformed: " + printable(strings.TrimPrefix(err.Error(), crypto.ErrMalformed.Error()+": ")),
					Preview: previewString(it.value)}, it.value, oc)
			}
			out = append(out, dataKey{text: it.value, info: info})
		}
	}
	return out
}

func (c *checker) checkSealedValue(key string, at, v *node, dataKeys []dataKey, oc *objCtx) {
	loc := oc.at("spec.encryptedData", key)
	if v.kind != scalarNode {
		c.add(Finding{Rule: RuleSealedMalformed, Line: at.line, Column: at.column, Object: loc,
			Message: "sealed value is not a string"}, "", oc)
		return
	}
	texts := make([]string, len(dataKeys))
	for i, dk := range dataKeys {
		texts[i] = dk.text
	}
	via := ""
	if i, err := sealedvalue.DataKey(v.value, texts); crypto.Version(v.value) == 2 && err == nil {
		// Format 2: the keys are those of the value's data key.
		if dataKeys[i].info == nil {
			return // the data key is reported where it is
		}
		via = fmt.Sprintf(" (through spec.dataKeys[%d])", i)
	}
	info, err := crypto.InspectValue(v.value, texts)
	if err != nil {
		// The error names the defect, never the text: the text may be a
		// plaintext value pasted where a sealed one belongs.
		c.add(Finding{Rule: RuleSealedMalformed, Line: at.line, Column: at.column, Object: loc,
			Message: "sealed value is malformed: " + printable(strings.TrimPrefix(err.Error(), crypto.ErrMalformed.Error()+": ")),
			Preview: previewString(v.value)}, v.value, oc)
		return
	}
	keys := c.p.opts.Keys
	if keys == nil {
		return
	}
	var retired, known []string
	all := make([]string, len(info.KeyIDs))
	for i, id := range info.KeyIDs {
		all[i] = string(id)
		if keys.retired[id] {
			retired = append(retired, string(id))
		}
		if keys.known[id] {
			known = append(known, string(id))
		}
	}
	switch {
	case len(retired) > 0:
		c.add(Finding{Rule: RuleSealedRetiredKey, Line: at.line, Column: at.column, Object: loc,
			Message: fmt.Sprintf("sealed to retired key %s%s", strings.Join(retired, ", "), via)}, v.value, oc)
	case len(known) == 0:
		c.add(Finding{Rule: RuleSealedUnknownKey, Line: at.line, Column: at.column, Object: loc,
			Message: fmt.Sprintf("sealed only to keys .gitseal.yaml does not list: %s%s", strings.Join(all, ", "), via)}, v.value, oc)
	}
}
