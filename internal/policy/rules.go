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

// RuleID is the stable identifier of a rule, such as "GS001". IDs are never
// reused or renumbered; docs/scan.md documents each one.
type RuleID string

// The rules. A finding names one of them.
const (
	// RuleSecretData: a Secret with a non-empty data value.
	RuleSecretData RuleID = "GS001"
	// RuleSecretStringData: a Secret with a non-empty stringData value.
	RuleSecretStringData RuleID = "GS002"
	// RuleSecretGenerator: a kustomize secretGenerator whose literals, files
	// or envs bring values in.
	RuleSecretGenerator RuleID = "GS003"
	// RuleSealedMalformed: a SealedSecret value that is not a well-formed
	// gs1 sealed value.
	RuleSealedMalformed RuleID = "GS004"
	// RuleSealedUnknownKey: a SealedSecret value sealed only to keys that
	// .gitseal.yaml does not list.
	RuleSealedUnknownKey RuleID = "GS005"
	// RuleSealedRetiredKey: a SealedSecret value sealed to a key that
	// .gitseal.yaml marks as retired.
	RuleSealedRetiredKey RuleID = "GS006"
	// RulePrivateKey: a PEM private key block.
	RulePrivateKey RuleID = "GS007"
	// RuleToken: a token of a well-known format (cloud keys, forge tokens,
	// age secret keys, JWTs, passwords in URLs...).
	RuleToken RuleID = "GS008"
	// RuleHighEntropy: a high-entropy string in a container env value or a
	// ConfigMap value.
	RuleHighEntropy RuleID = "GS009"
	// RuleDuplicateKey: a mapping key repeated in a Kubernetes object or
	// kustomization, which decoders resolve differently.
	RuleDuplicateKey RuleID = "GS010"
	// RuleFileTooLarge: a file over the size limit, which was not checked.
	RuleFileTooLarge RuleID = "GS011"
	// RuleTooComplex: a document whose aliases expand beyond the node budget
	// or which nests too deeply, which was not checked.
	RuleTooComplex RuleID = "GS012"
)

// Level is how a code-scanning UI should show a rule's findings. Every
// finding fails a scan, whatever its level.
type Level string

// Levels, as SARIF names them.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
)

// Rule describes a rule for reports and documentation.
type Rule struct {
	ID RuleID
	// Name is a short kebab-case name, such as "secret-data".
	Name string
	// Summary is one sentence.
	Summary string
	// Help says how to fix or allow a finding.
	Help string
	// Level is the SARIF level of its findings.
	Level Level
}

const allowHelp = " If it is intended, allow it with a `# gitseal:allow <reason>` comment on the line or the line above, " +
	"or with the baseline (gitseal scan --write-baseline)."

var rules = []Rule{
	{RuleSecretData, "secret-data", "A Secret has a plaintext value under data.",
		"Seal the Secret with gitseal seal and commit the SealedSecret instead; rotate the value, since it may already have leaked." +
			" To allow one object, annotate it gitseal.dev/allow-plaintext: <reason>." + allowHelp, LevelError},
	{RuleSecretStringData, "secret-stringdata", "A Secret has a plaintext value under stringData.",
		"Seal the Secret with gitseal seal and commit the SealedSecret instead; rotate the value, since it may already have leaked." +
			" To allow one object, annotate it gitseal.dev/allow-plaintext: <reason>." + allowHelp, LevelError},
	{RuleSecretGenerator, "kustomize-secret-generator", "A kustomize secretGenerator brings values from literals, files or env files kept in Git.",
		"Replace the generator with a SealedSecret. To allow one generator, set options.annotations gitseal.dev/allow-plaintext: <reason>." + allowHelp, LevelError},
	{RuleSealedMalformed, "sealedsecret-malformed", "A SealedSecret value is not a well-formed gs1 sealed value.",
		"Seal the value again with gitseal seal; the controller cannot open this one." + allowHelp, LevelError},
	{RuleSealedUnknownKey, "sealedsecret-unknown-key", "A SealedSecret value is sealed only to keys that .gitseal.yaml does not list.",
		"Seal the value to a cluster key listed in .gitseal.yaml, or add the key to the cluster's recipients." + allowHelp, LevelError},
	{RuleSealedRetiredKey, "sealedsecret-retired-key", "A SealedSecret value is sealed to a key that .gitseal.yaml marks as retired.",
		"Re-seal the object to the current keys (gitseal reseal --only-retired)." + allowHelp, LevelError},
	{RulePrivateKey, "private-key-pem", "A PEM private key block is in the file.",
		"Remove the key and rotate it; keep it in a SealedSecret instead." + allowHelp, LevelError},
	{RuleToken, "token", "A token of a well-known format (cloud key, forge token, age secret key, JWT, password in a URL) is in the file.",
		"Remove the token and revoke it; keep it in a SealedSecret instead." + allowHelp, LevelError},
	{RuleHighEntropy, "high-entropy", "A container env value or a ConfigMap value holds a high-entropy string that looks like a secret.",
		"Move the value into a SealedSecret and reference it with valueFrom.secretKeyRef or envFrom." +
			" To allow one object, annotate it gitseal.dev/allow-plaintext: <reason>." + allowHelp, LevelWarning},
	{RuleDuplicateKey, "duplicate-key", "A Kubernetes object or kustomization repeats a mapping key; decoders disagree on which value wins.",
		"Remove the duplicate key. The allow-plaintext annotation does not apply to an object with duplicate keys." + allowHelp, LevelError},
	{RuleFileTooLarge, "file-too-large", "A file is over the size limit and was not checked.",
		"Split the file, raise the limit with --max-file-size, or accept it in the baseline.", LevelError},
	{RuleTooComplex, "manifest-too-complex", "A YAML document expands beyond the node budget (an alias bomb) or nests too deeply, and was not checked.",
		"Remove the aliases or the nesting; Kubernetes manifests never need them." + allowHelp, LevelError},
}

// Rules returns every rule, ordered by ID.
func Rules() []Rule {
	return append([]Rule(nil), rules...)
}

// LookupRule returns the rule with the given ID.
func LookupRule(id RuleID) (Rule, bool) {
	for _, r := range rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

func ruleName(id RuleID) string {
	r, _ := LookupRule(id)
	return r.Name
}
