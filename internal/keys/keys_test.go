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

package keys

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/crypto"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func newKey(t *testing.T, created time.Time, retired bool) *Key {
	t.Helper()
	id, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{Identity: id, Created: created, Retired: retired}
}

func TestDecide(t *testing.T) {
	const period = 720 * time.Hour
	fresh := newKey(t, t0, false)
	stale := newKey(t, t0.Add(-period), false)
	retired := newKey(t, t0, true)
	tests := []struct {
		name               string
		keys               []*Key
		period             time.Duration
		requested, handled string
		generate           bool
		next               time.Time
	}{
		{"no key at all generates one", nil, period, "", "", true, time.Time{}},
		{"only retired keys generates one", []*Key{retired}, period, "", "", true, time.Time{}},
		{"a fresh key waits until the period ends", []*Key{fresh}, period, "", "", false, t0.Add(period)},
		{"a key exactly one period old is renewed", []*Key{stale}, period, "", "", true, time.Time{}},
		{"an old key next to a fresh one is kept without renewal", []*Key{stale, fresh}, period, "", "", false, t0.Add(period)},
		{"renewal disabled never renews", []*Key{stale}, 0, "", "", false, time.Time{}},
		{"a new rotation request generates even with renewal disabled", []*Key{fresh}, 0, "2026-11-01T00:00:00Z", "", true, time.Time{}},
		{"a handled rotation request does nothing", []*Key{fresh}, period, "r1", "r1", false, t0.Add(period)},
		{"a second rotation request generates again", []*Key{fresh}, period, "r2", "r1", true, time.Time{}},
		{"a retired newer key does not count as active", []*Key{stale, newKey(t, t0, true)}, period, "", "", true, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(t0, tt.keys, tt.period, tt.requested, tt.handled)
			if d.Generate != tt.generate || !d.Next.Equal(tt.next) {
				t.Errorf("got %+v, want generate=%v next=%v", d, tt.generate, tt.next)
			}
			if d.Generate && d.Reason == "" {
				t.Error("a decision to generate must say why")
			}
		})
	}
}

func TestSecretRoundTrip(t *testing.T) {
	k := newKey(t, t0, false)
	s := NewSecret("gitseal-system", k.Identity, t0)
	if s.Name != "gitseal-key-"+string(k.ID()) || s.Labels[LabelKeyID] != string(k.ID()) || s.Type != SecretType {
		t.Fatalf("unexpected secret %s %v %s", s.Name, s.Labels, s.Type)
	}
	got, err := FromSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != k.ID() || !got.Created.Equal(t0) || got.Retired {
		t.Errorf("got %s %v %v", got.ID(), got.Created, got.Retired)
	}
}

func TestKeysMadeInTheSameSecondKeepTheirOrder(t *testing.T) {
	older := newKey(t, t0.Add(100*time.Millisecond), false)
	newer := newKey(t, t0.Add(900*time.Millisecond), false)
	r := NewRing(true)
	r.Load([]corev1.Secret{*stored("ns", newer.Identity, newer.Created), *stored("ns", older.Identity, older.Created)})
	if r.Active().ID() != newer.ID() {
		t.Error("the key made later in the same second is not active")
	}
}

func TestRingSkipsCorruptKeysAndKeepsTheOthers(t *testing.T) {
	older, newer := newKey(t, t0.Add(-time.Hour), false), newKey(t, t0, false)
	good1 := stored("ns", older.Identity, older.Created)
	good2 := stored("ns", newer.Identity, newer.Created)
	corrupt := stored("ns", newKey(t, t0, false).Identity, t0)
	secret := string(corrupt.Data[SecretDataKey])
	corrupt.Data[SecretDataKey] = []byte(secret[:len(secret)-3] + "qqq")
	missing := stored("ns", newKey(t, t0, false).Identity, t0)
	missing.Name = "gitseal-key-missing"
	delete(missing.Data, SecretDataKey)

	r := NewRing(true)
	changed := r.Changed()
	broken := r.Load([]corev1.Secret{*good1, *corrupt, *good2, *missing})
	if len(broken) != 2 {
		t.Fatalf("broken: %v", broken)
	}
	for name, err := range broken {
		if strings.Contains(err.Error(), secret[20:40]) {
			t.Errorf("%s: error leaks key material: %v", name, err)
		}
	}
	if got := r.Identities(); len(got) != 2 || got[0].ID() != newer.ID() {
		t.Errorf("identities: %v", got)
	}
	if r.Active().ID() != newer.ID() {
		t.Errorf("active: %s", r.Active().ID())
	}
	select {
	case <-changed:
	default:
		t.Error("Changed was not signalled")
	}
	if c := r.Counts(); c["active"] != 1 || c["old"] != 1 || c["broken"] != 2 {
		t.Errorf("counts: %v", c)
	}
}

func TestRetiredKeys(t *testing.T) {
	active, retired := newKey(t, t0, false), newKey(t, t0.Add(time.Hour), true)
	secrets := []corev1.Secret{*stored("ns", active.Identity, active.Created), *stored("ns", retired.Identity, retired.Created)}
	secrets[1].Labels[LabelRetired] = "true"
	for _, opens := range []bool{true, false} {
		r := NewRing(opens)
		r.Load(secrets)
		if r.Active().ID() != active.ID() {
			t.Errorf("a retired key became active")
		}
		if pub := r.Public(); len(pub) != 1 || pub[0].ID != active.ID() || pub[0].State != Active {
			t.Errorf("published: %+v", pub)
		}
		if s, _ := r.State(retired.ID()); s != Retired {
			t.Errorf("state %s", s)
		}
		if got := r.Retired(); len(got) != 1 || got[0] != retired.ID() {
			t.Errorf("Retired = %v, want [%s]", got, retired.ID())
		}
		if n := len(r.Identities()); n != map[bool]int{true: 2, false: 1}[opens] {
			t.Errorf("retiredOpen=%v: %d opening identities", opens, n)
		}
	}
}

// TestRetiredKeyIDsAgreeWithPublicKeys: the ConfigMap the controller
// publishes lists every usable key exactly once, either with its public
// key (active, old) or by ID alone (retired), by the one rule of Assign.
func TestRetiredKeyIDsAgreeWithPublicKeys(t *testing.T) {
	old, active := newKey(t, t0, false), newKey(t, t0.Add(time.Hour), false)
	retiredOld, retiredNew := newKey(t, t0.Add(-time.Hour), true), newKey(t, t0.Add(2*time.Hour), true)
	all := []*Key{retiredOld, active, retiredNew, old}

	public := PublicKeys(all)
	if len(public) != 2 || public[0].ID != active.ID() || public[0].State != Active || public[1].ID != old.ID() || public[1].State != Old {
		t.Errorf("PublicKeys = %+v, want the active and the old key", public)
	}
	if got := RetiredKeyIDs(all); len(got) != 2 || got[0] != retiredNew.ID() || got[1] != retiredOld.ID() {
		t.Errorf("RetiredKeyIDs = %v, want [%s %s], newest first", got, retiredNew.ID(), retiredOld.ID())
	}
	if got := RetiredKeyIDs([]*Key{active}); got == nil || len(got) != 0 {
		t.Errorf("RetiredKeyIDs with none retired = %#v, want an empty list, not nil", got)
	}
}

func TestLoadingTheSameKeysDoesNotSignal(t *testing.T) {
	k := newKey(t, t0, false)
	secrets := []corev1.Secret{*stored("ns", k.Identity, k.Created)}
	r := NewRing(true)
	r.Load(secrets)
	ch := r.Changed()
	r.Load(secrets)
	select {
	case <-ch:
		t.Error("signalled without a change")
	default:
	}
}

// stored is NewSecret as the API server returns it after the controller
// created it: with the managed fields that record who wrote the data.
func stored(ns string, id *crypto.Identity, created time.Time) *corev1.Secret {
	return withWriter(NewSecret(ns, id, created), FieldManagerGenerate)
}

func withWriter(s *corev1.Secret, manager string) *corev1.Secret {
	s.ManagedFields = append(s.ManagedFields, metav1.ManagedFieldsEntry{
		Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(`{"f:data":{".":{},"f:age.key":{}},"f:type":{}}`),
	})
	return s
}

func TestCheckOrigin(t *testing.T) {
	k := newKey(t, t0, false)
	labelsOnly := func(s *corev1.Secret) *corev1.Secret {
		s.ManagedFields = append(s.ManagedFields, metav1.ManagedFieldsEntry{
			Manager: "kubectl-label", Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1",
			FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:gitseal.dev/retired":{}}}}`),
		})
		return s
	}
	tests := []struct {
		name    string
		secret  *corev1.Secret
		trusted bool
	}{
		{"a key the controller generated is trusted", stored("ns", k.Identity, t0), true},
		{"a key gitseal keys restore created is trusted", withWriter(NewSecret("ns", k.Identity, t0), FieldManagerRestore), true},
		{"a trusted key retired with kubectl label stays trusted", labelsOnly(stored("ns", k.Identity, t0)), true},
		{"a key written for a SealedSecret is untrusted", withWriter(NewSecret("ns", k.Identity, t0), "gitseal"), false},
		{"a key created with kubectl is untrusted", withWriter(NewSecret("ns", k.Identity, t0), "kubectl-create"), false},
		{"a trusted key whose data someone else also wrote is untrusted", withWriter(stored("ns", k.Identity, t0), "kubectl-edit"), false},
		{"a key without managed fields is untrusted", NewSecret("ns", k.Identity, t0), false},
		{"a key Secret with an owner is untrusted", func() *corev1.Secret {
			s := stored("ns", k.Identity, t0)
			s.OwnerReferences = []metav1.OwnerReference{{Kind: "SealedSecret", Name: "x"}}
			return s
		}(), false},
		{"a key Secret of another type is untrusted", func() *corev1.Secret {
			s := stored("ns", k.Identity, t0)
			s.Type = corev1.SecretTypeOpaque
			return s
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckOrigin(tt.secret)
			if (err == nil) != tt.trusted {
				t.Fatalf("CheckOrigin = %v, want trusted=%v", err, tt.trusted)
			}
			if err != nil && strings.Contains(err.Error(), k.Identity.SecretKey()) {
				t.Error("the error holds key material")
			}
		})
	}
}

func TestRingNeverUsesAKeyOfUnknownOrigin(t *testing.T) {
	real := newKey(t, t0, false)
	// The injected key claims to be newer, as an attacker's would.
	injected := newKey(t, t0.Add(24*time.Hour), false)
	r := NewRing(true)
	broken := r.Load([]corev1.Secret{*stored("ns", real.Identity, real.Created), *withWriter(NewSecret("ns", injected.Identity, injected.Created), "gitseal")})
	if r.Active().ID() != real.ID() {
		t.Fatalf("active key %s, want the generated %s", r.Active().ID(), real.ID())
	}
	if len(r.Identities()) != 1 {
		t.Errorf("the injected key opens values")
	}
	if _, ok := broken[SecretName(injected.ID())]; !ok {
		t.Errorf("the injected key is not reported: %v", broken)
	}
	if c := r.Counts(); c["untrusted"] != 1 || c["broken"] != 0 {
		t.Errorf("counts: %v", c)
	}
}

func TestAssign(t *testing.T) {
	id := func(s string) crypto.KeyID { return crypto.KeyID(s) }
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	damaged := errors.New("damaged")
	foreign := &OriginError{Secret: "ns/x", Why: "written by kubectl"}
	tests := []struct {
		name    string
		entries []Entry
		want    map[crypto.KeyID]State
	}{
		{"the newest usable key is active, the others old", []Entry{{ID: id("a"), Created: at(0)}, {ID: id("b"), Created: at(1)}},
			map[crypto.KeyID]State{"a": Old, "b": Active}},
		{"a damaged key dated in the future is broken, never active", []Entry{{ID: id("a"), Created: at(0)}, {ID: id("z"), Created: at(9999), Unusable: damaged}},
			map[crypto.KeyID]State{"a": Active, "z": Broken}},
		{"a key of unknown origin is untrusted, never active", []Entry{{ID: id("a"), Created: at(0)}, {ID: id("z"), Created: at(9999), Unusable: foreign}},
			map[crypto.KeyID]State{"a": Active, "z": Untrusted}},
		{"a retired newer key leaves the older one active", []Entry{{ID: id("a"), Created: at(0)}, {ID: id("b"), Created: at(1), Retired: true}},
			map[crypto.KeyID]State{"a": Active, "b": Retired}},
		{"keys made at the same time are ordered by ID", []Entry{{ID: id("b"), Created: at(0)}, {ID: id("a"), Created: at(0)}},
			map[crypto.KeyID]State{"a": Active, "b": Old}},
		{"only unusable keys leave none active", []Entry{{ID: id("a"), Unusable: damaged}},
			map[crypto.KeyID]State{"a": Broken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sorted, states := Assign(tt.entries)
			for i, e := range sorted {
				if states[i] != tt.want[e.ID] {
					t.Errorf("%s: %s, want %s", e.ID, states[i], tt.want[e.ID])
				}
				if i > 0 && sorted[i-1].Created.Before(e.Created) {
					t.Errorf("not newest first: %v", sorted)
				}
			}
		})
	}
}
