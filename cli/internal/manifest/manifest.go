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

// Package manifest reads the CLI's manifest files and standard input,
// writes SealedSecrets, and edits files in place keeping every byte an
// edit does not change.
package manifest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/cli/internal/hint"
)

// maxInputBytes caps one input file. A Secret holds at most 1 MiB, so this
// fits dozens of full ones, and refuses a runaway file before parsing it.
const maxInputBytes = 32 << 20

// Format is the syntax of a manifest file.
type Format string

const (
	YAML Format = "yaml"
	JSON Format = "json"
)

// Input is one manifest file, or standard Input, read whole.
type Input struct {
	// Name is how messages refer to it: the path as given, or "stdin".
	Name string
	// Path is the file's Path; empty for standard input.
	Path   string
	Data   []byte
	Format Format
	// split is data split into documents, once.
	split *File
}

// File returns the input split into its documents.
func (in *Input) File() (*File, error) {
	if in.split == nil {
		mf, err := split(in.Name, in.Data, in.Format)
		if err != nil {
			return nil, err
		}
		in.split = mf
	}
	return in.split, nil
}

// ReadInputs reads the files named by args, or standard input when args
// is empty or "-". A directory needs recursive: then every *.yaml, *.yml
// and *.json file below it is read, in lexical order.
func ReadInputs(args []string, stdin io.Reader, recursive bool) ([]*Input, error) {
	if len(args) == 0 {
		args = []string{"-"}
	}
	var out []*Input
	for _, arg := range args {
		if arg == "-" {
			data, err := readCapped(stdin, "stdin")
			if err != nil {
				return nil, err
			}
			out = append(out, &Input{Name: "stdin", Data: data, Format: sniffFormat(data)})
			continue
		}
		paths, err := expandPath(arg, recursive)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			in, err := ReadFile(p)
			if err != nil {
				return nil, err
			}
			out = append(out, in)
		}
	}
	return out, nil
}

// expandPath returns arg itself if it is a file, or the manifest files
// below it if it is a directory and recursive is set.
func expandPath(arg string, recursive bool) ([]string, error) {
	info, err := os.Stat(arg)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{arg}, nil
	}
	if !recursive {
		return nil, hint.With(fmt.Errorf("%s is a directory", arg), "pass -R to read every *.yaml, *.yml and *.json file below it")
	}
	var paths []string
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != arg && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git and friends
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".yaml", ".yml", ".json":
			if d.Type().IsRegular() {
				paths = append(paths, p)
			}
		}
		return nil
	})
	return paths, err
}

// ReadFile reads one manifest file whole, up to the size cap.
func ReadFile(path string) (*Input, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the user names the files to read.
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := readCapped(f, path)
	if err != nil {
		return nil, err
	}
	return &Input{Name: path, Path: path, Data: data, Format: FormatOf(path, data)}, nil
}

// readCapped reads r whole, refusing more than maxInputBytes.
func readCapped(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxInputBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB; split it", name, maxInputBytes>>20)
	}
	return data, nil
}

// FormatOf tells JSON from YAML by the file's extension, else its content.
func FormatOf(path string, data []byte) Format {
	switch filepath.Ext(path) {
	case ".json":
		return JSON
	case ".yaml", ".yml":
		return YAML
	}
	return sniffFormat(data)
}

// sniffFormat tells JSON from YAML by the content.
func sniffFormat(data []byte) Format {
	if utilyaml.IsJSONBuffer(data) {
		return JSON
	}
	return YAML
}

// Object is one Kubernetes object from an input: a document of a
// multi-document file, or an item of a List.
type Object struct {
	In *Input
	// Doc is the 0-based index of the document in its file.
	Doc int
	// Where names the object for messages, e.g. "secrets.yaml, document 2".
	Where string
	metav1.TypeMeta
	Raw json.RawMessage
}

// Objects splits an input into its objects, expanding v1 Lists. Empty
// documents are skipped.
func (in *Input) Objects() ([]Object, error) {
	mf, err := in.File()
	if err != nil {
		return nil, err
	}
	docs := mf.docs
	var out []Object
	for i, d := range docs {
		raw := d.raw
		where := in.Name
		if len(docs) > 1 {
			where = fmt.Sprintf("%s, document %d", in.Name, i+1)
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(raw, &tm); err != nil {
			return nil, fmt.Errorf("%s: not a Kubernetes object: %w", where, SafeDecodeError(err))
		}
		if tm.Kind != "List" {
			out = append(out, Object{In: in, Doc: i, Where: where, TypeMeta: tm, Raw: raw})
			continue
		}
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("%s: a List: %w", where, SafeDecodeError(err))
		}
		for j, item := range list.Items {
			var itm metav1.TypeMeta
			if err := json.Unmarshal(item, &itm); err != nil {
				return nil, fmt.Errorf("%s, item %d: not a Kubernetes object: %w", where, j+1, SafeDecodeError(err))
			}
			out = append(out, Object{In: in, Doc: i, Where: fmt.Sprintf("%s, item %d", where, j+1), TypeMeta: itm, Raw: item})
		}
	}
	return out, nil
}

func isNull(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// SafeDecodeError rewrites a JSON or YAML decoding error so that it names
// the position but never quotes the input, which may be a secret value.
func SafeDecodeError(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		// Value is a JSON type name such as "number", never the input.
		return fmt.Errorf("field %q is a JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	if ce, ok := errors.AsType[base64.CorruptInputError](err); ok {
		return fmt.Errorf("a data value is not valid base64 (at byte %d of the value)", int64(ce))
	}
	return errors.New(unquoteInput(err.Error()))
}

// unquoteInput removes the parts of a parser message that may quote the
// input: yaml's `value` quoting, and everything from sigs.k8s.io/yaml's
// "key: ..., value: ..." on.
func unquoteInput(msg string) string {
	if i := strings.Index(msg, "key: "); i >= 0 {
		msg = msg[:i] + "…"
	}
	var b strings.Builder
	for {
		start := strings.IndexByte(msg, '`')
		if start < 0 {
			break
		}
		end := strings.IndexByte(msg[start+1:], '`')
		if end < 0 {
			msg = msg[:start] + "…"
			break
		}
		b.WriteString(msg[:start] + "…")
		msg = msg[start+1+end+1:]
	}
	b.WriteString(msg)
	return b.String()
}

// DecodeSecret decodes a manifest that must be a v1 Secret.
func DecodeSecret(m Object) (*corev1.Secret, error) {
	if m.APIVersion != "v1" || m.Kind != "Secret" {
		return nil, fmt.Errorf("%s: a %s, not a v1 Secret", m.Where, DescribeKind(m.TypeMeta))
	}
	var s corev1.Secret
	if err := json.Unmarshal(m.Raw, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", m.Where, SafeDecodeError(err))
	}
	return &s, nil
}

// IsSealedSecret says whether a manifest is a gitseal SealedSecret.
func IsSealedSecret(tm metav1.TypeMeta) bool {
	return tm.APIVersion == gitsealv1alpha1.GroupVersion.String() && tm.Kind == "SealedSecret"
}

// DecodeSealedSecret decodes a manifest that must be a SealedSecret.
func DecodeSealedSecret(m Object) (*gitsealv1alpha1.SealedSecret, error) {
	if !IsSealedSecret(m.TypeMeta) {
		return nil, fmt.Errorf("%s: a %s, not a %s SealedSecret", m.Where, DescribeKind(m.TypeMeta), gitsealv1alpha1.GroupVersion)
	}
	var ss gitsealv1alpha1.SealedSecret
	if err := json.Unmarshal(m.Raw, &ss); err != nil {
		return nil, fmt.Errorf("%s: %w", m.Where, SafeDecodeError(err))
	}
	return &ss, nil
}

// DescribeKind names an object's kind for messages.
func DescribeKind(tm metav1.TypeMeta) string {
	switch {
	case tm.Kind == "" && tm.APIVersion == "":
		return "document without apiVersion and kind"
	case tm.APIVersion == "":
		return tm.Kind
	}
	return tm.APIVersion + " " + tm.Kind
}

// ReadSealedSecrets reads every SealedSecret from the inputs; any other
// object is an error.
func ReadSealedSecrets(inputs []*Input) ([]*gitsealv1alpha1.SealedSecret, error) {
	var out []*gitsealv1alpha1.SealedSecret
	for _, in := range inputs {
		ms, err := in.Objects()
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			ss, err := DecodeSealedSecret(m)
			if err != nil {
				return nil, err
			}
			out = append(out, ss)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no SealedSecret found in the input")
	}
	return out, nil
}

// ObjectName is namespace/name, or just name without a namespace.
func ObjectName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// SortedKeys returns a map's keys in order.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
