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

// Package crypto is gitseal's sealing format: age encryption of one Secret
// value inside an envelope that binds it to its scope, namespace, name and
// item key.
//
// Seal encrypts a value to one or more public keys ([Recipient]) of a single
// kind: post-quantum [Hybrid] (ML-KEM-768 + X25519, the default) or classic
// [X25519]. Open decrypts it with private keys ([Identity]) and returns the
// value only after the whole payload is authenticated and its binding matches
// where it was found. Inspect reads what can be read without a key.
//
// Writers write format 2: SealObject seals all items of one object under a
// fresh data key wrapped for each recipient, OpenObject opens them (and
// format-1 values alike), (*Object).Add adds items offline under a new data
// key, and Rewrap re-wraps the data keys for new recipients without
// changing any value. Seal, Open and Inspect are format 1, which readers
// keep reading.
//
// The package knows nothing about Kubernetes and imports only age and the
// standard library. The format is specified in docs/format.md.
package crypto
