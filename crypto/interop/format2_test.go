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

package interop_test

// Everything below is written from docs/format.md, Part II, alone. It must
// not import github.com/gitseal/gitseal/crypto or share any of its code.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
)

var (
	errMalformed     = errors.New("malformed")
	errScopeMismatch = errors.New("scope-mismatch")
	errNoMatch       = errors.New("no matching key")
)

// §10: standard alphabet, no padding, canonical.
var rawB64 = base64.RawStdEncoding.Strict()

func decodeRaw(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errMalformed
	}
	return rawB64.DecodeString(s)
}

type binding struct {
	scope, namespace, name string
}

// §11: the binding bytes.
func (b binding) bytes() []byte {
	switch b.scope {
	case "strict":
		return append(append(append([]byte{1, byte(len(b.namespace))}, b.namespace...), byte(len(b.name))), b.name...)
	case "namespace":
		return append([]byte{2, byte(len(b.namespace))}, b.namespace...)
	}
	return []byte{3}
}

type entry struct {
	stanzas []*age.Stanza
	binding binding
	raw     []byte
}

// parseDataKey follows §10 and §11 (the §4 checks on names are left to the
// reference implementation; these vectors only need the structure).
func parseDataKey(line string) (*entry, error) {
	rest, ok := strings.CutPrefix(line, "gs2k:")
	if !ok {
		return nil, errMalformed
	}
	ids, payload, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, errMalformed
	}
	raw, err := decodeRaw(payload)
	if err != nil || len(raw) < 2 {
		return nil, errMalformed
	}
	var typ string
	var argLen int
	switch raw[0] {
	case 1:
		typ, argLen = "X25519", 32
	case 2:
		typ, argLen = "mlkem768x25519", 1120
	default:
		return nil, errMalformed
	}
	e := &entry{raw: raw}
	p := raw[1:]
	take := func() (string, bool) {
		if len(p) < 1 || len(p) < 1+int(p[0]) || p[0] == 0 {
			return "", false
		}
		s := string(p[1 : 1+p[0]])
		p = p[1+p[0]:]
		return s, true
	}
	scope := p[0]
	p = p[1:]
	switch scope {
	case 1:
		e.binding.scope = "strict"
		var ok1, ok2 bool
		e.binding.namespace, ok1 = take()
		e.binding.name, ok2 = take()
		if !ok1 || !ok2 {
			return nil, errMalformed
		}
	case 2:
		e.binding.scope = "namespace"
		if e.binding.namespace, ok = take(); !ok {
			return nil, errMalformed
		}
	case 3:
		e.binding.scope = "cluster"
	default:
		return nil, errMalformed
	}
	if len(p) < 16 {
		return nil, errMalformed
	}
	stanzas := p[:len(p)-16]
	size := argLen + 32
	if len(stanzas) == 0 || len(stanzas)%size != 0 || len(stanzas)/size > 16 {
		return nil, errMalformed
	}
	for i := 0; i < len(stanzas); i += size {
		e.stanzas = append(e.stanzas, &age.Stanza{
			Type: typ,
			Args: []string{base64.RawStdEncoding.EncodeToString(stanzas[i : i+argLen])},
			Body: stanzas[i+argLen : i+size],
		})
	}
	if strings.Count(ids, ",")+1 != len(e.stanzas) {
		return nil, errMalformed
	}
	return e, nil
}

// unwrap unwraps the file key and checks the MAC (§11).
func (e *entry) unwrap(id age.Identity) ([]byte, error) {
	fileKey, err := id.Unwrap(e.stanzas)
	if errors.Is(err, age.ErrIncorrectIdentity) {
		return nil, errNoMatch
	}
	if err != nil || len(fileKey) != 16 {
		return nil, errMalformed
	}
	macKey, err := hkdf.Key(sha256.New, fileKey, nil, "gitseal.dev/2 data key", 32)
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, macKey)
	h.Write(e.raw[:len(e.raw)-16])
	if !hmac.Equal(h.Sum(nil)[:16], e.raw[len(e.raw)-16:]) {
		return nil, errMalformed
	}
	return fileKey, nil
}

// decrypt is §12.
func decrypt(fileKey []byte, b binding, item string, ct []byte) ([]byte, bool) {
	info := append([]byte("gitseal.dev/2 value"), b.bytes()...)
	info = append(append(info, byte(len(item))), item...)
	key, err := hkdf.Key(sha256.New, fileKey, nil, string(info), 32)
	if err != nil {
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, false
	}
	pt, err := gcm.Open(nil, make([]byte, 12), ct, nil)
	return pt, err == nil
}

// parseValue is §10: the index and the ciphertext.
func parseValue(v string, dataKeys int) (int, []byte, error) {
	rest, ok := strings.CutPrefix(v, "gs2:")
	if !ok {
		return 0, nil, errMalformed
	}
	index := 0
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 1 || n > 15 || rest[:i] != strconv.Itoa(n) {
			return 0, nil, errMalformed
		}
		index, rest = n, rest[i+1:]
	}
	if index >= dataKeys {
		return 0, nil, errMalformed
	}
	ct, err := decodeRaw(rest)
	if err != nil || len(ct) < 16 {
		return 0, nil, errMalformed
	}
	return index, ct, nil
}

// openObject is §13 for one identity and a claim of namespace and name.
func openObject(dataKeys []string, values map[string]string, id age.Identity, claim binding) (map[string][]byte, map[string]error) {
	opened, failed := map[string][]byte{}, map[string]error{}
	failAll := func(err error) (map[string][]byte, map[string]error) {
		for item := range values {
			failed[item] = err
		}
		return opened, failed
	}
	if len(dataKeys) > 16 {
		return failAll(errMalformed)
	}
	entries := make([]*entry, len(dataKeys))
	for i, line := range dataKeys {
		e, err := parseDataKey(line)
		if err != nil {
			return failAll(err)
		}
		if i > 0 && (e.raw[0] != entries[0].raw[0] || e.binding != entries[0].binding) {
			return failAll(errMalformed)
		}
		entries[i] = e
	}
	fileKeys := map[int][]byte{}
	for item, v := range values {
		n, ct, err := parseValue(v, len(entries))
		if err != nil {
			failed[item] = err
			continue
		}
		if fileKeys[n] == nil {
			fk, err := entries[n].unwrap(id)
			if err != nil {
				failed[item] = err
				continue
			}
			fileKeys[n] = fk
		}
		b := entries[n].binding
		pt, ok := decrypt(fileKeys[n], b, item, ct)
		if !ok {
			failed[item] = errMalformed
			for other := range values {
				if _, ok := decrypt(fileKeys[n], b, other, ct); ok && other != item {
					failed[item] = fmt.Errorf("%w: sealed for %s", errScopeMismatch, other)
				}
			}
			continue
		}
		// §5 step 6, with the claim's item key always the item's own.
		if b.scope != "cluster" && b.namespace != claim.namespace || b.scope == "strict" && b.name != claim.name {
			failed[item] = errScopeMismatch
			continue
		}
		opened[item] = pt
	}
	return opened, failed
}

func TestFormat2VectorsFromTheSpecAlone(t *testing.T) {
	raw, err := os.ReadFile("../testdata/format2.txt")
	if err != nil {
		t.Fatal(err)
	}
	identities := map[string]age.Identity{}
	records := 0
	for record := range strings.SplitSeq(string(raw), "\n\n") {
		var (
			name, identity string
			claim          binding
			dataKeys       []string
			values         = map[string]string{}
			expect         = map[string]string{}
		)
		for line := range strings.SplitSeq(strings.TrimSpace(record), "\n") {
			key, value, ok := strings.Cut(line, ": ")
			if !ok || strings.HasPrefix(line, "#") {
				continue
			}
			first, rest, _ := strings.Cut(value, " ")
			switch key {
			case "identity-x25519":
				id, err := age.ParseX25519Identity(value)
				if err != nil {
					t.Fatal(err)
				}
				identities["x25519"] = id
			case "identity-hybrid":
				id, err := age.ParseHybridIdentity(value)
				if err != nil {
					t.Fatal(err)
				}
				identities["hybrid"] = id
			case "vector":
				name = value
			case "identity":
				identity = value
			case "claim":
				claim = binding{namespace: first, name: rest}
			case "data-key":
				dataKeys = append(dataKeys, value)
			case "value":
				values[first] = rest
			case "expect":
				expect[first] = rest
			}
		}
		if name == "" {
			continue
		}
		records++
		opened, failed := openObject(dataKeys, values, identities[identity], claim)
		for item, want := range expect {
			switch {
			case want == "ok" || strings.HasPrefix(want, "ok "):
				wantValue, _ := hex.DecodeString(strings.TrimSpace(strings.TrimPrefix(want, "ok")))
				if got, ok := opened[item]; !ok || !bytes.Equal(got, wantValue) {
					t.Errorf("%s: %s: %v, want %q", name, item, failed[item], wantValue)
				}
			case opened[item] != nil:
				t.Errorf("%s: %s opened, want %s", name, item, want)
			case !errors.Is(failed[item], map[string]error{"malformed": errMalformed, "scope-mismatch": errScopeMismatch}[want]):
				t.Errorf("%s: %s: got %v, want %s", name, item, failed[item], want)
			}
		}
	}
	if records < 10 || len(identities) != 2 {
		t.Fatalf("read %d records and %d identities", records, len(identities))
	}
}
