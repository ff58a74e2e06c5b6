package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
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
	// RequestsPerSecond and Burst limit re-seal and validate requests,
	// which do private-key work, across all clients.
	RequestsPerSecond float64
	Burst             int
	Log               logr.Logger
}

// NewServer returns the handler of the controller's HTTP API over the ring.
// It never returns or logs plaintext: re-sealing gives back only ciphertext
// for the cluster's own keys, and validation only a yes or no with a reason.
func NewServer(ring *keys.Ring, opts ServerOptions) http.Handler {
	if opts.RequestsPerSecond <= 0 {
		opts.RequestsPerSecond, opts.Burst = 10, 20
	}
	s := &server{ring: ring, limit: rate.NewLimiter(rate.Limit(opts.RequestsPerSecond), max(opts.Burst, 1)), log: opts.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathKeys, s.keys)
	mux.HandleFunc("POST "+PathReseal, s.limited(s.reseal))
	mux.HandleFunc("POST "+PathValidate, s.limited(s.validate))
	return mux
}

type server struct {
	ring  *keys.Ring
	limit *rate.Limiter
	log   logr.Logger
}

func (s *server) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, KeysResponse{Keys: s.ring.Public()})
}

func (s *server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.limit.Allow() {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, errors.New("rate limit exceeded, retry shortly"))
			return
		}
		h(w, r)
	}
}

func (s *server) reseal(w http.ResponseWriter, r *http.Request) {
	ss, ok := s.decode(w, r)
	if !ok {
		return
	}
	active := s.ring.Active()
	if active == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("the controller has no active key yet"))
		return
	}
	var keep func(string, *crypto.Info) bool
	if r.URL.Query().Get("onlyRetired") == "true" {
		keep = func(_ string, info *crypto.Info) bool { return !slices.ContainsFunc(info.KeyIDs, s.retired) }
	}
	out, changed, err := sealer.Reseal(ss, s.ring.Identities(), []*crypto.Recipient{active.Identity.Recipient()}, keep)
	if err != nil {
		s.log.V(1).Info("reseal refused", "namespace", ss.Namespace, "name", ss.Name, "error", err.Error())
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	out.Status = gitsealv1alpha1.SealedSecretStatus{}
	writeJSON(w, http.StatusOK, ResealResponse{SealedSecret: out, Changed: changed})
}

func (s *server) retired(id crypto.KeyID) bool {
	state, _ := s.ring.State(id)
	return state == keys.Retired
}

func (s *server) validate(w http.ResponseWriter, r *http.Request) {
	ss, ok := s.decode(w, r)
	if !ok {
		return
	}
	opened, err := sealer.Open(ss, s.ring.Identities())
	if err != nil {
		resp := ValidateResponse{Reason: gitsealv1alpha1.ReasonInvalidSpec, Message: err.Error()}
		if serr, ok := errors.AsType[*sealer.Error](err); ok {
			resp.Reason, resp.Item = serr.Reason, serr.Item
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	opened.Wipe()
	ids := make([]string, len(opened.KeyIDs))
	for i, id := range opened.KeyIDs {
		ids[i] = string(id)
	}
	writeJSON(w, http.StatusOK, ValidateResponse{Valid: true, KeyIDs: ids})
}

// decode reads a SealedSecret from the request, within MaxRequestBytes.
func (s *server) decode(w http.ResponseWriter, r *http.Request) (*gitsealv1alpha1.SealedSecret, bool) {
	var ss gitsealv1alpha1.SealedSecret
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err := dec.Decode(&ss); err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("request body exceeds %d bytes", MaxRequestBytes))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, errors.New("body is not a SealedSecret in JSON"))
		return nil, false
	}
	if ss.Name == "" || ss.Namespace == "" || len(ss.Spec.EncryptedData) == 0 {
		writeError(w, http.StatusBadRequest, errors.New("the SealedSecret needs metadata.name, metadata.namespace and spec.encryptedData"))
		return nil, false
	}
	return &ss, true
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
