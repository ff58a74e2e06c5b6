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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/keys"
)

// maxResponseBytes caps an answer: re-sealed objects plus JSON overhead.
const maxResponseBytes = 2 * MaxRequestBytes

// Client calls the controller's HTTP API, either through the API server's
// service proxy (NewServiceProxy) or directly (New). It is safe for
// concurrent use.
type Client struct {
	base *url.URL
	hc   *http.Client
	via  string
}

// New returns a client for the API served at baseURL, such as
// http://127.0.0.1:8080. A nil hc means http.DefaultClient.
func New(baseURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("controller URL %q: want http(s)://host[:port][/path]", redactURL(baseURL))
	}
	if u.User != nil {
		return nil, fmt.Errorf("controller URL %q: credentials in the URL are not supported", redactURL(baseURL))
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: u, hc: hc, via: u.Redacted()}, nil
}

// NewServiceProxy returns a client that reaches the controller's Service
// through the API server's service proxy,
// /api/v1/namespaces/<namespace>/services/http:<service>:<port>/proxy/,
// with cfg's credentials. port is the Service port's name or number.
func NewServiceProxy(cfg *rest.Config, namespace, service, port string) (*Client, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("api server client: %w", err)
	}
	u, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("api server URL: %w", err)
	}
	u.Path = path.Join("/", u.Path, "api/v1/namespaces", namespace, "services", "http:"+service+":"+port, "proxy")
	return &Client{base: u, hc: hc, via: fmt.Sprintf("the API server's proxy to service %s/%s", namespace, service)}, nil
}

// Via describes how the client reaches the controller, for messages.
func (c *Client) Via() string { return c.via }

// StatusError is an answer with a status other than 2xx. Message is the
// server's explanation: the controller's ErrorResponse, or the API server's
// Status message when the proxy itself refused.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("HTTP %d: %s", e.Code, e.Message)
}

// Keys returns what the controller publishes about its keys, in the form
// of the public keys ConfigMap's keys.json: the keys that are not retired,
// newest first, then each retired key by ID alone (keys.RetiredPublicKey:
// state retired, no public key), if the controller says which are.
// Errors: *StatusError for a non-2xx answer, or a transport error.
func (c *Client) Keys(ctx context.Context) ([]keys.PublicKey, error) {
	var resp KeysResponse
	if err := c.do(ctx, http.MethodGet, PathKeys, nil, nil, &resp); err != nil {
		return nil, err
	}
	out := resp.Keys
	for _, id := range resp.Retired {
		out = append(out, keys.RetiredPublicKey(id))
	}
	return out, nil
}

// Reseal asks the controller to re-seal ss to its current key; with
// onlyRetired, only the values still sealed to retired keys. Plaintext never
// leaves the cluster. Errors: *StatusError, or a transport error.
func (c *Client) Reseal(ctx context.Context, ss *gitsealv1alpha1.SealedSecret, onlyRetired bool) (*ResealResponse, error) {
	var q url.Values
	if onlyRetired {
		q = url.Values{"onlyRetired": {"true"}}
	}
	var resp ResealResponse
	if err := c.do(ctx, http.MethodPost, PathReseal, q, ss, &resp); err != nil {
		return nil, err
	}
	if resp.SealedSecret == nil {
		return nil, fmt.Errorf("POST %s: the answer has no sealedSecret", PathReseal)
	}
	return &resp, nil
}

// Validate asks the controller whether ss would open in its cluster. An
// invalid object is a ValidateResponse with Valid false, not an error.
// Errors: *StatusError, or a transport error.
func (c *Client) Validate(ctx context.Context, ss *gitsealv1alpha1.SealedSecret) (*ValidateResponse, error) {
	var resp ValidateResponse
	if err := c.do(ctx, http.MethodPost, PathValidate, nil, ss, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// ResealBatch re-seals many objects as Reseal does, in as few requests as
// the server's limits allow (MaxBatchItems and MaxRequestBytes per
// request). The results are in the order of items; an object the
// controller refuses has Error set and does not fail the others. An object
// too large to send gets an Error without a request. Errors: *StatusError,
// or a transport error, for a request that failed as a whole.
func (c *Client) ResealBatch(ctx context.Context, items []*gitsealv1alpha1.SealedSecret, onlyRetired bool) ([]ResealResult, error) {
	var q url.Values
	if onlyRetired {
		q = url.Values{"onlyRetired": {"true"}}
	}
	out := make([]ResealResult, len(items))
	err := sendBatches(ctx, c, PathResealBatch, q, items, func(i int, r ResealResult) {
		if out[i] = r; r.Error == "" && r.SealedSecret == nil {
			out[i].Error = "the answer has no sealedSecret"
		}
	}, func(i int, err error) { out[i].Error = err.Error() })
	return out, err
}

// ValidateBatch validates many objects as Validate does, in as few
// requests as the server's limits allow. The answers are in the order of
// items. Errors as for ResealBatch.
func (c *Client) ValidateBatch(ctx context.Context, items []*gitsealv1alpha1.SealedSecret) ([]ValidateResponse, error) {
	out := make([]ValidateResponse, len(items))
	err := sendBatches(ctx, c, PathValidateBatch, nil, items, func(i int, r ValidateResponse) { out[i] = r },
		func(i int, err error) {
			out[i] = ValidateResponse{Reason: gitsealv1alpha1.ReasonInvalidSpec, Message: err.Error()}
		})
	return out, err
}

// sendBatches posts items to apiPath in batches (see batches) and hands
// each answer, with its item's index, to got; an answer of T per item, in
// order, is the batch endpoints' contract.
func sendBatches[T any](ctx context.Context, c *Client, apiPath string, q url.Values, items []*gitsealv1alpha1.SealedSecret,
	got func(int, T), tooLarge func(int, error)) error {
	return c.batches(items, func(idx []int, req BatchRequest) error {
		var resp struct {
			Items []T `json:"items"`
		}
		if err := c.do(ctx, http.MethodPost, apiPath, q, req, &resp); err != nil {
			return err
		}
		if len(resp.Items) != len(idx) {
			return fmt.Errorf("POST %s: %d answers for %d items", apiPath, len(resp.Items), len(idx))
		}
		for j, i := range idx {
			got(i, resp.Items[j])
		}
		return nil
	}, tooLarge)
}

// batchBytes leaves room under MaxRequestBytes for the request's framing.
const batchBytes = MaxRequestBytes - 4<<10

// batches groups items into requests of at most MaxBatchItems items and
// batchBytes of JSON and sends them in order with send, which gets the
// items' indexes. An item too large for any request goes to tooLarge.
func (c *Client) batches(items []*gitsealv1alpha1.SealedSecret, send func([]int, BatchRequest) error, tooLarge func(int, error)) error {
	var (
		idx  []int
		req  BatchRequest
		size int
	)
	flush := func() error {
		if len(idx) == 0 {
			return nil
		}
		err := send(idx, req)
		idx, req, size = nil, BatchRequest{}, 0
		return err
	}
	for i, ss := range items {
		raw, err := json.Marshal(ss)
		if err != nil {
			tooLarge(i, fmt.Errorf("encode: %w", err))
			continue
		}
		if len(raw) > batchBytes {
			tooLarge(i, fmt.Errorf("%s/%s is %d bytes, more than a request may carry (%d)", ss.Namespace, ss.Name, len(raw), batchBytes))
			continue
		}
		if len(idx) == MaxBatchItems || size+len(raw)+1 > batchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		idx = append(idx, i)
		req.Items = append(req.Items, *ss)
		size += len(raw) + 1
	}
	return flush()
}

// Retries of a request the controller asked to repeat.
const (
	maxAttempts   = 8
	maxRetryAfter = 30 * time.Second
	firstBackoff  = 250 * time.Millisecond
)

// do sends one request and decodes the answer into out. A 429, or a 503
// with Retry-After, is retried after the server's Retry-After (capped at
// maxRetryAfter), or else after an exponential backoff, up to maxAttempts
// times or until ctx ends.
func (c *Client) do(ctx context.Context, method, apiPath string, query url.Values, body, out any) error {
	u := *c.base
	u.Path = path.Join("/", u.Path, apiPath)
	u.RawQuery = query.Encode()
	var payload []byte
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		payload = raw
	}
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		raw, retryAfter, err := c.once(ctx, method, u.String(), apiPath, payload)
		se, isStatus := errors.AsType[*StatusError](err)
		retry := isStatus && (se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable && retryAfter > 0)
		if !retry || attempt == maxAttempts {
			if err != nil {
				return err
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("%s %s: decode answer: %w", method, apiPath, err)
			}
			return nil
		}
		wait := backoff
		if retryAfter > 0 {
			wait = min(retryAfter, maxRetryAfter)
		}
		backoff = min(2*backoff, maxRetryAfter)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up waiting to retry: %w)", err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// once sends one request and returns the answer's body, and the
// Retry-After it asked for, if any.
func (c *Client) once(ctx context.Context, method, rawURL, apiPath string, payload []byte) ([]byte, time.Duration, error) {
	var reqBody io.Reader
	if payload != nil {
		reqBody = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, reqBody)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, apiPath, err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s via %s: %w", method, apiPath, c.via, unwrapURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("%s %s: read answer: %w", method, apiPath, err)
	case len(raw) > maxResponseBytes:
		return nil, 0, fmt.Errorf("%s %s: answer exceeds %d bytes", method, apiPath, maxResponseBytes)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("%s %s via %s: %w", method, apiPath, c.via, &StatusError{Code: resp.StatusCode, Message: errorMessage(raw)})
	}
	return raw, 0, nil
}

// retryAfter reads a Retry-After header in seconds; 0 when absent or not
// a number of seconds.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// errorMessage extracts the explanation from an error body: the
// controller's ErrorResponse or a Kubernetes Status from the proxy.
func errorMessage(raw []byte) string {
	var body struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil {
		if body.Error != "" {
			return body.Error
		}
		if body.Message != "" {
			return body.Message
		}
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// unwrapURLError drops *url.Error's repetition of the method and URL,
// which already appear in the caller's message.
func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// redactURL hides any password in a URL that failed to parse or validate.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return "…@" + s[i+1:]
	}
	return s
}
