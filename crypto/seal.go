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
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"filippo.io/age"
)

// Errors that callers branch on. Returned errors wrap one of them and add
// context that never contains plaintext or key material.
var (
	// ErrNoMatchingKey: none of the given identities is a recipient.
	ErrNoMatchingKey = errors.New("no matching key")
	// ErrScopeMismatch: the value opened, but it is bound to another
	// namespace, name, item key or scope than the one claimed.
	ErrScopeMismatch = errors.New("scope mismatch")
	// ErrMalformed: the value is not a well-formed, authentic sealed value
	// (bad encoding, refused stanza, tampered or truncated ciphertext, or a
	// bad envelope).
	ErrMalformed = errors.New("malformed sealed value")
	// ErrTooLarge: the value or its ciphertext exceeds the size caps.
	ErrTooLarge = errors.New("sealed value too large")
	// ErrIncompatibleRecipients: hybrid and X25519 recipients were mixed.
	ErrIncompatibleRecipients = errors.New("incompatible recipients")
)

const (
	// MaxValueSize caps one item's plaintext. Kubernetes caps a whole
	// Secret's data at 1 MiB, so no item can be larger.
	MaxValueSize = 1 << 20
	// MaxRecipients caps the recipients of one value, which bounds the work
	// an opener does before it finds its stanza.
	MaxRecipients = 16

	prefix = "gs1:"

	// maxEnvelope is the largest envelope: the value plus its binding.
	maxEnvelope = MaxValueSize + 1024
	// maxAgeFile bounds the age file: the envelope, stream overhead (16 bytes
	// per 64 KiB chunk plus a 16-byte nonce) and a header of at most
	// MaxRecipients hybrid stanzas (about 1.6 KB each).
	maxAgeFile = maxEnvelope + 64<<10
	// maxSealedLen bounds the whole text form.
	maxSealedLen = len(prefix) + MaxRecipients*(keyIDLen+1) + (maxAgeFile+2)/3*4
)

var b64 = base64.StdEncoding.Strict()

// Seal encrypts value for the recipients, bound to b. Only the fields of b
// that its scope binds are recorded. All recipients must be of one kind;
// duplicates are sealed to once. The result is a single line of text:
//
//	gs1:<key-id>[,<key-id>...]:<base64 of an age file>
//
// Errors: ErrTooLarge, ErrIncompatibleRecipients, or an invalid binding.
func Seal(value []byte, b Binding, recipients ...*Recipient) (string, error) {
	if len(value) > MaxValueSize {
		return "", fmt.Errorf("%w: value is %d bytes, the limit is %d", ErrTooLarge, len(value), MaxValueSize)
	}
	b = b.narrowed()
	if err := b.validate(); err != nil {
		return "", fmt.Errorf("invalid binding: %w", err)
	}
	recipients = uniqueRecipients(recipients)
	switch {
	case len(recipients) == 0:
		return "", errors.New("no recipients")
	case len(recipients) > MaxRecipients:
		return "", fmt.Errorf("%d recipients, the limit is %d", len(recipients), MaxRecipients)
	}
	ageRecipients := make([]age.Recipient, len(recipients))
	ids := make([]string, len(recipients))
	for i, r := range recipients {
		if r.kind != recipients[0].kind {
			return "", fmt.Errorf("%w: cannot mix post-quantum (age1pq1…) and X25519 (age1…) recipients in one value: "+
				"the X25519 stanza would undo the post-quantum protection (keys %s and %s)", ErrIncompatibleRecipients, recipients[0].id, r.id)
		}
		ageRecipients[i] = r.r
		ids[i] = string(r.id)
	}

	var file bytes.Buffer
	w, err := age.Encrypt(&file, ageRecipients...)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	envelope := marshalEnvelope(b, value)
	_, err = w.Write(envelope)
	clear(envelope)
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return prefix + strings.Join(ids, ",") + ":" + b64.EncodeToString(file.Bytes()), nil
}

func uniqueRecipients(rs []*Recipient) []*Recipient {
	out := make([]*Recipient, 0, len(rs))
	for _, r := range rs {
		if r != nil && !slices.ContainsFunc(out, func(o *Recipient) bool { return o.id == r.id }) {
			out = append(out, r)
		}
	}
	return out
}

// Opened is a value that Open has fully authenticated.
type Opened struct {
	// Value is the plaintext.
	Value []byte
	// Binding is the binding authenticated inside the ciphertext.
	Binding Binding
	// KeyID names the identity that opened the value.
	KeyID KeyID
}

// Open decrypts a sealed value with the identities and checks its binding
// against claim, which describes where the value was found: its namespace,
// object name and item key. If claim.Scope is set, the sealed scope must equal
// it; if empty, the sealed scope decides which of the claim's fields must
// match.
//
// Identities whose key IDs the value records are tried first; the others are
// tried after them, since the recorded IDs are an unauthenticated hint.
// Open returns plaintext only after the whole payload has been authenticated.
//
// Errors wrap ErrTooLarge, ErrMalformed, ErrNoMatchingKey or
// ErrScopeMismatch.
func Open(sealed string, claim Binding, identities ...*Identity) (*Opened, error) {
	p, err := parseSealed(sealed)
	if err != nil {
		return nil, err
	}
	envelope, opener, err := decryptFile(p, identities)
	if err != nil {
		return nil, err
	}
	b, value, err := parseEnvelope(envelope)
	if err == nil {
		err = checkBinding(b, claim)
	} else {
		err = fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
	}
	if err != nil {
		clear(envelope)
		return nil, err
	}
	return &Opened{Value: value, Binding: b, KeyID: opener}, nil
}

// decryptFile decrypts the age file of a parsed value and returns its whole,
// authenticated plaintext and the ID of the identity that opened it.
func decryptFile(p *parsedSealed, identities []*Identity) ([]byte, KeyID, error) {
	ordered := orderIdentities(identities, p.kind, p.ids)
	if len(ordered) == 0 {
		return nil, "", noMatch(p.ids, identities)
	}
	var opener KeyID
	wrapped := make([]age.Identity, len(ordered))
	for i, id := range ordered {
		wrapped[i] = recordingIdentity{id, &opener}
	}
	r, err := age.Decrypt(bytes.NewReader(p.file), wrapped...)
	if err != nil {
		if _, ok := errors.AsType[*age.NoIdentityMatchError](err); ok {
			return nil, "", noMatch(p.ids, identities)
		}
		return nil, "", fmt.Errorf("%w: header rejected (tampered or not an age file)", ErrMalformed)
	}
	plaintext, err := readAll(r, len(p.file), maxEnvelope)
	return plaintext, opener, err
}

// readAll reads the whole decrypted payload, or nothing: on any error the
// partial plaintext is wiped and dropped. The plaintext is never longer than
// the file, so sizeHint saves the buffer from growing.
func readAll(r io.Reader, sizeHint, limit int) ([]byte, error) {
	buf := make([]byte, 0, min(sizeHint, limit)+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > limit:
			clear(buf)
			return nil, fmt.Errorf("%w: payload exceeds %d bytes", ErrTooLarge, limit)
		case err == io.EOF:
			return buf, nil
		case err != nil:
			clear(buf)
			return nil, fmt.Errorf("%w: payload failed authentication (tampered or truncated)", ErrMalformed)
		}
	}
}

// checkBinding decides whether a value sealed with binding sealed may be used
// where claim says it was found.
func checkBinding(sealed, claim Binding) error {
	if claim.Scope != "" && claim.Scope != sealed.Scope {
		return fmt.Errorf("%w: sealed with %s scope, expected %s", ErrScopeMismatch, sealed.Scope, claim.Scope)
	}
	if sealed.Key != claim.Key {
		return fmt.Errorf("%w: sealed for item key %q, not %q", ErrScopeMismatch, sealed.Key, claim.Key)
	}
	if sealed.Scope != Cluster && sealed.Namespace != claim.Namespace {
		return fmt.Errorf("%w: sealed for namespace %q, not %q", ErrScopeMismatch, sealed.Namespace, claim.Namespace)
	}
	if sealed.Scope == Strict && sealed.Name != claim.Name {
		return fmt.Errorf("%w: sealed for name %q, not %q", ErrScopeMismatch, sealed.Name, claim.Name)
	}
	return nil
}

type recordingIdentity struct {
	*Identity
	opener *KeyID
}

func (r recordingIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	fileKey, err := r.id.Unwrap(stanzas)
	if err == nil {
		*r.opener = r.ID()
	}
	return fileKey, err
}

// orderIdentities keeps the identities that can open a value of this kind,
// those named by the hint first.
func orderIdentities(ids []*Identity, kind Kind, hint []KeyID) []*Identity {
	out := make([]*Identity, 0, len(ids))
	for _, id := range ids {
		if id != nil && id.Kind() == kind && slices.Contains(hint, id.ID()) {
			out = append(out, id)
		}
	}
	for _, id := range ids {
		if id != nil && id.Kind() == kind && !slices.Contains(hint, id.ID()) {
			out = append(out, id)
		}
	}
	return out
}

func noMatch(sealedTo []KeyID, have []*Identity) error {
	haveIDs := make([]string, 0, len(have))
	for _, id := range have {
		if id != nil {
			haveIDs = append(haveIDs, string(id.ID()))
		}
	}
	return fmt.Errorf("%w: sealed to %s; available keys: %s", ErrNoMatchingKey, joinIDs(sealedTo), orNone(strings.Join(haveIDs, ", ")))
}

func joinIDs(ids []KeyID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return orNone(strings.Join(s, ", "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Info describes a sealed value as far as it can be read without a key.
type Info struct {
	// KeyIDs are the IDs of the keys the value records it was sealed to.
	// They are a hint: not authenticated.
	KeyIDs []KeyID
	// Kind is the kind of the value's recipients.
	Kind Kind
	// Recipients is the number of recipient stanzas in the age header.
	Recipients int
}

// Inspect parses a sealed value's outer form and age header without any
// private key. It fails with ErrMalformed or ErrTooLarge on everything Open
// would refuse before decrypting.
func Inspect(sealed string) (*Info, error) {
	p, err := parseSealed(sealed)
	if err != nil {
		return nil, err
	}
	return &Info{KeyIDs: p.ids, Kind: p.kind, Recipients: p.stanzas}, nil
}

type parsedSealed struct {
	ids     []KeyID
	file    []byte
	kind    Kind
	stanzas int
}

// parseSealed checks everything that can be checked cheaply, before any
// public-key operation: size, outer syntax, and the age header's stanzas.
func parseSealed(sealed string) (*parsedSealed, error) {
	if len(sealed) > maxSealedLen {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(sealed), maxSealedLen)
	}
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		if Version(sealed) == 2 {
			return nil, fmt.Errorf("%w: a format-2 value (gs2:) is opened and inspected through its object's data keys", ErrMalformed)
		}
		if v, _, found := strings.Cut(sealed, ":"); found && len(v) < 8 && strings.HasPrefix(v, "gs") {
			return nil, fmt.Errorf("%w: unsupported format version %q", ErrMalformed, v)
		}
		return nil, fmt.Errorf("%w: does not start with %q", ErrMalformed, prefix)
	}
	hint, payload, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, fmt.Errorf("%w: missing key IDs", ErrMalformed)
	}
	p := &parsedSealed{}
	for s := range strings.SplitSeq(hint, ",") {
		if !validKeyID(s) {
			return nil, fmt.Errorf("%w: key ID is not 16 lowercase hex digits", ErrMalformed)
		}
		p.ids = append(p.ids, KeyID(s))
	}
	if len(p.ids) > MaxRecipients {
		return nil, fmt.Errorf("%w: more than %d key IDs", ErrMalformed, MaxRecipients)
	}
	file, err := b64.DecodeString(payload)
	if err != nil || strings.ContainsAny(payload, "\r\n") { // the decoder skips line breaks

		return nil, fmt.Errorf("%w: ciphertext is not canonical base64", ErrMalformed)
	}
	p.file = file
	if p.kind, p.stanzas, err = scanHeader(file); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return p, nil
}

// Stanza types gitseal accepts. Everything else, including scrypt, plugins
// and GREASE, is refused before any public-key operation.
var stanzaKinds = map[string]Kind{
	"mlkem768x25519": Hybrid,
	"X25519":         X25519,
}

const ageIntro = "age-encryption.org/v1\n"

// scanHeader reads the stanza types in an age header. It checks only what
// it needs; age parses the header fully and verifies its MAC afterwards.
// Stanza bodies are base64 and so never contain "-> " or "--- ".
func scanHeader(file []byte) (Kind, int, error) {
	rest, ok := bytes.CutPrefix(file, []byte(ageIntro))
	if !ok {
		return "", 0, errors.New("not an age v1 file")
	}
	var kind Kind
	n := 0
	for {
		line, next, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return "", 0, errors.New("truncated age header")
		}
		rest = next
		if bytes.HasPrefix(line, []byte("--- ")) {
			break
		}
		args, isStanza := bytes.CutPrefix(line, []byte("-> "))
		if !isStanza {
			continue // a body line
		}
		typ, _, _ := bytes.Cut(args, []byte(" "))
		k, known := stanzaKinds[string(typ)]
		if !known {
			return "", 0, fmt.Errorf("refused recipient stanza type %q: only X25519 and mlkem768x25519 are accepted", printable(typ))
		}
		if n++; n > MaxRecipients {
			return "", 0, fmt.Errorf("more than %d recipient stanzas", MaxRecipients)
		}
		if kind != "" && k != kind {
			return "", 0, errors.New("mixes hybrid and X25519 recipient stanzas")
		}
		kind = k
	}
	if n == 0 {
		return "", 0, errors.New("no recipient stanzas")
	}
	return kind, n, nil
}

// printable shortens an attacker-chosen token for an error message.
func printable(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, string(b))
}
