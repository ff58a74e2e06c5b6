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

package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// File is a manifest file, YAML (many documents) or JSON (one or
// more values), that the CLI edits in place. It is the one editor behind
// every command that rewrites files: seal -w and migrate -w replace whole
// documents, and reseal and seal --merge-into set the items and data keys
// of SealedSecret documents. An edit changes only the bytes it must:
// every other document, the comments that open a replaced document, key
// order and the ciphertext of untouched items stay as they were, so a key
// rotation is one small hunk per object in a Git diff.
type File struct {
	name   string
	data   []byte
	format Format
	// docs are the non-empty documents, in file order; a document's index
	// here is manifest.doc.
	docs []*document
	// lines are the offsets at which the file's lines start.
	lines []int
}

// document is one non-empty document of a File.
type document struct {
	// span is its text: a YAML document without the --- line that opens
	// it, or a JSON value.
	span
	// body is where its object starts, after the comment and blank lines
	// that open a YAML document; a replacement keeps those lines.
	body int
	// line is the 0-based line the span starts on.
	line int
	// raw is the document as JSON.
	raw json.RawMessage

	// sealed is set for a SealedSecret document once sealedSecrets has
	// looked for its items.
	sealed *sealedDoc
}

// span is a range of bytes in the file.
type span struct{ start, end int }

// split splits the data of a file into its documents. Empty
// and comment-only documents are left out, as kubectl does.
func split(name string, data []byte, f Format) (*File, error) {
	mf := &File{name: name, data: data, format: f, lines: lineStarts(data)}
	if f == JSON {
		return mf, mf.splitJSON()
	}
	return mf, mf.splitYAML()
}

// splitJSON reads a stream of JSON values.
func (mf *File) splitJSON() error {
	dec := json.NewDecoder(bytes.NewReader(mf.data))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", mf.name, SafeDecodeError(err))
		}
		if isNull(raw) {
			continue
		}
		end := int(dec.InputOffset())
		start := end - len(raw)
		mf.docs = append(mf.docs, &document{span: span{start, end}, body: start, line: mf.lineOf(start), raw: raw})
	}
}

// splitYAML splits at the lines that start a document: "---", alone or
// followed by a comment, as Kubernetes' YAML reader splits.
func (mf *File) splitYAML() error {
	start, n := 0, 1
	add := func(end int) error {
		text := mf.data[start:end]
		raw, err := yaml.YAMLToJSON(text)
		if err != nil {
			return fmt.Errorf("%s, document %d: %w", mf.name, n, SafeDecodeError(err))
		}
		if !isNull(raw) {
			body := start + len(leadingComments(text))
			mf.docs = append(mf.docs, &document{span: span{start, end}, body: body, line: mf.lineOf(start), raw: raw})
		}
		n++
		return nil
	}
	for i, at := range mf.lines {
		if !isDocumentStart(mf.data[at:mf.lineEnd(i)]) {
			continue
		}
		if at > 0 || i > 0 {
			if err := add(at); err != nil {
				return err
			}
		} else {
			n-- // a file that opens with --- has no document before it
		}
		start = mf.lineEnd(i)
		if start < len(mf.data) {
			start++ // past the newline
		}
	}
	return add(len(mf.data))
}

// isDocumentStart says whether a line (without its newline) is "---",
// alone or followed by white space or a comment.
func isDocumentStart(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || rest[0] == '#'
}

// lineEnd returns the offset of line i's newline, or the file's end.
func (mf *File) lineEnd(i int) int {
	if i+1 < len(mf.lines) {
		return mf.lines[i+1] - 1
	}
	return len(mf.data)
}

// lineOf returns the 0-based line that offset is on.
func (mf *File) lineOf(offset int) int {
	i, found := slices.BinarySearch(mf.lines, offset)
	if !found {
		i--
	}
	return i
}

// leadingComments returns the comment and blank lines a YAML document
// starts with.
func leadingComments(text []byte) []byte {
	end := 0
	for end < len(text) {
		line := text[end:]
		if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
			line = line[:nl+1]
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			break
		}
		end += len(line)
	}
	return text[:end]
}

// Change is what an edit changes in one document: either it is
// replaced, or, for a SealedSecret, items and data keys are set.
type Change struct {
	// Replace, when set, are the documents, encoded in the file's
	// format, that take the document's place.
	Replace [][]byte
	// DropComments, with Replace, replaces the comment lines that open
	// the document too: they may be about a plaintext value.
	DropComments bool

	// Items are the values to set, by item key.
	Items map[string]gitsealv1alpha1.SealedValue
	// DataKeys, when setDataKeys, replaces spec.DataKeys.
	DataKeys    []string
	SetDataKeys bool
}

// splice replaces the bytes of span with text.
type splice struct {
	span
	text string
}

// Edit returns the file's new content with the changes made to the
// documents they are keyed by. Everything not named keeps its bytes. A
// SealedSecret document too unusual to Edit by splicing (flow-style YAML,
// block scalars) is re-encoded from its YAML syntax tree instead, which
// still keeps its comments, key order and every untouched value.
func (mf *File) Edit(changes map[int]Change) ([]byte, error) {
	var splices []splice
	for _, i := range slices.Sorted(maps.Keys(changes)) {
		c := changes[i]
		if i < 0 || i >= len(mf.docs) {
			return nil, fmt.Errorf("%s: no document %d", mf.name, i+1)
		}
		d := mf.docs[i]
		if c.Replace != nil {
			start := d.body
			if c.DropComments {
				start = d.start
			}
			splices = append(splices, splice{span{start, d.end}, mf.joinDocuments(c.Replace)})
			continue
		}
		if d.sealed == nil {
			return nil, fmt.Errorf("%s, document %d: not a SealedSecret", mf.name, i+1)
		}
		s, err := mf.editSealed(i, d, c)
		if err != nil {
			return nil, err
		}
		splices = append(splices, s...)
	}
	// Stable: new items inserted at one place stay in key order.
	slices.SortStableFunc(splices, func(a, b splice) int { return a.start - b.start })
	var out bytes.Buffer
	out.Grow(len(mf.data) + 4096)
	pos := 0
	for _, s := range splices {
		out.Write(mf.data[pos:s.start])
		out.WriteString(s.text)
		pos = s.end
	}
	out.Write(mf.data[pos:])
	return out.Bytes(), nil
}

// joinDocuments writes documents in the file's format: YAML separated by
// ---, each ending in a newline; JSON one value after another.
func (mf *File) joinDocuments(docs [][]byte) string {
	var b strings.Builder
	for i, doc := range docs {
		if mf.format == JSON {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.Write(bytes.TrimRight(doc, "\n"))
			continue
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(bytes.TrimRight(doc, "\n"))
		b.WriteByte('\n')
	}
	return b.String()
}
