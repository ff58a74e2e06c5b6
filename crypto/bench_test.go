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
	"fmt"
	"testing"

	"github.com/gitseal/gitseal/crypto"
)

// BenchmarkSeal and BenchmarkOpen measure one value of 64 bytes and of
// 64 KiB for each kind of key. The goal: opening 64 bytes takes under 0.5 ms.
func BenchmarkSeal(b *testing.B) {
	for _, kind := range kinds {
		r := keys(b, kind, 1)[0].Recipient()
		for _, size := range []int{64, 64 << 10} {
			value := make([]byte, size)
			b.Run(fmt.Sprintf("%s/%s", kind, sizeName(size)), func(b *testing.B) {
				b.SetBytes(int64(size))
				var sealed string
				for b.Loop() {
					var err error
					if sealed, err = crypto.Seal(value, strictDB, r); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(sealed)), "sealed-bytes")
			})
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, kind := range kinds {
		id := keys(b, kind, 1)[0]
		for _, size := range []int{64, 64 << 10} {
			sealed := seal(b, string(make([]byte, size)), strictDB, id)
			b.Run(fmt.Sprintf("%s/%s", kind, sizeName(size)), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, err := crypto.Open(sealed, strictDB, id); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkOpenAmongKeys opens a 64-byte value with six keys held, as after
// five renewals, sealed to the oldest: the recorded key ID puts it first.
func BenchmarkOpenAmongKeys(b *testing.B) {
	ids := keys(b, crypto.Hybrid, 6)
	sealed := seal(b, string(make([]byte, 64)), strictDB, ids[0])
	newestFirst := []*crypto.Identity{ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}
	for b.Loop() {
		if _, err := crypto.Open(sealed, strictDB, newestFirst...); err != nil {
			b.Fatal(err)
		}
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
