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
	"errors"
	"fmt"
	"log"

	"github.com/gitseal/gitseal/crypto"
)

func Example() {
	// In the cluster: the controller's key. Only its public half leaves.
	cluster, err := crypto.GenerateIdentity(crypto.Hybrid)
	if err != nil {
		log.Fatal(err)
	}
	// On a laptop or in CI: seal a value for one object's item.
	b := crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "password"}
	sealed, err := crypto.Seal([]byte("hunter2"), b, cluster.Recipient())
	if err != nil {
		log.Fatal(err)
	}
	// In the cluster: open it where it was found.
	opened, err := crypto.Open(sealed, crypto.Binding{Namespace: "prod", Name: "db", Key: "password"}, cluster)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, sealed with %s scope\n", opened.Value, opened.Binding.Scope)
	// Output: hunter2, sealed with strict scope
}

func ExampleSeal_severalRecipients() {
	// Two clusters and an offline backup key: any one of them opens the value.
	var recipients []*crypto.Recipient
	for range 3 {
		id, _ := crypto.GenerateIdentity(crypto.Hybrid)
		recipients = append(recipients, id.Recipient())
	}
	b := crypto.Binding{Scope: crypto.Namespace, Namespace: "payments", Key: "api-token"}
	sealed, err := crypto.Seal([]byte("tok_live_123"), b, recipients...)
	if err != nil {
		log.Fatal(err)
	}
	info, _ := crypto.Inspect(sealed)
	fmt.Println(len(info.KeyIDs), "recipients of kind", info.Kind)
	// Output: 3 recipients of kind hybrid
}

func ExampleOpen_scopeMismatch() {
	id, _ := crypto.GenerateIdentity(crypto.X25519)
	b := crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "password"}
	sealed, _ := crypto.Seal([]byte("hunter2"), b, id.Recipient())

	// The same ciphertext copied into another namespace does not open there.
	_, err := crypto.Open(sealed, crypto.Binding{Namespace: "dev", Name: "db", Key: "password"}, id)
	fmt.Println(errors.Is(err, crypto.ErrScopeMismatch))
	fmt.Println(err)
	// Output:
	// true
	// scope mismatch: sealed for namespace "prod", not "dev"
}

func ExampleOpen_noMatchingKey() {
	id, _ := crypto.ParseIdentity("AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0") // gitseal:allow public C2SP age test vector
	other, _ := crypto.ParseRecipient("age1ueeg3qexpzxhrt4jsh5wzum6th3aqwxkcrr5rwekuyqcgekvrpus6qlp9k")
	sealed, _ := crypto.Seal([]byte("v"), crypto.Binding{Scope: crypto.Cluster, Key: "k"}, other)

	_, err := crypto.Open(sealed, crypto.Binding{Key: "k"}, id)
	fmt.Println(err)
	// Output: no matching key: sealed to 63b220c0208b3915; available keys: bdd7357af20706de
}

func ExampleInspect() {
	r, _ := crypto.ParseRecipient("age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef")
	sealed, _ := crypto.Seal([]byte("v"), crypto.Binding{Scope: crypto.Cluster, Key: "k"}, r)

	// No private key is needed to see which keys a value is sealed to.
	info, err := crypto.Inspect(sealed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.KeyIDs, info.Kind)
	// Output: [bdd7357af20706de] x25519
}

func ExampleSealObject() {
	cluster, _ := crypto.GenerateIdentity(crypto.Hybrid)
	// Format 2: one data key for the whole object, one short line per value.
	b := crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db"}
	o, err := crypto.SealObject(map[string][]byte{"username": []byte("app"), "password": []byte("hunter2")}, b, cluster.Recipient())
	if err != nil {
		log.Fatal(err)
	}
	opened := crypto.OpenObject(o, crypto.Binding{Namespace: "prod", Name: "db"}, cluster)
	fmt.Printf("%d data key, %s, %d errors, %s scope\n", len(o.DataKeys), opened.Values["password"], len(opened.Errors), opened.Binding.Scope)
	// Output: 1 data key, hunter2, 0 errors, strict scope
}

func ExampleObject_Add() {
	// --merge-into, offline: only public keys are needed.
	r, _ := crypto.ParseRecipient("age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef")
	b := crypto.Binding{Scope: crypto.Namespace, Namespace: "prod"}
	o, _ := crypto.SealObject(map[string][]byte{"password": []byte("hunter2")}, b, r)
	if err := o.Add(map[string][]byte{"token": []byte("t0k3n")}, b, r); err != nil {
		log.Fatal(err)
	}
	info, _ := crypto.InspectValue(o.Values["token"], o.DataKeys)
	fmt.Println(len(o.DataKeys), "data keys; token is sealed to", info.KeyIDs)
	// Output: 2 data keys; token is sealed to [bdd7357af20706de]
}

func ExampleRewrap() {
	oldKey, _ := crypto.GenerateIdentity(crypto.X25519)
	newKey, _ := crypto.GenerateIdentity(crypto.X25519)
	b := crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db"}
	o, _ := crypto.SealObject(map[string][]byte{"password": []byte("hunter2")}, b, oldKey.Recipient())
	before := o.Values["password"]

	// Rotation: the data key is wrapped again; the values do not change.
	err := crypto.Rewrap(o, crypto.Binding{Namespace: "prod", Name: "db"}, []*crypto.Identity{oldKey}, newKey.Recipient())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(o.Values["password"] == before)
	// Output: true
}
