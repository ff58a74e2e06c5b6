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

package webhook

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
)

// PathPrefix is where receivers are served: POST PathPrefix + <name>, the
// name of the receiver's Secret.
const PathPrefix = "/hook/"

// LabelReceiver marks a Secret in the controller's namespace as a webhook
// receiver; its value is the Provider, and its data key TokenKey holds the
// shared secret.
const (
	LabelReceiver = "gitseal.dev/webhook-receiver"
	TokenKey      = "token"
)

// MaxBodyBytes is the default cap on a request body: push events are far
// smaller.
const MaxBodyBytes = 1 << 20

// Receiver is one endpoint's provider and shared secret.
type Receiver struct {
	Provider Provider
	Token    []byte
}

// Response is the body of a 202: how many GitSyncs were asked to sync,
// never which.
type Response struct {
	Triggered int `json:"triggered"`
}

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// Receiver looks up a receiver by name; found is false when there is
	// none (or it is unusable). An error is one of the lookup itself.
	Receiver func(ctx context.Context, name string) (r Receiver, found bool, err error)
	// Trigger asks every GitSync that the push concerns to sync, and
	// returns how many it asked; an error may follow some that succeeded.
	Trigger func(ctx context.Context, e Event) (int, error)
	// RequestsPerSecond and Burst limit all requests, signed or not, before
	// any work is done. Default 10 and 50.
	RequestsPerSecond float64
	Burst             int
	// MaxBodyBytes caps a body; default MaxBodyBytes.
	MaxBodyBytes int64
	Log          logr.Logger
}

// NewHandler serves POST PathPrefix+"{name}". A request that is not signed
// with the named receiver's secret, or names no receiver, gets 401 with
// the same fixed body, so receivers can't be probed; a body over the cap
// gets 413, a request over the rate limit 429 with Retry-After. A signed
// push gets 202 and the number of GitSyncs triggered; a signed event that
// is not a push gets 202 with none. Neither the secret nor the payload is
// ever logged or answered.
func NewHandler(opts HandlerOptions) http.Handler {
	if opts.RequestsPerSecond <= 0 {
		opts.RequestsPerSecond = 10
	}
	if opts.Burst <= 0 {
		opts.Burst = 50
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = MaxBodyBytes
	}
	h := &handler{opts: opts, limit: rate.NewLimiter(rate.Limit(opts.RequestsPerSecond), opts.Burst)}
	// An unknown receiver is checked against a random secret, so that it
	// costs the same as a wrong signature.
	h.decoy = make([]byte, 32)
	_, _ = rand.Read(h.decoy)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathPrefix+"{name}", h.serve)
	return mux
}

type handler struct {
	opts  HandlerOptions
	limit *rate.Limiter
	decoy []byte
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if res := h.limit.ReserveN(now, 1); res.DelayFrom(now) > 0 {
		d := res.DelayFrom(now)
		res.CancelAt(now)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
		writeJSON(w, http.StatusTooManyRequests, errorBody{"rate limit exceeded, retry after the time in Retry-After"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{"request body too large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody{"could not read the request body"})
		return
	}
	name := r.PathValue("name")
	log := h.opts.Log.WithValues("receiver", name)
	rcv, found, err := h.opts.Receiver(r.Context(), name)
	if err != nil {
		log.Error(err, "look up webhook receiver")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{"try again later"})
		return
	}
	if !found {
		rcv = Receiver{Provider: Generic, Token: h.decoy}
	}
	e, err := Verify(rcv.Provider, rcv.Token, r.Header, body)
	if !found || errors.Is(err, ErrUnauthorized) {
		log.V(1).Info("webhook request refused: unknown receiver or bad signature")
		writeJSON(w, http.StatusUnauthorized, errorBody{"unauthorized"})
		return
	}
	if err != nil {
		log.Info("signed webhook payload refused", "provider", rcv.Provider, "error", err.Error())
		writeJSON(w, http.StatusBadRequest, errorBody{ErrBadPayload.Error()})
		return
	}
	if !e.Push {
		log.V(1).Info("signed webhook event ignored: not a push", "provider", rcv.Provider)
		writeJSON(w, http.StatusAccepted, Response{})
		return
	}
	n, err := h.opts.Trigger(r.Context(), e)
	if err != nil {
		log.Error(err, "request syncs for a push", "provider", rcv.Provider, "triggered", n)
		writeJSON(w, http.StatusInternalServerError, errorBody{"could not request every sync; retry the delivery"})
		return
	}
	log.Info("push received", "provider", rcv.Provider, "refs", len(e.Refs), "triggered", n)
	writeJSON(w, http.StatusAccepted, Response{Triggered: n})
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
