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

package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/webhook"
	"github.com/gitseal/gitseal/test/gitserver"
)

// BenchmarkWebhookPush10 times the goal: a commit that changes 10
// objects, announced by a signed GitHub push to the controller's webhook,
// until the GitSync is Ready at that commit. The repository holds just
// those 10 ConfigMaps, served over HTTPS on 127.0.0.1, and the controller
// runs as its own process. push-s is the time per push, from the request.
func BenchmarkWebhookPush10(b *testing.B) {
	env := cluster.Get(b)
	bin := buildController(b)
	kubeconfig := writeKubeconfig(b)
	cfg := rest.CopyConfig(env.Config)
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	must(b, err)
	root := b.TempDir()
	baseURL, ca := gitserver.ServeHTTPS(b, root, gitserver.HTTPOptions{})
	repo := gitserver.NewRepo(b, root, "push10")
	rev := "main@sha1:" + repo.Commit(b, tenConfigMaps(0), "10 ConfigMaps")

	ctrlNS, target := namespace(b, c, "gitseal"), namespace(b, c, "apps")
	must(b, c.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ctrlNS, Name: "git"}, Data: map[string][]byte{"ca.crt": ca}}))
	token := createReceiver(b, c, ctrlNS)
	env.InstallConfig(b, "platform", ctrlNS)
	addr := freeAddr(b)
	startController(b, bin, kubeconfig, ctrlNS, ctrlNS+","+target, crypto.X25519, "--http-bind-address", addr)
	activeKey(b, c, ctrlNS)
	repoURL := baseURL + "/push10.git"
	gs := &gitsealv1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Namespace: ctrlNS, Name: "apps"},
		Spec: gitsealv1alpha1.GitSyncSpec{
			URL: repoURL, Ref: &gitsealv1alpha1.GitRef{Branch: "main"}, Path: "apps",
			Interval:        metav1.Duration{Duration: time.Hour}, // only the webhook starts a sync
			SecretRef:       &gitsealv1alpha1.LocalObjectReference{Name: "git"},
			TargetNamespace: target, ServiceAccountName: "gitseal-platform",
		},
	}
	must(b, c.Create(context.Background(), gs))
	key := client.ObjectKeyFromObject(gs)
	waitApplied(b, c, key, rev)

	var total time.Duration
	round := 0
	for b.Loop() {
		round++
		sha := repo.Commit(b, tenConfigMaps(round), fmt.Sprintf("change 10 ConfigMaps, round %d", round))
		began := time.Now()
		sendPush(b, addr, token, repoURL, sha, 1)
		waitApplied(b, c, key, "main@sha1:"+sha)
		took := time.Since(began)
		total += took
		b.Logf("push %d: applied %.3fs after the request", round, took.Seconds())
	}
	b.ReportMetric(total.Seconds()/float64(round), "push-s")
}

// createReceiver creates the webhook receiver "github" in the controller's
// namespace and returns its token.
func createReceiver(b *testing.B, c client.Client, ns string) string {
	const token = "bench-webhook-token"
	must(b, c.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "github", Labels: map[string]string{webhook.LabelReceiver: string(webhook.GitHub)}},
		Data:       map[string][]byte{webhook.TokenKey: []byte(token)},
	}))
	return token
}

// sendPush sends the controller's webhook at addr a GitHub push of sha to
// the main branch of repoURL, signed with token, and fails unless it
// triggered want GitSyncs.
func sendPush(b *testing.B, addr, token, repoURL, sha string, want int) {
	body, err := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "after": sha,
		"repository": map[string]any{"clone_url": repoURL, "default_branch": "main"},
	})
	must(b, err)
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+webhook.PathPrefix+"github", bytes.NewReader(body))
	must(b, err)
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(out), fmt.Sprintf(`"triggered":%d`, want)) {
		b.Fatalf("push: %d %s, want %d triggered", resp.StatusCode, out, want)
	}
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// tenConfigMaps is apps/ with 10 ConfigMaps whose values depend on round.
func tenConfigMaps(round int) map[string]string {
	files := map[string]string{}
	for i := range 10 {
		files[fmt.Sprintf("apps/cm-%02d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\ndata:\n  round: %q\n", i, fmt.Sprint(round))
	}
	return files
}

// waitApplied polls the GitSync every 10 ms until it is Ready at rev.
func waitApplied(b *testing.B, c client.Client, key client.ObjectKey, rev string) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var gs gitsealv1alpha1.GitSync
		err := c.Get(context.Background(), key, &gs)
		ready := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady)
		if err == nil && ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == gs.Generation && gs.Status.LastAppliedRevision == rev {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the GitSync is not Ready at %s after 2 minutes (get: %v, Ready: %+v)", rev, err, ready)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
