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
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/test/gitserver"
)

// TestSealCommitAndTheClusterPullsIt is the GitOps loop end to end: a
// developer seals a Secret with the CLI and commits it next to a
// Deployment's ConfigMap; a GitSync pulls the repository over https; the
// SealedSecret becomes a Secret; `gitseal sync` reports the applied
// revision, and refuses to call a revision with a plaintext Secret synced.
func TestSealCommitAndTheClusterPullsIt(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	t.Chdir(t.TempDir())

	writeFile(t, "db.yaml", secretYAML(c.apps, "db", map[string]string{"password": "from-the-laptop"}))
	sealed := r.ok("", "seal", "db.yaml").stdout
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "env")
	first := repo.Commit(t, map[string]string{
		"apps/db.sealed.yaml": sealed,
		"apps/config.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: " + c.apps + "\ndata:\n  mode: prod\n",
	}, "db password, sealed")
	base, ca := gitserver.ServeHTTPS(t, root, gitserver.HTTPOptions{})
	if err := env.Client.Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "git"},
		Data:       map[string][]byte{"ca.crt": ca},
	}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(t.Context(), &gitsealv1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "env"},
		Spec: gitsealv1alpha1.GitSyncSpec{
			URL: base + "/env.git", Path: "apps", Interval: metav1.Duration{Duration: time.Hour},
			SecretRef:          &gitsealv1alpha1.LocalObjectReference{Name: "git"},
			ServiceAccountName: platformServiceAccount,
		},
	}); err != nil {
		t.Fatal(err)
	}

	res := r.ok("", "sync", "env", "-n", c.ns)
	if !strings.Contains(res.stdout, "synced "+c.ns+"/env at main@sha1:"+first) {
		t.Errorf("gitseal sync does not report the revision:\n%s", res)
	}
	if got := string(secretData(t, c.apps, "db")["password"]); got != "from-the-laptop" {
		t.Errorf("password %q", got)
	}

	writeFile(t, "oops.yaml", secretYAML(c.apps, "oops", map[string]string{"token": "plain"}))
	repo.Commit(t, map[string]string{
		"apps/db.sealed.yaml": sealed,
		"apps/oops.yaml":      readFile(t, "oops.yaml"),
	}, "oops")
	res = r.run("", "sync", "env", "-n", c.ns)
	if res.code != 1 || !strings.Contains(res.stderr, "PolicyDenied") || !strings.Contains(res.stderr, "Secret "+c.apps+"/oops (stringData.token)") {
		t.Errorf("a revision with a plaintext Secret: want exit 1 and PolicyDenied naming it:\n%s", res)
	}
	if got := string(secretData(t, c.apps, "db")["password"]); got != "from-the-laptop" {
		t.Errorf("the refused revision changed the Secret: %q", got)
	}
}

// TestAPlatformGitSyncAppliesOnlyAsItsServiceAccount: with the controller
// running as its shipped ServiceAccount, a GitSync in the controller's
// namespace that names no ServiceAccount is refused with InvalidSpec and a
// message that says what to set, and applies nothing (C1, C2; the
// controller never lends its own rights); naming config/platform's
// ServiceAccount makes the same revision sync, ConfigMap and SealedSecret.
// Before, the controller tried the apply with its own rights and failed on
// every object (`cannot patch configmaps`).
func TestAPlatformGitSyncAppliesOnlyAsItsServiceAccount(t *testing.T) {
	c := startController(t, "")
	r := newRunner(t, c)
	t.Chdir(t.TempDir())

	writeFile(t, "db.yaml", secretYAML(c.apps, "db", map[string]string{"password": "platform"}))
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "env")
	rev := repo.Commit(t, map[string]string{
		"apps/db.sealed.yaml": r.ok("", "seal", "db.yaml").stdout,
		"apps/config.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: " + c.apps + "\ndata:\n  mode: prod\n",
	}, "platform")
	base, ca := gitserver.ServeHTTPS(t, root, gitserver.HTTPOptions{})
	if err := env.Client.Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "git"},
		Data:       map[string][]byte{"ca.crt": ca},
	}); err != nil {
		t.Fatal(err)
	}
	gs := &gitsealv1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "platform"},
		Spec: gitsealv1alpha1.GitSyncSpec{
			URL: base + "/env.git", Path: "apps", Interval: metav1.Duration{Duration: time.Hour},
			SecretRef: &gitsealv1alpha1.LocalObjectReference{Name: "git"},
		},
	}
	if err := env.Client.Create(t.Context(), gs); err != nil {
		t.Fatal(err)
	}

	res := r.run("", "sync", "platform", "-n", c.ns)
	if res.code != 1 || !strings.Contains(res.stderr, "InvalidSpec") ||
		!strings.Contains(res.stderr, "spec.serviceAccountName is required: name a ServiceAccount in "+c.ns) ||
		!strings.Contains(res.stderr, "--default-service-account") {
		t.Errorf("a GitSync without a ServiceAccount: want exit 1, InvalidSpec and what to set:\n%s", res)
	}
	for _, obj := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: c.apps, Name: "config"}},
		&gitsealv1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: c.apps, Name: "db"}},
	} {
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("a refused GitSync applied %T %s: %v", obj, obj.GetName(), err)
		}
	}

	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(gs), gs); err != nil {
		t.Fatal(err)
	}
	gs.Spec.ServiceAccountName = platformServiceAccount
	if err := env.Client.Update(t.Context(), gs); err != nil {
		t.Fatal(err)
	}
	res = r.ok("", "sync", "platform", "-n", c.ns)
	if !strings.Contains(res.stdout, "synced "+c.ns+"/platform at main@sha1:"+rev) {
		t.Errorf("gitseal sync does not report the revision:\n%s", res)
	}
	var cm corev1.ConfigMap
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: c.apps, Name: "config"}, &cm); err != nil || cm.Data["mode"] != "prod" {
		t.Errorf("the ConfigMap from Git: %v %v", err, cm.Data)
	}
	if got := string(secretData(t, c.apps, "db")["password"]); got != "platform" {
		t.Errorf("password %q", got)
	}
}
