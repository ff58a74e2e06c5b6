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
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	agetest "c2sp.org/CCTV/age"
)

// TestCCTVVectors runs the C2SP age test vectors through gitseal's age layer
// (header scan, decryption, whole-payload read). Every vector age accepts
// with X25519 or hybrid stanzas must open to the expected payload; every
// vector it rejects must fail with no plaintext; every other stanza type
// (scrypt, GREASE) and the armored form are refused up front.
func TestCCTVVectors(t *testing.T) {
	names, err := fs.Glob(agetest.Vectors, "*")
	if err != nil || len(names) < 100 {
		t.Fatalf("vectors: %d, %v", len(names), err)
	}
	var opened, rejected, refused int
	for _, name := range names {
		raw, err := fs.ReadFile(agetest.Vectors, name)
		if err != nil {
			t.Fatal(err)
		}
		v := parseVector(t, raw)
		t.Run(name, func(t *testing.T) {
			p, err := parseFile(v.file)
			if err != nil {
				if v.expect == "success" && !v.refusable() {
					t.Fatalf("refused a valid file: %v", err)
				}
				refused++
				return
			}
			if v.expect == "success" && v.refusable() {
				t.Fatalf("accepted a file gitseal refuses")
			}
			plaintext, _, err := decryptFile(p, v.identities)
			switch {
			case errors.Is(err, ErrTooLarge) && plaintext == nil:
				refused++ // the multi-megabyte stream vectors exceed MaxValueSize
			case v.expect == "success" && err != nil:
				t.Fatalf("decrypt: %v", err)
			case v.expect == "success":
				if sha256.Sum256(plaintext) != v.payloadHash {
					t.Fatal("payload hash mismatch")
				}
				opened++
			case err == nil:
				t.Fatalf("expected %s, got success", v.expect)
			case plaintext != nil:
				t.Fatal("partial plaintext returned on failure")
			default:
				if v.expect == "no match" && !errors.Is(err, ErrNoMatchingKey) {
					t.Errorf("expected no match, got %v", err)
				}
				rejected++
			}
		})
	}
	t.Logf("%d opened, %d rejected, %d refused up front", opened, rejected, refused)
	if opened < 5 || rejected < 30 || refused < 30 {
		t.Errorf("suspicious counts: %d opened, %d rejected, %d refused", opened, rejected, refused)
	}
}

func parseFile(file []byte) (*parsedSealed, error) {
	kind, n, err := scanHeader(file)
	if err != nil {
		return nil, err
	}
	return &parsedSealed{file: file, kind: kind, stanzas: n}, nil
}

type vector struct {
	expect      string
	payloadHash [32]byte
	identities  []*Identity
	passphrase  bool
	armored     bool
	grease      bool // a stanza of a made-up type
	mixed       bool // hybrid and X25519 stanzas in one file
	file        []byte
}

// refusable reports whether gitseal refuses the vector by design even though
// age accepts it.
func (v *vector) refusable() bool {
	return v.passphrase || v.armored || v.grease || v.mixed || len(v.identities) == 0
}

func parseVector(t *testing.T, raw []byte) *vector {
	v := &vector{}
	header, body, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		t.Fatal("vector without a body")
	}
	compressed := false
	for line := range strings.SplitSeq(string(header), "\n") {
		key, value, _ := strings.Cut(line, ": ")
		switch key {
		case "expect":
			v.expect = value
		case "payload":
			h, _ := hex.DecodeString(value)
			copy(v.payloadHash[:], h)
		case "identity":
			id, err := ParseIdentity(value)
			if err != nil {
				t.Fatal(err)
			}
			v.identities = append(v.identities, id)
		case "passphrase":
			v.passphrase = true
		case "armored":
			v.armored = true
		case "compressed":
			compressed = true
		case "comment":
			v.grease = v.grease || strings.Contains(strings.ToLower(value), "grease")
		}
	}
	if compressed {
		r, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
	}
	v.file = body
	kinds := map[Kind]bool{}
	for line := range strings.SplitSeq(string(body[:min(len(body), 4096)]), "\n") {
		if typ, ok := strings.CutPrefix(line, "-> "); ok {
			typ, _, _ = strings.Cut(typ, " ")
			k, known := stanzaKinds[typ]
			v.grease = v.grease || !known && typ != "scrypt"
			kinds[k] = known
		}
	}
	v.mixed = kinds[Hybrid] && kinds[X25519]
	return v
}
