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
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Baseline is a set of accepted findings: usually false positives a team has
// reviewed. Findings are matched by fingerprint, never by line, so editing
// a file around an accepted finding keeps it accepted.
//
// A fingerprint is HMAC-SHA256 under a random 32-byte key kept in the
// baseline file, over the rule, the file path, the object path (kind,
// namespace, name, field, key) and the value. Including the value means a
// changed value is a new finding; keying the hash means a baseline cannot
// be matched against a precomputed table, or against another repository's
// baseline. It does not make a weak value safe: anyone with the baseline
// can test guesses for one finding at a time. So a baseline is for
// accepted false positives; a real secret must be removed and rotated.
type Baseline struct {
	key     []byte
	entries map[string]BaselineEntry
}

// BaselineEntry is one accepted finding. Rule, File and Object are for the
// people reviewing the baseline; only Fingerprint is matched.
type BaselineEntry struct {
	Fingerprint string `json:"fingerprint"`
	Rule        RuleID `json:"rule"`
	File        string `json:"file,omitempty"`
	Object      string `json:"object,omitempty"`
	// Reason may be filled in by hand; it is shown when the entry allows a
	// finding.
	Reason string `json:"reason,omitempty"`
}

const (
	baselineVersion   = 1
	baselineAlgorithm = "HMAC-SHA256(key, rule, name, file, object, value), length-prefixed fields"
	baselineKeySize   = 32
)

type baselineFile struct {
	Version   int             `json:"version"`
	Algorithm string          `json:"algorithm"`
	Key       string          `json:"key"`
	Findings  []BaselineEntry `json:"findings"`
}

// NewBaseline returns an empty baseline with a new random key.
func NewBaseline() *Baseline {
	key := make([]byte, baselineKeySize)
	_, _ = rand.Read(key) // never fails since Go 1.24
	return &Baseline{key: key, entries: map[string]BaselineEntry{}}
}

// ErrBadBaseline is returned for a baseline file that cannot be used.
var ErrBadBaseline = errors.New("invalid baseline")

// ReadBaseline reads a baseline file written by WriteTo. Errors wrap
// ErrBadBaseline.
func ReadBaseline(r io.Reader) (*Baseline, error) {
	var f baselineFile
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBaseline, err)
	}
	if f.Version != baselineVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadBaseline, f.Version, baselineVersion)
	}
	key, err := base64.StdEncoding.DecodeString(f.Key)
	if err != nil || len(key) != baselineKeySize {
		return nil, fmt.Errorf("%w: key is not %d bytes of base64", ErrBadBaseline, baselineKeySize)
	}
	b := &Baseline{key: key, entries: make(map[string]BaselineEntry, len(f.Findings))}
	for _, e := range f.Findings {
		b.entries[e.Fingerprint] = e
	}
	return b, nil
}

// Len returns the number of accepted findings.
func (b *Baseline) Len() int { return len(b.entries) }

// Empty returns a baseline with the same key and no entries, for writing a
// new baseline whose fingerprints stay stable.
func (b *Baseline) Empty() *Baseline {
	return &Baseline{key: b.key, entries: map[string]BaselineEntry{}}
}

// Add accepts a finding. The finding must come from a Policy that uses this
// baseline (or one from Empty), which is what gives it a fingerprint; Add
// reports false for any other.
func (b *Baseline) Add(f Finding) bool {
	if f.fingerprint == "" {
		return false
	}
	e := BaselineEntry{Fingerprint: f.fingerprint, Rule: f.Rule, File: f.File, Object: f.Object.String()}
	if old, ok := b.entries[f.fingerprint]; ok {
		e.Reason = old.Reason
	}
	b.entries[f.fingerprint] = e
	return true
}

// WriteTo writes the baseline as indented JSON, entries sorted so that
// diffs stay small.
func (b *Baseline) WriteTo(w io.Writer) (int64, error) {
	f := baselineFile{
		Version: baselineVersion, Algorithm: baselineAlgorithm,
		Key:      base64.StdEncoding.EncodeToString(b.key),
		Findings: make([]BaselineEntry, 0, len(b.entries)),
	}
	for _, e := range b.entries {
		f.Findings = append(f.Findings, e)
	}
	slices.SortFunc(f.Findings, func(x, y BaselineEntry) int {
		return cmp.Or(cmp.Compare(x.File, y.File), cmp.Compare(x.Rule, y.Rule),
			cmp.Compare(x.Object, y.Object), cmp.Compare(x.Fingerprint, y.Fingerprint))
	})
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(data, '\n'))
	return int64(n), err
}

func (b *Baseline) fingerprint(f *Finding, material string) string {
	mac := hmac.New(sha256.New, b.key)
	var n [8]byte
	for _, s := range []string{string(f.Rule), f.Name, f.File, f.Object.String(), material} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		mac.Write(n[:])
		mac.Write([]byte(s))
	}
	return hex.EncodeToString(mac.Sum(nil))
}

func (p *Policy) fingerprint(f *Finding, material string) {
	if b := p.opts.Baseline; b != nil {
		f.fingerprint = b.fingerprint(f, material)
	}
}

func (p *Policy) applyBaseline(f *Finding) {
	b := p.opts.Baseline
	if b == nil || f.Allowed != nil || f.fingerprint == "" {
		return
	}
	if e, ok := b.entries[f.fingerprint]; ok {
		f.Allowed = &Allowance{By: AllowedByBaseline, Reason: e.Reason}
	}
}
