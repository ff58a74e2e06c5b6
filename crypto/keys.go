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
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
)

// Kind is the kind of an age key. All recipients of one sealed value are of
// the same kind.
type Kind string

const (
	// Hybrid is ML-KEM-768 + X25519 (age1pq1…), safe against a future quantum
	// computer. It is the default for keys the controller generates.
	Hybrid Kind = "hybrid"
	// X25519 is classic age (age1…): compact, but not post-quantum.
	X25519 Kind = "x25519"
)

// ParseKind parses "hybrid" or "x25519".
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case Hybrid, X25519:
		return Kind(s), nil
	}
	return "", fmt.Errorf("unknown key type %q: want %q or %q", s, Hybrid, X25519)
}

// KeyID is a short, stable name of a public key: the first 8 bytes of
// SHA-256("gitseal.dev/key-id" || 0x00 || recipient), in lowercase hex.
type KeyID string

const keyIDDomain = "gitseal.dev/key-id\x00"

func keyIDOf(recipient string) KeyID {
	h := sha256.Sum256([]byte(keyIDDomain + recipient))
	return KeyID(hex.EncodeToString(h[:8]))
}

// keyIDLen is the length of a KeyID in characters.
const keyIDLen = 16

// ParseKeyID returns s as a KeyID if it is one: 16 lowercase hex digits.
// The error does not quote s, which may be anything.
func ParseKeyID(s string) (KeyID, error) {
	if !validKeyID(s) {
		return "", fmt.Errorf("not a key ID: want %d lowercase hex digits", keyIDLen)
	}
	return KeyID(s), nil
}

func validKeyID(s string) bool {
	if len(s) != keyIDLen {
		return false
	}
	for _, c := range []byte(s) {
		isHex := '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
		if !isHex {
			return false
		}
	}
	return true
}

// ErrMalformedKey is returned when a public or private key cannot be parsed.
// The error never contains any of the key's text.
var ErrMalformedKey = errors.New("malformed key")

// Recipient is a public key that values can be sealed to.
type Recipient struct {
	r    age.Recipient
	kind Kind
	id   KeyID
	text string
}

// ParseRecipient parses an age public key: age1pq1… (hybrid) or age1…
// (X25519). Errors wrap ErrMalformedKey and never echo the input.
func ParseRecipient(s string) (*Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1pq1"):
		r, err := age.ParseHybridRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid age1pq1 (hybrid) public key", ErrMalformedKey)
		}
		return &Recipient{r: r, kind: Hybrid, id: keyIDOf(s), text: s}, nil
	case strings.HasPrefix(s, "age1"):
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid age1 (X25519) public key", ErrMalformedKey)
		}
		return &Recipient{r: r, kind: X25519, id: keyIDOf(s), text: s}, nil
	}
	return nil, fmt.Errorf("%w: a public key starts with age1pq1 (hybrid) or age1 (X25519)", ErrMalformedKey)
}

// ParseRecipients reads public keys one per line. Blank lines and lines
// starting with # are ignored. Errors name the line, never its text.
func ParseRecipients(r io.Reader) ([]*Recipient, error) {
	var out []*Recipient
	err := eachKeyLine(r, func(n int, line string) error {
		rc, err := ParseRecipient(line)
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, rc)
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%w: no public keys found", ErrMalformedKey)
	}
	return out, err
}

// ID returns the key's ID.
func (r *Recipient) ID() KeyID { return r.id }

// Kind returns the key's kind.
func (r *Recipient) Kind() Kind { return r.kind }

// String returns the public key in age's Bech32 form.
func (r *Recipient) String() string { return r.text }

// Identity is a private key. Its String and GoString methods are redacted so
// that an identity passed to a logger or formatter by mistake prints only
// its ID; SecretKey returns the key itself.
type Identity struct {
	id        age.Identity
	recipient *Recipient
	secret    string
}

// GenerateIdentity makes a new private key of the given kind, from
// crypto/rand.
func GenerateIdentity(kind Kind) (*Identity, error) {
	switch kind {
	case Hybrid:
		id, err := age.GenerateHybridIdentity()
		if err != nil {
			return nil, fmt.Errorf("generate hybrid key: %w", err)
		}
		return newIdentity(id, id.String(), id.Recipient().String())
	case X25519:
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, fmt.Errorf("generate x25519 key: %w", err)
		}
		return newIdentity(id, id.String(), id.Recipient().String())
	}
	return nil, fmt.Errorf("unknown key type %q", kind)
}

func newIdentity(id age.Identity, secret, recipient string) (*Identity, error) {
	r, err := ParseRecipient(recipient)
	if err != nil {
		return nil, err
	}
	return &Identity{id: id, recipient: r, secret: secret}, nil
}

// ParseIdentity parses an age private key: AGE-SECRET-KEY-PQ-1… (hybrid) or
// AGE-SECRET-KEY-1… (X25519). Errors wrap ErrMalformedKey and never contain
// any of the input.
func ParseIdentity(s string) (*Identity, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "AGE-SECRET-KEY-PQ-1"):
		id, err := age.ParseHybridIdentity(s)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid AGE-SECRET-KEY-PQ-1 (hybrid) private key", ErrMalformedKey)
		}
		return newIdentity(id, s, id.Recipient().String())
	case strings.HasPrefix(s, "AGE-SECRET-KEY-1"):
		id, err := age.ParseX25519Identity(s)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid AGE-SECRET-KEY-1 (X25519) private key", ErrMalformedKey)
		}
		return newIdentity(id, s, id.Recipient().String())
	}
	return nil, fmt.Errorf("%w: a private key starts with AGE-SECRET-KEY-PQ-1 (hybrid) or AGE-SECRET-KEY-1 (X25519)", ErrMalformedKey)
}

// ParseIdentities reads private keys one per line, in the format age-keygen
// writes. Blank lines and lines starting with # are ignored. Errors name the
// line, never its text.
func ParseIdentities(r io.Reader) ([]*Identity, error) {
	var out []*Identity
	err := eachKeyLine(r, func(n int, line string) error {
		id, err := ParseIdentity(line)
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, id)
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%w: no private keys found", ErrMalformedKey)
	}
	return out, err
}

// maxKeyFile caps what ParseIdentities and ParseRecipients read: a hybrid
// private key line is about 2.5 KB, so this fits hundreds of keys.
const maxKeyFile = 1 << 20

func eachKeyLine(r io.Reader, f func(n int, line string) error) error {
	sc := bufio.NewScanner(io.LimitReader(r, maxKeyFile))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := f(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read keys: %w", err) // bufio errors carry no input
	}
	return nil
}

// ID returns the ID of the identity's public key.
func (i *Identity) ID() KeyID { return i.recipient.id }

// Kind returns the identity's kind.
func (i *Identity) Kind() Kind { return i.recipient.kind }

// Recipient returns the public key of the identity.
func (i *Identity) Recipient() *Recipient { return i.recipient }

// SecretKey returns the private key in age's Bech32 form. Handle with care:
// this is the only method that reveals it.
func (i *Identity) SecretKey() string { return i.secret }

// String returns a redacted description that names only the key ID.
func (i Identity) String() string { return "age identity " + string(i.recipient.id) }

// GoString is redacted like String.
func (i Identity) GoString() string { return i.String() }

// Format redacts the identity under every verb, for values and pointers
// alike, so that no formatting mistake prints the private key.
func (i Identity) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, i.String()) }
