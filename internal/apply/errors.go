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

package apply

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

// ErrPrune is wrapped by every error from the prune step, after the
// whole set was applied. The wrapped error is an *Error or a transient one.
var ErrPrune = errors.New("prune failed")

// Error reports objects that Apply's own checks or the API server refused.
// The same request would be refused again, so a caller should wait for new
// input (or a change in the cluster, such as RBAC) rather than retry soon.
type Error struct {
	// Objects lists the refused objects in the order Apply met them.
	Objects []ObjectError
}

// ObjectError is one refused object.
type ObjectError struct {
	// Ref names the object; fields the object lacks are empty.
	Ref ObjectRef
	// Message says why: Apply's own words, which never include field
	// values, or the API server's message as given, cut to 300 bytes.
	Message string
}

// maxListed caps the objects that Error's message lists.
const maxListed = 5

func (e *Error) Error() string {
	var b strings.Builder
	n := len(e.Objects)
	fmt.Fprintf(&b, "%d object", n)
	if n != 1 {
		b.WriteString("s")
	}
	b.WriteString(" refused")
	for i, o := range e.Objects {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", n-maxListed)
			break
		}
		fmt.Fprintf(&b, "; %s: %s", o.Ref, o.Message)
	}
	return b.String()
}

// maxMessage caps an API server message kept in an error. Messages name
// fields, and for a few validations echo a value; the cap bounds what
// could be echoed.
const maxMessage = 300

// capMessage cuts s to maxMessage bytes on a rune boundary, marking the cut.
func capMessage(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// cappedError is an error whose message is cut by capMessage; errors.Is and
// errors.As still see the original.
type cappedError struct {
	msg string
	err error
}

func (e *cappedError) Error() string { return e.msg }
func (e *cappedError) Unwrap() error { return e.err }

func capError(err error) error {
	return &cappedError{msg: capMessage(err.Error()), err: err}
}

// typedPatchFailure starts the message of the 500 with which the API server
// answers a server-side apply whose object does not fit the schema: a
// wrong type, an undeclared field, a duplicate list key. The input is at
// fault (kubernetes/kubernetes#139253), so it is not transient.
const typedPatchFailure = "failed to create typed patch object"

// transient reports whether err is worth retrying unchanged: the API server
// (or the network to it) failed, was overloaded, timed out, or reported a
// conflict with a concurrent write, or the caller's context ended. An
// unknown kind, an object that does not fit the schema, and the API
// server's other 4xx answers (invalid, forbidden, not found, too large) are
// not transient.
func transient(err error) bool {
	if err == nil || meta.IsNoMatchError(err) {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true // no answer from the API server: network, context, discovery
	}
	code := int(status.Status().Code)
	if code == http.StatusInternalServerError && strings.HasPrefix(status.Status().Message, typedPatchFailure) {
		return false
	}
	switch {
	case code >= http.StatusInternalServerError,
		code == http.StatusTooManyRequests,
		code == http.StatusRequestTimeout,
		code == http.StatusConflict:
		return true
	case code == 0:
		// A status without a code: only the reason tells.
		return apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) ||
			apierrors.IsTooManyRequests(err) || apierrors.IsInternalError(err) ||
			apierrors.IsServiceUnavailable(err) || apierrors.IsConflict(err)
	}
	return false
}

// refusal turns err from an API call for ref into an *Error or, when it is
// transient, into an error wrapping it that names op and ref.
func refusal(op string, ref ObjectRef, err error) error {
	if transient(err) {
		return fmt.Errorf("%s %s: %w", op, ref, capError(err))
	}
	return &Error{Objects: []ObjectError{{Ref: ref, Message: capMessage(err.Error())}}}
}
