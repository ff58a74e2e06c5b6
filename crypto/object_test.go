package crypto_test

import (
	"testing"

	"github.com/gitseal/gitseal/crypto"
)

func sealObject(t testing.TB, items map[string]string, b crypto.Binding, ids ...*crypto.Identity) *crypto.Object {
	t.Helper()
	in := map[string][]byte{}
	for k, v := range items {
		in[k] = []byte(v)
	}
	o, err := crypto.SealObject(in, b, recipientsOf(ids...)...)
	if err != nil {
		t.Fatalf("SealObject: %v", err)
	}
	return o
}

func TestObjectRoundTripEveryScopeAndKind(t *testing.T) {
	bindings := []crypto.Binding{
		{Scope: crypto.Strict, Namespace: "prod", Name: "db"},
		{Scope: crypto.Namespace, Namespace: "prod"},
		{Scope: crypto.Cluster},
	}
	items := map[string]string{"password": "s3cret", "empty": "", "username": "app"}
	for _, kind := range kinds {
		id := keys(t, kind, 1)[0]
		for _, b := range bindings {
			t.Run(string(kind)+"/"+string(b.Scope), func(t *testing.T) {
				o := sealObject(t, items, b, id)
				got := crypto.OpenObject(o, crypto.Binding{Namespace: "prod", Name: "db"}, id)
				if len(got.Errors) != 0 {
					t.Fatalf("errors: %v", got.Errors)
				}
				for k, v := range items {
					if string(got.Values[k]) != v {
						t.Errorf("%s: got %q, want %q", k, got.Values[k], v)
					}
				}
				if got.Binding != b || len(got.KeyIDs) != 1 || got.KeyIDs[0] != id.ID() {
					t.Errorf("binding %+v, key IDs %v", got.Binding, got.KeyIDs)
				}
				for k, v := range o.Values {
					if crypto.Version(v) != 2 {
						t.Errorf("%s: version %d", k, crypto.Version(v))
					}
				}
			})
		}
	}
}
