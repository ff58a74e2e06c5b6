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

package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/sealer"
	"github.com/gitseal/gitseal/test/gitserver"
	"github.com/gitseal/gitseal/test/testenv"
)

// maxControllerRSS is what the controller may take, at its peak, while two
// hostile repositories are fetched at once.
const maxControllerRSS = 256 << 20

// TestHostileRepositoriesDoNotExhaustTheControllersMemory runs the
// controller binary against the API server with two GitSyncs at once on
// repositories whose 2 MB packs inflate to 2 GiB of zeros: one as a whole
// blob, one as a delta that copies a 64 KiB blob over and over. Each fails
// with GitFetchFailed within its timeout, a good GitSync and a
// SealedSecret beside them still reconcile, and the controller's peak RSS
// stays under 256 MiB; it is killed, and the test fails, the moment it
// goes over. (RELIABILITY C2, status says why; C4, isolation: no crash
// loop because of one bad object.)
func TestHostileRepositoriesDoNotExhaustTheControllersMemory(t *testing.T) {
	root := t.TempDir()
	blob := gitserver.NewZeroBlob(2 << 30)
	gitserver.NewZeroBlobRepo(t, root, "zeros", blob, false)
	gitserver.NewZeroBlobRepo(t, root, "zeros-delta", blob, true)
	ns, apps := env.Namespace(t, "gitseal"), env.Namespace(t, "apps")
	gitserver.NewRepo(t, root, "good").Commit(t, map[string]string{
		"apps/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  mode: prod\n",
	}, "one ConfigMap")
	base, ca := gitserver.ServeHTTPS(t, root, gitserver.HTTPOptions{})
	ctx := t.Context()
	must(t, env.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "git"},
		Data:       map[string][]byte{"ca.crt": ca},
	}))
	sa := syncServiceAccount(t, ns, apps)

	proc := startControllerBinary(t, ns, ns+","+apps)
	recipient := publishedKey(t, ns)
	over := watchRSS(t, proc, maxControllerRSS)

	const hostileTimeout = 20 * time.Second
	gitSync := func(name, repo string, timeout time.Duration) *gitsealv1alpha1.GitSync {
		return &gitsealv1alpha1.GitSync{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: gitsealv1alpha1.GitSyncSpec{
				URL:                base + "/" + repo + ".git",
				Path:               "apps",
				Interval:           metav1.Duration{Duration: time.Hour},
				Timeout:            &metav1.Duration{Duration: timeout},
				SecretRef:          &gitsealv1alpha1.LocalObjectReference{Name: "git"},
				TargetNamespace:    apps,
				ServiceAccountName: sa,
			},
		}
	}
	hostile := []*gitsealv1alpha1.GitSync{
		gitSync("zeros", "zeros", hostileTimeout),
		gitSync("zeros-delta", "zeros-delta", hostileTimeout),
	}
	good := gitSync("good", "good", time.Minute)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: apps, Name: "db"}, Data: map[string][]byte{"password": []byte("hunter2")}}
	sealed, err := sealer.Seal(secret, crypto.Strict, []*crypto.Recipient{recipient})
	must(t, err)

	created := time.Now()
	for _, gs := range hostile {
		must(t, env.Client.Create(ctx, gs))
	}
	must(t, env.Client.Create(ctx, good))
	must(t, env.Client.Create(ctx, sealed))

	for _, gs := range hostile {
		testenv.Eventually(t, "GitSync "+gs.Name+" fails with GitFetchFailed", func() error {
			if over.Load() {
				t.Fatalf("the controller went over %d MiB and was stopped", maxControllerRSS>>20)
			}
			return readyIs(t, gs, metav1.ConditionFalse, gitsealv1alpha1.ReasonGitFetchFailed)
		})
		// The status is polled every 50 ms; the margin is for the
		// controller to pick the GitSync up and write its status.
		took := time.Since(created)
		t.Logf("GitSync %s failed with GitFetchFailed %v after it was created", gs.Name, took.Round(time.Millisecond))
		if took > hostileTimeout+5*time.Second {
			t.Errorf("GitSync %s failed after %v, its timeout is %v", gs.Name, took, hostileTimeout)
		}
	}
	testenv.Eventually(t, "the good GitSync is Ready", func() error {
		return readyIs(t, good, metav1.ConditionTrue, gitsealv1alpha1.ReasonSucceeded)
	})
	testenv.Eventually(t, "the SealedSecret is unsealed", func() error {
		var s corev1.Secret
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(secret), &s); err != nil {
			return err
		}
		if string(s.Data["password"]) != "hunter2" {
			return errors.New("the Secret holds another password")
		}
		return nil
	})
	if over.Load() {
		t.Fatalf("the controller went over %d MiB and was stopped", maxControllerRSS>>20)
	}
	peak, err := proc.PeakRSS()
	must(t, err)
	t.Logf("controller peak RSS %.1f MiB", float64(peak)/(1<<20))
	if peak >= maxControllerRSS {
		t.Errorf("controller peak RSS %.1f MiB, want under %d MiB", float64(peak)/(1<<20), maxControllerRSS>>20)
	}
	for _, gs := range hostile {
		var got gitsealv1alpha1.GitSync
		must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(gs), &got))
		if c := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady); !strings.Contains(c.Message, "too large") {
			t.Errorf("GitSync %s: Ready message %q does not say the repository is too large", gs.Name, c.Message)
		}
	}
}

// readyIs returns nil when gs's Ready condition has status and reason for
// its current generation.
func readyIs(t *testing.T, gs *gitsealv1alpha1.GitSync, status metav1.ConditionStatus, reason string) error {
	var got gitsealv1alpha1.GitSync
	if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(gs), &got); err != nil {
		return err
	}
	c := meta.FindStatusCondition(got.Status.Conditions, gitsealv1alpha1.ConditionReady)
	switch {
	case c == nil:
		return errors.New("no Ready condition yet")
	case c.ObservedGeneration != got.Generation || c.Status != status || c.Reason != reason:
		return fmt.Errorf("Ready=%s %s (generation %d of %d): %s", c.Status, c.Reason, c.ObservedGeneration, got.Generation, c.Message)
	}
	return nil
}

// syncServiceAccount creates a ServiceAccount in ns that may write
// ConfigMaps in target, for GitSyncs that apply as it.
func syncServiceAccount(t *testing.T, ns, target string) string {
	t.Helper()
	const name = "syncer"
	ctx := t.Context()
	must(t, env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}))
	must(t, env.Client.Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: target, Name: name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}},
	}))
	must(t, env.Client.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: target, Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}},
	}))
	return name
}

// startControllerBinary runs cmd/gitseal-controller against the test API
// server with exactly the shipped RBAC, for the namespace ns, watching
// watch.
func startControllerBinary(t *testing.T, ns, watch string) *testenv.Process {
	t.Helper()
	return testenv.StartController(t, env.ControllerKubeconfig(t, ns), "--namespace", ns, "--watch-namespaces", watch,
		"--key-type", "x25519", "--metrics-bind-address", "0", "--health-probe-bind-address", "0",
		"--http-bind-address", "", "--temp-dir", t.TempDir())
}

// publishedKey waits for the controller's first key and returns it.
func publishedKey(t *testing.T, ns string) *crypto.Recipient {
	t.Helper()
	var r *crypto.Recipient
	testenv.Eventually(t, "the controller publishes a key", func() error {
		var cm corev1.ConfigMap
		if err := env.Client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: keys.PublicKeysConfigMap}, &cm); err != nil {
			return err
		}
		var list []keys.PublicKey
		if err := json.Unmarshal([]byte(cm.Data[keys.ConfigMapKeysJSON]), &list); err != nil || len(list) == 0 {
			return fmt.Errorf("no key in %q", cm.Data[keys.ConfigMapKeysJSON])
		}
		var err error
		r, err = crypto.ParseRecipient(list[0].Recipient)
		return err
	})
	return r
}

// watchRSS kills proc as soon as its resident memory reaches limit, so that
// a controller that would take gigabytes takes the test down instead of
// the machine; the flag it returns says that it did.
func watchRSS(t *testing.T, proc *testenv.Process, limit int64) *atomic.Bool {
	t.Helper()
	var over atomic.Bool
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if rss, err := proc.Memory("VmRSS"); err == nil && rss >= limit {
				over.Store(true)
				proc.Kill()
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		<-stopped
	})
	return &over
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
