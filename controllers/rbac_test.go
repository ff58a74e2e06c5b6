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
	"net/http"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/httpapi"
	"github.com/gitseal/gitseal/test/testenv"
)

// TestRunsAsItsServiceAccountWithExactlyConfigRBAC runs the controller as
// its ServiceAccount, with a token from the TokenRequest API, bound only by
// config/rbac: a missing permission fails the happy path, and an excess one
// shows in the checks at the end. A token rather than an admin impersonating
// the account, because the controller impersonates tenants itself: an
// admin's config would hide a missing right to.
func TestRunsAsItsServiceAccountWithExactlyConfigRBAC(t *testing.T) {
	env := cluster.Get(t)
	const ns = "gitseal-system" // config/rbac names it
	if err := env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	env.InstallConfig(t, "rbac", ns)
	sa := env.ServiceAccountConfig(t, ns, "gitseal-controller")
	c := startController(t, setupOpts{cfg: sa, ns: ns, leaderElect: true})
	r := c.activeKey(t)

	ss := c.sealed(t, "rbac", crypto.Strict, map[string]string{"k": "v"}, r)
	create(t, ss)
	waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonSucceeded)
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "rbac-foreign", Namespace: c.watch}, StringData: map[string]string{"x": "y"}}
	create(t, foreign)
	taken := c.sealed(t, "rbac-foreign", crypto.Strict, map[string]string{"k": "v"}, r)
	create(t, taken)
	waitReason(t, client.ObjectKeyFromObject(taken), gitsealv1alpha1.ReasonSecretNotManaged)

	// A tenant's GitSync: the controller reads its credentials, impersonates
	// its ServiceAccount, and keeps its status and finalizer.
	repo := newGitRepo(t, c.watch)
	rev := repo.Commit(t, map[string]string{"apps/a.yaml": configMap("", "rbac-a", "1")}, "first")
	grantConfigMaps(t, c.watch, "deployer")
	gs := newGitSync(c.watch, "rbac", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.ServiceAccountName = "deployer" })
	create(t, gs)
	waitSync(t, client.ObjectKeyFromObject(gs), gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+rev)
	if err := env.Client.Delete(t.Context(), gs); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the deleted GitSync's objects are pruned", func() error {
		if _, err := getConfigMap(t, c.watch, "rbac-a"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	// Issue #12: config/rbac does not let the controller watch ConfigMaps,
	// so their drift is left to the full check, and it says so rather
	// than fail or retry a forbidden watch.
	if logs := c.logs.String(); !strings.Contains(logs, `"msg"="drift of this kind is found by the full check only: the controller may not list and watch it cluster-wide" "controller"="gitsync"`) ||
		!strings.Contains(grepLines(logs, "may not list and watch"), `"kind"="ConfigMap"`) {
		t.Errorf("no log that ConfigMaps are not watched for drift:\n%s", grepLines(logs, "drift"))
	}
	for _, logs := range []string{c.logs.String(), klogLogs.String()} {
		if strings.Contains(logs, "forbidden") {
			t.Errorf("the controller hit a forbidden request:\n%s", grepLines(logs, "forbidden"))
		}
	}

	saClient, err := client.New(sa, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	excess := []struct {
		name string
		do   func() error
	}{
		{"delete SealedSecrets", func() error { return saClient.Delete(t.Context(), ss) }},
		{"update SealedSecret specs", func() error { return saClient.Update(t.Context(), ss) }},
		{"read ConfigMaps outside its namespace", func() error {
			return saClient.List(t.Context(), &corev1.ConfigMapList{}, client.InNamespace(c.watch))
		}},
		{"create Namespaces", func() error {
			return saClient.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "rbac-should-fail"}})
		}},
		{"create ConfigMaps in a tenant's namespace with its own rights", func() error {
			return saClient.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: c.watch, Name: "rbac-should-fail"}})
		}},
		{"impersonate users", func() error { return mayImpersonate(t, "users") }},
		{"impersonate groups", func() error { return mayImpersonate(t, "groups") }},
	}
	for _, e := range excess {
		if err := e.do(); !apierrors.IsForbidden(err) {
			t.Errorf("the controller's account may %s: %v", e.name, err)
		}
	}
}

// mayImpersonate asks the API server whether the controller's account may
// impersonate the resource ("users", "groups"), and returns a Forbidden
// error when it may not.
func mayImpersonate(t *testing.T, resource string) error {
	t.Helper()
	env := cluster.Get(t)
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               "system:serviceaccount:gitseal-system:gitseal-controller",
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:gitseal-system", "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "impersonate", Resource: resource, Name: "admin"},
	}}
	if err := env.Client.Create(t.Context(), review); err != nil {
		return err
	}
	if review.Status.Allowed {
		return nil
	}
	return apierrors.NewForbidden(authorizationv1.Resource(resource), "admin", errors.New(review.Status.Reason))
}

// grantConfigMaps creates the ServiceAccount sa in ns, allowed to manage
// ConfigMaps there and nothing else.
func grantConfigMaps(t *testing.T, ns, sa string) {
	t.Helper()
	create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}})
	create(t, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}},
	})
	create(t, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}},
	})
}

func grepLines(s, substr string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestTwoReplicasOneWriterAndFailover runs two managers with leader
// election: only the leader unseals, both serve the public keys, and when
// the leader stops the other takes over.
func TestTwoReplicasOneWriterAndFailover(t *testing.T) {
	env := cluster.Get(t)
	ns, watch := env.Namespace(t, "gitseal-ha"), env.Namespace(t, "apps-ha")
	a := startController(t, setupOpts{ns: ns, watch: watch, leaderElect: true})
	b := startController(t, setupOpts{ns: ns, watch: watch, leaderElect: true})
	leader, standby := a, b
	testenv.Eventually(t, "one leader", func() error {
		switch la, lb := isLeader(a), isLeader(b); {
		case la && lb:
			t.Fatal("two leaders at once")
		case lb:
			leader, standby = b, a
		case !la:
			return errors.New("no leader yet")
		}
		return nil
	})
	r := leader.activeKey(t)
	if n := len(keySecrets(t, ns)); n != 1 {
		t.Errorf("%d keys: only the leader may generate", n)
	}
	ss := leader.sealed(t, "ha-1", crypto.Strict, map[string]string{"k": "v"}, r)
	create(t, ss)
	waitReason(t, client.ObjectKeyFromObject(ss), gitsealv1alpha1.ReasonSucceeded)
	if strings.Contains(standby.logs.String(), `"msg"="unsealed"`) {
		t.Error("the standby unsealed while not leading")
	}
	resp, err := http.Get(standby.httpURL + httpapi.PathKeys)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("standby /v1/keys: %v", err)
	}
	resp.Body.Close()

	if err := leader.stop(); err != nil {
		t.Fatal(err)
	}
	leader.elected = make(chan struct{}) // stopped: no longer leading
	testenv.Eventually(t, "the standby takes over", func() error {
		if !isLeader(standby) {
			return errors.New("not leading yet")
		}
		return nil
	})
	next := standby.sealed(t, "ha-2", crypto.Strict, map[string]string{"k": "v"}, r)
	create(t, next)
	waitReason(t, client.ObjectKeyFromObject(next), gitsealv1alpha1.ReasonSucceeded)
	if n := len(keySecrets(t, ns)); n != 1 {
		t.Errorf("%d keys after failover: the new leader must reuse the key", n)
	}
}

func isLeader(c *controller) bool {
	select {
	case <-c.elected:
		return true
	default:
		return false
	}
}
