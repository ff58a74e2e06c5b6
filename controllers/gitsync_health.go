package controllers

import (
	"cmp"
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/apply"
)

// healthPollInterval paces the readiness checks of spec.wait.
const healthPollInterval = time.Second

// waitReady waits, until ctx ends, for every applied object to be ready as
// kstatus judges it. An object that is Current is not read again; one that
// Failed ends the wait at once. Secrets are taken as ready without being
// read: a GitSync never needs their data.
func waitReady(ctx context.Context, c client.Reader, refs []apply.ObjectRef, rev string) syncResult {
	pending := make([]apply.ObjectRef, 0, len(refs))
	for _, ref := range refs {
		if ref.Group != "" || ref.Kind != "Secret" {
			pending = append(pending, ref)
		}
	}
	notReady := map[apply.ObjectRef]string{}
	timedOut := func() syncResult {
		list := make([]string, 0, len(pending))
		for _, ref := range pending {
			list = append(list, cmp.Or(notReady[ref], refName(ref)+" (not checked yet)"))
		}
		return failed(gitsealv1alpha1.ReasonHealthCheckFailed, true, rev,
			"applied revision %s, but %d objects were not ready in time: %s", rev, len(pending), limitList(list, 5))
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
				return failed(gitsealv1alpha1.ReasonHealthCheckFailed, true, rev, "read %s: %v", refName(ref), err)
			}
			switch st {
			case status.CurrentStatus:
				delete(notReady, ref)
				continue
			case status.FailedStatus:
				return failed(gitsealv1alpha1.ReasonHealthCheckFailed, false, rev, "%s failed: %s", refName(ref), msg)
			}
			notReady[ref] = fmt.Sprintf("%s (%s: %s)", refName(ref), st, msg)
			still = append(still, ref)
		}
		pending = still
		if len(pending) == 0 {
			return syncResult{}
		}
		select {
		case <-ctx.Done():
			return timedOut()
		case <-time.After(healthPollInterval):
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

func refName(ref apply.ObjectRef) string {
	if ref.Namespace == "" {
		return ref.Kind + " " + ref.Name
	}
	return ref.Kind + " " + ref.Namespace + "/" + ref.Name
}
