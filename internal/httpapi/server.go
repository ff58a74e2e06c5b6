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

package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/sealer"
)

// ServerOptions tune the server.
type ServerOptions struct {
	// ObjectsPerSecond and Burst limit the SealedSecrets re-sealed and
	// validated, which is private-key work, across all clients and
	// requests: an object in a batch counts as much as a request of its
	// own. Burst is at least MaxBatchItems.
	ObjectsPerSecond float64
	Burst            int
	Log              logr.Logger
}

// NewServer returns the handler of the controller's HTTP API over the ring.
// It never returns or logs plaintext: re-sealing gives back only ciphertext
// for the cluster's own keys, and validation only a yes or no with a reason.
// Over the rate limit it answers 429 with Retry-After.
func NewServer(ring *keys.Ring, opts ServerOptions) http.Handler {
	if opts.ObjectsPerSecond <= 0 {
		opts.ObjectsPerSecond = 200
	}
	s := &server{ring: ring, limit: rate.NewLimiter(rate.Limit(opts.ObjectsPerSecond), max(opts.Burst, MaxBatchItems)), log: opts.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathKeys, s.keys)
	mux.HandleFunc("POST "+PathReseal, s.reseal)
	mux.HandleFunc("POST "+PathValidate, s.validate)
	mux.HandleFunc("POST "+PathResealBatch, s.resealBatch)
	mux.HandleFunc("POST "+PathValidateBatch, s.validateBatch)
	return mux
}

type server struct {
	ring  *keys.Ring
	limit *rate.Limiter
	log   logr.Logger
}

func (s *server) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, KeysResponse{Keys: s.ring.Public(), Retired: s.ring.Retired()})
}

// allow takes n objects' worth from the rate limit, or answers 429 with
// the seconds to wait in Retry-After and returns false.
func (s *server) allow(w http.ResponseWriter, n int) bool {
	now := time.Now()
	r := s.limit.ReserveN(now, n)
	if !r.OK() {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("at most %d objects per request", s.limit.Burst()))
		return false
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
		writeError(w, http.StatusTooManyRequests, errors.New("rate limit exceeded, retry after the time in Retry-After"))
		return false
	}
	return true
}

func (s *server) reseal(w http.ResponseWriter, r *http.Request) {
	var ss gitsealv1alpha1.SealedSecret
	if !decode(w, r, &ss) || !checkObject(w, &ss) || !s.allow(w, 1) {
		return
	}
	resp, status, err := s.resealOne(&ss, r.URL.Query().Get("onlyRetired") == "true")
	if err != nil {
		writeError(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *server) resealBatch(w http.ResponseWriter, r *http.Request) {
	var req BatchRequest
	if !decode(w, r, &req) || !checkBatch(w, &req) || !s.allow(w, len(req.Items)) {
		return
	}
	onlyRetired := r.URL.Query().Get("onlyRetired") == "true"
	out := ResealBatchResponse{Items: make([]ResealResult, len(req.Items))}
	for i := range req.Items {
		resp, status, err := s.resealOne(&req.Items[i], onlyRetired)
		if status == http.StatusServiceUnavailable {
			writeError(w, status, err)
			return
		}
		out.Items[i] = ResealResult{ResealResponse: resp}
		if err != nil {
			out.Items[i].Error = err.Error()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// resealOne re-seals one object to the active key, keeping every value's
// authenticated binding. The status says how to answer an error.
func (s *server) resealOne(ss *gitsealv1alpha1.SealedSecret, onlyRetired bool) (ResealResponse, int, error) {
	if err := objectError(ss); err != nil {
		return ResealResponse{}, http.StatusBadRequest, err
	}
	active := s.ring.Active()
	if active == nil {
		return ResealResponse{}, http.StatusServiceUnavailable, errors.New("the controller has no active key yet")
	}
	var keep sealer.Keep
	if onlyRetired {
		keep = func(_ int, info *crypto.Info) bool { return !slices.ContainsFunc(info.KeyIDs, s.retired) }
	}
	out, changed, err := sealer.Reseal(ss, s.ring.Identities(), []*crypto.Recipient{active.Identity.Recipient()}, keep)
	if err != nil {
		s.log.V(1).Info("reseal refused", "namespace", ss.Namespace, "name", ss.Name, "error", err.Error())
		return ResealResponse{}, http.StatusUnprocessableEntity, err
	}
	out.Status = gitsealv1alpha1.SealedSecretStatus{}
	return ResealResponse{SealedSecret: out, Changed: changed}, http.StatusOK, nil
}

func (s *server) retired(id crypto.KeyID) bool {
	state, _ := s.ring.State(id)
	return state == keys.Retired
}

func (s *server) validate(w http.ResponseWriter, r *http.Request) {
	var ss gitsealv1alpha1.SealedSecret
	if !decode(w, r, &ss) || !checkObject(w, &ss) || !s.allow(w, 1) {
		return
	}
	writeJSON(w, http.StatusOK, s.validateOne(&ss))
}

func (s *server) validateBatch(w http.ResponseWriter, r *http.Request) {
	var req BatchRequest
	if !decode(w, r, &req) || !checkBatch(w, &req) || !s.allow(w, len(req.Items)) {
		return
	}
	out := ValidateBatchResponse{Items: make([]ValidateResponse, len(req.Items))}
	for i := range req.Items {
		out.Items[i] = s.validateOne(&req.Items[i])
	}
	writeJSON(w, http.StatusOK, out)
}

// validateOne says whether ss opens with the ring's keys, never how its
// values read, and which retired keys its values are sealed to.
func (s *server) validateOne(ss *gitsealv1alpha1.SealedSecret) ValidateResponse {
	if err := objectError(ss); err != nil {
		return ValidateResponse{Reason: gitsealv1alpha1.ReasonInvalidSpec, Message: err.Error()}
	}
	retired := s.retiredIn(ss)
	opened, err := sealer.Open(ss, s.ring.Identities())
	if err != nil {
		resp := ValidateResponse{Reason: gitsealv1alpha1.ReasonInvalidSpec, Message: err.Error(), RetiredKeyIDs: retired}
		if serr, ok := errors.AsType[*sealer.Error](err); ok {
			resp.Reason, resp.Item = serr.Reason, serr.Item
		}
		return resp
	}
	opened.Wipe()
	ids := make([]string, len(opened.KeyIDs))
	for i, id := range opened.KeyIDs {
		ids[i] = string(id)
	}
	return ValidateResponse{Valid: true, KeyIDs: ids, RetiredKeyIDs: retired}
}

// retiredIn returns the retired keys that any item of ss is sealed to,
// sorted: by the key IDs each value (or, in format 2, its data key)
// records, as reseal with onlyRetired picks the objects to move. A value that does not parse has none.
func (s *server) retiredIn(ss *gitsealv1alpha1.SealedSecret) []string {
	var out []string
	for _, v := range ss.Spec.EncryptedData {
		info, err := crypto.InspectValue(string(v), ss.Spec.DataKeys)
		if err != nil {
			continue
		}
		for _, id := range info.KeyIDs {
			if s.retired(id) && !slices.Contains(out, string(id)) {
				out = append(out, string(id))
			}
		}
	}
	slices.Sort(out)
	return out
}

// decode reads the JSON request body into v, within MaxRequestBytes.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err := dec.Decode(v); err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("request body exceeds %d bytes", MaxRequestBytes))
			return false
		}
		writeError(w, http.StatusBadRequest, errors.New("body is not JSON of the expected shape"))
		return false
	}
	return true
}

func checkObject(w http.ResponseWriter, ss *gitsealv1alpha1.SealedSecret) bool {
	if err := objectError(ss); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return false
	}
	return true
}

func objectError(ss *gitsealv1alpha1.SealedSecret) error {
	if ss.Name == "" || ss.Namespace == "" || len(ss.Spec.EncryptedData) == 0 {
		return errors.New("the SealedSecret needs metadata.name, metadata.namespace and spec.encryptedData")
	}
	return nil
}

func checkBatch(w http.ResponseWriter, req *BatchRequest) bool {
	switch {
	case len(req.Items) == 0:
		writeError(w, http.StatusBadRequest, errors.New("the batch has no items"))
		return false
	case len(req.Items) > MaxBatchItems:
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("at most %d items per batch", MaxBatchItems))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, ErrorResponse{Error: err.Error()})
}

// NewHTTPServer wraps a handler with the timeouts a server on a cluster
// network needs.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
