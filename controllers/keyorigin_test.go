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

package controllers_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/test/testenv"
)

// Keys are generated in the cluster and added only by a restore (issue 9
// item 1; threat model: a SealedSecret author installs a sealing key). A
// SealedSecret in the controller's own namespace whose template asks for a
// key Secret is InvalidSpec (RELIABILITY C2), and its Secret is neither
// written nor changed (C1).
func TestASealedSecretCannotInstallASealingKey(t *testing.T) {
	env := cluster.Get(t)
	ns := env.Namespace(t, "gitseal")
	c := startController(t, setupOpts{ns: ns, watch: ns})
	r := c.activeKey(t)
	active := c.ring.Active().ID()

	evil := mustIdentity(t)
	future := time.Now().AddDate(10, 0, 0).UTC().Format(time.RFC3339Nano)
	keyLabels := map[string]string{keys.LabelSealingKey: "true", keys.LabelKeyID: string(evil.ID())}
	keyAnnotations := map[string]string{keys.AnnotationCreated: future}
	tests := []struct {
		name     string
		template gitsealv1alpha1.SecretTemplate
	}{
		{"the whole key Secret is refused", gitsealv1alpha1.SecretTemplate{
			Type:     string(keys.SecretType),
			Metadata: &gitsealv1alpha1.SecretTemplateMetadata{Labels: keyLabels, Annotations: keyAnnotations},
		}},
		{"the key Secret type alone is refused", gitsealv1alpha1.SecretTemplate{Type: string(keys.SecretType)}},
		{"the key labels on an Opaque Secret are refused", gitsealv1alpha1.SecretTemplate{
			Metadata: &gitsealv1alpha1.SecretTemplateMetadata{Labels: keyLabels},
		}},
		{"the creation time annotation is refused", gitsealv1alpha1.SecretTemplate{
			Metadata: &gitsealv1alpha1.SecretTemplateMetadata{Annotations: keyAnnotations},
		}},
		{"a subdomain of gitseal.dev is refused", gitsealv1alpha1.SecretTemplate{
			Metadata: &gitsealv1alpha1.SecretTemplateMetadata{Labels: map[string]string{"keys.gitseal.dev/x": "y"}},
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := c.sealed(t, fmt.Sprintf("%s%d", keys.SecretNamePrefix, i), crypto.Strict,
				map[string]string{keys.SecretDataKey: evil.SecretKey()}, r)
			ss.Spec.Template = &tt.template
			create(t, ss)
			got := waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonInvalidSpec)
			assertNoLeak(t, "status", fmt.Sprint(got.Status), evil.SecretKey())
			err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(ss), &corev1.Secret{})
			if !apierrors.IsNotFound(err) {
				t.Fatalf("the Secret was written: %v", err)
			}
		})
	}

	t.Run("an existing Secret is not changed when its template turns reserved", func(t *testing.T) {
		ss := c.sealed(t, "was-fine", crypto.Strict, map[string]string{"k": "v"}, r)
		create(t, ss)
		waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonSucceeded)
		var before corev1.Secret
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(ss), &before); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(ss), ss); err != nil {
			t.Fatal(err)
		}
		ss.Spec.Template = &gitsealv1alpha1.SecretTemplate{Metadata: &gitsealv1alpha1.SecretTemplateMetadata{Labels: keyLabels}}
		if err := env.Client.Update(t.Context(), ss); err != nil {
			t.Fatal(err)
		}
		waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonInvalidSpec)
		var after corev1.Secret
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(ss), &after); err != nil {
			t.Fatal(err)
		}
		if after.ResourceVersion != before.ResourceVersion {
			t.Errorf("the Secret changed: %v", after.Labels)
		}
	})

	if got := c.ring.Active().ID(); got != active {
		t.Errorf("active key is %s, want %s", got, active)
	}
	if n := len(keySecrets(t, ns)); n != 1 {
		t.Errorf("%d key Secrets, want 1", n)
	}
	if list, _ := c.publishedKeys(t); len(list) != 1 || list[0].ID != active {
		t.Errorf("published keys: %+v", list)
	}
}

// A key Secret that appears without having been generated or restored (here
// as the controller would write it for a SealedSecret or a GitSync, with the
// field manager "gitseal", and dated in the future so that it would be the
// newest) is never loaded, published or used; it raises a Warning and
// counts in gitseal_keys{state="untrusted"} (RELIABILITY C3), and the real
// key keeps working (C4).
func TestAKeyOfUnknownOriginIsNeverUsed(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	r := c.activeKey(t)
	active := c.ring.Active().ID()

	evil := mustIdentity(t)
	injected := keys.NewSecret(c.ns, evil, time.Now().AddDate(10, 0, 0))
	if err := env.Client.Create(t.Context(), injected, client.FieldOwner(controllers.FieldManager)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "a Warning about the key of unknown origin", func() error {
		var list eventsv1.EventList
		if err := env.Client.List(t.Context(), &list, client.InNamespace(c.ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == injected.Name && e.Reason == controllers.ReasonKeyOriginUnknown && e.Type == corev1.EventTypeWarning {
				assertNoLeak(t, "event", e.Note, evil.SecretKey())
				return nil
			}
		}
		return errors.New("no event")
	})
	testenv.Eventually(t, `gitseal_keys{state="untrusted"} is 1`, func() error {
		if v := gaugeValue(t, "gitseal_keys", "state", "untrusted"); v != 1 {
			return fmt.Errorf("gauge is %v", v)
		}
		return nil
	})
	if got := c.ring.Active().ID(); got != active {
		t.Fatalf("the injected key became active: %s", got)
	}
	if list, _ := c.publishedKeys(t); len(list) != 1 || list[0].ID != active {
		t.Errorf("published keys: %+v", list)
	}
	// It does not open a value sealed to it either.
	ss := c.sealed(t, "to-evil", crypto.Strict, map[string]string{"k": "v"}, evil.Recipient())
	create(t, ss)
	waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonNoMatchingKey)
	// And the one that was there still works.
	ok := c.sealed(t, "to-real", crypto.Strict, map[string]string{"k": "v"}, r)
	create(t, ok)
	waitReason(t, client.ObjectKeyFromObject(ok), gitsealv1alpha1.ReasonSucceeded)
	assertNoLeak(t, "controller logs", c.logs.String(), evil.SecretKey())
}

// gaugeValue reads one series of a gauge from the controller metrics
// registry, or -1 when it is missing.
func gaugeValue(t *testing.T, name, label, value string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
