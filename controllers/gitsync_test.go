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
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/test/gitserver"
	"github.com/gitseal/gitseal/test/testenv"
)

// gitRepo is a repository served over SSH on 127.0.0.1, with a Secret
// holding the key and known_hosts to fetch it.
type gitRepo struct {
	*gitserver.Repo
	url string
}

// newGitRepo serves a new repository over SSH and writes its credentials
// Secret, named "git", into each of namespaces.
func newGitRepo(t *testing.T, namespaces ...string) *gitRepo {
	t.Helper()
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "env")
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	base, hostKey := gitserver.ServeSSH(t, root, signer.PublicKey())
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range namespaces {
		create(t, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "git"},
			Data: map[string][]byte{
				"identity":    pem.EncodeToMemory(block),
				"known_hosts": []byte(gitserver.KnownHostsLine(u.Host, hostKey)),
			},
		})
	}
	return &gitRepo{Repo: repo, url: base + "/env.git"}
}

func configMap(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: %q\n", name, ns, value)
}

func manifest(t *testing.T, obj any) string {
	t.Helper()
	out, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// platformServiceAccount is the ServiceAccount of config/platform, which
// startController installs in the controller's namespace.
const platformServiceAccount = "gitseal-platform"

// newGitSync returns a GitSync of apps/ in the repository that applies as
// the platform ServiceAccount; tenants' GitSyncs name their own.
func newGitSync(ns, name, repoURL string, mutate ...func(*gitsealv1alpha1.GitSync)) *gitsealv1alpha1.GitSync {
	gs := &gitsealv1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gitsealv1alpha1.GitSyncSpec{
			URL:                repoURL,
			Path:               "apps",
			Interval:           metav1.Duration{Duration: time.Hour}, // tests ask for syncs
			SecretRef:          &gitsealv1alpha1.LocalObjectReference{Name: "git"},
			ServiceAccountName: platformServiceAccount,
		},
	}
	for _, m := range mutate {
		m(gs)
	}
	return gs
}

// requestSync asks for a sync now, the way `gitseal sync` does, and waits
// until the controller has acted on it.
func requestSync(t *testing.T, key client.ObjectKey) {
	t.Helper()
	env := cluster.Get(t)
	request := time.Now().Format(time.RFC3339Nano)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var gs gitsealv1alpha1.GitSync
		if err := env.Client.Get(t.Context(), key, &gs); err != nil {
			return err
		}
		if gs.Annotations == nil {
			gs.Annotations = map[string]string{}
		}
		gs.Annotations[gitsealv1alpha1.AnnotationReconcileRequestedAt] = request
		return env.Client.Update(t.Context(), &gs)
	})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the requested sync ran", func() error {
		var gs gitsealv1alpha1.GitSync
		if err := env.Client.Get(t.Context(), key, &gs); err != nil {
			return err
		}
		if gs.Status.LastHandledReconcileAt != request {
			return fmt.Errorf("last handled %q", gs.Status.LastHandledReconcileAt)
		}
		return nil
	})
}

// waitSync waits until the GitSync's Ready condition has the reason and
// its last attempt was at revision (any revision when empty).
func waitSync(t *testing.T, key client.ObjectKey, reason, revision string) *gitsealv1alpha1.GitSync {
	t.Helper()
	env := cluster.Get(t)
	var gs gitsealv1alpha1.GitSync
	testenv.Eventually(t, fmt.Sprintf("%s reaches %s at %q", key, reason, revision), func() error {
		if err := env.Client.Get(t.Context(), key, &gs); err != nil {
			return err
		}
		c := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady)
		if c == nil || c.Reason != reason || c.ObservedGeneration != gs.Generation {
			return fmt.Errorf("ready condition %+v", c)
		}
		if revision != "" && gs.Status.LastAttemptedRevision != revision {
			return fmt.Errorf("last attempted revision %q", gs.Status.LastAttemptedRevision)
		}
		return nil
	})
	return &gs
}

func getConfigMap(t *testing.T, ns, name string) (*corev1.ConfigMap, error) {
	t.Helper()
	env := cluster.Get(t)
	var cm corev1.ConfigMap
	err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &cm)
	return &cm, err
}

// TestGitSyncAppliesPrunesAndCorrectsDrift follows one repository through
// the life of a platform GitSync (in the controller's namespace): first
// sync, a hand edit undone, an object removed from Git and pruned, a
// plaintext Secret and a broken build refused with the last good revision
// left in place (C2, C5, C7), and a delete that prunes everything.
func TestGitSyncAppliesPrunesAndCorrectsDrift(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	r := c.activeKey(t)
	repo := newGitRepo(t, c.ns)
	apps := c.watch
	const canary = "canary-plaintext-2b9e-never-logged"

	sealed := c.sealed(t, "db", crypto.Strict, map[string]string{"password": "from-git"}, r)
	sealed.TypeMeta = metav1.TypeMeta{APIVersion: gitsealv1alpha1.GroupVersion.String(), Kind: "SealedSecret"}
	first := repo.Commit(t, map[string]string{
		"apps/a.yaml":        configMap(apps, "a", "1"),
		"apps/b.yaml":        configMap(apps, "b", "1"),
		"apps/db.yaml":       manifest(t, sealed),
		"README.md":          "not a manifest",
		"other/ignored.yaml": configMap(apps, "not-in-path", "1"),
	}, "first")
	gs := newGitSync(c.ns, "platform", repo.url)
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)

	got := waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)
	if got.Status.LastAppliedRevision != "main@sha1:"+first || got.Status.Inventory == nil || got.Status.Inventory.Len() != 3 {
		t.Fatalf("status after the first sync: %+v", got.Status)
	}
	a, err := getConfigMap(t, apps, "a")
	if err != nil {
		t.Fatal(err)
	}
	if a.Labels[controllers.LabelGitSyncName] != "platform" || a.Labels[controllers.LabelGitSyncNamespace] != c.ns {
		t.Errorf("ownership labels %v", a.Labels)
	}
	if _, err := getConfigMap(t, apps, "not-in-path"); !apierrors.IsNotFound(err) {
		t.Errorf("an object outside spec.path was applied: %v", err)
	}
	testenv.Eventually(t, "the SealedSecret from Git is unsealed", func() error {
		var s corev1.Secret
		if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: apps, Name: "db"}, &s); err != nil {
			return err
		}
		if string(s.Data["password"]) != "from-git" {
			return fmt.Errorf("wrong value")
		}
		return nil
	})

	// Drift: a hand edit is undone by the next sync.
	a.Data["value"] = "edited by hand"
	if err := env.Client.Update(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	requestSync(t, key)
	testenv.Eventually(t, "the hand edit is undone", func() error {
		a, err := getConfigMap(t, apps, "a")
		if err != nil {
			return err
		}
		if a.Data["value"] != "1" {
			return fmt.Errorf("value %q", a.Data["value"])
		}
		return nil
	})

	// A new commit changes a and drops b, which is pruned.
	second := repo.Commit(t, map[string]string{
		"apps/a.yaml":  configMap(apps, "a", "2"),
		"apps/db.yaml": manifest(t, sealed),
	}, "second")
	requestSync(t, key)
	got = waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+second)
	if got.Status.Inventory.Len() != 2 {
		t.Errorf("inventory %+v", got.Status.Inventory)
	}
	if _, err := getConfigMap(t, apps, "b"); !apierrors.IsNotFound(err) {
		t.Errorf("b was not pruned: %v", err)
	}
	if a, _ := getConfigMap(t, apps, "a"); a.Data["value"] != "2" {
		t.Errorf("a not updated: %q", a.Data["value"])
	}

	// A plaintext Secret in Git is refused, and nothing of that revision is
	// applied or pruned.
	third := repo.Commit(t, map[string]string{
		"apps/a.yaml":    configMap(apps, "a", "3"),
		"apps/leak.yaml": fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak\n  namespace: %s\nstringData:\n  token: %s\n", apps, canary),
	}, "third")
	requestSync(t, key)
	got = waitSync(t, key, gitsealv1alpha1.ReasonPolicyDenied, "main@sha1:"+third)
	cond := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady)
	if !strings.Contains(cond.Message, "Secret "+apps+"/leak (stringData.token)") || !strings.Contains(cond.Message, "gitseal seal") {
		t.Errorf("message %q does not name the Secret and the fix", cond.Message)
	}
	if got.Status.LastAppliedRevision != "main@sha1:"+second {
		t.Errorf("last applied revision moved to %q", got.Status.LastAppliedRevision)
	}
	if a, _ := getConfigMap(t, apps, "a"); a.Data["value"] != "2" {
		t.Errorf("a changed by a refused revision: %q", a.Data["value"])
	}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: apps, Name: "db"}, &gitsealv1alpha1.SealedSecret{}); err != nil {
		t.Errorf("the SealedSecret was pruned by a refused revision: %v", err)
	}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: apps, Name: "leak"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("the plaintext Secret was applied: %v", err)
	}

	// A build that the sandbox refuses is BuildFailed, again keeping the
	// last good revision.
	fourth := repo.Commit(t, map[string]string{
		"apps/kustomization.yaml": "resources:\n- https://github.com/example/base?ref=main\n",
	}, "fourth")
	requestSync(t, key)
	got = waitSync(t, key, gitsealv1alpha1.ReasonBuildFailed, "main@sha1:"+fourth)
	if got.Status.LastAppliedRevision != "main@sha1:"+second || got.Status.Inventory.Len() != 2 {
		t.Errorf("a failed build changed the status: %+v", got.Status)
	}
	if meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionStalled) == false {
		t.Errorf("a failed build is not Stalled: %+v", got.Status.Conditions)
	}

	// Nothing of the canary anywhere.
	var events eventsv1.EventList
	if err := env.Client.List(t.Context(), &events, client.InNamespace(c.ns)); err != nil {
		t.Fatal(err)
	}
	var warnings int
	for _, e := range events.Items {
		assertNoLeak(t, "event", e.Note, canary)
		if e.Regarding.Name == "platform" && e.Type == corev1.EventTypeWarning {
			warnings++
		}
	}
	if warnings < 2 {
		t.Errorf("%d Warning events for the two refused revisions", warnings)
	}
	assertNoLeak(t, "status", manifest(t, got.Status), canary)
	assertNoLeak(t, "logs", c.logs.String(), canary)

	// Deleting the GitSync prunes what it applied.
	if err := env.Client.Delete(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the GitSync's objects are pruned and it is gone", func() error {
		if _, err := getConfigMap(t, apps, "a"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("a still exists: %v", err)
		}
		if err := env.Client.Get(t.Context(), key, &gitsealv1alpha1.GitSync{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("GitSync still exists: %v", err)
		}
		return nil
	})
}

// TestGitSyncTenantAppliesAsItsServiceAccount checks the tenancy rules: a
// GitSync outside the controller's namespace must name a ServiceAccount,
// gets exactly that account's rights, and may write only namespaced
// objects of its own namespace.
func TestGitSyncTenantAppliesAsItsServiceAccount(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	tenant := c.watch
	repo := newGitRepo(t, tenant)
	first := repo.Commit(t, map[string]string{"apps/a.yaml": configMap("", "a", "1")}, "first")

	noSA := newGitSync(tenant, "no-sa", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.ServiceAccountName = "" })
	create(t, noSA)
	got := waitSync(t, client.ObjectKeyFromObject(noSA), gitsealv1alpha1.ReasonInvalidSpec, "")
	if cond := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady); !strings.Contains(cond.Message, "serviceAccountName is required") {
		t.Errorf("message %q", cond.Message)
	}

	create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "deployer"}})
	gs := newGitSync(tenant, "tenant", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.ServiceAccountName = "deployer" })
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	got = waitSync(t, key, gitsealv1alpha1.ReasonApplyFailed, "main@sha1:"+first)
	if cond := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady); !strings.Contains(cond.Message, "forbidden") {
		t.Errorf("an account without rights: message %q", cond.Message)
	}
	if _, err := getConfigMap(t, tenant, "a"); !apierrors.IsNotFound(err) {
		t.Errorf("applied without the account's rights: %v", err)
	}

	create(t, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "deployer"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}},
	})
	create(t, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "deployer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "deployer"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: tenant, Name: "deployer"}},
	})
	requestSync(t, key)
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)
	if a, err := getConfigMap(t, tenant, "a"); err != nil || a.Data["value"] != "1" {
		t.Fatalf("the tenant's ConfigMap: %v", err)
	}

	second := repo.Commit(t, map[string]string{
		"apps/a.yaml":     configMap("", "a", "2"),
		"apps/crb.yaml":   "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: tenant-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: ServiceAccount\n  name: deployer\n  namespace: " + tenant + "\n",
		"apps/other.yaml": configMap("kube-system", "planted", "1"),
	}, "second")
	requestSync(t, key)
	got = waitSync(t, key, gitsealv1alpha1.ReasonPolicyDenied, "main@sha1:"+second)
	msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
	for _, want := range []string{"ClusterRoleBinding tenant-admin (cluster-scoped)", "ConfigMap kube-system/planted (namespace kube-system)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not name %q", msg, want)
		}
	}
	if a, _ := getConfigMap(t, tenant, "a"); a.Data["value"] != "1" {
		t.Errorf("a refused revision was applied in part: %q", a.Data["value"])
	}
	if err := env.Client.Get(t.Context(), client.ObjectKey{Name: "tenant-admin"}, &rbacv1.ClusterRoleBinding{}); !apierrors.IsNotFound(err) {
		t.Errorf("the tenant created a ClusterRoleBinding: %v", err)
	}
}

// TestGitSyncOverHTTPSRefusesBadCredentialsWithoutLeakingThem fetches over
// https from a server with a private authority (ca.crt in the Secret), then
// with a wrong token: GitVerificationFailed, the last good revision stays,
// and neither token appears anywhere (C5).
func TestGitSyncOverHTTPSRefusesBadCredentialsWithoutLeakingThem(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	const token, wrong = "canary-token-71c4-right", "canary-token-71c4-wrong"
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "env")
	first := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "1")}, "first")
	base, ca := gitserver.ServeHTTPS(t, root, gitserver.HTTPOptions{BearerToken: token})
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "git"},
		Data:       map[string][]byte{"bearerToken": []byte(token), "ca.crt": ca},
	}
	create(t, creds)
	gs := newGitSync(c.ns, "https", base+"/env.git")
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)

	creds.Data["bearerToken"] = []byte(wrong)
	if err := env.Client.Update(t.Context(), creds); err != nil {
		t.Fatal(err)
	}
	repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "2")}, "second")
	requestSync(t, key)
	got := waitSync(t, key, gitsealv1alpha1.ReasonGitVerificationFailed, "")
	msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
	if !strings.Contains(msg, base+"/env.git") {
		t.Errorf("message %q does not name the repository", msg)
	}
	if got.Status.LastAppliedRevision != "main@sha1:"+first {
		t.Errorf("last applied revision %q", got.Status.LastAppliedRevision)
	}
	if a, _ := getConfigMap(t, c.watch, "a"); a.Data["value"] != "1" {
		t.Errorf("value %q", a.Data["value"])
	}
	var events eventsv1.EventList
	if err := env.Client.List(t.Context(), &events, client.InNamespace(c.ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		assertNoLeak(t, "event", e.Note, token, wrong)
	}
	assertNoLeak(t, "status", manifest(t, got.Status), token, wrong)
	assertNoLeak(t, "logs", c.logs.String(), token, wrong)
}

// TestGitSyncFailuresKeepTheLastGoodRevision walks the Git cases of
// RELIABILITY.md on one GitSync: a path missing, a branch deleted and an
// unreachable remote each set their Reason, keep what the last good
// revision applied and its inventory (C7), and only the network failure is
// retried as transient (Reconciling rather than Stalled, C6).
func TestGitSyncFailuresKeepTheLastGoodRevision(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	good := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "kept", "1")}, "good")
	repo.Branch(t, "release", good)
	gs := newGitSync(c.ns, "failures", repo.url, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.Ref = &gitsealv1alpha1.GitRef{Branch: "release"}
	})
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "release@sha1:"+good)

	update := func(mutate func(*gitsealv1alpha1.GitSync)) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var gs gitsealv1alpha1.GitSync
			if err := env.Client.Get(t.Context(), key, &gs); err != nil {
				return err
			}
			mutate(&gs)
			return env.Client.Update(t.Context(), &gs)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	kept := func(got *gitsealv1alpha1.GitSync, stalled bool) {
		t.Helper()
		if got.Status.LastAppliedRevision != "release@sha1:"+good || got.Status.Inventory == nil || got.Status.Inventory.Len() != 1 {
			t.Errorf("status lost the last good revision: %+v", got.Status)
		}
		if cm, err := getConfigMap(t, c.watch, "kept"); err != nil || cm.Data["value"] != "1" {
			t.Errorf("the applied ConfigMap changed: %v", err)
		}
		if s := meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionStalled); s != stalled {
			t.Errorf("Stalled=%v, want %v: %+v", s, stalled, got.Status.Conditions)
		}
		if r := meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionReconciling); r == stalled {
			t.Errorf("Reconciling=%v, want %v", r, !stalled)
		}
	}

	update(func(gs *gitsealv1alpha1.GitSync) { gs.Spec.Path = "missing" })
	got := waitSync(t, key, gitsealv1alpha1.ReasonBuildFailed, "release@sha1:"+good)
	if msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message; !strings.Contains(msg, "path missing does not exist") {
		t.Errorf("message %q", msg)
	}
	kept(got, true)

	update(func(gs *gitsealv1alpha1.GitSync) { gs.Spec.Path = "apps" })
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "release@sha1:"+good)
	repo.DeleteBranch(t, "release")
	requestSync(t, key)
	got = waitSync(t, key, gitsealv1alpha1.ReasonGitFetchFailed, "")
	if msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message; !strings.Contains(msg, `"release"`) {
		t.Errorf("message %q does not name the branch", msg)
	}
	kept(got, true)

	update(func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.URL = "https://127.0.0.1:1/env.git" // nothing listens there
		gs.Spec.Ref = nil
	})
	got = waitSync(t, key, gitsealv1alpha1.ReasonGitFetchFailed, "")
	kept(got, false)
}

// TestGitSyncRefusesSecretsThatKustomizeGenerates: a secretGenerator is
// plaintext in Git as much as a Secret is, whether its values are literals
// or files next to the kustomization.
func TestGitSyncRefusesSecretsThatKustomizeGenerates(t *testing.T) {
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	const canary = "canary-generated-6d02"
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"literals", map[string]string{
			"apps/kustomization.yaml": "namespace: " + c.watch + "\nsecretGenerator:\n- name: gen\n  literals:\n  - token=" + canary + "\n",
		}, "(data.token)"},
		{"files", map[string]string{
			"apps/kustomization.yaml": "namespace: " + c.watch + "\nsecretGenerator:\n- name: gen\n  files:\n  - token.txt\n",
			"apps/token.txt":          canary,
		}, "(data.token.txt)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rev := repo.Commit(t, tt.files, tt.name)
			gs := newGitSync(c.ns, "gen-"+tt.name, repo.url)
			create(t, gs)
			got := waitSync(t, client.ObjectKeyFromObject(gs), gitsealv1alpha1.ReasonPolicyDenied, "main@sha1:"+rev)
			msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not name %s", msg, tt.want)
			}
			assertNoLeak(t, "status", manifest(t, got.Status), canary)
		})
	}
	assertNoLeak(t, "logs", c.logs.String(), canary)
}

// TestGitSyncRefusesARepositoryOverTheSizeCap: a revision larger than
// --git-max-repository-bytes is not fetched, and says why.
func TestGitSyncRefusesARepositoryOverTheSizeCap(t *testing.T) {
	c := startController(t, setupOpts{opts: func(o *controllers.Options) { o.MaxRepositoryBytes = 4096 }})
	repo := newGitRepo(t, c.ns)
	repo.Commit(t, map[string]string{"apps/big.yaml": configMap(c.watch, "big", strings.Repeat("x", 8192))}, "big")
	gs := newGitSync(c.ns, "big", repo.url)
	create(t, gs)
	got := waitSync(t, client.ObjectKeyFromObject(gs), gitsealv1alpha1.ReasonGitFetchFailed, "")
	if msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message; !strings.Contains(msg, "more than 4096 bytes") {
		t.Errorf("message %q", msg)
	}
	if _, err := getConfigMap(t, c.watch, "big"); !apierrors.IsNotFound(err) {
		t.Errorf("applied anyway: %v", err)
	}
}

// TestGitSyncWaitsForItsObjectsToBeReady: with spec.wait, a sync succeeds
// only once what it applied is ready. envtest runs no Deployment
// controller, so the test rolls the Deployment out by writing its status.
func TestGitSyncWaitsForItsObjectsToBeReady(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	deployment := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example.com/web:1}]
`, c.watch)
	rev := repo.Commit(t, map[string]string{"apps/web.yaml": deployment, "apps/a.yaml": configMap(c.watch, "a", "1")}, "web")
	gs := newGitSync(c.ns, "wait", repo.url, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.Wait = true
		gs.Spec.Timeout = &metav1.Duration{Duration: 3 * time.Second}
	})
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	got := waitSync(t, key, gitsealv1alpha1.ReasonHealthCheckFailed, "main@sha1:"+rev)
	msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
	if !strings.Contains(msg, "Deployment "+c.watch+"/web (InProgress") || strings.Contains(msg, "ConfigMap") {
		t.Errorf("message %q should name the Deployment only", msg)
	}
	if got.Status.LastAppliedRevision != "main@sha1:"+rev || !meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionReconciling) {
		t.Errorf("an applied revision that is not ready yet: %+v", got.Status)
	}

	var web appsv1.Deployment
	if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: c.watch, Name: "web"}, &web); err != nil {
		t.Fatal(err)
	}
	web.Status = appsv1.DeploymentStatus{
		ObservedGeneration: web.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
		},
	}
	if err := env.Client.Status().Update(t.Context(), &web); err != nil {
		t.Fatal(err)
	}
	requestSync(t, key)
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+rev)
}

// TestGitSyncQuotaRefusalAppliesNothing: a ResourceQuota that refuses one
// object of a revision refuses the revision: the dry run of every object
// comes first, so the object that would fit is not changed either, and
// the last good revision stays.
func TestGitSyncQuotaRefusalAppliesNothing(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	first := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "1")}, "first")
	gs := newGitSync(c.ns, "quota", repo.url)
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)

	// envtest runs no quota controller: the test writes the usage it
	// would, one ConfigMap of one allowed.
	full := corev1.ResourceList{"count/configmaps": resource.MustParse("1")}
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.watch, Name: "configmaps"},
		Spec:       corev1.ResourceQuotaSpec{Hard: full},
	}
	create(t, quota)
	quota.Status = corev1.ResourceQuotaStatus{Hard: full, Used: full}
	if err := env.Client.Status().Update(t.Context(), quota); err != nil {
		t.Fatal(err)
	}
	second := repo.Commit(t, map[string]string{
		"apps/a.yaml": configMap(c.watch, "a", "2"),
		"apps/b.yaml": configMap(c.watch, "b", "1"),
	}, "second")
	requestSync(t, key)
	got := waitSync(t, key, gitsealv1alpha1.ReasonApplyFailed, "main@sha1:"+second)
	msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
	if !strings.Contains(msg, "quota") || !strings.Contains(msg, "b") {
		t.Errorf("message %q does not say the quota refused b", msg)
	}
	if a, _ := getConfigMap(t, c.watch, "a"); a.Data["value"] != "1" {
		t.Errorf("a was changed by a refused revision: %q", a.Data["value"])
	}
	if got.Status.LastAppliedRevision != "main@sha1:"+first {
		t.Errorf("last applied revision %q", got.Status.LastAppliedRevision)
	}
}

// TestGitSyncDeletionNeverHangsOnARefusedPrune: when the ServiceAccount may
// no longer delete what it applied, deleting the GitSync leaves the objects
// in place with a Warning, and the GitSync still goes away.
func TestGitSyncDeletionNeverHangsOnARefusedPrune(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	tenant := c.watch
	repo := newGitRepo(t, tenant)
	rev := repo.Commit(t, map[string]string{"apps/a.yaml": configMap("", "kept", "1")}, "first")
	grantConfigMaps(t, tenant, "deployer")
	gs := newGitSync(tenant, "orphaning", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.ServiceAccountName = "deployer" })
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+rev)

	if err := env.Client.Delete(t.Context(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "deployer"}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(t.Context(), gs); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the GitSync is gone", func() error {
		if err := env.Client.Get(t.Context(), key, &gitsealv1alpha1.GitSync{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	if _, err := getConfigMap(t, tenant, "kept"); err != nil {
		t.Errorf("the ConfigMap should be left in place: %v", err)
	}
}

// TestGitSyncCanReportDriftWithoutCorrectingIt: with correctDrift false, a
// hand edit is reported in the Drifted condition and left alone, once, with
// one Warning; a new commit is still applied.
func TestGitSyncCanReportDriftWithoutCorrectingIt(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	first := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "1"), "apps/b.yaml": configMap(c.watch, "b", "1")}, "first")
	gs := newGitSync(c.ns, "detect", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.CorrectDrift = new(false) })
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	got := waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)
	if cond := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionDrifted); cond != nil {
		t.Errorf("Drifted after the first apply: %+v", cond)
	}

	a, err := getConfigMap(t, c.watch, "a")
	if err != nil {
		t.Fatal(err)
	}
	a.Data["value"] = "edited by hand"
	if err := env.Client.Update(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		requestSync(t, key)
	}
	got = waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)
	cond := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionDrifted)
	if cond == nil || cond.Status != metav1.ConditionTrue || !strings.Contains(cond.Message, "ConfigMap "+c.watch+"/a") || strings.Contains(cond.Message, "/b") {
		t.Fatalf("Drifted condition %+v, want True naming a only", cond)
	}
	if a, _ := getConfigMap(t, c.watch, "a"); a.Data["value"] != "edited by hand" {
		t.Errorf("the hand edit was undone: %q", a.Data["value"])
	}
	var events eventsv1.EventList
	if err := env.Client.List(t.Context(), &events, client.InNamespace(c.ns)); err != nil {
		t.Fatal(err)
	}
	var drift int
	for _, e := range events.Items {
		if e.Regarding.Name == "detect" && e.Reason == "DriftDetected" {
			drift++
		}
	}
	if drift != 1 {
		t.Errorf("%d DriftDetected events for one drift found twice, want 1", drift)
	}

	second := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "2"), "apps/b.yaml": configMap(c.watch, "b", "1")}, "second")
	requestSync(t, key)
	got = waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+second)
	if a, _ := getConfigMap(t, c.watch, "a"); a.Data["value"] != "2" {
		t.Errorf("a new revision was not applied: %q", a.Data["value"])
	}
	// The new revision's apply put a back as Git has it. The condition is
	// then removed, or, when a drift check follows the apply (the apply
	// itself is a change the drift watch sees), False: either says there
	// is no drift.
	if cond := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionDrifted); cond != nil && cond.Status != metav1.ConditionFalse {
		t.Errorf("Drifted after applying a new revision: %+v", cond)
	}
}

// TestGitSyncWaitsForItsDependencies: a GitSync that depends on another
// waits, Reconciling and not Stalled, until that one is Ready, and then
// syncs on its own.
func TestGitSyncWaitsForItsDependencies(t *testing.T) {
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	broken := repo.Commit(t, map[string]string{
		"infra/kustomization.yaml": "resources: [missing.yaml]\n",
		"apps/a.yaml":              configMap(c.watch, "app", "1"),
	}, "infra is broken")
	infra := newGitSync(c.ns, "infra", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.Path = "infra" })
	apps := newGitSync(c.ns, "apps", repo.url, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.DependsOn = []gitsealv1alpha1.LocalObjectReference{{Name: "infra"}}
	})
	create(t, infra)
	create(t, apps)
	waitSync(t, client.ObjectKeyFromObject(infra), gitsealv1alpha1.ReasonBuildFailed, "main@sha1:"+broken)
	var got *gitsealv1alpha1.GitSync
	testenv.Eventually(t, "apps waits for infra, which failed", func() error {
		got = waitSync(t, client.ObjectKeyFromObject(apps), gitsealv1alpha1.ReasonDependencyNotReady, "")
		msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message
		if !strings.Contains(msg, "waiting for GitSync "+c.ns+"/infra, which is not Ready (BuildFailed)") {
			return fmt.Errorf("message %q", msg)
		}
		return nil
	})
	if !meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionReconciling) ||
		meta.IsStatusConditionTrue(got.Status.Conditions, gitsealv1alpha1.ConditionStalled) {
		t.Errorf("waiting should be Reconciling, not Stalled: %+v", got.Status.Conditions)
	}
	if _, err := getConfigMap(t, c.watch, "app"); !apierrors.IsNotFound(err) {
		t.Errorf("applied before its dependency was ready: %v", err)
	}

	fixed := repo.Commit(t, map[string]string{
		"infra/ns.yaml": configMap(c.watch, "infra", "1"),
		"apps/a.yaml":   configMap(c.watch, "app", "1"),
	}, "infra fixed")
	requestSync(t, client.ObjectKeyFromObject(infra))
	waitSync(t, client.ObjectKeyFromObject(infra), gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+fixed)
	waitSync(t, client.ObjectKeyFromObject(apps), gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+fixed)
}

// TestGitSyncAppliesOnlySignedCommits: with spec.verify, an unsigned commit,
// or one signed by a key not listed, is GitVerificationFailed and nothing of
// it is applied; a commit signed by a listed key is.
func TestGitSyncAppliesOnlySignedCommits(t *testing.T) {
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	release, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "signers"},
		Data:       map[string][]byte{"authorized_keys": ssh.MarshalAuthorizedKey(release.PublicKey())},
	})
	unsigned := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "unsigned")}, "pushed without a key")
	gs := newGitSync(c.ns, "verified", repo.url, func(gs *gitsealv1alpha1.GitSync) {
		gs.Spec.Verify = &gitsealv1alpha1.GitVerification{SecretRef: gitsealv1alpha1.LocalObjectReference{Name: "signers"}}
	})
	create(t, gs)
	key := client.ObjectKeyFromObject(gs)
	got := waitSync(t, key, gitsealv1alpha1.ReasonGitVerificationFailed, "")
	if msg := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady).Message; !strings.Contains(msg, unsigned+" is not signed") {
		t.Errorf("message %q", msg)
	}
	if _, err := getConfigMap(t, c.watch, "a"); !apierrors.IsNotFound(err) {
		t.Errorf("an unsigned commit was applied: %v", err)
	}

	signed := repo.SignedCopy(t, unsigned, release, "main")
	requestSync(t, key)
	waitSync(t, key, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+signed)
	if a, err := getConfigMap(t, c.watch, "a"); err != nil || a.Data["value"] != "unsigned" {
		t.Errorf("the signed commit was not applied: %v", err)
	}
}
