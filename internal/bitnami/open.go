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

// Package bitnami reads what Bitnami sealed-secrets leaves behind, its
// SealedSecrets and its controller's RSA key backups, so that
// `gitseal migrate bitnami` can re-seal the values with gitseal offline.
package bitnami

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gitseal/gitseal/crypto"
)

// Errors that callers branch on. Returned errors wrap one of them and add
// context that never contains a value or key material.
var (
	// ErrMalformed: the text is not a Bitnami sealed value: empty, not
	// base64, truncated, or its payload does not authenticate.
	ErrMalformed = errors.New("malformed Bitnami sealed value")
	// ErrNoMatchingKey: no key opens the value under the label of the scope
	// it is presented with. Bitnami's format cannot tell a value sealed to
	// another key from one sealed for another namespace, name or scope.
	ErrNoMatchingKey = errors.New("no matching key")
	// ErrTooLarge: the value exceeds the size caps.
	ErrTooLarge = errors.New("bitnami sealed value too large")
)

const (
	// sessionKeySize is the AES-256 key Bitnami seals with RSA-OAEP.
	sessionKeySize = 32
	// gcmTagSize is the AES-GCM authentication tag.
	gcmTagSize = 16
	// maxRSASize is the largest RSA ciphertext accepted: a 16384-bit key.
	maxRSASize = 16384 / 8
	// maxCiphertext bounds a decoded value: its length prefix, the RSA
	// ciphertext, a value of at most crypto.MaxValueSize and the tag.
	maxCiphertext = 2 + maxRSASize + crypto.MaxValueSize + gcmTagSize
	// maxText bounds the base64 text, with room for line breaks, which
	// Bitnami's decoder skips.
	maxText = maxCiphertext/3*4*2 + 4
)

// Open decrypts one spec.encryptedData value of a Bitnami SealedSecret:
// standard base64 of a 2-byte big-endian length, an RSA-OAEP (SHA-256)
// ciphertext of a 32-byte session key under label, and the value sealed
// with AES-256-GCM under that key with a zero nonce. Each key is tried in
// turn, as Bitnami's controller does. The value is returned only once the
// whole payload has authenticated; the caller owns and should clear it.
//
// Errors wrap ErrMalformed, ErrNoMatchingKey or ErrTooLarge.
func Open(text string, label []byte, keys []*Key) ([]byte, error) {
	switch {
	case text == "":
		return nil, fmt.Errorf("%w: the value is empty", ErrMalformed)
	case len(text) > maxText:
		return nil, fmt.Errorf("%w: %d bytes of text", ErrTooLarge, len(text))
	}
	data, err := base64.StdEncoding.DecodeString(text)
	if ce, ok := errors.AsType[base64.CorruptInputError](err); ok {
		return nil, fmt.Errorf("%w: not base64 (at byte %d)", ErrMalformed, int64(ce))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrMalformed)
	}
	if len(data) > maxCiphertext {
		return nil, fmt.Errorf("%w: %d bytes of ciphertext, the limit is %d", ErrTooLarge, len(data), maxCiphertext)
	}
	if len(data) < 2 {
		return nil, fmt.Errorf("%w: truncated: %d bytes, shorter than the length header", ErrMalformed, len(data))
	}
	rsaLen := int(binary.BigEndian.Uint16(data))
	switch {
	case rsaLen == 0 || rsaLen > maxRSASize:
		return nil, fmt.Errorf("%w: an RSA ciphertext of %d bytes", ErrMalformed, rsaLen)
	case len(data) < 2+rsaLen+gcmTagSize:
		return nil, fmt.Errorf("%w: truncated: %d bytes, too short for a %d-byte RSA ciphertext and the AES-GCM tag", ErrMalformed, len(data), rsaLen)
	}
	wrapped, payload := data[2:2+rsaLen], data[2+rsaLen:]

	unwrapped := false
	for _, k := range keys {
		if k.priv.Size() != rsaLen {
			continue // OAEP ciphertexts are exactly the modulus size
		}
		sessionKey, err := rsa.DecryptOAEP(sha256.New(), nil, k.priv, wrapped, label)
		if err != nil {
			continue
		}
		unwrapped = true
		value, err := openPayload(sessionKey, payload)
		clear(sessionKey)
		if err == nil {
			return value, nil
		}
	}
	if unwrapped {
		return nil, fmt.Errorf("%w: the AES-GCM payload does not authenticate (tampered with or truncated)", ErrMalformed)
	}
	return nil, fmt.Errorf("%w: none of the %d key(s) opens it", ErrNoMatchingKey, len(keys))
}

// openPayload authenticates and decrypts the AES-GCM part of a value.
func openPayload(sessionKey, payload []byte) ([]byte, error) {
	if len(sessionKey) != sessionKeySize {
		return nil, errors.New("the session key is not 32 bytes")
	}
	block, err := aes.NewCipher(sessionKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// Each session key seals one value, so Bitnami uses a zero nonce.
	return aead.Open(nil, make([]byte, aead.NonceSize()), payload, nil)
}
