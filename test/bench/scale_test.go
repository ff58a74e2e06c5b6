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
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
)

// scaleSizes are the numbers of objects the scaling benchmarks run at.
func scaleSizes() []int { return []int{100, 1000, 10000} }

// scaleTimeout is how long a step of n objects may take before the
// benchmark fails: 5 minutes per 1,000 objects, 5 minutes at least.
func scaleTimeout(n int) time.Duration { return 5 * time.Minute * time.Duration(max(1, n/1000)) }

// benchClient is a client of the test API server with client-go's limit
// raised out of the way, as the benchmarks' clients have.
func benchClient(b *testing.B) (*rest.Config, client.Client) {
	env := cluster.Get(b)
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	return cfg, c
}

// BenchmarkControllerScale is BenchmarkController1000x5's measurement at
// 100, 1,000 and 10,000 five-item SealedSecrets, per kind of key
// (BenchmarkControllerScale/hybrid/10000). It reports, per run:
//   - floor-s: creating n five-item Secrets directly with 8 workers;
//   - gitseal-s: creating n SealedSecrets until every Secret exists and
//     every SealedSecret is Ready; ratio: gitseal-s / floor-s;
//   - ms-per-object: gitseal-s per SealedSecret;
//   - controller-cpu-s: the controller's CPU time for the run;
//   - rss-MiB: the controller process's peak resident memory.
//
// Objects stay in the API server between sizes (envtest runs no namespace
// controller), so a later size runs on a larger store: as a cluster that
// already holds objects does.
func BenchmarkControllerScale(b *testing.B) {
	bin := buildController(b)
	kubeconfig := writeKubeconfig(b)
	cfg, c := benchClient(b)
	for _, kind := range []crypto.Kind{crypto.Hybrid, crypto.X25519} {
		b.Run(string(kind), func(b *testing.B) {
			for _, n := range scaleSizes() {
				b.Run(strconv.Itoa(n), func(b *testing.B) {
					for b.Loop() {
						floor := createSecrets(b, c, namespace(b, c, "floor"), n)
						ctrlNS, apps := namespace(b, c, "gitseal"), namespace(b, c, "apps")
						proc := startController(b, bin, kubeconfig, ctrlNS, apps, kind)
						sealed := sealAll(b, apps, activeKey(b, c, ctrlNS), n)
						cpu := cpuSeconds(b, proc.Process.Pid)
						start := time.Now()
						parallel(n, func(i int) { must(b, c.Create(context.Background(), sealed[i])) })
						waitAllReady(b, cfg, apps, n)
						took := time.Since(start)
						used, rss := cpuSeconds(b, proc.Process.Pid)-cpu, peakRSS(b, proc.Process.Pid)
						_ = proc.Process.Signal(os.Interrupt)
						_ = proc.Wait()

						b.ReportMetric(floor.Seconds(), "floor-s")
						b.ReportMetric(took.Seconds(), "gitseal-s")
						b.ReportMetric(took.Seconds()/floor.Seconds(), "ratio")
						b.ReportMetric(took.Seconds()*1000/float64(n), "ms-per-object")
						b.ReportMetric(used, "controller-cpu-s")
						b.ReportMetric(rss, "rss-MiB")
						b.Logf("%d %s SealedSecrets: floor %.2fs, gitseal %.2fs (%.2f× floor), controller CPU %.2fs, peak RSS %.1f MiB",
							n, kind, floor.Seconds(), took.Seconds(), took.Seconds()/floor.Seconds(), used, rss)
					}
				})
			}
		})
	}
}

// BenchmarkControllerFairFloor1000x5 is issue #13's fair floor for
// BenchmarkController1000x5: the requests that workload needs and that any
// controller marking each object Ready must send, sent by 8 clients with
// no controller running. Each client takes one object at a time and
// creates its SealedSecret, creates its Secret (the controller's, with its
// labels and owner reference) and patches the SealedSecret's status to
// Ready with the merge patch the controller sends. It reports, per run:
//   - fair-floor-s: those 3,000 requests;
//   - fair-floor-apply-s: the same with the Secret written by server-side
//     apply, as the controller writes it;
//   - apiserver-cpu-s: kube-apiserver's CPU time for fair-floor-s.
func BenchmarkControllerFairFloor1000x5(b *testing.B) {
	_, c := benchClient(b)
	status, err := json.Marshal(map[string]any{"status": readyStatus()})
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []crypto.Kind{crypto.Hybrid, crypto.X25519} {
		b.Run(string(kind), func(b *testing.B) {
			for b.Loop() {
				// workload sends the three requests of each object; write
				// writes the Secret.
				workload := func(write func(ss *gitsealv1alpha1.SealedSecret, i int)) (took time.Duration, apiServerCPU float64) {
					sealed := sealAll(b, namespace(b, c, "fair-floor"), mustRecipient(b, kind), objects)
					cp := controlPlaneCPU(b)
					start := time.Now()
					parallel(objects, func(i int) {
						ss := sealed[i]
						must(b, c.Create(context.Background(), ss))
						write(ss, i)
						must(b, c.Status().Patch(context.Background(), ss, client.RawPatch(types.MergePatchType, status)))
					})
					took = time.Since(start)
					b.Logf("%s: %.2fs, control plane CPU %s", kind, took.Seconds(), controlPlaneCPU(b).since(cp))
					return took, controlPlaneCPU(b).apiServer - cp.apiServer
				}
				create, cpu := workload(func(ss *gitsealv1alpha1.SealedSecret, i int) {
					must(b, c.Create(context.Background(), controllersSecret(b, ss, i)))
				})
				apply, _ := workload(func(ss *gitsealv1alpha1.SealedSecret, i int) {
					s := secretApply(ss, data(i))
					must(b, c.Apply(context.Background(), s, client.FieldOwner(controllers.FieldManager)))
				})
				b.ReportMetric(create.Seconds(), "fair-floor-s")
				b.ReportMetric(apply.Seconds(), "fair-floor-apply-s")
				b.ReportMetric(cpu, "apiserver-cpu-s")
			}
		})
	}
}

// controllersSecret is the Secret the controller writes for SealedSecret
// ss of data(i), as an object to create: its apply configuration through
// JSON.
func controllersSecret(b *testing.B, ss *gitsealv1alpha1.SealedSecret, i int) *corev1.Secret {
	raw, err := json.Marshal(secretApply(ss, data(i)))
	if err != nil {
		b.Fatal(err)
	}
	var s corev1.Secret
	if err := json.Unmarshal(raw, &s); err != nil {
		b.Fatal(err)
	}
	return &s
}

// BenchmarkGitSyncScale is part of BenchmarkGitSync1000's measurement at
// 100, 1,000 and 10,000 ConfigMaps in the repository
// (BenchmarkGitSyncScale/10000), ten to a file: gitseal reads at most
// 10,000 files of a revision (gitsource.DefaultMaxFiles when it checks it
// out, render.DefaultMaxFiles when it builds), so 10,000 objects one to a
// file are refused. It reports, per run:
//   - floor-s: creating the n ConfigMaps directly with 8 workers;
//   - first-sync-s: from creating the GitSync until it is Ready at the
//     commit, every ConfigMap applied; ratio: first-sync-s / floor-s;
//   - nochange-s: a signed push of the applied revision to the webhook
//     until lastSyncTime moves;
//   - push10-s: a push of a commit that changes 10 ConfigMaps until the
//     GitSync is Ready at it;
//   - rss-MiB: the controller process's peak resident memory.
//
// The GitSync's timeout is scaleTimeout(n), not the default 2 minutes.
func BenchmarkGitSyncScale(b *testing.B) {
	s := newSyncBench(b)
	for _, n := range scaleSizes() {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			run := 0
			for b.Loop() {
				run++
				floor := createConfigMaps(b, s.c, namespace(b, s.c, "floor"), n)
				repo, repoURL := s.repo(b, fmt.Sprintf("scale-%d-%d", n, run))
				firstSHA := repo.Commit(b, packedAppsFiles(n, ""), "ConfigMaps")
				ctrl := s.startController(b)
				target := namespace(b, s.c, "apps")
				cluster.Get(b).InstallConfig(b, "platform", ctrl.ns)
				gs := ctrl.gitSync("apps", repoURL, target)
				// The default timeout (2m) does not cover building 10,000
				// objects on a loaded 2-core machine: the sync stalls with
				// "build took too long".
				gs.Spec.Timeout = &metav1.Duration{Duration: scaleTimeout(n)}
				key := client.ObjectKeyFromObject(gs)
				measure := func(what string, start func(), done func(*gitsealv1alpha1.GitSync) bool) time.Duration {
					w := s.watchGitSync(b, key)
					defer w.Stop()
					cpu := cpuSeconds(b, ctrl.proc.Process.Pid)
					began := time.Now()
					start()
					awaitEvent(b, w, what, scaleTimeout(n), func(o runtime.Object) bool {
						gs, ok := o.(*gitsealv1alpha1.GitSync)
						return ok && done(gs)
					})
					took := time.Since(began)
					b.Logf("%d objects, %s: %.3fs, controller CPU %.2fs", n, what, took.Seconds(), cpuSeconds(b, ctrl.proc.Process.Pid)-cpu)
					return took
				}

				firstSync := measure("first sync", func() { must(b, s.c.Create(context.Background(), gs)) },
					func(gs *gitsealv1alpha1.GitSync) bool { return readyAt(gs, "main@sha1:"+firstSHA) })
				checkApplied(b, s.c, target, n)

				var last gitsealv1alpha1.GitSync
				must(b, s.c.Get(context.Background(), key, &last))
				time.Sleep(time.Until(last.Status.LastSyncTime.Add(time.Second))) // lastSyncTime has whole seconds
				noChange := measure("no-change sync", func() { sendPush(b, ctrl.addr, ctrl.token, repoURL, firstSHA, 1) },
					func(gs *gitsealv1alpha1.GitSync) bool {
						return readyAt(gs, "main@sha1:"+firstSHA) && !gs.Status.LastSyncTime.Equal(last.Status.LastSyncTime)
					})

				pushSHA := repo.Commit(b, packedAppsFiles(n, "pushed"), "change 10 ConfigMaps")
				push := measure("push of 10 changed objects", func() { sendPush(b, ctrl.addr, ctrl.token, repoURL, pushSHA, 1) },
					func(gs *gitsealv1alpha1.GitSync) bool { return readyAt(gs, "main@sha1:"+pushSHA) })
				checkChanged(b, s.c, target, "pushed", 0)

				rss := peakRSS(b, ctrl.proc.Process.Pid)
				ctrl.stop()
				removeApplied(b, s.c, target)

				b.ReportMetric(floor.Seconds(), "floor-s")
				b.ReportMetric(firstSync.Seconds(), "first-sync-s")
				b.ReportMetric(firstSync.Seconds()/floor.Seconds(), "ratio")
				b.ReportMetric(noChange.Seconds(), "nochange-s")
				b.ReportMetric(push.Seconds(), "push10-s")
				b.ReportMetric(rss, "rss-MiB")
				b.Logf("%d objects: floor %.2fs, first sync %.2fs (%.2f× floor), no change %.3fs, push 10 %.3fs, controller peak RSS %.1f MiB",
					n, floor.Seconds(), firstSync.Seconds(), firstSync.Seconds()/floor.Seconds(), noChange.Seconds(), push.Seconds(), rss)
			}
		})
	}
}

// objectsPerFile is how many ConfigMaps a file of BenchmarkGitSyncScale's
// repository holds.
const objectsPerFile = 10

// packedAppsFiles is appsFiles(n, changed, 0) with objectsPerFile
// ConfigMaps to a file, as YAML documents: apps/cm-0000.yaml holds
// cm-0000 to cm-0009.
func packedAppsFiles(n int, changed string) map[string]string {
	one := appsFiles(n, changed, 0)
	files := make(map[string]string, n/objectsPerFile+1)
	for i := range n {
		name := fmt.Sprintf("apps/cm-%04d.yaml", i-i%objectsPerFile)
		if files[name] != "" {
			files[name] += "---\n"
		}
		files[name] += one[fmt.Sprintf("apps/cm-%04d.yaml", i)]
	}
	return files
}
