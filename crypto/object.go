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
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Object is the sealed part of one SealedSecret in format 2: its wrapped
// data keys and its values. Values may also hold format-1 ("gs1:") values,
// which carry their own keys; OpenObject opens both.
type Object struct {
	// DataKeys are the wrapped data keys (spec.dataKeys), in order.
	DataKeys []string
	// Values maps each item key to its sealed value (spec.encryptedData).
	Values map[string]string
}

// A value of format 2 is
//
//	gs2:[<index>:]<raw base64 of AES-256-GCM(key, nonce 0^12, plaintext)>
//
// where index names its data key in Object.DataKeys, 1 to 15 without
// leading zeros, and is left out (with its colon) for data key 0; key is
// HKDF-SHA256(file key, "", valueInfo || binding || len || item key).
const (
	prefix2   = "gs2:"
	valueInfo = "gitseal.dev/2 value"
	gcmTag    = 16

	// maxValue2Len bounds the text form of a format-2 value.
	maxValue2Len = len(prefix2) + 3 + ((MaxValueSize+gcmTag)*4+2)/3

	// maxTrialOpens bounds the extra decryptions OpenObject spends per
	// object finding the item a moved value was sealed for.
	maxTrialOpens = 256
)

// Version reports the format of one encryptedData value: 1 for "gs1:", 2
// for "gs2:", 0 for anything else. It does not check the rest.
func Version(sealed string) int {
	switch {
	case strings.HasPrefix(sealed, prefix):
		return 1
	case strings.HasPrefix(sealed, prefix2):
		return 2
	}
	return 0
}

// SealObject seals every item (item key → plaintext) of one object under a
// fresh data key, wrapped for each recipient. b.Key is ignored: each item is
// bound to its own key in items, and to the fields of b its scope binds. All
// recipients must be of one kind; duplicates are wrapped for once.
//
// Errors: ErrTooLarge, ErrIncompatibleRecipients, or an invalid binding,
// item key or recipient list. Errors never contain plaintext.
func SealObject(items map[string][]byte, b Binding, recipients ...*Recipient) (*Object, error) {
	o := &Object{Values: map[string]string{}}
	if err := o.Add(items, b, recipients...); err != nil {
		return nil, err
	}
	return o, nil
}

// Add seals items under a NEW data key appended to o.DataKeys, with no
// private key: this is how `gitseal seal --merge-into` adds items offline.
// Items replace existing values of the same key. Data keys that no value
// refers to any more are then dropped and the indexes of the values
// renumbered (their ciphertext stays byte for byte). Format-1 values are
// kept as they are.
//
// The object's existing data keys must be of the recipients' kind and carry
// b's binding. On any error o is unchanged. Errors as SealObject's, and
// ErrMalformed or ErrTooLarge if o cannot be parsed; an object that would
// need more than MaxDataKeys data keys is ErrTooLarge.
func (o *Object) Add(items map[string][]byte, b Binding, recipients ...*Recipient) error {
	if len(items) == 0 {
		return nil
	}
	b.Key = ""
	b = b.narrowed()
	recipients, err := checkRecipients(recipients)
	if err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(items))
	for _, k := range keys {
		withKey := b
		withKey.Key = k
		if err := withKey.validate(); err != nil {
			return fmt.Errorf("invalid binding: %w", err)
		}
		if len(items[k]) > MaxValueSize {
			return fmt.Errorf("%w: item %q is %d bytes, the limit is %d", ErrTooLarge, k, len(items[k]), MaxValueSize)
		}
	}
	parsed, err := parseDataKeys(o.DataKeys)
	if err != nil {
		return err
	}
	for _, k := range parsed {
		if k.spec.kind != recipients[0].kind {
			return fmt.Errorf("%w: the object's data keys are %s, the recipients %s: seal it again to change its kind",
				ErrIncompatibleRecipients, k.spec.kind, recipients[0].kind)
		}
		if k.binding != b {
			return fmt.Errorf("the object is sealed with %s, not %s", describeBinding(k.binding), describeBinding(b))
		}
	}
	// Renumber first, so that nothing is sealed for an object Add refuses.
	values := map[string]string{}
	used := make([]bool, len(o.DataKeys))
	refs := map[string]int{}
	for item, v := range o.Values {
		if _, replaced := items[item]; replaced {
			continue
		}
		values[item] = v
		if Version(v) != 2 {
			continue
		}
		n, _, err := splitValue(v, len(o.DataKeys))
		if err != nil {
			return fmt.Errorf("item %q: %w", item, err)
		}
		used[n], refs[item] = true, n
	}
	var dataKeys []string
	newIndex := make([]int, len(o.DataKeys))
	for i, u := range used {
		if u {
			newIndex[i] = len(dataKeys)
			dataKeys = append(dataKeys, o.DataKeys[i])
		}
	}
	if len(dataKeys) >= MaxDataKeys {
		return fmt.Errorf("%w: the object has %d data keys in use, the limit is %d", ErrTooLarge, len(dataKeys), MaxDataKeys)
	}
	for item, n := range refs {
		values[item] = formatValue(newIndex[n], ciphertextText(values[item]))
	}

	fileKey := make([]byte, fileKeySize)
	if _, err := rand.Read(fileKey); err != nil {
		return fmt.Errorf("generate data key: %w", err)
	}
	defer clear(fileKey)
	line, err := wrapDataKey(fileKey, b, recipients)
	if err != nil {
		return err
	}
	for _, k := range keys {
		values[k] = formatValue(len(dataKeys), b64raw.EncodeToString(sealValue(fileKey, b, k, items[k])))
	}
	o.DataKeys = append(dataKeys, line)
	o.Values = values
	return nil
}

func describeBinding(b Binding) string {
	switch b.Scope {
	case Strict:
		return fmt.Sprintf("strict scope for %s/%s", b.Namespace, b.Name)
	case Namespace:
		return fmt.Sprintf("namespace scope for %s", b.Namespace)
	}
	return fmt.Sprintf("%s scope", b.Scope)
}

// parseDataKeys parses an object's data keys and checks that they agree:
// one kind and one binding. MaxDataKeys caps their number.
func parseDataKeys(lines []string) ([]*dataKey, error) {
	if len(lines) > MaxDataKeys {
		return nil, fmt.Errorf("%w: %d data keys, the limit is %d", ErrTooLarge, len(lines), MaxDataKeys)
	}
	out := make([]*dataKey, len(lines))
	for i, line := range lines {
		k, err := parseDataKey(line)
		if err != nil {
			return nil, fmt.Errorf("data key %d: %w", i, err)
		}
		if i > 0 && k.spec.kind != out[0].spec.kind {
			return nil, fmt.Errorf("%w: data key %d: mixes hybrid and X25519 data keys in one object", ErrMalformed, i)
		}
		if i > 0 && k.binding != out[0].binding {
			return nil, fmt.Errorf("%w: data key %d: its binding differs from data key 0's", ErrMalformed, i)
		}
		out[i] = k
	}
	return out, nil
}

// splitValue parses a format-2 value: the index of its data key, below n,
// and its ciphertext. No key is needed.
func splitValue(v string, n int) (int, []byte, error) {
	if len(v) > maxValue2Len {
		return 0, nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(v), maxValue2Len)
	}
	rest, ok := strings.CutPrefix(v, prefix2)
	if !ok {
		return 0, nil, fmt.Errorf("%w: does not start with %q", ErrMalformed, prefix2)
	}
	i := 0
	idx, payload, hasIndex := strings.Cut(rest, ":")
	if !hasIndex {
		payload = rest // data key 0
	} else if parsed, err := strconv.Atoi(idx); err != nil || idx != strconv.Itoa(parsed) || parsed < 1 {
		return 0, nil, fmt.Errorf("%w: data key index is not a decimal number from 1, without leading zeros", ErrMalformed)
	} else {
		i = parsed
	}
	if i >= n {
		return 0, nil, fmt.Errorf("%w: data key %d does not exist (the object has %d)", ErrMalformed, i, n)
	}
	ct, err := b64raw.DecodeString(payload)
	if err != nil || strings.ContainsAny(payload, "\r\n") {
		return 0, nil, fmt.Errorf("%w: ciphertext is not canonical unpadded base64", ErrMalformed)
	}
	if len(ct) < gcmTag {
		return 0, nil, fmt.Errorf("%w: ciphertext shorter than its tag", ErrMalformed)
	}
	return i, ct, nil
}

// valueAEAD returns the AES-256-GCM instance for one item of one object: its
// key is derived from the file key and the full binding, so that each key
// encrypts exactly one plaintext and the all-zero nonce is never reused.
func valueAEAD(fileKey []byte, b Binding, item string) cipher.AEAD {
	key, err := hkdf.Key(sha256.New, fileKey, nil, string(valueKeyInfo(b, item)), 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// valueKeyInfo is the HKDF info of one item's key: a label, the object's
// binding as in its data keys, and the item key with a length byte (an item
// key is at most 253 bytes).
func valueKeyInfo(b Binding, item string) []byte {
	info := make([]byte, 0, len(valueInfo)+2+len(b.Namespace)+len(b.Name)+3+len(item))
	info = append(info, valueInfo...)
	info = appendBinding(info, b)
	info = append(info, byte(len(item))) //nolint:gosec // a validated item key is at most 253 bytes
	return append(info, item...)
}

var zeroNonce = make([]byte, 12)

func sealValue(fileKey []byte, b Binding, item string, plaintext []byte) []byte {
	// Each derived key encrypts exactly one plaintext (docs/format.md §12).
	return valueAEAD(fileKey, b, item).Seal(nil, zeroNonce, plaintext, nil) //nolint:gosec // a fixed nonce is safe for a single-use key
}

// formatValue writes a value's text form: the index is left out for data
// key 0.
func formatValue(index int, ciphertext string) string {
	if index == 0 {
		return prefix2 + ciphertext
	}
	return prefix2 + strconv.Itoa(index) + ":" + ciphertext
}

// ciphertextText returns the base64 part of a parsed format-2 value.
func ciphertextText(v string) string {
	return v[strings.LastIndexByte(v, ':')+1:]
}

// openValue returns the plaintext, or nil and false: never part of it.
func openValue(fileKey []byte, b Binding, item string, ct []byte) ([]byte, bool) {
	pt, err := valueAEAD(fileKey, b, item).Open(nil, zeroNonce, ct, nil)
	if err != nil {
		return nil, false
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, true
}

// OpenedObject is what OpenObject could open of an object.
type OpenedObject struct {
	// Values holds the plaintext of each item that opened and whose
	// binding matched the claim. Nothing partial is ever in it.
	Values map[string][]byte
	// Errors holds an error for each item that did not open; each wraps
	// ErrMalformed, ErrNoMatchingKey, ErrScopeMismatch or ErrTooLarge.
	// Every item of the object is in exactly one of Values and Errors.
	Errors map[string]error
	// Binding is the object's binding as sealed (Key empty), read from a
	// data key that was unwrapped and authenticated; all data keys of an
	// object carry the same binding. It is the zero Binding if no data key
	// opened.
	Binding Binding
	// KeyIDs name the identities that unwrapped data keys, without
	// repetition, in data key order.
	KeyIDs []KeyID
}

// OpenObject opens every value of o. claim says where the object was found:
// its Namespace and Name, and optionally the Scope the caller requires (see
// Open); claim.Key is ignored, each item is checked under its own key.
// Format-1 values are opened with Open.
//
// Everything that can be checked without a key is checked first (sizes,
// syntax, kinds, at most MaxDataKeys data keys of MaxRecipients recipients
// each); a malformed data key fails every item. Identities whose key IDs a
// data key lists are tried first, then the others. A data key is used only
// after its MAC is verified, and a value only after it is authenticated under
// its data key and its full binding (including the item key), and the
// binding then matches claim. A value authenticated under another item key of
// the object is reported as ErrScopeMismatch naming that item.
func OpenObject(o *Object, claim Binding, identities ...*Identity) *OpenedObject {
	out, ring := openObject(o, claim, identities)
	ring.clear()
	return out
}

// keyring holds the data keys of one object, unwrapped on first use. Its
// file keys must be wiped with clear.
type keyring struct {
	parsed     []*dataKey
	identities []*Identity
	fileKeys   [][]byte
	errs       []error
	openers    []KeyID
}

func (r *keyring) get(i int) ([]byte, error) {
	if r.fileKeys[i] == nil && r.errs[i] == nil {
		r.fileKeys[i], r.openers[i], r.errs[i] = r.parsed[i].unwrap(r.identities)
	}
	return r.fileKeys[i], r.errs[i]
}

func (r *keyring) clear() {
	for _, k := range r.fileKeys {
		clear(k)
	}
}

func openObject(o *Object, claim Binding, identities []*Identity) (*OpenedObject, *keyring) {
	out := &OpenedObject{Values: map[string][]byte{}, Errors: map[string]error{}}
	items := slices.Sorted(maps.Keys(o.Values))
	parsed, err := parseDataKeys(o.DataKeys)
	if err != nil {
		for _, item := range items {
			out.Errors[item] = err
		}
		return out, &keyring{}
	}
	ring := &keyring{
		parsed:     parsed,
		identities: identities,
		fileKeys:   make([][]byte, len(parsed)),
		errs:       make([]error, len(parsed)),
		openers:    make([]KeyID, len(parsed)),
	}
	trials := maxTrialOpens
	for _, item := range items {
		v := o.Values[item]
		if Version(v) == 1 {
			c := claim
			c.Key = item
			if got, err := Open(v, c, identities...); err != nil {
				out.Errors[item] = err
			} else {
				out.Values[item] = got.Value
			}
			continue
		}
		n, ct, err := splitValue(v, len(parsed))
		if err == nil && validDataKey(item) != nil {
			err = fmt.Errorf("%w: invalid item key", ErrMalformed) // never sealed, so never authentic
		}
		if err != nil {
			out.Errors[item] = err
			continue
		}
		fileKey, err := ring.get(n)
		if err != nil {
			out.Errors[item] = err
			continue
		}
		sealed := parsed[n].binding
		if pt, ok := openValue(fileKey, sealed, item, ct); ok {
			sealed.Key = item
			c := claim
			c.Key = item
			if err := checkBinding(sealed, c); err != nil {
				clear(pt)
				out.Errors[item] = err
			} else {
				out.Values[item] = pt
			}
			continue
		}
		out.Errors[item] = fmt.Errorf("%w: value failed authentication (tampered, truncated, or sealed for another object)", ErrMalformed)
		// A value moved from another item of this object authenticates
		// under that item's key: say so, as Open does for format 1.
		for _, other := range items {
			if other == item || trials == 0 || validDataKey(other) != nil {
				continue
			}
			trials--
			if pt, ok := openValue(fileKey, sealed, other, ct); ok {
				clear(pt)
				out.Errors[item] = fmt.Errorf("%w: sealed for item key %q, not %q", ErrScopeMismatch, other, item)
				break
			}
		}
	}
	for i, fk := range ring.fileKeys {
		if fk == nil {
			continue
		}
		if len(out.KeyIDs) == 0 {
			out.Binding = parsed[i].binding
		}
		if !slices.Contains(out.KeyIDs, ring.openers[i]) {
			out.KeyIDs = append(out.KeyIDs, ring.openers[i])
		}
	}
	return out, ring
}

// Rewrap re-wraps every data key of o for recipients, after unwrapping it
// with identities and checking that every value of o opens under claim (as
// OpenObject does). The data keys stay the same, so the values are left
// byte for byte the same; only o.DataKeys changes, and the bindings in it
// are kept as sealed. All recipients must be of one kind.
//
// On any error o is unchanged. Errors wrap those of OpenObject (naming the
// item), ErrIncompatibleRecipients, or say that a format-1 value cannot be
// re-wrapped: such objects must be sealed again.
func Rewrap(o *Object, claim Binding, identities []*Identity, recipients ...*Recipient) error {
	recipients, err := checkRecipients(recipients)
	if err != nil {
		return err
	}
	items := slices.Sorted(maps.Keys(o.Values))
	for _, item := range items {
		if Version(o.Values[item]) != 2 {
			return fmt.Errorf("item %q is not a format-2 value, so it cannot be re-wrapped: seal the object again", item)
		}
	}
	opened, ring := openObject(o, claim, identities)
	defer ring.clear()
	for _, v := range opened.Values {
		clear(v)
	}
	for _, item := range items {
		if err := opened.Errors[item]; err != nil {
			return fmt.Errorf("item %q: %w", item, err)
		}
	}
	lines := make([]string, len(ring.parsed))
	for i, k := range ring.parsed {
		// A data key no value refers to is re-wrapped too, so that no
		// index changes; its binding must match the claim like the others'.
		fileKey, err := ring.get(i)
		if err == nil {
			err = checkBinding(k.binding, Binding{Scope: claim.Scope, Namespace: claim.Namespace, Name: claim.Name})
		}
		if err == nil {
			lines[i], err = wrapDataKey(fileKey, k.binding, recipients)
		}
		if err != nil {
			return fmt.Errorf("data key %d: %w", i, err)
		}
	}
	o.DataKeys = lines
	return nil
}

// InspectValue reads what can be read of one encryptedData value without a
// private key, in either format: for "gs1:" what Inspect reads, for "gs2:"
// what InspectDataKey reads of the data key it refers to in dataKeys.
// Errors wrap ErrMalformed or ErrTooLarge.
func InspectValue(sealed string, dataKeys []string) (*Info, error) {
	if Version(sealed) != 2 {
		return Inspect(sealed)
	}
	n, _, err := splitValue(sealed, len(dataKeys))
	if err != nil {
		return nil, err
	}
	return InspectDataKey(dataKeys[n])
}
