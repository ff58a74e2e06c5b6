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

// Package sealedvalue tells, without a private key, which data key of its
// object a format-2 value is encrypted under. The controller, the CLI and
// the scanner's policy use it to treat an object's values by data key.
package sealedvalue

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gitseal/gitseal/crypto"
)

// DataKeyIndex returns the index in spec.dataKeys of the data key a
// format-2 value is encrypted under: "gs2:<base64>" is data key 0, and
// "gs2:<n>:<base64>" data key n, 1 to crypto.MaxDataKeys-1 without leading
// zeros (docs/format.md). It reads only the prefix; crypto checks the rest.
// Errors wrap crypto.ErrMalformed and never quote the value.
func DataKeyIndex(v string) (int, error) {
	rest, ok := strings.CutPrefix(v, "gs2:")
	if !ok {
		return 0, fmt.Errorf("%w: not a format-2 value", crypto.ErrMalformed)
	}
	n, _, hasIndex := strings.Cut(rest, ":")
	if !hasIndex {
		return 0, nil
	}
	i, err := strconv.Atoi(n)
	if err != nil || strconv.Itoa(i) != n || i < 1 || i >= crypto.MaxDataKeys {
		return 0, fmt.Errorf("%w: format-2 value has an invalid data key index", crypto.ErrMalformed)
	}
	return i, nil
}

// DataKey returns the index of the data key a format-2 value is encrypted
// under, checked against the object's number of data keys: a value that
// refers to a data key the object does not have is an error wrapping
// crypto.ErrMalformed that says so.
func DataKey(v string, dataKeys []string) (int, error) {
	i, err := DataKeyIndex(v)
	if err != nil {
		return 0, err
	}
	if i >= len(dataKeys) {
		return i, fmt.Errorf("%w: value uses spec.dataKeys[%d], but the object has %d data key(s)", crypto.ErrMalformed, i, len(dataKeys))
	}
	return i, nil
}
