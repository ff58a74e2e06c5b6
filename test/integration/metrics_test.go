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

package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/test/testenv"
)

// The controller serves metrics as kubebuilder v4 does (issue 14): over
// HTTPS, to a client only if the API server authenticates its token
// (TokenReview) and authorizes it to GET /metrics (SubjectAccessReview).
// It runs with exactly config/rbac's rights, which must include making
// those reviews, and a scraper needs only the shipped gitseal-metrics-reader
// ClusterRole. Metrics name namespaces and reasons, so they are no one's
// business without it (C5).
func TestMetricsAreServedOnlyToAuthorizedScrapers(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ns := newNamespace(ctx, t)
	metricsAddr, probeAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	p := testenv.StartController(t, env.ControllerKubeconfig(t, ns), // the default: --metrics-secure
		"--namespace", ns, "--watch-namespaces", ns, "--key-type", "x25519", "--http-bind-address", "",
		"--health-probe-bind-address", probeAddr, "--metrics-bind-address", metricsAddr)
	testenv.WaitFor(t, "the controller ready with its key", time.Minute, func() error {
		if p.Exited() {
			t.Fatalf("the controller exited:\n%s", p.Output())
		}
		return get(ctx, "http://"+probeAddr+"/readyz")
	})

	for _, name := range []string{"scraper", "stranger"} {
		must(t, env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}))
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "gitseal-metrics-reader-" + ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "gitseal-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "scraper"}},
	}
	must(t, env.Client.Create(ctx, binding))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), binding) })
	// The controller caches a denial for 30 s: scrape only once the API
	// server's RBAC has the binding.
	testenv.WaitFor(t, "the API server to let the scraper read /metrics", 30*time.Second, func() error {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:                  "system:serviceaccount:" + ns + ":scraper",
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
		}}
		if err := env.Client.Create(ctx, sar); err != nil {
			return err
		}
		if !sar.Status.Allowed {
			return fmt.Errorf("not allowed yet: %s", sar.Status.Reason)
		}
		return nil
	})

	// The certificate is self-signed, as with the shipped ServiceMonitor:
	// the token, not the certificate, guards the endpoint.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the self-signed default, as config/prometheus scrapes it
	}}
	scrape := func(url, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		must(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		must(t, err)
		return resp.StatusCode, string(body)
	}
	// The health probe answers before the secure metrics server, which
	// sets up its authentication first, listens.
	testenv.WaitFor(t, "the metrics server to listen", 30*time.Second, func() error {
		conn, err := net.DialTimeout("tcp", metricsAddr, time.Second)
		if err == nil {
			_ = conn.Close()
		}
		return err
	})
	url := "https://" + metricsAddr + "/metrics"
	if code, _ := scrape(url, ""); code != http.StatusUnauthorized {
		t.Errorf("a scrape without a token got %d, want 401", code)
	}
	// controller-runtime answers 500 when the TokenReview carries an error,
	// as it does for a token that is no JWT at all.
	if code, body := scrape(url, "not-a-token"); code == http.StatusOK || strings.Contains(body, "gitseal_") {
		t.Errorf("a scrape with a forged token got %d with metrics", code)
	}
	if code, _ := scrape(url, env.ServiceAccountConfig(t, ns, "stranger").BearerToken); code != http.StatusForbidden {
		t.Errorf("a scrape by a ServiceAccount without gitseal-metrics-reader got %d, want 403", code)
	}
	code, body := scrape(url, env.ServiceAccountConfig(t, ns, "scraper").BearerToken)
	if code != http.StatusOK {
		t.Fatalf("a scrape by a ServiceAccount bound to gitseal-metrics-reader got %d, want 200:\n%s", code, body)
	}
	for _, want := range []string{`gitseal_keys{state="active"} 1`, "gitseal_key_active_created_timestamp_seconds ", "gitseal_key_renewal_period_seconds 2.592e+06"} {
		if !strings.Contains(body, want) {
			t.Errorf("the metrics lack %q", want)
		}
	}
	if err := get(ctx, "http://"+metricsAddr+"/metrics"); err == nil {
		t.Error("metrics are served over plain HTTP too")
	}
	if strings.Contains(p.Output(), "forbidden") {
		t.Errorf("the controller hit a forbidden request:\n%s", p.Output())
	}
}
