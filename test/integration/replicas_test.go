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
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/httpapi"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/sealer"
	"github.com/gitseal/gitseal/test/testenv"
)

// The lease names cmd/gitseal-controller competes for.
const leaseName = "gitseal-controller.gitseal.dev"

// replica is one controller process with its HTTP API and probes.
type replica struct {
	*testenv.Process
	api    *httpapi.Client
	probes string
}

// Every replica serves keys: loading them needs no leadership, and a
// replica is not ready until it has loaded them, so an HA pair never
// answers "no key" from its standby (issue 9 item 4; RELIABILITY case
// "leader failover with two replicas", C4). When the leader is killed the
// other takes over and unseals what was created meanwhile.
func TestEveryReplicaServesKeysAndTheStandbyTakesOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	ns, apps := newNamespace(ctx, t), newNamespace(ctx, t)
	kc := env.ControllerKubeconfig(t, ns) // exactly the shipped rights, as in a pod
	start := func() *replica {
		httpAddr, probeAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
		p := testenv.StartController(t, kc,
			"--namespace", ns, "--watch-namespaces", apps,
			"--leader-elect", "--leader-election-namespace", ns,
			"--leader-election-lease-duration=4s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=500ms",
			"--key-type", "x25519",
			"--http-bind-address", httpAddr, "--health-probe-bind-address", probeAddr, "--metrics-bind-address", "0")
		api, err := httpapi.New("http://"+httpAddr, nil)
		if err != nil {
			t.Fatal(err)
		}
		return &replica{Process: p, api: api, probes: "http://" + probeAddr}
	}
	replicas := []*replica{start(), start()}

	// Whenever a replica first says it is ready, it already serves a key.
	var active keys.PublicKey
	for i, r := range replicas {
		testenv.WaitFor(t, fmt.Sprintf("replica %d ready", i), 2*time.Minute, func() error {
			if r.Exited() {
				t.Fatalf("replica %d exited", i)
			}
			return get(ctx, r.probes+"/readyz")
		})
		list, err := r.api.Keys(ctx)
		if err != nil || len(list) == 0 || list[0].State != keys.Active {
			t.Fatalf("replica %d is ready but serves keys %v (err %v)", i, list, err)
		}
		if i == 0 {
			active = list[0]
		} else if list[0].ID != active.ID {
			t.Fatalf("replicas disagree on the active key: %s and %s", active.ID, list[0].ID)
		}
	}
	recipient, err := crypto.ParseRecipient(active.Recipient)
	if err != nil {
		t.Fatal(err)
	}

	// Both answer every endpoint, with the same keys.
	ss := sealed(t, apps, "before", recipient)
	for i, r := range replicas {
		v, err := r.api.Validate(ctx, ss)
		if err != nil || !v.Valid {
			t.Errorf("replica %d: validate = %+v, %v", i, v, err)
		}
		re, err := r.api.Reseal(ctx, ss, false)
		if err != nil || re.SealedSecret == nil {
			t.Errorf("replica %d: reseal = %+v, %v", i, re, err)
		}
	}

	leader := leaderOf(ctx, t, ns, replicas)
	var standby *replica
	for _, r := range replicas {
		if r != leader {
			standby = r
		}
	}
	if err := env.Client.Create(ctx, ss); err != nil {
		t.Fatal(err)
	}
	waitReady(ctx, t, client.ObjectKeyFromObject(ss))

	killed := time.Now()
	leader.Kill()
	during := sealed(t, apps, "during-failover", recipient)
	if err := env.Client.Create(ctx, during); err != nil {
		t.Fatal(err)
	}
	waitReady(ctx, t, client.ObjectKeyFromObject(during))
	t.Logf("a SealedSecret created when the leader was killed was unsealed %v later", time.Since(killed).Round(100*time.Millisecond))
	if got := leaderOf(ctx, t, ns, []*replica{standby}); got != standby {
		t.Fatal("the standby did not take over")
	}
	if list, err := standby.api.Keys(ctx); err != nil || len(list) == 0 || list[0].ID != active.ID {
		t.Errorf("after failover the new leader serves %v (err %v)", list, err)
	}
}

// leaderOf waits until one of the replicas holds the lease, and returns it.
// The holder identity is the process's hostname and a UUID; the process
// logs the same when it acquires the lease.
func leaderOf(ctx context.Context, t *testing.T, ns string, rs []*replica) *replica {
	t.Helper()
	var leader *replica
	testenv.WaitFor(t, "a leader among the replicas", time.Minute, func() error {
		var lease coordinationv1.Lease
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: leaseName}, &lease); err != nil {
			return err
		}
		for _, r := range rs {
			if !r.Exited() && strings.Contains(strings.ToLower(r.Output()), "successfully acquired lease") {
				leader = r
				return nil
			}
		}
		return fmt.Errorf("lease held by %v, by none of these replicas", lease.Spec.HolderIdentity)
	})
	return leader
}

func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func sealed(t *testing.T, ns, name string, r *crypto.Recipient) *gitsealv1alpha1.SealedSecret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{"k": "v"}}
	ss, err := sealer.Seal(s, crypto.Strict, []*crypto.Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func waitReady(ctx context.Context, t *testing.T, key client.ObjectKey) {
	t.Helper()
	testenv.WaitFor(t, fmt.Sprintf("%s Ready", key), time.Minute, func() error {
		var ss gitsealv1alpha1.SealedSecret
		if err := env.Client.Get(ctx, key, &ss); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(ss.Status.Conditions, gitsealv1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
			return errors.New("not ready")
		}
		return nil
	})
}
