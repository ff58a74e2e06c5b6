// Package keys holds the controller's sealing keys: how they are stored in
// Kubernetes Secrets, the in-memory ring the controller opens values with,
// and the pure decisions of the key lifecycle (renewal, rotation, retiring).
package keys

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/crypto"
)

// How a key is stored: one Secret per key in the controller's namespace.
// These are names of labels and fields, not credentials.
//
//nolint:gosec // G101: names, not credentials
const (
	// LabelSealingKey marks a key Secret. Its value is always "true".
	LabelSealingKey = "gitseal.dev/sealing-key"
	// LabelKeyID carries the key ID, for kubectl and the CLI.
	LabelKeyID = "gitseal.dev/key-id"
	// LabelRetired is "true" on a retired key: no longer offered for sealing.
	LabelRetired = "gitseal.dev/retired"
	// AnnotationCreated is the key's creation time, RFC 3339 with
	// nanoseconds: two keys made in the same second must still have an
	// order, or replicas could disagree on which is active. It survives a
	// backup and restore, where the Secret's own timestamp does not.
	AnnotationCreated = "gitseal.dev/created-at"
	// SecretDataKey is the data key holding the age private key.
	SecretDataKey = "age.key"
	// SecretType is the type of key Secrets.
	SecretType corev1.SecretType = "gitseal.dev/age-key"
	// SecretNamePrefix starts every key Secret's name; the key ID follows.
	SecretNamePrefix = "gitseal-key-"

	// PublicKeysConfigMap lists the public keys; any authenticated user may
	// read it.
	PublicKeysConfigMap = "gitseal-keys"
	// ConfigMapKeysJSON is the ConfigMap data key holding the JSON list.
	ConfigMapKeysJSON = "keys.json"
	// ConfigMapRecipients is the ConfigMap data key holding the active
	// public key in age's recipients-file format, ready for `age -R`.
	ConfigMapRecipients = "recipients.txt"
	// AnnotationRotateRequested on the ConfigMap asks for a new key. Any new
	// value is a new request; the CLI writes the current time.
	AnnotationRotateRequested = "gitseal.dev/rotate-requested-at"
	// AnnotationRotateHandled is set by the controller to the request value
	// it has acted on.
	AnnotationRotateHandled = "gitseal.dev/rotate-handled-at"

	// ManagedByLabel and ManagedByValue mark everything gitseal writes.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "gitseal"
)

// State is a key's place in its lifecycle.
type State string

const (
	// Active is the newest usable key: the one values are sealed to.
	Active State = "active"
	// Old keys are kept and still open values.
	Old State = "old"
	// Retired keys are not offered for sealing. Whether they still open
	// values is the controller's choice (--retired-keys-open).
	Retired State = "retired"
)

// Key is one usable private key.
type Key struct {
	Identity   *crypto.Identity
	Created    time.Time
	Retired    bool
	SecretName string
}

// ID returns the key's ID.
func (k *Key) ID() crypto.KeyID { return k.Identity.ID() }

// PublicKey is what is published about a key: never private material.
type PublicKey struct {
	ID        crypto.KeyID `json:"id"`
	Kind      crypto.Kind  `json:"kind"`
	Recipient string       `json:"recipient"`
	Created   time.Time    `json:"created"`
	State     State        `json:"state"`
}

// NewSecret returns the Secret that stores a new key in namespace.
func NewSecret(namespace string, id *crypto.Identity, created time.Time) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      SecretName(id.ID()),
			Namespace: namespace,
			Labels: map[string]string{
				LabelSealingKey: "true",
				LabelKeyID:      string(id.ID()),
				ManagedByLabel:  ManagedByValue,
			},
			Annotations: map[string]string{AnnotationCreated: created.UTC().Format(time.RFC3339Nano)},
		},
		Type:      SecretType,
		Immutable: new(true),
		Data:      map[string][]byte{SecretDataKey: []byte(id.SecretKey())},
	}
}

// SecretName is the name of the Secret holding the key with this ID.
func SecretName(id crypto.KeyID) string { return SecretNamePrefix + string(id) }

// FromSecret reads a key from its Secret. Errors name the Secret, never
// its content.
func FromSecret(s *corev1.Secret) (*Key, error) {
	raw, ok := s.Data[SecretDataKey]
	if !ok {
		return nil, fmt.Errorf("key secret %s/%s has no %q item", s.Namespace, s.Name, SecretDataKey)
	}
	id, err := crypto.ParseIdentity(string(raw))
	if err != nil {
		return nil, fmt.Errorf("key secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	created := s.CreationTimestamp.Time
	if v, ok := s.Annotations[AnnotationCreated]; ok {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fmt.Errorf("key secret %s/%s: annotation %s is not an RFC 3339 time", s.Namespace, s.Name, AnnotationCreated)
		}
		created = t
	}
	return &Key{
		Identity:   id,
		Created:    created,
		Retired:    s.Labels[LabelRetired] == "true",
		SecretName: s.Name,
	}, nil
}

// sortNewestFirst orders keys newest first, by ID among equals, so that
// every replica agrees on which key is active.
func sortNewestFirst(keys []*Key) {
	slices.SortFunc(keys, func(a, b *Key) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(string(a.ID()), string(b.ID()))
	})
}

// states assigns each key its state: the newest non-retired key is active.
func states(keys []*Key) map[crypto.KeyID]State {
	out := make(map[crypto.KeyID]State, len(keys))
	active := false
	for _, k := range keys {
		switch {
		case k.Retired:
			out[k.ID()] = Retired
		case !active:
			out[k.ID()], active = Active, true
		default:
			out[k.ID()] = Old
		}
	}
	return out
}

// Decision says whether the key manager should generate a key now, and why.
type Decision struct {
	Generate bool
	Reason   string
	// Next is when to look again if nothing changes; zero means never.
	Next time.Time
}

// Decide is the key lifecycle as a pure function. keys are the usable keys
// found in the cluster (corrupt ones excluded); period is the renewal period
// (0 disables renewal); requested and handled are the rotation annotations.
//
// It is only called after listing keys succeeded: a failure to list never
// leads to a new key.
func Decide(now time.Time, keys []*Key, period time.Duration, requested, handled string) Decision {
	var newest *Key
	for _, k := range keys {
		if !k.Retired && (newest == nil || k.Created.After(newest.Created)) {
			newest = k
		}
	}
	switch {
	case newest == nil && len(keys) == 0:
		return Decision{Generate: true, Reason: "no key exists"}
	case newest == nil:
		return Decision{Generate: true, Reason: "every key is retired"}
	case requested != "" && requested != handled:
		return Decision{Generate: true, Reason: "rotation requested"}
	case period <= 0:
		return Decision{}
	case !now.Before(newest.Created.Add(period)):
		return Decision{Generate: true, Reason: fmt.Sprintf("active key %s is older than the renewal period %s", newest.ID(), period)}
	}
	return Decision{Next: newest.Created.Add(period)}
}
