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

package crypto

import (
	"encoding/binary"
	"fmt"
)

// Scope says how widely a sealed value may be used. It is authenticated
// inside the ciphertext and never taken from anywhere else.
type Scope string

const (
	// Strict binds a value to one namespace, one object name and one item key.
	Strict Scope = "strict"
	// Namespace binds a value to one namespace and one item key; the object
	// may be renamed.
	Namespace Scope = "namespace"
	// Cluster binds a value to one item key only; it may be used in any
	// namespace of any cluster holding the key.
	Cluster Scope = "cluster"
)

// ParseScope parses "strict", "namespace" or "cluster".
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case Strict, Namespace, Cluster:
		return Scope(s), nil
	}
	return "", fmt.Errorf("unknown scope %q: want strict, namespace or cluster", s)
}

// Binding is what a sealed value is bound to. Seal records only the fields
// its Scope needs: Namespace unless the scope is Cluster, Name only for
// Strict, and Key always.
type Binding struct {
	Scope     Scope
	Namespace string
	Name      string
	Key       string
}

// narrowed returns b with the fields its scope does not bind cleared.
func (b Binding) narrowed() Binding {
	switch b.Scope {
	case Namespace:
		b.Name = ""
	case Cluster:
		b.Namespace, b.Name = "", ""
	}
	return b
}

// validate checks a narrowed binding: the scope is known, exactly the fields
// it needs are set, and each is a valid Kubernetes name or data key. Names are
// not secret, so they may appear in the error.
func (b Binding) validate() error {
	switch b.Scope {
	case Strict:
		if err := validDNSLabel("namespace", b.Namespace); err != nil {
			return err
		}
		if err := validDNSSubdomain("name", b.Name); err != nil {
			return err
		}
	case Namespace:
		if err := validDNSLabel("namespace", b.Namespace); err != nil {
			return err
		}
		if b.Name != "" {
			return fmt.Errorf("namespace scope binds no name")
		}
	case Cluster:
		if b.Namespace != "" || b.Name != "" {
			return fmt.Errorf("cluster scope binds no namespace or name")
		}
	default:
		return fmt.Errorf("unknown scope %q", b.Scope)
	}
	return validDataKey(b.Key)
}

// The envelope is the plaintext inside the age file:
//
//	envelope = version field...
//	version  = 0x01
//	field    = tag (1 byte) | length (4 bytes, big-endian) | content
//
// Fields appear in strictly ascending tag order, each at most once: scope
// (1), namespace (2), name (3), key (4) and value (5). The value field is last
// and nothing may follow it. See docs/format.md.
const (
	envelopeVersion = 0x01

	tagScope     = 1
	tagNamespace = 2
	tagName      = 3
	tagKey       = 4
	tagValue     = 5

	fieldHeader = 1 + 4
)

var tagNames = [...]string{tagScope: "scope", tagNamespace: "namespace", tagName: "name", tagKey: "key", tagValue: "value"}

// marshalEnvelope encodes a validated, narrowed binding and a value.
func marshalEnvelope(b Binding, value []byte) []byte {
	n := 1 + 5*fieldHeader + len(b.Scope) + len(b.Namespace) + len(b.Name) + len(b.Key) + len(value)
	out := make([]byte, 0, n)
	out = append(out, envelopeVersion)
	out = appendField(out, tagScope, []byte(b.Scope))
	if b.Namespace != "" {
		out = appendField(out, tagNamespace, []byte(b.Namespace))
	}
	if b.Name != "" {
		out = appendField(out, tagName, []byte(b.Name))
	}
	out = appendField(out, tagKey, []byte(b.Key))
	return appendField(out, tagValue, value)
}

// appendField appends one field. Contents are bounded by maxEnvelope, far
// below 4 GiB, so the length always fits.
func appendField(out []byte, tag byte, content []byte) []byte {
	out = append(out, tag)
	out = binary.BigEndian.AppendUint32(out, uint32(len(content))) //nolint:gosec // len < maxEnvelope, checked by Seal

	return append(out, content...)
}

// parseEnvelope decodes an envelope strictly. The returned value aliases buf.
// Errors do not wrap ErrMalformed; the caller does.
func parseEnvelope(buf []byte) (Binding, []byte, error) {
	var b Binding
	if len(buf) == 0 {
		return b, nil, fmt.Errorf("empty envelope")
	}
	if buf[0] != envelopeVersion {
		return b, nil, fmt.Errorf("unsupported envelope version %d", buf[0])
	}
	rest := buf[1:]
	var (
		last  byte
		value []byte
		done  bool
	)
	for len(rest) > 0 {
		if done {
			return b, nil, fmt.Errorf("%d trailing bytes after the value", len(rest))
		}
		if len(rest) < fieldHeader {
			return b, nil, fmt.Errorf("truncated field header")
		}
		tag, size := rest[0], binary.BigEndian.Uint32(rest[1:5])
		rest = rest[fieldHeader:]
		switch {
		case tag == 0 || int(tag) >= len(tagNames):
			return b, nil, fmt.Errorf("unknown field %d", tag)
		case tag == last:
			return b, nil, fmt.Errorf("duplicate %s field", tagNames[tag])
		case tag < last:
			return b, nil, fmt.Errorf("%s field out of order", tagNames[tag])
		case uint64(size) > uint64(len(rest)):
			return b, nil, fmt.Errorf("%s field overruns the envelope", tagNames[tag])
		case size == 0 && tag != tagValue:
			return b, nil, fmt.Errorf("empty %s field", tagNames[tag]) // absent, not empty: keeps the encoding canonical
		}
		content := rest[:size:size]
		rest = rest[size:]
		last = tag
		switch tag {
		case tagScope:
			b.Scope = Scope(content)
		case tagNamespace:
			b.Namespace = string(content)
		case tagName:
			b.Name = string(content)
		case tagKey:
			b.Key = string(content)
		case tagValue:
			value, done = content, true
		}
	}
	if !done {
		return b, nil, fmt.Errorf("missing value field")
	}
	if b.Scope == "" {
		return b, nil, fmt.Errorf("missing scope field")
	}
	if err := b.validate(); err != nil {
		return b, nil, err
	}
	return b, value, nil
}

// The checks below follow Kubernetes' own validation: a namespace is a DNS
// label, an object name a DNS subdomain, and a Secret data key is made of
// alphanumerics, '-', '_' and '.'. Keeping the alphabet this small is what
// makes the envelope unambiguous when printed in errors.

func validDNSLabel(what, s string) error {
	if len(s) == 0 || len(s) > 63 {
		return fmt.Errorf("%s must be 1 to 63 characters", what)
	}
	for i, c := range []byte(s) {
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(s)-1) {
			return fmt.Errorf("%s %q is not a valid DNS label", what, s)
		}
	}
	return nil
}

func validDNSSubdomain(what, s string) error {
	if len(s) == 0 || len(s) > 253 {
		return fmt.Errorf("%s must be 1 to 253 characters", what)
	}
	for i, c := range []byte(s) {
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		edge := i == 0 || i == len(s)-1
		if !alnum && (c != '-' && c != '.' || edge) {
			return fmt.Errorf("%s %q is not a valid DNS subdomain", what, s)
		}
	}
	return nil
}

func validDataKey(s string) error {
	if len(s) == 0 || len(s) > 253 {
		return fmt.Errorf("item key must be 1 to 253 characters")
	}
	if s == "." || s == ".." {
		return fmt.Errorf("item key %q is not allowed", s)
	}
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("item key %q may contain only letters, digits, '-', '_' and '.'", s)
		}
	}
	return nil
}
