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

package repoconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/crypto"
)

// TestSetClusterKeysChangesOnlyTheClusterKeys is issue 11, item 3: the
// refresh rewrites one cluster's recipients and retired lists and keeps
// every other byte of the file, comments, blank lines and rules included.
func TestSetClusterKeysChangesOnlyTheClusterKeys(t *testing.T) {
	oldKey, newKey, staging := mustIdentity(t, crypto.Hybrid), mustIdentity(t, crypto.Hybrid), mustIdentity(t, crypto.Hybrid)
	older := mustIdentity(t, crypto.Hybrid)
	// The placeholders OLD, NEW, STAGING stand for the public keys, and
	// OLDID, NEWID, OLDERID for key IDs.
	expand := strings.NewReplacer(
		"OLDERID", string(older.ID()), "OLDID", string(oldKey.ID()), "NEWID", string(newKey.ID()),
		"OLD", oldKey.Recipient().String(), "NEW", newKey.Recipient().String(), "STAGING", staging.Recipient().String(),
	).Replace
	rotated := ClusterKeys{
		Recipients: []Entry{{Value: newKey.Recipient().String(), Comment: "id: " + string(newKey.ID())}},
		Retired:    []Entry{{Value: string(oldKey.ID())}},
	}
	tests := []struct {
		name     string
		in, want string
		keys     ClusterKeys
	}{
		{
			name: "init's file gets the new key and a retired list, and keeps its comments and rule",
			in: `# gitseal: which keys ` + "`gitseal seal`" + ` seals to, by file path.
# Refresh a cluster's keys after a rotation: gitseal keys refresh.
clusters:
  - name: prod
    recipients:
      # id: OLDID created: 2026-11-01T09:00:00Z
      - OLD
rules:
  - path: "**"
    clusters: [prod]
    scope: strict
`,
			keys: rotated,
			want: `# gitseal: which keys ` + "`gitseal seal`" + ` seals to, by file path.
# Refresh a cluster's keys after a rotation: gitseal keys refresh.
clusters:
  - name: prod
    recipients:
      # id: NEWID
      - NEW
    retired:
      - OLDID
rules:
  - path: "**"
    clusters: [prod]
    scope: strict
`,
		},
		{
			name: "a hand-kept file changes in the one cluster only, blank lines and line comments kept",
			in: `clusters:

  # Production.
  - name: staging
    recipients: [STAGING]   # not touched

  - name: prod   # the cluster we refresh
    recipients: [OLD]   # prod's key
    retired:   # oldest last
      - OLDERID   # retired in the 2025 incident

# Rules, first match wins.
rules:
  - path: apps/**
    clusters: [prod]
`,
			keys: ClusterKeys{
				Recipients: rotated.Recipients,
				Retired:    []Entry{{Value: string(older.ID())}, {Value: string(oldKey.ID())}},
			},
			want: `clusters:

  # Production.
  - name: staging
    recipients: [STAGING]   # not touched

  - name: prod   # the cluster we refresh
    recipients: # prod's key
      # id: NEWID
      - NEW
    retired:   # oldest last
      - OLDERID   # retired in the 2025 incident
      - OLDID

# Rules, first match wins.
rules:
  - path: apps/**
    clusters: [prod]
`,
		},
		{
			name: "a file that is up to date is not changed",
			in:   "clusters:\n- name: prod\n  recipients: [NEW]\n  retired: [OLDID]\nrules: [{clusters: [prod]}]\n",
			keys: ClusterKeys{Recipients: []Entry{{Value: newKey.Recipient().String()}}, Retired: []Entry{{Value: string(oldKey.ID())}}},
			want: "clusters:\n- name: prod\n  recipients: [NEW]\n  retired: [OLDID]\nrules: [{clusters: [prod]}]\n",
		},
		{
			name: "an entry that is no longer retired goes, and an empty retired list with it",
			in:   "clusters:\n  - name: prod\n    recipients: [NEW]\n    retired:\n      - NEWID\n    # trailing note\nrules:\n  - clusters: [prod]\n",
			keys: ClusterKeys{Recipients: []Entry{{Value: newKey.Recipient().String()}}},
			want: "clusters:\n  - name: prod\n    recipients: [NEW]\n    # trailing note\nrules:\n  - clusters: [prod]\n",
		},
		{
			name: "a sequence at the key's own indentation is replaced whole",
			in:   "clusters:\n  - name: prod\n    recipients:\n    # the key\n    - OLD\n    # more\n    - STAGING\nrules:\n  - clusters: [prod]\n",
			keys: rotated,
			want: "clusters:\n  - name: prod\n    recipients:\n      # id: NEWID\n      - NEW\n    retired:\n      - OLDID\nrules:\n  - clusters: [prod]\n",
		},
		{
			name: "a key on its item's dash line keeps the dash",
			in:   "clusters:\n  - recipients: [OLD]\n    name: prod\nrules:\n  - clusters: [prod]\n",
			keys: rotated,
			want: "clusters:\n  - recipients:\n      # id: NEWID\n      - NEW\n    retired:\n      - OLDID\n    name: prod\nrules:\n  - clusters: [prod]\n",
		},
		{
			name: "CRLF line endings stay CRLF",
			in:   "clusters:\r\n  - name: prod\r\n    recipients: [OLD]\r\nrules:\r\n  - clusters: [prod]\r\n",
			keys: rotated,
			want: "clusters:\r\n  - name: prod\r\n    recipients:\r\n      # id: NEWID\r\n      - NEW\r\n    retired:\r\n      - OLDID\r\nrules:\r\n  - clusters: [prod]\r\n",
		},
		{
			name: "a last line without a line break gets one before what follows it",
			in:   "rules:\n  - clusters: [prod]\nclusters:\n  - name: prod\n    recipients: [OLD]",
			keys: rotated,
			want: "rules:\n  - clusters: [prod]\nclusters:\n  - name: prod\n    recipients:\n      # id: NEWID\n      - NEW\n    retired:\n      - OLDID\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, want := expand(tt.in), expand(tt.want)
			got, err := SetClusterKeys([]byte(in), "prod", tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestSetClusterKeysRefusesWhatItCannotEditSafely: a layout it does not
// edit is an error, never a file that says something else than asked.
func TestSetClusterKeysRefusesWhatItCannotEditSafely(t *testing.T) {
	k := mustIdentity(t, crypto.X25519).Recipient().String()
	keys := ClusterKeys{Recipients: []Entry{{Value: mustIdentity(t, crypto.X25519).Recipient().String()}}}
	tests := []struct {
		name, in string
		want     error
		wantText string
	}{
		{"a cluster in flow style is not edited", "clusters: [{name: prod, recipients: [" + k + "]}]\n", ErrNotEditable, "flow style"},
		{"a missing cluster is named", "clusters:\n  - name: staging\n    recipients: [" + k + "]\n", nil, `no cluster named "prod"`},
		{"an anchor other clusters use is not replaced", "clusters:\n  - name: prod\n    recipients: &keys [" + k + "]\n  - name: copy\n    recipients: *keys\n", ErrNotEditable, "does not parse"},
		{"a file that does not parse is refused", "clusters: [\n", nil, "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SetClusterKeys([]byte(tt.in), "prod", keys)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.want, tt.wantText)
			}
		})
	}
}
