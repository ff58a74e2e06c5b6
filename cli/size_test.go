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

package cli

import "testing"

// sizeGoals are issue #13's goals for the five-item SealedSecret
// (fiveItemSecret) as `gitseal seal` prints it, sealed to one recipient.
var sizeGoals = []struct {
	kind, recipients string
	goal             int // bytes of YAML, at most
}{
	{"hybrid", clusterPub, 2500},
	{"x25519", "testdata/keys/classic.pub", 800},
}

// TestSealOutputSizeGoals holds what the CLI prints, not a hand-built
// YAML, to issue #13's size goals: extra fields or a wasteful layout in
// the output would miss them. The sizes do not depend on the random bytes.
func TestSealOutputSizeGoals(t *testing.T) {
	for _, tt := range sizeGoals {
		t.Run(tt.kind, func(t *testing.T) {
			got := len(mustRun(t, fiveItemSecret("db"), "seal", "--recipients-file", tt.recipients))
			t.Logf("%s, one recipient: %d bytes of YAML", tt.kind, got)
			if got > tt.goal {
				t.Errorf("%d bytes, the goal is at most %d", got, tt.goal)
			}
		})
	}
}
