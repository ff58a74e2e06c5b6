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
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"filippo.io/age"
)

// A wrapped data key of format 2 is one line of text (docs/format.md, "Format
// 2"):
//
//	gs2k:<key-id>[,<key-id>...]:<raw base64 of an entry>
//	entry   = kind (1 byte) || binding || stanza... || mac (32 bytes)
//	binding = scope (1 byte) || [len (1 byte) || namespace] || [len (1 byte) || name]
//	stanza  = share or encapsulation || body (32 bytes), fixed length per kind
//	mac     = the first 16 bytes of HMAC-SHA256(HKDF-SHA256(file key, "", "gitseal.dev/2 data key"), everything before it)
//
// The data key itself is a 16-byte age file key: the stanzas are age's own,
// produced by Recipient.Wrap and opened by Identity.Unwrap.
const (
	dataKeyPrefix = "gs2k:"

	// MaxDataKeys caps the wrapped data keys of one object. Each
	// (*Object).Add adds one.
	MaxDataKeys = 16

	fileKeySize = 16
	// macSize is HMAC-SHA256 truncated to 128 bits. Forging it needs the
	// file key; and since the MAC covers the stanzas, which change with the
	// file keys they wrap, a sealer cannot find one entry that gives two
	// recipients two valid file keys faster than 2^128 tries.
	macSize = 16
	// wrappedKeySize is a stanza body: the file key and a Poly1305 tag.
	wrappedKeySize = fileKeySize + 16

	kindByteX25519 = 1
	kindByteHybrid = 2

	scopeByteStrict    = 1
	scopeByteNamespace = 2
	scopeByteCluster   = 3

	macInfo = "gitseal.dev/2 data key"

	// maxEntry is the largest entry: kind, the largest binding, 16 hybrid
	// stanzas and the MAC.
	maxEntry = 1 + 1 + 1 + 63 + 1 + 253 + MaxRecipients*(hybridEncSize+wrappedKeySize) + macSize
	// maxDataKeyLen bounds the text form of a data key.
	maxDataKeyLen = len(dataKeyPrefix) + MaxRecipients*(keyIDLen+1) + (maxEntry*4+2)/3
)

// stanza lengths per kind: the decoded stanza argument (X25519's ephemeral
// share, or the ML-KEM-768 + X25519 encapsulation), then the body.
const (
	x25519ShareSize = 32
	hybridEncSize   = 1088 + 32
)

// b64raw is unpadded standard base64, as age itself writes stanza arguments.
var b64raw = base64.RawStdEncoding.Strict()

type kindSpec struct {
	kind      Kind
	kindByte  byte
	stanza    string // age stanza type
	argSize   int
	stanzaLen int
}

var kindSpecs = []kindSpec{
	{X25519, kindByteX25519, "X25519", x25519ShareSize, x25519ShareSize + wrappedKeySize},
	{Hybrid, kindByteHybrid, "mlkem768x25519", hybridEncSize, hybridEncSize + wrappedKeySize},
}

func specOf(kind Kind) (kindSpec, bool) {
	for _, s := range kindSpecs {
		if s.kind == kind {
			return s, true
		}
	}
	return kindSpec{}, false
}

var scopeBytes = map[Scope]byte{Strict: scopeByteStrict, Namespace: scopeByteNamespace, Cluster: scopeByteCluster}

// appendBinding encodes a validated, narrowed binding without its item key.
// Every field fits one length byte: a namespace is at most 63 bytes and a
// name at most 253.
func appendBinding(out []byte, b Binding) []byte {
	out = append(out, scopeBytes[b.Scope])
	if b.Scope != Cluster {
		out = append(out, byte(len(b.Namespace))) //nolint:gosec // a validated namespace is at most 63 bytes
		out = append(out, b.Namespace...)
	}
	if b.Scope == Strict {
		out = append(out, byte(len(b.Name))) //nolint:gosec // a validated name is at most 253 bytes
		out = append(out, b.Name...)
	}
	return out
}

// parseBinding decodes a binding at the start of buf and returns the rest.
// Errors do not wrap ErrMalformed; the caller does.
func parseBinding(buf []byte) (Binding, []byte, error) {
	var b Binding
	if len(buf) == 0 {
		return b, nil, errors.New("missing scope")
	}
	field := func(what string) (string, error) {
		if len(buf) == 0 || int(buf[0]) > len(buf)-1 {
			return "", fmt.Errorf("%s overruns the data key", what)
		}
		s := string(buf[1 : 1+buf[0]])
		buf = buf[1+buf[0]:]
		return s, nil
	}
	scope := buf[0]
	buf = buf[1:]
	var err error
	switch scope {
	case scopeByteStrict:
		b.Scope = Strict
		if b.Namespace, err = field("namespace"); err == nil {
			b.Name, err = field("name")
		}
	case scopeByteNamespace:
		b.Scope = Namespace
		b.Namespace, err = field("namespace")
	case scopeByteCluster:
		b.Scope = Cluster
	default:
		return b, nil, fmt.Errorf("unknown scope %d", scope)
	}
	if err != nil {
		return b, nil, err
	}
	// validate wants an item key; the binding of a data key has none.
	withKey := b
	withKey.Key = "k"
	if err := withKey.validate(); err != nil {
		return b, nil, err
	}
	return b, buf, nil
}

// dataKey is a parsed wrapped data key. Nothing in it is authenticated until
// the file key has been unwrapped and the MAC checked.
type dataKey struct {
	ids     []KeyID
	spec    kindSpec
	binding Binding
	stanzas []*age.Stanza
	entry   []byte // the decoded entry, MAC included
}

// parseDataKey checks everything that can be checked without a private key:
// size, text form, canonical base64, kind, binding, stanza count and
// lengths. It does no public-key operation.
func parseDataKey(s string) (*dataKey, error) {
	if len(s) > maxDataKeyLen {
		return nil, fmt.Errorf("%w: data key is %d bytes, the limit is %d", ErrTooLarge, len(s), maxDataKeyLen)
	}
	rest, ok := strings.CutPrefix(s, dataKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: data key does not start with %q", ErrMalformed, dataKeyPrefix)
	}
	hint, payload, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, fmt.Errorf("%w: data key: missing key IDs", ErrMalformed)
	}
	k := &dataKey{}
	for id := range strings.SplitSeq(hint, ",") {
		if !validKeyID(id) {
			return nil, fmt.Errorf("%w: data key: key ID is not 16 lowercase hex digits", ErrMalformed)
		}
		if len(k.ids) == MaxRecipients {
			return nil, fmt.Errorf("%w: data key: more than %d key IDs", ErrMalformed, MaxRecipients)
		}
		k.ids = append(k.ids, KeyID(id))
	}
	entry, err := b64raw.DecodeString(payload)
	if err != nil || strings.ContainsAny(payload, "\r\n") { // the decoder skips line breaks
		return nil, fmt.Errorf("%w: data key is not canonical unpadded base64", ErrMalformed)
	}
	if err := k.parseEntry(entry); err != nil {
		return nil, fmt.Errorf("%w: data key: %v", ErrMalformed, err)
	}
	if len(k.stanzas) != len(k.ids) {
		return nil, fmt.Errorf("%w: data key lists %d key IDs for %d recipients", ErrMalformed, len(k.ids), len(k.stanzas))
	}
	return k, nil
}

func (k *dataKey) parseEntry(entry []byte) error {
	if len(entry) == 0 {
		return errors.New("empty")
	}
	found := false
	for _, s := range kindSpecs {
		if s.kindByte == entry[0] {
			k.spec, found = s, true
		}
	}
	if !found {
		return fmt.Errorf("unknown recipient kind %d: only X25519 (1) and mlkem768x25519 (2) are accepted", entry[0])
	}
	b, rest, err := parseBinding(entry[1:])
	if err != nil {
		return err
	}
	k.binding = b
	if len(rest) < macSize {
		return errors.New("truncated")
	}
	stanzas := rest[:len(rest)-macSize]
	switch n := len(stanzas) / k.spec.stanzaLen; {
	case len(stanzas)%k.spec.stanzaLen != 0:
		return fmt.Errorf("%s stanzas are %d bytes each; %d bytes is not a whole number of them", k.spec.stanza, k.spec.stanzaLen, len(stanzas))
	case n == 0:
		return errors.New("no recipient stanzas")
	case n > MaxRecipients:
		return fmt.Errorf("more than %d recipient stanzas", MaxRecipients)
	}
	for s := range slices.Chunk(stanzas, k.spec.stanzaLen) {
		k.stanzas = append(k.stanzas, &age.Stanza{
			Type: k.spec.stanza,
			Args: []string{b64raw.EncodeToString(s[:k.spec.argSize])},
			Body: s[k.spec.argSize:],
		})
	}
	k.entry = entry
	return nil
}

// unwrap returns the file key, after checking the entry's MAC with it, and
// the ID of the identity that opened it. Identities of the data key's kind
// whose IDs it lists are tried first, then the others: the list is an
// unauthenticated hint.
func (k *dataKey) unwrap(identities []*Identity) ([]byte, KeyID, error) {
	ordered := orderIdentities(identities, k.spec.kind, k.ids)
	for _, id := range ordered {
		fileKey, err := id.id.Unwrap(k.stanzas)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		if err != nil || len(fileKey) != fileKeySize {
			clear(fileKey)
			return nil, "", fmt.Errorf("%w: data key: recipient stanza rejected", ErrMalformed)
		}
		if !hmac.Equal(entryMAC(fileKey, k.entry[:len(k.entry)-macSize]), k.entry[len(k.entry)-macSize:]) {
			clear(fileKey)
			return nil, "", fmt.Errorf("%w: data key failed authentication (tampered, or wrapped for this key by someone else)", ErrMalformed)
		}
		return fileKey, id.ID(), nil
	}
	return nil, "", noMatch(k.ids, identities)
}

// entryMAC authenticates an entry's kind, binding and stanzas under the file
// key, as age's header MAC does for an age header.
func entryMAC(fileKey, msg []byte) []byte {
	key, err := hkdf.Key(sha256.New, fileKey, nil, macInfo, sha256.Size)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)[:macSize]
}

// wrapDataKey wraps fileKey for recipients, which are distinct, of one
// kind, and 1 to MaxRecipients of them, bound to b (narrowed, validated).
func wrapDataKey(fileKey []byte, b Binding, recipients []*Recipient) (string, error) {
	spec, _ := specOf(recipients[0].kind)
	entry := make([]byte, 0, 2+len(b.Namespace)+len(b.Name)+2+len(recipients)*spec.stanzaLen+macSize)
	entry = append(entry, spec.kindByte)
	entry = appendBinding(entry, b)
	ids := make([]string, len(recipients))
	for i, r := range recipients {
		stanzas, err := r.r.Wrap(fileKey)
		if err != nil {
			return "", fmt.Errorf("wrap data key for %s: %w", r.id, err)
		}
		if len(stanzas) != 1 || stanzas[0].Type != spec.stanza || len(stanzas[0].Args) != 1 || len(stanzas[0].Body) != wrappedKeySize {
			return "", fmt.Errorf("wrap data key for %s: unexpected age stanza", r.id)
		}
		arg, err := b64raw.DecodeString(stanzas[0].Args[0])
		if err != nil || len(arg) != spec.argSize {
			return "", fmt.Errorf("wrap data key for %s: unexpected age stanza", r.id)
		}
		entry = append(entry, arg...)
		entry = append(entry, stanzas[0].Body...)
		ids[i] = string(r.id)
	}
	entry = append(entry, entryMAC(fileKey, entry)...)
	return dataKeyPrefix + strings.Join(ids, ",") + ":" + b64raw.EncodeToString(entry), nil
}

// checkRecipients deduplicates recipients and checks their number and kind.
func checkRecipients(recipients []*Recipient) ([]*Recipient, error) {
	recipients = uniqueRecipients(recipients)
	switch {
	case len(recipients) == 0:
		return nil, errors.New("no recipients")
	case len(recipients) > MaxRecipients:
		return nil, fmt.Errorf("%d recipients, the limit is %d", len(recipients), MaxRecipients)
	}
	for _, r := range recipients {
		if r.kind != recipients[0].kind {
			return nil, fmt.Errorf("%w: cannot mix post-quantum (age1pq1…) and X25519 (age1…) recipients in one object: "+
				"the X25519 stanza would undo the post-quantum protection (keys %s and %s)", ErrIncompatibleRecipients, recipients[0].id, r.id)
		}
		if _, ok := specOf(r.kind); !ok {
			return nil, fmt.Errorf("recipient %s: unknown kind %q", r.id, r.kind)
		}
	}
	return recipients, nil
}

// InspectDataKey parses one wrapped data key ("gs2k:…", an element of
// Object.DataKeys) without any private key: the key IDs it records (an
// unauthenticated hint), the kind of its recipients and their number.
// It fails with ErrMalformed or ErrTooLarge on everything OpenObject would
// refuse before a public-key operation.
func InspectDataKey(s string) (*Info, error) {
	k, err := parseDataKey(s)
	if err != nil {
		return nil, err
	}
	return &Info{KeyIDs: k.ids, Kind: k.spec.kind, Recipients: len(k.stanzas)}, nil
}
