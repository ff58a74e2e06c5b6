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

package sealedvalue

import (
	"errors"
	"testing"

	"github.com/gitseal/gitseal/crypto"
)

func TestDataKeyIndex(t *testing.T) {
	dataKeys := []string{"gs2k:a", "gs2k:b", "gs2k:c"}
	tests := []struct {
		name    string
		value   string
		want    int
		wantErr bool
	}{
		{"no index is data key 0", "gs2:QUJD", 0, false},
		{"an index names its data key", "gs2:2:QUJD", 2, false},
		{"index 0 written out is refused, as crypto refuses it", "gs2:0:QUJD", 0, true},
		{"a leading zero is refused", "gs2:02:QUJD", 0, true},
		{"an index past the object's data keys is refused", "gs2:3:QUJD", 3, true},
		{"an index past the limit is refused", "gs2:16:QUJD", 0, true},
		{"a format-1 value has no data key", "gs1:0123456789abcdef:QUJD", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DataKey(tt.value, dataKeys)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("DataKey = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, crypto.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

// TestDataKeyIndexAgreesWithCrypto: the index read here is the one crypto
// writes, for data key 0 and for a later one.
func TestDataKeyIndexAgreesWithCrypto(t *testing.T) {
	id, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	b := crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db"}
	o, err := crypto.SealObject(map[string][]byte{"a": []byte("1")}, b, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Add(map[string][]byte{"b": []byte("2")}, b, id.Recipient()); err != nil {
		t.Fatal(err)
	}
	for item, want := range map[string]int{"a": 0, "b": 1} {
		if got, err := DataKey(o.Values[item], o.DataKeys); err != nil || got != want {
			t.Errorf("item %s: DataKey = %d, %v; want %d", item, got, err, want)
		}
	}
}
