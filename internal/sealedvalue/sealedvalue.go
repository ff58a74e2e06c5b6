// Package sealedvalue reads sealed values of either format without a
// private key: which data key a format-2 value uses, and which keys a value
// is sealed to. The CLI, the scanner's policy and the controller share it,
// so they agree on what a value refers to.
package sealedvalue

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/gitseal/gitseal/crypto"
)

// maxValueLen bounds a format-2 value's text: the largest item plus the
// AEAD tag, in base64, and the prefix.
const maxValueLen = 16 + (crypto.MaxValueSize+16+2)/3*4

// CheckValue checks the outer form of a format-2 value, "gs2:<n>:<base64>",
// without a key, and returns n: the index in spec.dataKeys of the data key
// the value is encrypted under. n is decimal without leading zeros (empty
// is the short form of 0); the ciphertext is canonical standard base64,
// padded or not. Errors wrap crypto.ErrMalformed or crypto.ErrTooLarge and
// never quote the value.
func CheckValue(v string) (int, error) {
	if len(v) > maxValueLen {
		return 0, fmt.Errorf("%w: %d bytes, the limit is %d", crypto.ErrTooLarge, len(v), maxValueLen)
	}
	rest, ok := strings.CutPrefix(v, "gs2:")
	if !ok {
		return 0, fmt.Errorf("%w: not a format-2 value", crypto.ErrMalformed)
	}
	n, payload, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, fmt.Errorf("%w: format-2 value has no data key index", crypto.ErrMalformed)
	}
	i := 0
	if n != "" {
		var err error
		if i, err = strconv.Atoi(n); err != nil || i < 0 || len(n) > 2 || strconv.Itoa(i) != n {
			return 0, fmt.Errorf("%w: format-2 value has an invalid data key index", crypto.ErrMalformed)
		}
	}
	if payload == "" || !canonicalBase64(payload) {
		return 0, fmt.Errorf("%w: ciphertext is not canonical base64", crypto.ErrMalformed)
	}
	return i, nil
}

func canonicalBase64(s string) bool {
	if strings.ContainsAny(s, "\r\n") { // the decoders skip line breaks
		return false
	}
	enc := base64.StdEncoding.Strict()
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = base64.RawStdEncoding.Strict()
	}
	_, err := enc.DecodeString(s)
	return err == nil
}

// DataKey returns the data key a format-2 value is encrypted under, and its
// index. A missing index, or one past the end of dataKeys, is an error
// wrapping crypto.ErrMalformed that says so.
func DataKey(v string, dataKeys []string) (string, int, error) {
	i, err := CheckValue(v)
	if err != nil {
		return "", 0, err
	}
	if i >= len(dataKeys) {
		return "", i, fmt.Errorf("%w: value uses spec.dataKeys[%d], but the object has %d data key(s)", crypto.ErrMalformed, i, len(dataKeys))
	}
	return dataKeys[i], i, nil
}

// Inspect describes a sealed value of an object whose spec.dataKeys are
// dataKeys, as far as it can be read without a key: for a format-2 value,
// the keys its data key is wrapped for. Errors wrap crypto.ErrMalformed or
// crypto.ErrTooLarge.
func Inspect(v string, dataKeys []string) (*crypto.Info, error) {
	if crypto.Version(v) != 2 {
		return crypto.Inspect(v)
	}
	dk, i, err := DataKey(v, dataKeys)
	if err != nil {
		return nil, err
	}
	info, err := crypto.InspectDataKey(dk)
	if err != nil {
		return nil, fmt.Errorf("spec.dataKeys[%d]: %w", i, err)
	}
	return info, nil
}
