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
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/test/gitserver"
)

// testPodSecurity checks that the namespaces the suite uses enforce the
// restricted level for real: a pod that asks for root is refused, while
// the controller's and the workloads' pods were admitted.
func testPodSecurity(t *testing.T) {
	ns := restrictedNamespace(t, "apps")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "runs-as-root", Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: s.podImage, ImagePullPolicy: corev1.PullNever, Args: []string{"sleep"},
		}}},
	}
	err := s.client.Create(t.Context(), pod)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "restricted") {
		t.Errorf("a pod that breaks the restricted level was not refused by Pod Security: %v", err)
	}
}

// testRotation rotates the key as a user who holds only the documented
// gitseal-key-admin Role, re-seals an old file through the controller as
// that user, and checks that the Secret keeps its value throughout.
func testRotation(t *testing.T) {
	ns := restrictedNamespace(t, "apps")
	const user = "key-admin-alice"
	bind(t, controllerNamespace, user, "Role", "gitseal-key-admin")
	kc := impersonating(t, user)

	file := writeFile(t, s.work, "rotated.sealed.yaml", seal(t, ns, "rotated", randomValue(t)))
	kubectl(t, "", "apply", "-f", file)
	waitForSecret(t, ns, "rotated", time.Minute)
	before := secretDataHash(t, ns, "rotated")
	oldKey := activeKeyID(t)

	run(t, "", s.gitseal, "--kubeconfig", kc, "keys", "rotate")
	newKey := activeKeyID(t)
	if newKey == oldKey {
		t.Fatalf("the active key is still %s after gitseal keys rotate", oldKey)
	}

	run(t, "", s.gitseal, "--kubeconfig", kc, "reseal", file)
	kubectl(t, "", "apply", "-f", file)
	eventually(t, time.Minute, "the re-sealed SealedSecret to open with the new key", func() error {
		var ss gitsealv1alpha1.SealedSecret
		if err := s.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "rotated"}, &ss); err != nil {
			return err
		}
		if !slices.Equal(ss.Status.KeyIDs, []string{newKey}) || ss.Status.ObservedGeneration != ss.Generation {
			return fmt.Errorf("opened with keys %v at generation %d of %d", ss.Status.KeyIDs, ss.Status.ObservedGeneration, ss.Generation)
		}
		return nil
	})
	if after := secretDataHash(t, ns, "rotated"); after != before {
		t.Error("the Secret's value changed when its SealedSecret was re-sealed")
	}
}

// testGitSyncOverSSH has the controller, in its pod, fetch a tenant's
// repository over SSH from a server on the node, and apply it as the
// tenant's ServiceAccount with only the rights the tenant's Role grants.
func testGitSyncOverSSH(t *testing.T) {
	ns := restrictedNamespace(t, "team-a")
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer", Namespace: ns}}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "deployer", Namespace: ns},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
			{APIGroups: []string{"gitseal.dev"}, Resources: []string{"sealedsecrets"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		},
	}
	for _, o := range []client.Object{sa, role} {
		if err := s.client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	bind(t, ns, "system:serviceaccount:"+ns+":deployer", "Role", "deployer")

	root := t.TempDir()
	repo := gitserver.NewRepo(t, root, "env")
	repo.Commit(t, map[string]string{
		"apps/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: deployed}\n",
		"apps/db.yaml":       seal(t, ns, "db", randomValue(t)),
	}, "apps")

	start := time.Now()
	gs := sshGitSync(t, ns, "apps", root, "env", "apps")
	waitReady(t, gs, 2*time.Minute)
	measure(t, "GitSync over SSH created to Ready", time.Since(start).Round(100*time.Millisecond))
	if err := s.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "settings"}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("the ConfigMap from Git: %v", err)
	}
	waitForSecret(t, ns, "db", time.Minute)
}

// sshGitSync serves the repositories under root over SSH to the pods and
// creates a GitSync name in ns that applies path of repo as the
// ServiceAccount deployer, with a Secret of its own for the credentials.
func sshGitSync(t *testing.T, ns, name, root, repo, path string) *gitsealv1alpha1.GitSync {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	local, hostKey := gitserver.ServeSSH(t, root, signer.PublicKey())
	u, err := url.Parse(local)
	if err != nil {
		t.Fatal(err)
	}
	addr := forward(t, u.Host) // the server listens on 127.0.0.1, which pods cannot reach
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "git-" + name, Namespace: ns},
		Data: map[string][]byte{
			"identity":    pem.EncodeToMemory(block),
			"known_hosts": []byte(gitserver.KnownHostsLine(addr, hostKey)),
		},
	}
	if err := s.client.Create(t.Context(), creds); err != nil {
		t.Fatal(err)
	}
	gs := &gitsealv1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gitsealv1alpha1.GitSyncSpec{
			URL:                "ssh://git@" + addr + "/" + repo + ".git",
			Path:               path,
			Interval:           metav1.Duration{Duration: 10 * time.Minute},
			SecretRef:          &gitsealv1alpha1.LocalObjectReference{Name: creds.Name},
			ServiceAccountName: "deployer",
		},
	}
	if err := s.client.Create(t.Context(), gs); err != nil {
		t.Fatal(err)
	}
	return gs
}

// waitReady waits until a GitSync's Ready condition is True for its
// current generation.
func waitReady(t *testing.T, gs *gitsealv1alpha1.GitSync, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "GitSync "+gs.Namespace+"/"+gs.Name+" to be Ready", func() error {
		if err := s.client.Get(t.Context(), client.ObjectKeyFromObject(gs), gs); err != nil {
			return err
		}
		c := meta.FindStatusCondition(gs.Status.Conditions, "Ready")
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != gs.Generation {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
}

// bind binds a user (or "system:serviceaccount:NS:NAME") to a Role or
// ClusterRole in ns.
func bind(t *testing.T, ns, subject, kind, role string) {
	t.Helper()
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "suite-", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: subject}},
	}
	if sa, ok := strings.CutPrefix(subject, "system:serviceaccount:"); ok {
		saNS, name, _ := strings.Cut(sa, ":")
		rb.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: saNS, Name: name}}
	}
	if err := s.client.Create(t.Context(), rb); err != nil {
		t.Fatal(err)
	}
}

// impersonating writes a kubeconfig that acts as user, with no rights
// but user's own (and those of system:authenticated).
func impersonating(t *testing.T, user string) string {
	t.Helper()
	out := kubectl(t, "", "config", "view", "--raw", "--minify", "--flatten")
	out = strings.Replace(out, "\n  user:\n", "\n  user:\n    as: "+user+"\n", 1)
	if !strings.Contains(out, "as: "+user) {
		t.Fatalf("could not add impersonation to the kubeconfig")
	}
	path := filepath.Join(s.work, user+".kubeconfig")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(run(t, "", s.kubectl, "--kubeconfig", path, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")); got != user {
		t.Fatalf("the impersonating kubeconfig acts as %q, want %q", got, user)
	}
	return path
}

// activeKeyID returns the ID of the key the cluster publishes as active.
func activeKeyID(t *testing.T) string {
	t.Helper()
	for _, line := range strings.Split(gitseal(t, "", "keys", "fetch"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# id: "); ok {
			id, _, _ := strings.Cut(rest, " ")
			return id
		}
	}
	t.Fatal("gitseal keys fetch printed no key ID")
	return ""
}

// secretDataHash returns a hash of a Secret's data, to compare values
// without ever printing them.
func secretDataHash(t *testing.T, ns, name string) string {
	t.Helper()
	var secret corev1.Secret
	if err := s.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &secret); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(secret.Data))
	for k := range secret.Data {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s=%s\n", k, sha256Hex(string(secret.Data[k])))
	}
	return sha256Hex(b.String())
}

// forward listens on the node's address and joins each connection to
// target, so that pods reach a server the test runs on 127.0.0.1. It stops
// when the test ends.
func forward(t *testing.T, target string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(s.nodeIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer in.Close()
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				track(in, true)
				track(out, true)
				defer track(in, false)
				defer track(out, false)
				var pipes sync.WaitGroup
				pipe := func(dst, src net.Conn) {
					_, _ = io.Copy(dst, src)
					if tc, ok := dst.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
				}
				pipes.Go(func() { pipe(out, in) })
				pipe(in, out)
				pipes.Wait()
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// testUpgrade rolls the Deployment to another build of the image with
// `kubectl apply -k` and checks that the keys stay as they were and that
// the new leader, having reconciled every SealedSecret, rewrote no Secret.
func testUpgrade(t *testing.T) {
	keysBefore := versions(t, func(sec *corev1.Secret) bool { return sec.Labels[keys.LabelSealingKey] == "true" })
	unsealed := func(sec *corev1.Secret) bool {
		owner := metav1.GetControllerOf(sec)
		return owner != nil && owner.Kind == "SealedSecret"
	}
	secretsBefore := versions(t, unsealed)
	if len(keysBefore) == 0 || len(secretsBefore) == 0 {
		t.Fatalf("nothing to upgrade: %d keys, %d unsealed Secrets", len(keysBefore), len(secretsBefore))
	}

	start := time.Now()
	kubectl(t, "", "apply", "-k", installOverlay(t, s.nextImage))
	kubectl(t, "", "-n", controllerNamespace, "rollout", "status", "deploy/"+controllerName, "--timeout=5m")
	measure(t, "upgrade, apply -k to rollout complete", time.Since(start).Round(100*time.Millisecond))
	for _, p := range controllerPods(t) {
		if p.DeletionTimestamp == nil {
			checkImage(t, &p, s.nextImage)
		}
	}

	var ssList gitsealv1alpha1.SealedSecretList
	if err := s.client.List(t.Context(), &ssList); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "the new leader to reconcile every SealedSecret", func() error {
		leader, err := currentLeader(t.Context())
		if err != nil {
			return err
		}
		if !runsImage(&leader, s.nextImage) {
			return fmt.Errorf("leader %s runs the old image", leader.Name)
		}
		total, depth, err := reconcileCounts(t, &leader, "sealedsecret")
		if err != nil {
			return err
		}
		if total < float64(len(ssList.Items)) || depth > 0 {
			return fmt.Errorf("%v reconciles of %d SealedSecrets, %v queued", total, len(ssList.Items), depth)
		}
		return nil
	})
	if got := versions(t, func(sec *corev1.Secret) bool { return sec.Labels[keys.LabelSealingKey] == "true" }); !maps.Equal(got, keysBefore) {
		t.Errorf("the key Secrets changed in the upgrade: %v, were %v", got, keysBefore)
	}
	if got := versions(t, unsealed); !maps.Equal(got, secretsBefore) {
		t.Errorf("the upgrade rewrote unsealed Secrets: resourceVersions %v, were %v", got, secretsBefore)
	}
}

// testUninstall uninstalls as docs/operations.md says, checks that the
// keys, CRDs, SealedSecrets and Secrets stay, and installs again: the
// controller opens with the old keys a SealedSecret applied while it was
// away, and writes back a Secret deleted meanwhile.
func testUninstall(t *testing.T) {
	isKey := func(sec *corev1.Secret) bool { return sec.Labels[keys.LabelSealingKey] == "true" }
	unsealed := func(sec *corev1.Secret) bool {
		owner := metav1.GetControllerOf(sec)
		return owner != nil && owner.Kind == "SealedSecret"
	}
	keysBefore, secretsBefore := versions(t, isKey), versions(t, unsealed)
	activeBefore := activeKeyID(t)
	ns := restrictedNamespace(t, "apps")
	sealAndApply(t, ns, "before-uninstall", randomValue(t))
	waitForSecret(t, ns, "before-uninstall", time.Minute)
	hashBefore := secretDataHash(t, ns, "before-uninstall")

	kubectl(t, "", "delete", "-k", filepath.Join(s.repoRoot, "config", "controller"), "--wait")
	eventually(t, 2*time.Minute, "the controller's pods to go", func() error {
		if pods := controllerPods(t); len(pods) > 0 {
			return fmt.Errorf("%d pods left", len(pods))
		}
		return nil
	})
	for _, crd := range []string{"sealedsecrets.gitseal.dev", "gitsyncs.gitseal.dev"} {
		kubectl(t, "", "get", "crd", crd)
	}
	kubectl(t, "", "get", "namespace", controllerNamespace)
	if got := versions(t, isKey); !maps.Equal(got, keysBefore) {
		t.Errorf("uninstalling changed the key Secrets: %v, were %v", got, keysBefore)
	}
	secretsBefore[ns+"/before-uninstall"] = versions(t, unsealed)[ns+"/before-uninstall"]
	if got := versions(t, unsealed); !maps.Equal(got, secretsBefore) {
		t.Errorf("uninstalling changed unsealed Secrets: %v, were %v", got, secretsBefore)
	}

	// While gitseal is away: the CLI still seals (the controller does not
	// answer, so it reads the published keys), a new SealedSecret waits,
	// and a Secret is lost.
	sealAndApply(t, ns, "while-uninstalled", randomValue(t))
	if err := s.client.Delete(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "before-uninstall"}}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	kubectl(t, "", "apply", "-k", installOverlay(t, s.nextImage))
	kubectl(t, "", "-n", controllerNamespace, "rollout", "status", "deploy/"+controllerName, "--timeout=5m")
	measure(t, "reinstall, apply -k to rollout complete", time.Since(start).Round(100*time.Millisecond))
	waitForSecret(t, ns, "while-uninstalled", 2*time.Minute)
	waitForSecret(t, ns, "before-uninstall", 2*time.Minute)
	if secretDataHash(t, ns, "before-uninstall") != hashBefore {
		t.Error("the Secret written back after reinstalling holds another value")
	}
	if got := activeKeyID(t); got != activeBefore {
		t.Errorf("the active key is %s after reinstalling, was %s", got, activeBefore)
	}
	if got := versions(t, isKey); !maps.Equal(got, keysBefore) {
		t.Errorf("reinstalling changed the key Secrets: %v, were %v", got, keysBefore)
	}
}

// versions returns the resourceVersion of each Secret that match selects,
// by namespace/name.
func versions(t *testing.T, match func(*corev1.Secret) bool) map[string]string {
	t.Helper()
	var list corev1.SecretList
	if err := s.client.List(t.Context(), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i := range list.Items {
		if sec := &list.Items[i]; match(sec) {
			out[sec.Namespace+"/"+sec.Name] = sec.ResourceVersion
		}
	}
	return out
}

// reconcileCounts scrapes a controller pod's metrics as Prometheus does
// with config/prometheus: HTTPS to the pod's metrics port, with the token of
// a ServiceAccount bound to gitseal-metrics-reader and nothing more. It
// returns the reconciles of the named controller so far, and its work
// queue's depth.
func reconcileCounts(t *testing.T, pod *corev1.Pod, controller string) (total, depth float64, err error) {
	t.Helper()
	if pod.Status.PodIP == "" {
		return 0, 0, fmt.Errorf("pod %s has no IP yet", pod.Name)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+net.JoinHostPort(pod.Status.PodIP, "8443")+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+scraperToken(t))
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the self-signed default, as the shipped ServiceMonitor scrapes it
	}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("scrape %s: %s", pod.Name, resp.Status)
	}
	raw := string(body)
	for _, line := range strings.Split(raw, "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(value, &v); err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(name, "controller_runtime_reconcile_total{") && strings.Contains(name, `controller="`+controller+`"`):
			total += v
		case strings.HasPrefix(name, "workqueue_depth{") && strings.Contains(name, `name="`+controller+`"`):
			depth += v
		}
	}
	return total, depth, nil
}

// scraperToken returns a token of the ServiceAccount default/gitseal-test-scraper,
// bound to the shipped ClusterRole gitseal-metrics-reader, as a Prometheus
// would be. It is made once; the binding outlives reinstalls, which
// recreate the ClusterRole under the same name.
func scraperToken(t *testing.T) string {
	t.Helper()
	if s.scraperToken != "" {
		return s.scraperToken
	}
	kubectl(t, `apiVersion: v1
kind: ServiceAccount
metadata: {name: gitseal-test-scraper, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: gitseal-test-scraper}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gitseal-metrics-reader}
subjects: [{kind: ServiceAccount, name: gitseal-test-scraper, namespace: default}]
`, "apply", "-f", "-")
	s.scraperToken = strings.TrimSpace(kubectl(t, "", "-n", "default", "create", "token", "gitseal-test-scraper", "--duration=2h"))
	return s.scraperToken
}

// testScale measures the controller's memory with 1,000 SealedSecrets
// unsealed and a GitSync of 1,000 objects applied.
func testScale(t *testing.T) {
	const n = 1000
	ns := restrictedNamespace(t, "scale")
	var plain strings.Builder
	for i := range n {
		fmt.Fprintf(&plain, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s%04d, namespace: %s}\nstringData: {password: %s}\n", i, ns, randomValue(t))
	}
	sealed := gitseal(t, plain.String(), "seal")
	start := time.Now()
	kubectl(t, sealed, "create", "-f", "-")
	eventually(t, 10*time.Minute, fmt.Sprintf("%d Secrets unsealed", n), func() error {
		got := len(versions(t, func(sec *corev1.Secret) bool { return sec.Namespace == ns }))
		if got < n {
			return fmt.Errorf("%d of %d", got, n)
		}
		return nil
	})
	measure(t, fmt.Sprintf("%d SealedSecrets created to all unsealed", n), time.Since(start).Round(100*time.Millisecond))

	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer", Namespace: ns}}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "deployer", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}},
	}
	for _, o := range []client.Object{sa, role} {
		if err := s.client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	bind(t, ns, "system:serviceaccount:"+ns+":deployer", "Role", "deployer")
	var objects strings.Builder
	for i := range n {
		fmt.Fprintf(&objects, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%04d}\ndata: {index: \"%d\"}\n", i, i)
	}
	root := t.TempDir()
	gitserver.NewRepo(t, root, "scale").Commit(t, map[string]string{"objects/all.yaml": objects.String()}, "1,000 objects")
	start = time.Now()
	waitReady(t, sshGitSync(t, ns, "scale", root, "scale", "objects"), 10*time.Minute)
	measure(t, fmt.Sprintf("GitSync of %d objects created to Ready", n), time.Since(start).Round(100*time.Millisecond))
	for _, p := range controllerPods(t) {
		measure(t, fmt.Sprintf("memory with %d SealedSecrets and a GitSync of %d objects, %s", n, n, p.Name), podMemory(t, p.Name))
	}
}

// testHostileRepository has a tenant's GitSync fetch a revision whose one
// file inflates to 512 MiB of zeros from a pack of well under 1 MiB: more
// than the controller's memory limit. The GitSync must fail with
// GitFetchFailed, and no controller container may restart.
func testHostileRepository(t *testing.T) {
	ns := restrictedNamespace(t, "hostile")
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer", Namespace: ns}}
	if err := s.client.Create(t.Context(), sa); err != nil {
		t.Fatal(err)
	}
	restarts := func() map[string]int32 {
		out := map[string]int32{}
		for _, p := range controllerPods(t) {
			for _, c := range p.Status.ContainerStatuses {
				out[p.Name] += c.RestartCount
			}
		}
		return out
	}
	before := restarts()
	root := t.TempDir()
	zerosRepo(t, root, "zeros", 512<<20)

	gs := sshGitSync(t, ns, "zeros", root, "zeros", "apps")
	eventually(t, 3*time.Minute, "GitSync "+ns+"/zeros to fail", func() error {
		if err := s.client.Get(t.Context(), client.ObjectKeyFromObject(gs), gs); err != nil {
			return err
		}
		c := meta.FindStatusCondition(gs.Status.Conditions, "Ready")
		if c == nil || c.Status != metav1.ConditionFalse || c.ObservedGeneration != gs.Generation {
			return fmt.Errorf("condition %+v", c)
		}
		if c.Reason != gitsealv1alpha1.ReasonGitFetchFailed {
			t.Fatalf("GitSync %s/zeros failed with %s (%s), want %s", ns, c.Reason, c.Message, gitsealv1alpha1.ReasonGitFetchFailed)
		}
		return nil
	})
	if after := restarts(); !maps.Equal(after, before) {
		t.Errorf("controller containers restarted while fetching the hostile repository: restart counts %v, were %v", after, before)
	}
	for _, p := range controllerPods(t) {
		for _, c := range p.Status.ContainerStatuses {
			if term := c.LastTerminationState.Terminated; term != nil && term.Reason == "OOMKilled" {
				t.Errorf("pod %s container %s was OOMKilled", p.Name, c.Name)
			}
		}
		measure(t, "memory after the hostile repository, "+p.Name, podMemory(t, p.Name))
	}
}

// zerosRepo writes the bare repository <root>/<name>.git with one commit
// whose apps/zeros.bin holds size zero bytes. git compresses it to almost
// nothing.
func zerosRepo(t *testing.T, root, name string, size int64) {
	t.Helper()
	work := t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, "apps"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(work, "apps", "zeros.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil { // sparse: no disk, all zeros
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), "git", append([]string{"-c", "user.name=suite", "-c", "user.email=suite@example.invalid"}, args...)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "zeros")
	git("clone", "-q", "--bare", work, filepath.Join(root, name+".git"))
}
