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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/crypto"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name, pattern, path string
		want                bool
	}{
		{"empty pattern matches anything", "", "a/b.yaml", true},
		{"double star matches anything", "**", "a/b/c.yaml", true},
		{"double star matches standard input", "**", "", true},
		{"a glob does not match standard input", "*.yaml", "", false},
		{"star stays within a directory", "*.yaml", "a/b.yaml", false},
		{"star matches a top-level file", "*.yaml", "b.yaml", true},
		{"leading double star matches at any depth", "**/secret.yaml", "a/b/secret.yaml", true},
		{"leading double star matches at the top", "**/secret.yaml", "secret.yaml", true},
		{"trailing double star matches below a directory", "apps/prod/**", "apps/prod/db/s.yaml", true},
		{"trailing double star does not match a sibling", "apps/prod/**", "apps/staging/s.yaml", false},
		{"middle double star spans directories", "apps/**/sealed/*.yaml", "apps/x/y/sealed/a.yaml", true},
		{"middle double star spans no directory", "apps/**/sealed/*.yaml", "apps/sealed/a.yaml", true},
		{"a dot-slash path is cleaned", "apps/*.yaml", "./apps/a.yaml", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.path); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
			}
		})
	}
}

func mustIdentity(t *testing.T, kind crypto.Kind) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity(kind)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestResolveFirstMatchWins(t *testing.T) {
	prod, staging, extra, old := mustIdentity(t, crypto.X25519), mustIdentity(t, crypto.X25519), mustIdentity(t, crypto.X25519), mustIdentity(t, crypto.X25519)
	cfg, err := Parse([]byte(`
clusters:
  - name: prod
    recipients: [` + prod.Recipient().String() + `]
    retired: [` + string(old.ID()) + `]
  - name: staging
    recipients: [` + staging.Recipient().String() + `]
rules:
  - path: apps/prod/**
    clusters: [prod]
    recipients: [` + extra.Recipient().String() + `]
  - path: apps/**
    clusters: [staging]
    scope: namespace
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		path      string
		wantIDs   []crypto.KeyID
		wantScope crypto.Scope
		wantErr   error
	}{
		{"prod path seals to prod and extra, strictly", "apps/prod/db.yaml", []crypto.KeyID{prod.ID(), extra.ID()}, crypto.Strict, nil},
		{"other app path falls through to staging with namespace scope", "apps/web/db.yaml", []crypto.KeyID{staging.ID()}, crypto.Namespace, nil},
		{"path outside every rule is ErrNoRule", "infra/db.yaml", nil, "", ErrNoRule},
		{"standard input matches no glob rule", "", nil, "", ErrNoRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, scope, err := cfg.Resolve(tt.path)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var ids []crypto.KeyID
			for _, r := range rs {
				ids = append(ids, r.ID())
			}
			if strings.Join(keyIDs(ids), ",") != strings.Join(keyIDs(tt.wantIDs), ",") || scope != tt.wantScope {
				t.Errorf("got %v %q, want %v %q", ids, scope, tt.wantIDs, tt.wantScope)
			}
		})
	}
	if got := cfg.RetiredKeyIDs(); len(got) != 1 || got[0] != old.ID() {
		t.Errorf("RetiredKeyIDs = %v, want [%s]", got, old.ID())
	}
}

// TestResolveNeverDropsARetiredKeySilently is issue 11, item 3: a rule that
// names a retired key fails, whoever says it is retired, instead of
// sealing to the keys that are left, which the cluster may not hold.
func TestResolveNeverDropsARetiredKeySilently(t *testing.T) {
	current, old, breakGlass := mustIdentity(t, crypto.X25519), mustIdentity(t, crypto.X25519), mustIdentity(t, crypto.X25519)
	cfg, err := Parse([]byte(`
clusters:
  - name: prod
    recipients: [` + old.Recipient().String() + `]
    retired: [` + old.Recipient().String() + `]
  - name: next
    recipients: [` + current.Recipient().String() + `]
rules:
  - path: stale/**
    clusters: [prod]
    recipients: [` + breakGlass.Recipient().String() + `]
  - path: legacy/**
    clusters: [next]
    recipients: [` + old.Recipient().String() + `]
  - path: "**"
    clusters: [next]
`))
	if err != nil {
		t.Fatalf("a rule naming a retired key must not make the whole file unreadable: %v", err)
	}
	tests := []struct {
		name    string
		path    string
		retired []crypto.KeyID
		want    *RetiredKeyError
	}{
		{"a cluster key the file lists as retired is refused, though another key is left", "stale/db.yaml", nil,
			&RetiredKeyError{Rule: 0, Path: "stale/**", Cluster: "prod", KeyID: old.ID(), InFile: true}},
		{"a rule's own recipient the file lists as retired is refused", "legacy/db.yaml", nil,
			&RetiredKeyError{Rule: 1, Path: "legacy/**", KeyID: old.ID(), InFile: true}},
		{"a key the caller says is retired is refused", "app/db.yaml", []crypto.KeyID{current.ID()},
			&RetiredKeyError{Rule: 2, Path: "**", Cluster: "next", KeyID: current.ID()}},
		{"keys nobody retired resolve", "app/db.yaml", []crypto.KeyID{breakGlass.ID()}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, _, err := cfg.Resolve(tt.path, tt.retired...)
			if tt.want == nil {
				if err != nil || len(rs) != 1 || rs[0].ID() != current.ID() {
					t.Fatalf("Resolve = %v, %v; want [%s]", rs, err, current.ID())
				}
				return
			}
			got, ok := errors.AsType[*RetiredKeyError](err)
			if !ok || *got != *tt.want || rs != nil {
				t.Fatalf("Resolve = %v, %v; want %+v", rs, err, tt.want)
			}
		})
	}
}

func keyIDs(ids []crypto.KeyID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

func TestParseRefusesBadConfigs(t *testing.T) {
	x := mustIdentity(t, crypto.X25519).Recipient().String()
	pq := mustIdentity(t, crypto.Hybrid).Recipient().String()
	secret := "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ" // gitseal:allow not a key: checks errors never echo one
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"unknown field is refused", "rulez: []", "unknown field"},
		{"rule naming a missing cluster is refused", "rules: [{clusters: [prod]}]", `no cluster named "prod"`},
		{"rule with no keys is refused", "rules: [{path: a}]", "seals to no key"},
		{"mixed key kinds are refused", "rules: [{recipients: [" + x + ", " + pq + "]}]", "incompatible recipients"},
		{"bad scope is refused", "rules: [{recipients: [" + x + "], scope: global}]", "scope"},
		{"partial double star is refused", "rules: [{path: 'a/**b', recipients: [" + x + "]}]", "whole path element"},
		{"a private key as recipient is refused without echoing it", "rules: [{recipients: [" + secret + "]}]", "malformed key"},
		{"duplicate cluster is refused", "clusters: [{name: a, recipients: [" + x + "]}, {name: a, recipients: [" + x + "]}]", "defined twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error echoes the private key")
			}
		})
	}
}

func TestFindStopsAtTheRepositoryRoot(t *testing.T) {
	root := t.TempDir()
	outer := filepath.Join(root, "outer")
	repo := filepath.Join(outer, "repo")
	deep := filepath.Join(repo, "a", "b")
	for _, d := range []string{deep, filepath.Join(repo, ".git")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outer, FileName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(deep); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Find above the repository root: err = %v, want not exist", err)
	}
	want := filepath.Join(repo, FileName)
	if err := os.WriteFile(want, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(deep); err != nil || got != want {
		t.Fatalf("Find = %q, %v; want %q", got, err, want)
	}
}
