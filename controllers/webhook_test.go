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
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/webhook"
	"github.com/gitseal/gitseal/test/testenv"
)

// githubPush is a GitHub-shaped push event of ref to the repository at
// repoURL (given as its ssh_url, as GitHub lists it among the others).
func githubPush(t *testing.T, repoURL, ref, after string) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"ref": ref, "after": after, "deleted": false,
		"repository": map[string]any{
			"full_name": "team/env", "html_url": "https://github.example/team/env",
			"clone_url": "https://github.example/team/env.git", "ssh_url": repoURL, "default_branch": "main",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// postHook sends body to the receiver, signed as GitHub signs with key.
func postHook(t *testing.T, c *controller, receiver, key string, body []byte) (int, string) {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.httpURL+webhook.PathPrefix+receiver, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func requestedAt(t *testing.T, key client.ObjectKey) string {
	t.Helper()
	env := cluster.Get(t)
	var gs gitsealv1alpha1.GitSync
	if err := env.Client.Get(t.Context(), key, &gs); err != nil {
		t.Fatal(err)
	}
	return gs.Annotations[gitsealv1alpha1.AnnotationPushReceivedAt]
}

// TestWebhookSyncsOnlyTheGitSyncsAPushConcerns: a signed GitHub push to
// the controller's HTTP server syncs at once the GitSync that follows the
// pushed branch of that repository, and no other; unsigned, wrongly signed
// and unknown-receiver requests get the same 401 and change nothing. C5:
// the receiver's token shows in no log line or response.
func TestWebhookSyncsOnlyTheGitSyncsAPushConcerns(t *testing.T) {
	c := startController(t, setupOpts{})
	repo := newGitRepo(t, c.ns)
	const token = "canary-webhook-token-5e1d-never-logged"
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "github", Labels: map[string]string{webhook.LabelReceiver: string(webhook.GitHub)}},
		Data:       map[string][]byte{webhook.TokenKey: []byte(token + "\n")},
	})
	// A Secret with a token but no receiver label is no receiver.
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "unlabelled"},
		Data:       map[string][]byte{webhook.TokenKey: []byte(token)},
	})

	first := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "1")}, "first")
	repo.Branch(t, "dev", first)
	main := newGitSync(c.ns, "main", repo.url)
	others := []*gitsealv1alpha1.GitSync{
		newGitSync(c.ns, "dev", repo.url, func(gs *gitsealv1alpha1.GitSync) {
			gs.Spec.Ref = &gitsealv1alpha1.GitRef{Branch: "dev"}
			gs.Spec.Path = "missing" // it builds nothing of main's
		}),
		newGitSync(c.ns, "suspended", repo.url, func(gs *gitsealv1alpha1.GitSync) { gs.Spec.Suspend = true }),
		newGitSync(c.ns, "other-repo", repo.url[:len(repo.url)-len("env.git")]+"other.git", func(gs *gitsealv1alpha1.GitSync) { gs.Spec.Path = "missing" }),
	}
	create(t, main)
	for _, gs := range others {
		create(t, gs)
	}
	mainKey := client.ObjectKeyFromObject(main)
	waitSync(t, mainKey, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+first)

	second := repo.Commit(t, map[string]string{"apps/a.yaml": configMap(c.watch, "a", "2")}, "second")
	body := githubPush(t, repo.url, "refs/heads/main", second)
	const unauthorized = `{"error":"unauthorized"}` + "\n"
	for _, tt := range []struct{ name, receiver, key string }{
		{"wrong signature", "github", "guess"},
		{"unknown receiver", "nope", token},
		{"unlabelled Secret", "unlabelled", token},
	} {
		if status, got := postHook(t, c, tt.receiver, tt.key, body); status != http.StatusUnauthorized || got != unauthorized {
			t.Errorf("%s: %d %q, want 401 %q", tt.name, status, got, unauthorized)
		}
	}
	if got := requestedAt(t, mainKey); got != "" {
		t.Fatalf("a refused request asked for a sync: %q", got)
	}

	start := time.Now()
	status, got := postHook(t, c, "github", token, body)
	if status != http.StatusAccepted || got != `{"triggered":1}`+"\n" {
		t.Fatalf("signed push: %d %q, want 202 with one GitSync triggered", status, got)
	}
	testenv.Eventually(t, "the pushed commit is applied", func() error {
		cm, err := getConfigMap(t, c.watch, "a")
		if err != nil {
			return err
		}
		if cm.Data["value"] != "2" {
			return fmt.Errorf("value %q", cm.Data["value"])
		}
		return nil
	})
	t.Logf("push of one changed object applied %s after the webhook request", time.Since(start).Round(time.Millisecond))
	waitSync(t, mainKey, gitsealv1alpha1.ReasonSucceeded, "main@sha1:"+second)
	for _, gs := range others {
		if got := requestedAt(t, client.ObjectKeyFromObject(gs)); got != "" {
			t.Errorf("GitSync %s was asked to sync by a push it does not follow: %q", gs.Name, got)
		}
	}

	// A push to dev reaches the GitSync that follows dev.
	if status, got := postHook(t, c, "github", token, githubPush(t, repo.url, "refs/heads/dev", first)); status != http.StatusAccepted || got != `{"triggered":1}`+"\n" {
		t.Errorf("push to dev: %d %q", status, got)
	}
	if requestedAt(t, client.ObjectKeyFromObject(others[0])) == "" {
		t.Error("the GitSync following dev was not asked to sync")
	}
	if logs := c.logs.String(); !strings.Contains(logs, "push received") {
		t.Errorf("no log line for the push; logs:\n%s", logs)
	}
	assertNoLeak(t, "controller logs", c.logs.String(), token)
	assertNoLeak(t, "klog", klogLogs.String(), token)
}
