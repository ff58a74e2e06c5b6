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
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/gitseal/gitseal/crypto"
)

// Ring is the in-memory set of keys the controller opens values with. It is
// rebuilt from the key Secrets whenever they change, and is safe for
// concurrent use.
type Ring struct {
	retiredOpen bool

	mu      sync.RWMutex
	keys    []*Key // newest first
	states  map[crypto.KeyID]State
	broken  map[string]error // key Secret name → why it is unusable
	opening []*crypto.Identity
	changed chan struct{}
	version uint64
}

// NewRing returns an empty ring. retiredOpen says whether retired keys
// still open values.
func NewRing(retiredOpen bool) *Ring {
	return &Ring{retiredOpen: retiredOpen, states: map[crypto.KeyID]State{}, changed: make(chan struct{})}
}

// Load replaces the ring's keys with those in the Secrets. A Secret that does
// not hold a valid key, or whose origin is not trusted (CheckOrigin, an
// *OriginError), is skipped and reported in the returned map; the other keys
// keep working.
func (r *Ring) Load(secrets []corev1.Secret) map[string]error {
	var keys []*Key
	broken := map[string]error{}
	for i := range secrets {
		k, err := Usable(&secrets[i])
		if err != nil {
			broken[secrets[i].Name] = err
			continue
		}
		if !slices.ContainsFunc(keys, func(o *Key) bool { return o.ID() == k.ID() }) {
			keys = append(keys, k)
		}
	}
	sortNewestFirst(keys)
	opening := make([]*crypto.Identity, 0, len(keys))
	for _, k := range keys {
		if !k.Retired || r.retiredOpen {
			opening = append(opening, k.Identity)
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	same := slices.EqualFunc(r.keys, keys, func(a, b *Key) bool { return a.ID() == b.ID() && a.Retired == b.Retired })
	r.keys, r.states, r.broken, r.opening = keys, states(keys), broken, opening
	if !same {
		r.version++
		close(r.changed)
		r.changed = make(chan struct{})
	}
	return broken
}

// Changed returns a channel that is closed the next time the set of keys or
// their retired state changes.
func (r *Ring) Changed() <-chan struct{} {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.changed
}

// Version counts the changes to the set of keys or their retired state.
func (r *Ring) Version() uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.version
}

// Identities returns the keys that open values, newest first.
func (r *Ring) Identities() []*crypto.Identity {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.opening
}

// Active returns the key values are sealed to, or nil if there is none.
func (r *Ring) Active() *Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.keys {
		if r.states[k.ID()] == Active {
			return k
		}
	}
	return nil
}

// State returns a key's state, and false if the ring does not hold it.
func (r *Ring) State(id crypto.KeyID) (State, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.states[id]
	return s, ok
}

// Keys returns all usable keys, newest first.
func (r *Ring) Keys() []*Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.keys)
}

// Public returns what may be published about the keys that are not retired.
func (r *Ring) Public() []PublicKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return publicKeys(r.keys, r.states)
}

// Retired returns the IDs of the retired keys, newest first.
func (r *Ring) Retired() []crypto.KeyID {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return retiredIDs(r.keys, r.states)
}

// PublicKeys returns what may be published about the keys that are not
// retired, newest first, with their states.
func PublicKeys(keys []*Key) []PublicKey {
	keys = slices.Clone(keys)
	sortNewestFirst(keys)
	return publicKeys(keys, states(keys))
}

// RetiredKeyIDs returns the IDs of the retired keys among keys, newest
// first, by the same rule as PublicKeys (Assign): what may be published
// about them, since an ID opens nothing and seals to nothing.
func RetiredKeyIDs(keys []*Key) []crypto.KeyID {
	keys = slices.Clone(keys)
	sortNewestFirst(keys)
	return retiredIDs(keys, states(keys))
}

// retiredIDs is never nil, so that a published empty list says "none"
// rather than "not known".
func retiredIDs(keys []*Key, states map[crypto.KeyID]State) []crypto.KeyID {
	out := []crypto.KeyID{}
	for _, k := range keys {
		if states[k.ID()] == Retired {
			out = append(out, k.ID())
		}
	}
	return out
}

func publicKeys(keys []*Key, states map[crypto.KeyID]State) []PublicKey {
	out := []PublicKey{}
	for _, k := range keys {
		if s := states[k.ID()]; s != Retired {
			rc := k.Identity.Recipient()
			out = append(out, PublicKey{ID: k.ID(), Kind: rc.Kind(), Recipient: rc.String(), Created: k.Created.UTC(), State: s})
		}
	}
	return out
}

// Counts returns the number of keys in each state, the number of key
// Secrets of unknown origin under "untrusted", and of the other unusable
// ones under "broken".
func (r *Ring) Counts() map[string]int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := map[string]int{string(Active): 0, string(Old): 0, string(Retired): 0, "broken": 0, "untrusted": 0}
	for _, err := range r.broken {
		if _, ok := errors.AsType[*OriginError](err); ok {
			out["untrusted"]++
		} else {
			out["broken"]++
		}
	}
	for _, s := range r.states {
		out[string(s)]++
	}
	return out
}
