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

// Package health waits for applied objects to be ready as kstatus judges
// them: the readiness check of a GitSync's spec.wait.
package health

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitseal/gitseal/internal/apply"
)

// pollInterval paces the readiness checks.
const pollInterval = time.Second

// ErrFailed is wrapped by Wait's error when an object failed (kstatus
// Failed): waiting longer cannot help.
var ErrFailed = errors.New("failed")

// NotReadyError is Wait's error when ctx ended before every object was
// ready.
type NotReadyError struct {
	// Objects says, for each object not ready, what it is and its last
	// status: "Kind namespace/name (InProgress: message)", or "(not
	// checked yet)".
	Objects []string
}

// maxListed caps the objects that NotReadyError's message lists.
const maxListed = 5

func (e *NotReadyError) Error() string {
	list := strings.Join(e.Objects, ", ")
	if len(e.Objects) > maxListed {
		list = fmt.Sprintf("%s and %d more", strings.Join(e.Objects[:maxListed], ", "), len(e.Objects)-maxListed)
	}
	return fmt.Sprintf("%d objects were not ready in time: %s", len(e.Objects), list)
}

// Wait waits, until ctx ends, for every object of refs to be ready as
// kstatus judges it. An object that is Current is not read again; one that
// Failed ends the wait at once. Secrets are taken as ready without being
// read: a GitSync never needs their data. It returns nil once every object
// is ready; a *NotReadyError when ctx ends first; an error wrapping
// ErrFailed when an object failed; and the error of a read that fails
// otherwise, which names the object.
func Wait(ctx context.Context, c client.Reader, refs []apply.ObjectRef) error {
	pending := make([]apply.ObjectRef, 0, len(refs))
	for _, ref := range refs {
		if ref.Group != "" || ref.Kind != "Secret" {
			pending = append(pending, ref)
		}
	}
	notReady := map[apply.ObjectRef]string{}
	timedOut := func() error {
		list := make([]string, 0, len(pending))
		for _, ref := range pending {
			list = append(list, cmp.Or(notReady[ref], ref.Describe()+" (not checked yet)"))
		}
		return &NotReadyError{Objects: list}
	}
	for {
		var still []apply.ObjectRef
		for i, ref := range pending {
			st, msg, err := objectStatus(ctx, c, ref)
			if err != nil {
				if ctx.Err() != nil {
					pending = append(still, pending[i:]...)
					return timedOut()
				}
				return fmt.Errorf("read %s: %w", ref.Describe(), err)
			}
			switch st {
			case status.CurrentStatus:
				delete(notReady, ref)
				continue
			case status.FailedStatus:
				return fmt.Errorf("%s %w: %s", ref.Describe(), ErrFailed, msg)
			}
			notReady[ref] = fmt.Sprintf("%s (%s: %s)", ref.Describe(), st, msg)
			still = append(still, ref)
		}
		pending = still
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return timedOut()
		case <-time.After(pollInterval):
		}
	}
}

// objectStatus reads one object and computes its kstatus.
func objectStatus(ctx context.Context, c client.Reader, ref apply.ObjectRef) (status.Status, string, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: ref.Group, Version: ref.Version, Kind: ref.Kind})
	err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, u)
	if apierrors.IsNotFound(err) {
		return status.NotFoundStatus, "not found", nil
	}
	if err != nil {
		return "", "", err
	}
	res, err := status.Compute(u)
	if err != nil {
		return status.UnknownStatus, err.Error(), nil
	}
	return res.Status, res.Message, nil
}
