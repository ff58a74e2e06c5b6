//go:build cluster

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

package cluster

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitseal/gitseal/internal/keys"
)

// helm runs the pinned helm (GITSEAL_TEST_HELM) against the cluster, with
// its cache, configuration and data under the suite's scratch directory,
// and returns its standard output; a failure fails the test.
func helm(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.helm, args...)
	home := filepath.Join(s.work, "helm")
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// imageValues returns the chart's --set arguments for image, which names
// a digest (REPOSITORY@sha256:HEX) or a tag (REPOSITORY:TAG).
func imageValues(t *testing.T, image string) []string {
	t.Helper()
	if repo, digest, pinned := strings.Cut(image, "@"); pinned {
		return []string{"--set", "image.repository=" + repo, "--set", "image.digest=" + digest}
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		t.Fatalf("image %q names no tag or digest", image)
	}
	return []string{"--set", "image.repository=" + image[:i], "--set", "image.tag=" + image[i+1:]}
}

// testHelmInstall moves the running kustomize install to the chart as
// docs/operations.md says: `kubectl delete -k config/controller`, which
// keeps the namespace, the keys and the CRDs, then
//
//	helm install gitseal charts/gitseal -n gitseal-system --take-ownership \
//	  --set image.repository=… --set image.digest=… --wait --timeout 5m
//
// where --take-ownership adopts the namespace that config/namespace made.
// Both replicas come up Ready on the image, under the same ServiceAccount;
// the keys and the active key stay as they were; a SealedSecret from
// before opens again (its Secret, deleted while the controller was away,
// comes back with the same value) and a new one opens. The later
// scenarios run on this install. RELIABILITY C7, nothing lost across an
// uninstall and a change of installer.
func testHelmInstall(t *testing.T) {
	isKey := func(sec *corev1.Secret) bool { return sec.Labels[keys.LabelSealingKey] == "true" }
	keysBefore, activeBefore := versions(t, isKey), activeKeyID(t)
	ns := restrictedNamespace(t, "apps")
	sealAndApply(t, ns, "before-helm", randomValue(t))
	waitForSecret(t, ns, "before-helm", time.Minute)
	hashBefore := secretDataHash(t, ns, "before-helm")

	kubectl(t, "", "delete", "-k", filepath.Join(s.repoRoot, "config", "controller"), "--wait")
	eventually(t, 2*time.Minute, "the controller's pods to go", func() error {
		if pods := controllerPods(t); len(pods) > 0 {
			return fmt.Errorf("%d pods left", len(pods))
		}
		return nil
	})
	if err := s.client.Delete(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "before-helm"}}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	args := []string{"install", "gitseal", filepath.Join(s.repoRoot, "charts", "gitseal"),
		"--namespace", controllerNamespace, "--take-ownership", "--skip-crds", "--wait", "--timeout", "5m"}
	helm(t, append(args, imageValues(t, s.nextImage)...)...)
	kubectl(t, "", "-n", controllerNamespace, "rollout", "status", "deploy/"+controllerName, "--timeout=5m")
	measure(t, "helm install to rollout complete", time.Since(start).Round(100*time.Millisecond))

	nsObj := checkInstalled(t, s.nextImage)
	if got := nsObj.Annotations["helm.sh/resource-policy"]; got != "keep" {
		t.Errorf("namespace %s has helm.sh/resource-policy %q, want keep", controllerNamespace, got)
	}

	waitForSecret(t, ns, "before-helm", 2*time.Minute)
	if secretDataHash(t, ns, "before-helm") != hashBefore {
		t.Error("the Secret written back after helm install holds another value")
	}
	sealAndApply(t, ns, "after-helm", randomValue(t))
	waitForSecret(t, ns, "after-helm", 2*time.Minute)
	if got := activeKeyID(t); got != activeBefore {
		t.Errorf("the active key is %s after helm install, was %s", got, activeBefore)
	}
	if got := versions(t, isKey); !maps.Equal(got, keysBefore) {
		t.Errorf("helm install changed the key Secrets: %v, were %v", got, keysBefore)
	}
	if out := helm(t, "status", "gitseal", "--namespace", controllerNamespace); !strings.Contains(out, "deployed") {
		t.Errorf("helm status does not say deployed:\n%s", out)
	}
}
