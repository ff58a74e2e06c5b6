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
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// sealedSecretOut is how the CLI writes a SealedSecret: fields in the
// order people read them, and no empty status or creationTimestamp.
type sealedSecretOut struct {
	APIVersion string                           `json:"apiVersion"`
	Kind       string                           `json:"kind"`
	Metadata   Meta                             `json:"metadata"`
	Spec       gitsealv1alpha1.SealedSecretSpec `json:"spec"`
}

// Meta is the metadata the CLI writes: no empty fields, no
// creationTimestamp.
type Meta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// MarshalSealedSecret encodes a SealedSecret in f: indented JSON, or YAML
// with the same field order.
func MarshalSealedSecret(ss *gitsealv1alpha1.SealedSecret, f Format) ([]byte, error) {
	out := sealedSecretOut{
		APIVersion: gitsealv1alpha1.GroupVersion.String(),
		Kind:       "SealedSecret",
		Metadata:   Meta{Name: ss.Name, Namespace: ss.Namespace, Labels: ss.Labels, Annotations: ss.Annotations},
		Spec:       ss.Spec,
	}
	if f == YAML {
		return sealedSecretYAML(out)
	}
	return Marshal(out, f)
}

// sealedSecretYAML writes the YAML form directly. Going through a YAML
// syntax tree costs more than sealing: sealed values are kilobytes long.
func sealedSecretYAML(ss sealedSecretOut) ([]byte, error) {
	size := 256
	for k, v := range ss.Spec.EncryptedData {
		size += len(k) + len(v) + 8
	}
	for _, k := range ss.Spec.DataKeys {
		size += len(k) + 8
	}
	b := bytes.NewBuffer(make([]byte, 0, size))
	b.WriteString("apiVersion: " + ss.APIVersion + "\nkind: " + ss.Kind + "\n")
	meta := struct {
		Metadata Meta `json:"metadata"`
	}{ss.Metadata}
	if err := writeYAMLOf(b, meta); err != nil {
		return nil, err
	}
	b.WriteString("spec:\n  encryptedData:\n")
	for _, k := range SortedKeys(ss.Spec.EncryptedData) {
		// A sealed value's alphabet never needs quoting in YAML.
		b.WriteString("    " + YAMLKey(k) + ": " + string(ss.Spec.EncryptedData[k]) + "\n")
	}
	if len(ss.Spec.DataKeys) > 0 {
		// One line per data key: a key rotation changes only these lines.
		b.WriteString("  dataKeys:\n" + yamlDataKeyLines("    - ", ss.Spec.DataKeys))
	}
	if ss.Spec.Template != nil {
		tpl := struct {
			Template *gitsealv1alpha1.SecretTemplate `json:"template"`
		}{ss.Spec.Template}
		raw, err := json.Marshal(tpl)
		if err != nil {
			return nil, err
		}
		y, err := jsonToYAML(raw)
		if err != nil {
			return nil, err
		}
		for line := range strings.SplitAfterSeq(string(y), "\n") {
			if line != "" {
				b.WriteString("  " + line)
			}
		}
	}
	return b.Bytes(), nil
}

// writeYAMLOf appends v's YAML form, keeping the JSON field order.
func writeYAMLOf(b *bytes.Buffer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	y, err := jsonToYAML(raw)
	if err != nil {
		return err
	}
	b.Write(y)
	return nil
}

// Marshal encodes v as indented JSON, or as YAML keeping the JSON
// field order (sigs.k8s.io/yaml would sort the keys).
func Marshal(v any, f Format) ([]byte, error) {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	if f == JSON {
		return append(raw, '\n'), nil
	}
	return jsonToYAML(raw)
}

// jsonToYAML converts JSON to block-style YAML, keeping the key order.
func jsonToYAML(raw []byte) ([]byte, error) {
	var node yamlv3.Node
	if err := yamlv3.Unmarshal(raw, &node); err != nil {
		return nil, err
	}
	blockStyle(&node)
	var buf bytes.Buffer
	enc := yamlv3.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// blockStyle clears the flow and quoting styles JSON parsing leaves, so
// the encoder writes block YAML and quotes only what needs quoting.
func blockStyle(n *yamlv3.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// WriteDocuments writes encoded objects to w: YAML documents separated by
// "---", or a stream of JSON objects.
func WriteDocuments(w io.Writer, docs [][]byte, f Format) error {
	for i, doc := range docs {
		if f == YAML && i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(doc); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic replaces path with data: it writes a temporary file in
// the same directory, created with mode 0600 so that no one else can read
// it even for a moment, syncs it, gives it mode, and renames it over path.
// On any error the temporary file is removed and path is unchanged.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".gitseal-*.tmp")
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: directory %s does not exist", path, dir)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	// CreateTemp uses 0600 already; make it explicit for the reader.
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if mode != 0o600 {
		if err = tmp.Chmod(mode); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ModeOf returns the permission bits of an existing file, or def.
func ModeOf(path string, def os.FileMode) os.FileMode {
	info, err := os.Stat(path)
	if err != nil {
		return def
	}
	return info.Mode().Perm()
}
