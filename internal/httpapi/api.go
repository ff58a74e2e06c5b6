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

// Package httpapi is the controller's HTTP API, used by the CLI through the
// API server's service proxy or directly (--controller-url): the published
// keys, re-sealing and validation. This file is the contract; server.go
// serves it and client.go calls it.
package httpapi

import (
	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
)

// Paths served by the controller.
const (
	// PathKeys: GET returns KeysResponse.
	PathKeys = "/v1/keys"
	// PathReseal: POST a SealedSecret (JSON) and get back ResealResponse:
	// the object re-sealed to the active key in format 2. Its data keys are
	// re-wrapped, so format-2 values come back byte for byte the same;
	// format-1 values are opened and sealed again in format 2, inside the
	// controller. With ?onlyRetired=true only an object with a data key or
	// value on a retired key is re-sealed; others come back unchanged.
	PathReseal = "/v1/reseal"
	// PathValidate: POST a SealedSecret (JSON) and get back
	// ValidateResponse: whether it would open in this cluster, and why not.
	PathValidate = "/v1/validate"
	// PathResealBatch: POST a BatchRequest and get back a
	// ResealBatchResponse, one result per item, in order. ?onlyRetired=true
	// works as for PathReseal.
	PathResealBatch = "/v1/reseal/batch"
	// PathValidateBatch: POST a BatchRequest and get back a
	// ValidateBatchResponse, one answer per item, in order.
	PathValidateBatch = "/v1/validate/batch"
)

// Where the controller is found by default.
const (
	DefaultNamespace   = "gitseal-system"
	DefaultServiceName = "gitseal"
	// DefaultServicePort is the Service port's name.
	DefaultServicePort = "http"
)

// MaxRequestBytes caps a request body: a SealedSecret can't exceed what
// etcd stores (1.5 MiB), plus room for JSON.
const MaxRequestBytes = 3 << 20

// MaxBatchItems caps the items of one batch request. Every item counts
// against the rate limit, as a request of its own would.
const MaxBatchItems = 500

// BatchRequest carries several SealedSecrets, each handled on its own: one
// that fails does not fail the others.
type BatchRequest struct {
	Items []gitsealv1alpha1.SealedSecret `json:"items"`
}

// ResealResult is one item's answer in a batch: the re-sealed object and
// the item keys that changed, or why it was refused.
type ResealResult struct {
	ResealResponse
	Error string `json:"error,omitempty"`
}

// ResealBatchResponse answers a BatchRequest to PathResealBatch.
type ResealBatchResponse struct {
	Items []ResealResult `json:"items"`
}

// ValidateBatchResponse answers a BatchRequest to PathValidateBatch.
type ValidateBatchResponse struct {
	Items []ValidateResponse `json:"items"`
}

// KeysResponse lists the keys that are not retired, newest first, and the
// IDs of the retired ones.
type KeysResponse struct {
	Keys []keys.PublicKey `json:"keys"`
	// Retired are the IDs of the retired keys, newest first: never
	// sealed to. A controller that predates this field leaves it out.
	Retired []crypto.KeyID `json:"retired"`
}

// ResealResponse is the re-sealed object and the item keys whose keys
// changed (a format-2 value's text may stay the same: its data key moved).
type ResealResponse struct {
	SealedSecret *gitsealv1alpha1.SealedSecret `json:"sealedSecret"`
	Changed      []string                      `json:"changed"`
}

// ValidateResponse says whether a SealedSecret would open in the cluster.
// It never carries plaintext.
type ValidateResponse struct {
	Valid bool `json:"valid"`
	// Reason is an api Reason constant when Valid is false.
	Reason string `json:"reason,omitempty"`
	// Item is the first item key that fails, if any.
	Item string `json:"item,omitempty"`
	// Message explains the failure.
	Message string `json:"message,omitempty"`
	// KeyIDs are the IDs of the keys that open the items.
	KeyIDs []string `json:"keyIDs,omitempty"`
	// RetiredKeyIDs are the IDs of retired keys that any item is sealed
	// to, whether or not it is valid: re-seal the object (reseal with
	// onlyRetired) to move it off them.
	RetiredKeyIDs []string `json:"retiredKeyIDs,omitempty"`
}

// ErrorResponse is the body of every non-2xx answer.
type ErrorResponse struct {
	Error string `json:"error"`
}
