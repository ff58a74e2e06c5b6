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

package crypto_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/crypto"
)

// The X25519 identity of the C2SP age test vectors; see docs/format.md.
const (
	vectorIdentity  = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0" // gitseal:allow public C2SP age test vector
	vectorRecipient = "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef"
	vectorKeyID     = "bdd7357af20706de"
)

func TestKeyIDIsStableAndDocumented(t *testing.T) {
	id, err := crypto.ParseIdentity(vectorIdentity)
	if err != nil {
		t.Fatal(err)
	}
	r, err := crypto.ParseRecipient(vectorRecipient)
	if err != nil {
		t.Fatal(err)
	}
	if id.ID() != vectorKeyID || r.ID() != vectorKeyID {
		t.Errorf("key IDs %s and %s, want %s", id.ID(), r.ID(), vectorKeyID)
	}
	if id.Recipient().String() != vectorRecipient || r.Kind() != crypto.X25519 {
		t.Errorf("recipient %s (%s)", id.Recipient(), r.Kind())
	}
}

func TestParseKeyID(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"a key ID parses", vectorKeyID, true},
		{"upper case is not a key ID", strings.ToUpper(vectorKeyID), false},
		{"a short prefix is not a key ID", vectorKeyID[:8], false},
		{"a public key is not a key ID", vectorRecipient, false},
		{"empty is not a key ID", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := crypto.ParseKeyID(tt.in)
			if (err == nil) != tt.ok || (tt.ok && string(id) != tt.in) {
				t.Fatalf("ParseKeyID(%q) = %q, %v", tt.in, id, err)
			}
			if err != nil && tt.in != "" && strings.Contains(err.Error(), tt.in) {
				t.Errorf("the error quotes the input: %v", err)
			}
		})
	}
}

func TestGeneratedKeysRoundTripThroughText(t *testing.T) {
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		parsed, err := crypto.ParseIdentity(id.SecretKey())
		if err != nil {
			t.Fatal(err)
		}
		r, err := crypto.ParseRecipient(id.Recipient().String())
		if err != nil {
			t.Fatal(err)
		}
		if parsed.ID() != id.ID() || r.ID() != id.ID() || parsed.Kind() != kind || r.Kind() != kind {
			t.Errorf("%s: IDs %s %s %s", kind, id.ID(), parsed.ID(), r.ID())
		}
	}
	if id := keys(t, crypto.Hybrid, 1)[0]; !strings.HasPrefix(id.Recipient().String(), "age1pq1") {
		t.Errorf("hybrid recipient %.12s…", id.Recipient())
	}
}

// leaks reports whether err's text contains any 8-character run of key's
// Bech32 data (the part after the human-readable prefix).
func leaks(err error, key string) bool {
	if i := strings.LastIndex(key[:min(len(key), 20)], "1"); i >= 0 {
		key = key[i+1:]
	}
	for i := 0; i+8 <= len(key); i++ {
		if strings.Contains(err.Error(), key[i:i+8]) {
			return true
		}
	}
	return false
}

func TestKeyParsingErrorsNeverContainKeyBytes(t *testing.T) {
	var corrupt []string
	for _, kind := range kinds {
		secret := keys(t, kind, 1)[0].SecretKey()
		mid := len(secret) / 2
		hrp, body, _ := strings.Cut(secret, "-1")
		otherHRP := map[string]string{"AGE-SECRET-KEY": "AGE-SECRET-KEY-PQ", "AGE-SECRET-KEY-PQ": "AGE-SECRET-KEY"}[hrp]
		corrupt = append(corrupt,
			secret[:mid]+"x"+secret[mid+1:], // bad checksum
			secret[:len(secret)-1],          // truncated
			strings.ToLower(secret)+"Q",     // mixed case
			otherHRP+"-1"+body,              // the other kind's prefix
		)
	}
	for i, s := range corrupt {
		_, err := crypto.ParseIdentity(s)
		if !errors.Is(err, crypto.ErrMalformedKey) {
			t.Fatalf("case %d: got %v, want ErrMalformedKey", i, err)
		}
		if leaks(err, s) {
			t.Errorf("case %d: error echoes the key: %v", i, err)
		}
		_, err = crypto.ParseIdentities(strings.NewReader("# created: today\n\n" + s + "\n"))
		if !errors.Is(err, crypto.ErrMalformedKey) || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("case %d: ParseIdentities: %v", i, err)
		}
		if leaks(err, s) {
			t.Errorf("case %d: ParseIdentities echoes the key: %v", i, err)
		}
	}
	for _, s := range []string{vectorRecipient[:20] + "q" + vectorRecipient[21:], "age1pq1" + vectorRecipient[4:], "ssh-ed25519 AAAA"} {
		_, err := crypto.ParseRecipient(s)
		if !errors.Is(err, crypto.ErrMalformedKey) || leaks(err, s) {
			t.Errorf("ParseRecipient(%.10s…): %v", s, err)
		}
	}
}

func TestParseKeyFiles(t *testing.T) {
	h, x := keys(t, crypto.Hybrid, 1)[0], keys(t, crypto.X25519, 1)[0]
	file := "# created: 2026-11-26\n# public key: " + h.Recipient().String() + "\n" + h.SecretKey() + "\n\n" + x.SecretKey() + "\n"
	ids, err := crypto.ParseIdentities(strings.NewReader(file))
	if err != nil || len(ids) != 2 || ids[0].ID() != h.ID() || ids[1].ID() != x.ID() {
		t.Fatalf("ParseIdentities: %v %v", ids, err)
	}
	rs, err := crypto.ParseRecipients(strings.NewReader("# cluster a\n" + h.Recipient().String() + "\n  \n"))
	if err != nil || len(rs) != 1 || rs[0].ID() != h.ID() {
		t.Fatalf("ParseRecipients: %v %v", rs, err)
	}
	if _, err := crypto.ParseIdentities(strings.NewReader("# nothing\n")); !errors.Is(err, crypto.ErrMalformedKey) {
		t.Errorf("empty file: %v", err)
	}
}

func TestIdentityIsRedactedWhenFormatted(t *testing.T) {
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		secret := id.SecretKey()
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
			for _, arg := range []any{id, *id, []any{id}, struct{ K *crypto.Identity }{id}} {
				if out := fmt.Sprintf(verb, arg); strings.Contains(out, secret[20:40]) {
					t.Errorf("%s: %s of %T prints the private key", kind, verb, arg)
				}
			}
		}
		if !strings.Contains(fmt.Sprint(id), string(id.ID())) {
			t.Errorf("%s: formatted identity should name its ID: %v", kind, id)
		}
	}
}

func TestParseKindAndScope(t *testing.T) {
	for _, s := range []string{"hybrid", "x25519"} {
		if k, err := crypto.ParseKind(s); err != nil || string(k) != s {
			t.Errorf("ParseKind(%q) = %q, %v", s, k, err)
		}
	}
	for _, s := range []string{"strict", "namespace", "cluster"} {
		if sc, err := crypto.ParseScope(s); err != nil || string(sc) != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, sc, err)
		}
	}
	if _, err := crypto.ParseKind("rsa"); err == nil {
		t.Error("ParseKind accepted rsa")
	}
	if _, err := crypto.ParseScope("global"); err == nil {
		t.Error("ParseScope accepted global")
	}
}
