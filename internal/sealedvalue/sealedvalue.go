// Package sealedvalue reads sealed values of either format without a
// private key: which data key a format-2 value uses, and which keys a value
// is sealed to. The CLI, the scanner's policy and the controller share it,
// so they agree on what a value refers to.
package sealedvalue

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gitseal/gitseal/crypto"
)

// DataKeyIndex returns the index in spec.dataKeys of the data key a
// format-2 value ("gs2:<n>:…") is encrypted under. It checks only the
// prefix and the index: decimal, no leading zeros, at most two digits.
// Errors wrap crypto.ErrMalformed and never quote the value.
func DataKeyIndex(v string) (int, error) {
	rest, ok := strings.CutPrefix(v, "gs2:")
	if !ok {
		return 0, fmt.Errorf("%w: not a format-2 value", crypto.ErrMalformed)
	}
	n, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, fmt.Errorf("%w: format-2 value has no data key index", crypto.ErrMalformed)
	}
	if n == "" {
		return 0, nil // the short form of index 0
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 0 || len(n) > 2 || strconv.Itoa(i) != n {
		return 0, fmt.Errorf("%w: format-2 value has an invalid data key index", crypto.ErrMalformed)
	}
	return i, nil
}

// DataKey returns the data key a format-2 value is encrypted under, and its
// index. A missing index, or one past the end of dataKeys, is an error
// wrapping crypto.ErrMalformed that says so.
func DataKey(v string, dataKeys []string) (string, int, error) {
	i, err := DataKeyIndex(v)
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
