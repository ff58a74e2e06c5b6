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
	"bytes"
	"fmt"
	"path"
	"strings"
	"unicode/utf16"

	"github.com/gitseal/gitseal/crypto"
)

// Defaults for Options.
const (
	// DefaultMaxFileSize is the largest file that is checked: 10 MiB. The
	// API server stores no object over 1.5 MiB, so a larger manifest is
	// unusual; it is reported (GS011) rather than read.
	DefaultMaxFileSize = 10 << 20
	// DefaultMaxNodes bounds one document's node count with every alias
	// expanded at every use. A billion-laughs document exceeds it while
	// its parse stays linear in its size.
	DefaultMaxNodes = 1_000_000
	// DefaultMaxDepth bounds nesting. Deep CRD schemas stay well under it.
	DefaultMaxDepth = 256
)

// Options configure a Policy. The zero value checks everything but the
// sealing keys, with the default limits.
type Options struct {
	// Keys are the sealing keys the repository knows, from .gitseal.yaml.
	// When nil, the key rules (GS005, GS006) are skipped and only malformed
	// sealed values (GS004) are reported.
	Keys *KeySet
	// MaxFileSize is the largest file CheckFile reads; 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
	// MaxNodes and MaxDepth bound one document; 0 means the default.
	MaxNodes int
	MaxDepth int
	// FileExists reports whether a slash-separated path, relative to the
	// scan root, is among the files being committed or checked (tracked in
	// Git, or on disk). A secretGenerator file or env file that does not
	// exist brings nothing from Git and is not a finding. It is resolved
	// against the directory of the file that names it, as kustomize does;
	// one that lands outside the root (or a file named by an absolute
	// path) is never looked up and counts as existing. Nil means every
	// file exists.
	FileExists func(path string) bool
	// Baseline, when set, gives every finding a fingerprint and allows
	// those it lists.
	Baseline *Baseline
}

// KeySet holds the key IDs .gitseal.yaml lists: the known ones and the
// retired ones.
type KeySet struct {
	known, retired map[crypto.KeyID]bool
}

// NewKeySet returns the set of known and retired keys. A retired key need
// not also be known.
func NewKeySet(known, retired []crypto.KeyID) *KeySet {
	s := &KeySet{known: map[crypto.KeyID]bool{}, retired: map[crypto.KeyID]bool{}}
	for _, id := range known {
		s.known[id] = true
	}
	for _, id := range retired {
		s.retired[id] = true
	}
	return s
}

// Policy checks files and objects. It is safe for concurrent use.
type Policy struct {
	opts Options
}

// New returns a Policy with the given options.
func New(opts Options) *Policy {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.MaxNodes <= 0 {
		opts.MaxNodes = DefaultMaxNodes
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	return &Policy{opts: opts}
}

// MaxFileSize is the largest file the policy checks.
func (p *Policy) MaxFileSize() int64 { return p.opts.MaxFileSize }

// Skip says why a file was not checked.
type Skip string

// Reasons to skip a file. A file over the size limit is not skipped: it is
// a finding (GS011).
const (
	// SkipBinary: the file has a NUL byte in its first 8,000 bytes, as git
	// decides, and no UTF-16 byte order mark.
	SkipBinary Skip = "binary"
)

// FileResult is the verdict on one file.
type FileResult struct {
	// Findings are sorted by line. Allowed findings are included, with
	// Allowed set.
	Findings []Finding
	// Skipped is set when the file was not checked.
	Skipped Skip
}

// CheckFile checks the contents of one file, of any type: YAML or JSON,
// one or many documents, or any other text. name is the slash-separated
// path reported in findings; a file named kustomization.yaml (.yml, or
// Kustomization) is read as a kustomization even without a kind.
func (p *Policy) CheckFile(name string, data []byte) FileResult {
	if int64(len(data)) > p.opts.MaxFileSize {
		return FileResult{Findings: []Finding{p.FileTooLarge(name, int64(len(data)))}}
	}
	text, ok := decodeText(data)
	if !ok {
		return FileResult{Skipped: SkipBinary}
	}
	c := p.newChecker(name, text)
	c.checkText()
	return FileResult{Findings: c.done()}
}

// CheckObject checks one decoded Kubernetes object, such as the Object
// field of an unstructured.Unstructured, with the same decisions as
// CheckFile. Findings have no file or line.
func (p *Policy) CheckObject(obj map[string]any) []Finding {
	c := p.newChecker("", "")
	root, err := fromValue(obj, 0, p.opts.MaxDepth)
	if err != nil {
		c.tooComplex(1, fmt.Sprintf("object nests deeper than %d levels; not checked", p.opts.MaxDepth))
	} else {
		c.checkDocument(document{root: root})
	}
	return c.done()
}

// FileTooLarge is the finding for a file over the size limit, for callers
// that see the size before reading the file.
func (p *Policy) FileTooLarge(name string, size int64) Finding {
	f := Finding{
		Rule: RuleFileTooLarge, Name: ruleName(RuleFileTooLarge), File: name, Line: 1,
		Message: fmt.Sprintf("file is %d bytes, over the limit of %d; it was not checked", size, p.opts.MaxFileSize),
	}
	p.fingerprint(&f, "")
	p.applyBaseline(&f)
	return f
}

// decodeText returns the text of a file, or false for a binary one. UTF-16
// with a byte order mark is converted to UTF-8; a UTF-8 byte order mark is
// dropped.
func decodeText(data []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}), bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return fromUTF16(data[2:], data[0] == 0xfe), true
	}
	if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
		return "", false
	}
	return string(data), true
}

func fromUTF16(b []byte, bigEndian bool) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(u))
}

// IsKustomization reports whether a file name is one kustomize reads as a
// kustomization.
func IsKustomization(name string) bool {
	switch path.Base(name) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// worthParsing reports whether text may hold a Kubernetes object or a
// kustomization. Text that never says "kind" or "secretGenerator" (in any
// case) and has no escape sequence cannot, so it is only searched for
// private keys and tokens. This keeps a scan of a large tree fast.
func worthParsing(name, text string) bool {
	return IsKustomization(name) || containsFold(text, "kind") ||
		containsFold(text, "secretgenerator") || strings.IndexByte(text, '\\') >= 0
}

// containsFold reports whether s contains the lowercase ASCII word w in any
// letter case.
func containsFold(s, w string) bool {
	starts := string([]byte{w[0], w[0] - 'a' + 'A'})
	for len(s) >= len(w) {
		i := strings.IndexAny(s, starts)
		if i < 0 || i+len(w) > len(s) {
			return false
		}
		if strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
		s = s[i+1:]
	}
	return false
}
