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

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubectlConnectionFlagsReachTheCluster: kubectl's connection flags,
// which kubeseal users pass, reach the cluster as they do in kubectl,
// without a kubeconfig or on top of one, and a token is never printed
// (C5).
func TestKubectlConnectionFlagsReachTheCluster(t *testing.T) {
	c := startController(t, "")
	dir := t.TempDir()
	active, _ := c.activeKeyID(t)

	// A CI job's view: a ServiceAccount's token, the API server's address
	// and its CA, and no kubeconfig.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: c.apps, Name: "ci"}}
	if err := env.Client.Create(t.Context(), sa); err != nil {
		t.Fatal(err)
	}
	cfg := env.ServiceAccountConfig(t, c.apps, "ci")
	ca := filepath.Join(dir, "ca.crt")
	empty := filepath.Join(dir, "empty-kubeconfig")
	if err := os.WriteFile(ca, cfg.CAData, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ci := &cliRunner{t: t, kubeconfig: empty, c: c}
	for _, tls := range [][]string{{"--certificate-authority", ca}, {"--insecure-skip-tls-verify"}} {
		args := append([]string{"keys", "fetch", "--server", cfg.Host, "--token", cfg.BearerToken}, tls...)
		res := ci.ok("", args...)
		if !strings.Contains(res.stdout, "# id: "+active+" ") || !strings.Contains(res.stdout, "from ConfigMap "+c.ns+"/gitseal-keys") {
			t.Errorf("keys fetch %s:\n%s", strings.Join(tls, " "), res)
		}
		if strings.Contains(res.stdout+res.stderr, cfg.BearerToken) {
			t.Errorf("keys fetch printed the token")
		}
	}

	// --as and --as-group impersonate, on top of the admin kubeconfig:
	// jane may not list the key Secrets, a member of system:masters may.
	admin := newRunner(t, c)
	res := admin.ok("", "keys", "list", "--as", "jane")
	if !strings.Contains(res.stderr, "cannot list the key Secrets") {
		t.Errorf("keys list --as jane: want the fallback to the published keys\n%s", res)
	}
	res = admin.ok("", "keys", "list", "--as", "jane", "--as-group", "system:masters")
	if strings.Contains(res.stderr, "cannot list") || !regexp.MustCompile(active+` +\S+ +active`).MatchString(res.stdout) {
		t.Errorf("keys list --as jane --as-group system:masters:\n%s", res)
	}
}
