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
	"fmt"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/test/gitserver"
)

// TestGitSyncsShareOneFetchPerCommit: GitSyncs of one repository and ref,
// with the same credentials Secret, download a commit once between them;
// a GitSync with other credentials downloads it again; and a push between
// two syncs is never hidden by what the first one fetched: the second
// resolves the new commit and downloads it. A drift sync downloads and
// builds nothing.
func TestGitSyncsShareOneFetchPerCommit(t *testing.T) {
	env := cluster.Get(t)
	c := startController(t, setupOpts{})
	const user, password, token = "deploy", "canary-password-3e1a", "canary-token-3e1a"
	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "env")
	var downloads atomic.Int64
	base, ca := gitserver.ServeHTTPS(t, root, gitserver.HTTPOptions{
		Username: user, Password: password, BearerToken: token, UploadPacks: &downloads,
	})
	url := base + "/env.git"
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "git"},
		Data:       map[string][]byte{"username": []byte(user), "password": []byte(password), "ca.crt": ca},
	})
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "git-token"},
		Data:       map[string][]byte{"bearerToken": []byte(token), "ca.crt": ca},
	})
	// No namespace in the manifests: each GitSync writes its own.
	plain := func(value string) map[string]string {
		return map[string]string{"apps/a.yaml": fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  value: %q\n", value)}
	}
	first := repo.Commit(t, plain("1"), "first")

	const n = 4
	keys := make([]client.ObjectKey, n+1)
	targets := make([]string, n+1)
	gitSync := func(i int, secret string) *gitsealv1alpha1.GitSync {
		return newGitSync(c.ns, fmt.Sprintf("shared-%d", i), url, func(gs *gitsealv1alpha1.GitSync) {
			gs.Spec.TargetNamespace = targets[i]
			gs.Spec.SecretRef.Name = secret
		})
	}
	for i := range n + 1 {
		targets[i] = env.Namespace(t, "shared")
		keys[i] = client.ObjectKeyFromObject(gitSync(i, ""))
	}
	for i := range n {
		create(t, gitSync(i, "git"))
	}
	for i := range n {
		waitSync(t, keys[i], gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)
	}
	if got := downloads.Load(); got != 1 {
		t.Errorf("%d GitSyncs of one commit, with one Secret, downloaded %d packs, want 1", n, got)
	}

	// Other credentials, same repository and commit: a download of its own.
	create(t, gitSync(n, "git-token"))
	waitSync(t, keys[n], gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)
	if got := downloads.Load(); got != 2 {
		t.Errorf("a GitSync with other credentials: %d downloads in all, want 2", got)
	}

	// A push after the first GitSync's sync: the next one fetches it,
	// though the checkout of the first commit is still cached; the one
	// after shares that download.
	second := repo.Commit(t, plain("2"), "second")
	requestSync(t, keys[0])
	waitSync(t, keys[0], gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+second)
	if got := downloads.Load(); got != 3 {
		t.Errorf("after a push: %d downloads in all, want 3", got)
	}
	requestSync(t, keys[1])
	waitSync(t, keys[1], gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+second)
	if got := downloads.Load(); got != 3 {
		t.Errorf("a second GitSync of the pushed commit: %d downloads in all, want still 3", got)
	}
	for i, want := range []string{"2", "2", "1", "1", "1"} {
		cm, err := getConfigMap(t, targets[i], "a")
		if err != nil || cm.Data["value"] != want {
			t.Errorf("%s/a: %v, value %q, want %q", targets[i], err, cm.Data["value"], want)
		}
	}

	// A hand edit: the drift sync finds the ref where the GitSync last
	// built, and puts the object back with that build, downloading
	// nothing.
	handEdit(t, targets[0], "a", "edited")
	untilValue(t, targets[0], "a", "2")
	if got := downloads.Load(); got != 3 {
		t.Errorf("a drift sync: %d downloads in all, want still 3", got)
	}
	assertNoLeak(t, "logs", c.logs.String(), password, token)
}
