//go:build cluster

package cluster

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
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
		ObjectMeta: metav1.ObjectMeta{Name: "git", Namespace: ns},
		Data: map[string][]byte{
			"identity":    pem.EncodeToMemory(block),
			"known_hosts": []byte(gitserver.KnownHostsLine(addr, hostKey)),
		},
	}
	if err := s.client.Create(t.Context(), creds); err != nil {
		t.Fatal(err)
	}
	gs := &gitsealv1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: ns},
		Spec: gitsealv1alpha1.GitSyncSpec{
			URL:                "ssh://git@" + addr + "/env.git",
			Path:               "apps",
			Interval:           metav1.Duration{Duration: time.Minute},
			SecretRef:          &gitsealv1alpha1.LocalObjectReference{Name: "git"},
			ServiceAccountName: "deployer",
		},
	}
	start := time.Now()
	if err := s.client.Create(t.Context(), gs); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "GitSync "+ns+"/apps to be Ready", func() error {
		if err := s.client.Get(t.Context(), client.ObjectKeyFromObject(gs), gs); err != nil {
			return err
		}
		c := meta.FindStatusCondition(gs.Status.Conditions, "Ready")
		if c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
	measure(t, "GitSync over SSH created to Ready", time.Since(start).Round(100*time.Millisecond))
	if err := s.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "settings"}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("the ConfigMap from Git: %v", err)
	}
	waitForSecret(t, ns, "db", time.Minute)
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
	keys := make([]string, 0, len(secret.Data))
	for k := range secret.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
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
