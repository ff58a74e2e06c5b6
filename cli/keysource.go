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

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
)

// publishedKey is a public key the cluster publishes, parsed and checked.
type publishedKey struct {
	keys.PublicKey
	recipient *crypto.Recipient
}

// keySource says where published keys came from, for messages.
type keySource string

// fetchPublicKeys returns what the cluster publishes about its keys: those
// that are not retired, newest first, with their public keys, then the
// retired ones by ID alone (no recipient) if the controller says which are;
// sealable and retiredKeyIDs split them.
//
// Like kubeseal --fetch-cert it asks the controller's /v1/keys, through the
// API server's service proxy (or at --controller-url); if the controller
// does not answer, it reads the public keys ConfigMap with the user's
// credentials, and a note on errOut says why.
func (o *ClusterOptions) fetchPublicKeys(ctx context.Context, errOut io.Writer) ([]publishedKey, keySource, error) {
	controller, err := o.Controller()
	if err != nil {
		return nil, "", err // no usable kubeconfig: nothing to fall back to
	}
	published, ctrlErr := controller.Keys(ctx)
	if ctrlErr == nil {
		var parsed []publishedKey
		if parsed, ctrlErr = checkPublicKeys(published); ctrlErr == nil {
			return parsed, keySource("the controller via " + controller.Via()), nil
		}
	}
	if o.ControllerURL == "" {
		if err := o.unreachable(ctrlErr); err != nil {
			return nil, "", err // the ConfigMap is behind the same API server
		}
	}

	cmName := o.ControllerNamespace + "/" + keys.PublicKeysConfigMap
	kc, cmErr := o.kube()
	if cmErr == nil {
		var fromConfigMap []publishedKey
		if fromConfigMap, cmErr = o.keysFromConfigMap(ctx, kc); cmErr == nil {
			fmt.Fprintf(errOut, "note: the controller did not answer (%v); read the keys from ConfigMap %s instead\n",
				firstLine(ctrlErr), cmName)
			return fromConfigMap, keySource("ConfigMap " + cmName), nil
		}
	}
	err = fmt.Errorf("fetch the cluster's public keys: controller: %w; ConfigMap %s: %w", ctrlErr, cmName, cmErr)
	return nil, "", withHint(err, fmt.Sprintf("check that gitseal runs in namespace %q (--controller-namespace, --controller-name, --context), "+
		"or seal offline with --recipient, --recipients-file or a .gitseal.yaml", o.ControllerNamespace))
}

func (o *ClusterOptions) keysFromConfigMap(ctx context.Context, kc *kubeClient) ([]publishedKey, error) {
	cm, err := kc.getConfigMap(ctx, o.ControllerNamespace, keys.PublicKeysConfigMap)
	if err != nil {
		return nil, err
	}
	raw, ok := cm.Data[keys.ConfigMapKeysJSON]
	if !ok {
		return nil, fmt.Errorf("it has no %s", keys.ConfigMapKeysJSON)
	}
	var published []keys.PublicKey
	if err := json.Unmarshal([]byte(raw), &published); err != nil {
		return nil, fmt.Errorf("%s is not a JSON list of keys: %w", keys.ConfigMapKeysJSON, err)
	}
	// A controller that predates the list of retired keys leaves it out.
	if raw, ok := cm.Data[keys.ConfigMapRetiredJSON]; ok {
		var retired []crypto.KeyID
		if err := json.Unmarshal([]byte(raw), &retired); err != nil {
			return nil, fmt.Errorf("%s is not a JSON list of key IDs: %w", keys.ConfigMapRetiredJSON, err)
		}
		for _, id := range retired {
			published = append(published, keys.RetiredPublicKey(id))
		}
	}
	return checkPublicKeys(published)
}

// checkPublicKeys parses published keys and refuses any whose ID does not
// match its public key, or whose state is unknown. A retired key is known
// by its ID alone, which must be one. It fails if none is active.
func checkPublicKeys(published []keys.PublicKey) ([]publishedKey, error) {
	out := make([]publishedKey, 0, len(published))
	active := false
	for _, pk := range published {
		if pk.State == keys.Retired {
			if _, err := crypto.ParseKeyID(string(pk.ID)); err != nil || pk.Recipient != "" {
				return nil, errors.New("a retired key is published as something else than its key ID alone")
			}
			out = append(out, publishedKey{PublicKey: pk})
			continue
		}
		rc, err := crypto.ParseRecipient(pk.Recipient)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", pk.ID, err)
		}
		if rc.ID() != pk.ID {
			return nil, fmt.Errorf("key %s: its public key has ID %s", pk.ID, rc.ID())
		}
		switch pk.State {
		case keys.Active:
			active = true
		case keys.Old:
		default:
			return nil, fmt.Errorf("key %s: unknown state %q", pk.ID, pk.State)
		}
		pk.Kind = rc.Kind()
		out = append(out, publishedKey{PublicKey: pk, recipient: rc})
	}
	if !active {
		return nil, errors.New("the cluster publishes no active key yet")
	}
	return out, nil
}

// activeKey returns the key values are sealed to. checkPublicKeys
// guarantees there is one; ks[0] is the newest otherwise.
func activeKey(ks []publishedKey) publishedKey {
	for _, k := range ks {
		if k.State == keys.Active {
			return k
		}
	}
	return ks[0]
}

// sealable returns the published keys that are not retired: those with a
// public key.
func sealable(ks []publishedKey) []publishedKey {
	out := make([]publishedKey, 0, len(ks))
	for _, k := range ks {
		if k.State != keys.Retired {
			out = append(out, k)
		}
	}
	return out
}

// retiredKeyIDs returns the IDs of the published keys that are retired.
func retiredKeyIDs(ks []publishedKey) []crypto.KeyID {
	var out []crypto.KeyID
	for _, k := range ks {
		if k.State == keys.Retired {
			out = append(out, k.ID)
		}
	}
	return out
}

// firstLine returns an error's message up to its first line break, leaving
// out hints.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
