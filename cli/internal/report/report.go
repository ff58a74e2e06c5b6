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

// Package report writes the findings of gitseal scan as text, JSON or
// SARIF. None of its formats holds a secret value.
package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/gitseal/gitseal/internal/policy"
	"github.com/gitseal/gitseal/internal/scanner"
	"github.com/gitseal/gitseal/internal/version"
)

// Scan writes a scan's findings. None of its formats holds a secret
// value: findings carry only redacted previews.
type Scan struct {
	*scanner.Report
	// ShowAllowed reports allowed findings too (SARIF always has them, as
	// suppressed results).
	ShowAllowed bool
	// Label names the kustomize build checked, if any.
	Label string
	// BaselineUsed says a baseline file was read.
	BaselineUsed bool
}

func (r *Scan) shown() []policy.Finding {
	if r.ShowAllowed {
		return r.Findings
	}
	return r.Failing()
}

func (r *Scan) allowed() int { return len(r.Findings) - len(r.Failing()) }

// ANSI styles of the text report.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// WriteText writes one block per finding and a summary line:
//
//	apps/db.yaml:5:3: GS002 secret-stringdata: Secret prod/db stringData[password]
//	    Secret has a plaintext value under stringData (...); value: 19 chars
func (r *Scan) WriteText(w io.Writer, color bool) error {
	paint := func(style, s string) string {
		if !color || s == "" {
			return s
		}
		return style + s + ansiReset
	}
	files := map[string]bool{}
	for _, f := range r.shown() {
		files[f.File] = true
		loc := f.File
		if f.Line > 0 {
			loc += fmt.Sprintf(":%d", f.Line)
			if f.Column > 0 {
				loc += fmt.Sprintf(":%d", f.Column)
			}
		}
		if f.Commit != "" {
			loc += " @" + shortCommit(f.Commit)
		}
		style := ansiRed
		if rule, _ := policy.LookupRule(f.Rule); rule.Level == policy.LevelWarning {
			style = ansiYellow
		}
		line := fmt.Sprintf("%s: %s", paint(ansiBold, loc), paint(style, string(f.Rule)+" "+f.Name))
		if obj := f.Object.String(); obj != "" {
			line += ": " + paint(ansiCyan, obj)
		}
		detail := f.Message
		if f.Preview != "" {
			detail += "; value: " + f.Preview
		}
		if f.Allowed != nil {
			detail += fmt.Sprintf(" [allowed by %s", f.Allowed.By)
			if f.Allowed.Reason != "" {
				detail += ": " + f.Allowed.Reason
			}
			detail += "]"
		}
		if _, err := fmt.Fprintf(w, "%s\n    %s\n", line, paint(ansiDim, detail)); err != nil {
			return err
		}
	}
	failing := len(r.Failing())
	checked := fmt.Sprintf("%d file%s checked", r.Files, plural(r.Files))
	if r.Label != "" {
		checked = r.Label + " checked"
	}
	var extra []string
	if n := r.allowed(); n > 0 {
		extra = append(extra, fmt.Sprintf("%d allowed", n))
	}
	if r.Binary > 0 {
		extra = append(extra, fmt.Sprintf("%d binary skipped", r.Binary))
	}
	if r.Excluded > 0 {
		extra = append(extra, fmt.Sprintf("%d excluded", r.Excluded))
	}
	tail := checked
	if len(extra) > 0 {
		tail += ", " + strings.Join(extra, ", ")
	}
	if failing == 0 {
		_, err := fmt.Fprintf(w, "gitseal scan: no plaintext secrets found (%s)\n", tail)
		return err
	}
	failingFiles := map[string]bool{}
	for _, f := range r.Failing() {
		failingFiles[f.File] = true
	}
	_, err := fmt.Fprintf(w, "%s (%s)\n%s\n",
		paint(ansiBold+ansiRed, fmt.Sprintf("gitseal scan: %d finding%s in %d file%s", failing, plural(failing), len(failingFiles), plural(len(failingFiles)))),
		tail,
		"Seal real secrets with gitseal seal and rotate them. To accept a false positive, add a\n"+
			"'# gitseal:allow <reason>' comment on its line, or run gitseal scan --write-baseline.\n"+
			"Rules: docs/scan.md.")
	return err
}

func shortCommit(c string) string { return c[:min(len(c), 12)] }

// jsonReport is the --format json document.
type jsonReport struct {
	Version  int              `json:"version"`
	Tool     jsonTool         `json:"tool"`
	Target   string           `json:"target,omitempty"`
	Findings []policy.Finding `json:"findings"`
	Summary  jsonSummary      `json:"summary"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonSummary struct {
	Files    int `json:"files"`
	Binary   int `json:"binary"`
	Excluded int `json:"excluded"`
	Findings int `json:"findings"`
	Allowed  int `json:"allowed"`
}

func (r *Scan) WriteJSON(w io.Writer) error {
	doc := jsonReport{
		Version: 1, Tool: jsonTool{Name: "gitseal", Version: version.Version}, Target: r.Label,
		Findings: r.shown(),
		Summary: jsonSummary{Files: r.Files, Binary: r.Binary, Excluded: r.Excluded,
			Findings: len(r.Failing()), Allowed: r.allowed()},
	}
	if doc.Findings == nil {
		doc.Findings = []policy.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// SARIF 2.1.0, as GitHub code scanning and other UIs read it.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifText    `json:"shortDescription"`
	FullDescription      sarifText    `json:"fullDescription"`
	Help                 sarifText    `json:"help"`
	DefaultConfiguration sarifConfig  `json:"defaultConfiguration"`
	Properties           sarifRuleTag `json:"properties"`
}

type sarifRuleTag struct {
	Tags []string `json:"tags"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]string  `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

func (r *Scan) WriteSARIF(w io.Writer) error {
	rules := policy.Rules()
	index := map[policy.RuleID]int{}
	driver := sarifDriver{Name: "gitseal", Version: version.Version, InformationURI: "https://github.com/gitseal/gitseal"}
	for i, rule := range rules {
		index[rule.ID] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID: string(rule.ID), Name: rule.Name,
			ShortDescription:     sarifText{rule.Summary},
			FullDescription:      sarifText{rule.Summary},
			Help:                 sarifText{rule.Help},
			DefaultConfiguration: sarifConfig{string(rule.Level)},
			Properties:           sarifRuleTag{Tags: []string{"security", "secrets"}},
		})
	}
	results := []sarifResult{}
	for _, f := range r.Findings {
		rule, _ := policy.LookupRule(f.Rule)
		msg := f.Message
		if obj := f.Object.String(); obj != "" {
			msg = obj + ": " + msg
		}
		if f.Preview != "" {
			msg += "; value: " + f.Preview
		}
		phys := sarifPhysical{ArtifactLocation: sarifArtifact{URI: uriOf(f.File), URIBaseID: "%SRCROOT%"}}
		if r.Label != "" {
			// The line is in the rendered output, not in a file: point at
			// the kustomization instead.
			phys.ArtifactLocation.URI = uriOf(strings.TrimSuffix(r.Label, " (kustomize build)") + "/kustomization.yaml")
			if f.Line > 0 {
				msg += fmt.Sprintf(" (line %d of the kustomize build output)", f.Line)
			}
		} else if f.Line > 0 {
			phys.Region = &sarifRegion{StartLine: f.Line, StartColumn: f.Column}
		}
		loc := sarifLocation{PhysicalLocation: phys}
		if f.Object != nil {
			loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Object.String(), Kind: "object"}}
		}
		res := sarifResult{
			RuleID: string(f.Rule), RuleIndex: index[f.Rule], Level: string(rule.Level),
			Message:             sarifText{msg},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{"gitsealFinding/v1": locationFingerprint(f)},
		}
		if f.Commit != "" {
			res.Properties = map[string]string{"commit": f.Commit}
		}
		if f.Allowed != nil {
			kind := "inSource"
			if f.Allowed.By == policy.AllowedByBaseline {
				kind = "external"
			}
			res.Suppressions = []sarifSuppression{{Kind: kind, Justification: strings.TrimSpace(f.Allowed.By + ": " + f.Allowed.Reason)}}
		}
		results = append(results, res)
	}
	doc := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// uriOf writes a relative path as a URI reference, as SARIF requires:
// spaces and other reserved characters escaped.
func uriOf(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// locationFingerprint lets code-scanning UIs follow a finding across runs.
// It covers where the finding is, never the value, so it reveals nothing
// about the secret.
func locationFingerprint(f policy.Finding) string {
	h := sha256.New()
	for _, s := range []string{string(f.Rule), f.Name, f.File, f.Object.String()} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
