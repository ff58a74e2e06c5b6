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

package bitnami

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseKeys checks that no input makes ParseKeys panic, and that its
// errors are always ErrMalformedKey.
func FuzzParseKeys(f *testing.F) {
	k0, k1 := testKeys()[0], testKeys()[1]
	f.Add(pkcs1PEM(k0))
	f.Add(pkcs8PEM(f, k1))
	f.Add([]byte(backupList(pkcs1PEM(k0), pkcs1PEM(k1))))
	f.Add([]byte(keySecretYAML("k", pkcs1PEM(k0), "")))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseKeys(data)
		if err != nil && (keys != nil || !errors.Is(err, ErrMalformedKey)) {
			t.Fatalf("ParseKeys = %d keys, %v", len(keys), err)
		}
		if err == nil && len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
	})
}

// FuzzOpen checks that damaged values never open and never panic: a
// value opens only to the plaintext sealed.
func FuzzOpen(f *testing.F) {
	keys := []*Key{testKey(f, 0), testKey(f, 1)}
	label := []byte("prod/db")
	f.Add(bitnamiSeal(f, &testKeys()[0].PublicKey, canary, label))
	f.Add(bitnamiSeal(f, &testKeys()[1].PublicKey, "", label))
	f.Add("AAA=")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		v, err := Open(text, label, keys)
		switch {
		case err != nil && v != nil:
			t.Fatal("plaintext returned with an error")
		case err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoMatchingKey) && !errors.Is(err, ErrTooLarge):
			t.Fatalf("unexpected error %v", err)
		case err == nil && !bytes.Equal(v, []byte(canary)) && len(v) != 0:
			t.Fatalf("opened to something never sealed")
		}
	})
}
