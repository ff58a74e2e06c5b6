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
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/gitsource"
	"github.com/gitseal/gitseal/internal/render"
	"github.com/gitseal/gitseal/test/gitserver"
)

// changedObjects is how many ConfigMaps a pushed commit changes, and how
// many others the last commit deletes.
const changedObjects = 10

// editedObject is the ConfigMap BenchmarkGitSync1000 edits by hand.
const editedObject = 500

// BenchmarkGitSync1000 measures the rows of issue #12's table for one
// GitSync of 1,000 objects: a repository whose apps/ directory holds 1,000
// five-item ConfigMaps, one file each and no kustomization.yaml, served
// over HTTPS on 127.0.0.1, and the controller as its own process. The
// controller runs with an admin kubeconfig, so its drift watch may watch
// ConfigMaps and syncs between full checks send only what changed. Each
// step is timed from what starts it until a watch sees it done, and its
// API requests are counted from the API server's own metrics (see
// apiRequests). It reports, per run:
//   - floor-s: creating the same 1,000 ConfigMaps directly with 8 workers;
//   - apply-floor-s: the requests a first sync cannot do without, alone:
//     a server-side apply dry run of each of the 1,000 ConfigMaps, then a
//     server-side apply of each, with the GitSync's labels, 8 workers;
//   - first-sync-s: from creating the GitSync until it is Ready at the
//     commit; ratio: first-sync-s / floor-s; apply-ratio: first-sync-s /
//     apply-floor-s;
//   - nochange-s, nochange-object-writes, nochange-dry-runs,
//     nochange-requests: a signed push of the revision already applied,
//     sent to the controller's webhook, until the GitSync's lastSyncTime
//     moves. The push sets gitseal.dev/push-received-at, and the sync it
//     starts is the one every interval starts: incremental, not a full
//     check;
//   - push10-s, push10-requests: a push of a commit that changes 10
//     ConfigMaps, from the webhook request until the GitSync is Ready at
//     the commit;
//   - revert-s, revert-requests: a hand edit of one ConfigMap (an update by
//     another field manager) until the drift watch's sync has put it back;
//   - change-s, change-requests: a push of a commit that changes 10
//     ConfigMaps and deletes 10 others;
//   - full-check-s, full-check-requests: `gitseal sync` when nothing
//     changed, which dry-runs and applies every object by design (what
//     Flux does every interval);
//   - rss-MiB: the controller process's peak resident memory.
//
// requests counts every request the API server served from the step's
// start until its counts settle, the step's own trigger included, except
// watches and the API server's own (see readAPIRequests);
// object-writes counts writes to ConfigMaps, dry-runs the dry runs. The
// logs add each step's requests by verb and resource and the CPU time of
// the controller and the control plane. Each run reports its own figures,
// so with -benchtime Nx the line shows the last run's: use -benchtime 1x
// -count N for several.
func BenchmarkGitSync1000(b *testing.B) {
	env := cluster.Get(b)
	s := newSyncBench(b)
	run := 0
	for b.Loop() {
		run++
		cp := controlPlaneCPU(b)
		floor := createConfigMaps(b, s.c, namespace(b, s.c, "floor"), objects)
		b.Logf("floor: control plane CPU %s", controlPlaneCPU(b).since(cp))
		cp = controlPlaneCPU(b)
		applyFloor := applyConfigMaps(b, s.c, namespace(b, s.c, "apply-floor"), objects)
		b.Logf("apply floor: control plane CPU %s", controlPlaneCPU(b).since(cp))

		repo, repoURL := s.repo(b, fmt.Sprintf("apps-%d", run))
		firstSHA := repo.Commit(b, appsFiles(objects, "", 0), "1,000 ConfigMaps")
		ctrl := s.startController(b)
		target := namespace(b, s.c, "apps")
		env.InstallConfig(b, "platform", ctrl.ns) // the GitSync applies as gitseal-platform
		gs := ctrl.gitSync("apps", repoURL, target)
		key := client.ObjectKeyFromObject(gs)

		// measure times one step, started by start, until done holds for
		// an object that w sends.
		measure := func(what string, w watch.Interface, start func(), done func(runtime.Object) bool) (time.Duration, apiRequestsDelta) {
			defer w.Stop()
			cp, cpu, before := controlPlaneCPU(b), cpuSeconds(b, ctrl.proc.Process.Pid), s.requests(b)
			began := time.Now()
			start()
			awaitEvent(b, w, what, 5*time.Minute, done)
			took := time.Since(began)
			reqs := s.settledRequests(b).since(before)
			b.Logf("%s: %.3fs, controller CPU %.2fs, control plane CPU %s; requests: %s", what, took.Seconds(),
				cpuSeconds(b, ctrl.proc.Process.Pid)-cpu, controlPlaneCPU(b).since(cp), reqs)
			return took, reqs
		}
		// synced is done when the GitSync is Ready at sha for its
		// generation, and also when more holds of it.
		synced := func(sha string, more func(*gitsealv1alpha1.GitSync) bool) func(runtime.Object) bool {
			return func(o runtime.Object) bool {
				gs, ok := o.(*gitsealv1alpha1.GitSync)
				return ok && readyAt(gs, "main@sha1:"+sha) && more(gs)
			}
		}
		always := func(*gitsealv1alpha1.GitSync) bool { return true }

		firstSync, _ := measure("first sync", s.watchGitSync(b, key), func() { must(b, s.c.Create(context.Background(), gs)) }, synced(firstSHA, always))
		checkApplied(b, s.c, target, objects)

		// lastSyncTime has whole seconds: push in a later second than the
		// last sync, so that the next sync moves it.
		var last gitsealv1alpha1.GitSync
		must(b, s.c.Get(context.Background(), key, &last))
		time.Sleep(time.Until(last.Status.LastSyncTime.Add(time.Second)))
		noChange, noChangeReqs := measure("no-change sync (push of the applied revision)", s.watchGitSync(b, key),
			func() { sendPush(b, ctrl.addr, ctrl.token, repoURL, firstSHA, 1) },
			synced(firstSHA, func(gs *gitsealv1alpha1.GitSync) bool { return !gs.Status.LastSyncTime.Equal(last.Status.LastSyncTime) }))

		pushSHA := repo.Commit(b, appsFiles(objects, "pushed", 0), "change 10 ConfigMaps")
		push, pushReqs := measure("push of 10 changed objects", s.watchGitSync(b, key),
			func() { sendPush(b, ctrl.addr, ctrl.token, repoURL, pushSHA, 1) }, synced(pushSHA, always))
		checkChanged(b, s.c, target, "pushed", 0)

		revert, revertReqs := s.measureHandEdit(b, measure, target)

		changeSHA := repo.Commit(b, appsFiles(objects, "changed", changedObjects), "change 10 ConfigMaps, delete 10")
		change, changeReqs := measure("push of 10 changed and 10 deleted objects", s.watchGitSync(b, key),
			func() { sendPush(b, ctrl.addr, ctrl.token, repoURL, changeSHA, 1) }, synced(changeSHA, always))
		checkApplied(b, s.c, target, objects-changedObjects)
		checkChanged(b, s.c, target, "changed", changedObjects)

		var request string
		fullCheck, fullCheckReqs := measure("full check (gitseal sync), nothing changed", s.watchGitSync(b, key),
			func() { request = requestSync(b, s.c, key) },
			synced(changeSHA, func(gs *gitsealv1alpha1.GitSync) bool { return gs.Status.LastHandledReconcileAt == request }))

		rss := peakRSS(b, ctrl.proc.Process.Pid)
		ctrl.stop()
		removeApplied(b, s.c, target)

		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(firstSync.Seconds(), "first-sync-s")
		b.ReportMetric(firstSync.Seconds()/floor.Seconds(), "ratio")
		b.ReportMetric(applyFloor.Seconds(), "apply-floor-s")
		b.ReportMetric(firstSync.Seconds()/applyFloor.Seconds(), "apply-ratio")
		b.ReportMetric(noChange.Seconds(), "nochange-s")
		b.ReportMetric(noChangeReqs.writes("configmaps"), "nochange-object-writes")
		b.ReportMetric(noChangeReqs.dryRuns(), "nochange-dry-runs")
		b.ReportMetric(noChangeReqs.total(), "nochange-requests")
		b.ReportMetric(push.Seconds(), "push10-s")
		b.ReportMetric(pushReqs.total(), "push10-requests")
		b.ReportMetric(revert.Seconds(), "revert-s")
		b.ReportMetric(revertReqs.total(), "revert-requests")
		b.ReportMetric(change.Seconds(), "change-s")
		b.ReportMetric(changeReqs.total(), "change-requests")
		b.ReportMetric(fullCheck.Seconds(), "full-check-s")
		b.ReportMetric(fullCheckReqs.total(), "full-check-requests")
		b.ReportMetric(rss, "rss-MiB")
		b.Logf("floor %.2fs, apply floor %.2fs, first sync %.2fs (%.2f× floor, %.2f× apply floor), no change %.3fs, push 10 %.3fs, revert %.3fs, change %.3fs, full check %.2fs, controller peak RSS %.1f MiB",
			floor.Seconds(), applyFloor.Seconds(), firstSync.Seconds(), firstSync.Seconds()/floor.Seconds(), firstSync.Seconds()/applyFloor.Seconds(), noChange.Seconds(), push.Seconds(),
			revert.Seconds(), change.Seconds(), fullCheck.Seconds(), rss)
	}
}

// measureHandEdit changes one item of the edited ConfigMap as another field
// manager would (kubectl edit), which takes that field from gitseal, and
// measures until the drift watch's sync has put the value back.
func (s *syncBench) measureHandEdit(b *testing.B, measure func(string, watch.Interface, func(), func(runtime.Object) bool) (time.Duration, apiRequestsDelta), ns string) (time.Duration, apiRequestsDelta) {
	name := fmt.Sprintf("cm-%04d", editedObject)
	want := configMapData(editedObject, "value")["key-0"]
	w, err := s.wc.Watch(context.Background(), &corev1.ConfigMapList{}, client.InNamespace(ns), client.MatchingFields{"metadata.name": name})
	if err != nil {
		b.Fatal(err)
	}
	edited := false
	return measure("hand edit until reverted", w, func() {
		var cm corev1.ConfigMap
		must(b, s.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &cm))
		cm.Data["key-0"] = "edited by hand"
		must(b, s.c.Update(context.Background(), &cm, client.FieldOwner("kubectl-edit")))
	}, func(o runtime.Object) bool {
		cm, ok := o.(*corev1.ConfigMap)
		if !ok {
			return false
		}
		// The watch starts with the ConfigMap as it was: wait for the edit,
		// then for the value to come back.
		edited = edited || cm.Data["key-0"] != want
		return edited && cm.Data["key-0"] == want
	})
}

// BenchmarkGitSync10x1000 measures the controller's memory with 10 GitSyncs
// of the 1,000-object repository of BenchmarkGitSync1000 on one
// controller, each into a namespace of its own. It reports, per run:
//   - all-synced-s: from creating the 10 GitSyncs until all are Ready;
//   - nochange-all-s: a push of the applied revision, which triggers all
//     10, until every lastSyncTime moved;
//   - rss-MiB: the controller process's peak resident memory (VmHWM);
//   - rss-now-MiB: its resident memory (VmRSS) at the end.
func BenchmarkGitSync10x1000(b *testing.B) {
	env := cluster.Get(b)
	const syncs = 10
	s := newSyncBench(b)
	run := 0
	for b.Loop() {
		run++
		repo, repoURL := s.repo(b, fmt.Sprintf("many-%d", run))
		sha := repo.Commit(b, appsFiles(objects, "", 0), "1,000 ConfigMaps")
		ctrl := s.startController(b)
		env.InstallConfig(b, "platform", ctrl.ns)
		var targets []string
		for range syncs {
			targets = append(targets, namespace(b, s.c, "apps"))
		}

		began := time.Now()
		w := s.watchGitSyncs(b, ctrl.ns)
		for i, target := range targets {
			must(b, s.c.Create(context.Background(), ctrl.gitSync(fmt.Sprintf("apps-%d", i), repoURL, target)))
		}
		synced := awaitAll(b, w, syncs, func(gs *gitsealv1alpha1.GitSync) bool { return readyAt(gs, "main@sha1:"+sha) })
		allSynced := time.Since(began)
		for _, target := range targets {
			checkApplied(b, s.c, target, objects)
		}
		b.Logf("%d GitSyncs of %d objects synced in %.1fs; controller CPU %.1fs", syncs, objects, allSynced.Seconds(), cpuSeconds(b, ctrl.proc.Process.Pid))

		var latest time.Time
		for _, gs := range synced {
			if gs.Status.LastSyncTime.After(latest) {
				latest = gs.Status.LastSyncTime.Time
			}
		}
		time.Sleep(time.Until(latest.Add(time.Second))) // lastSyncTime has whole seconds
		before := s.requests(b)
		began = time.Now()
		w = s.watchGitSyncs(b, ctrl.ns)
		sendPush(b, ctrl.addr, ctrl.token, repoURL, sha, syncs)
		awaitAll(b, w, syncs, func(gs *gitsealv1alpha1.GitSync) bool {
			return readyAt(gs, "main@sha1:"+sha) && gs.Status.LastSyncTime.After(synced[gs.Name].Status.LastSyncTime.Time)
		})
		noChange := time.Since(began)
		b.Logf("no-change sync of all %d: %.2fs; requests: %s", syncs, noChange.Seconds(), s.settledRequests(b).since(before))

		peak, now := peakRSS(b, ctrl.proc.Process.Pid), memoryMiB(b, ctrl.proc.Process.Pid, "VmRSS")
		ctrl.stop()
		for _, target := range targets {
			removeApplied(b, s.c, target)
		}
		b.ReportMetric(allSynced.Seconds(), "all-synced-s")
		b.ReportMetric(noChange.Seconds(), "nochange-all-s")
		b.ReportMetric(peak, "rss-MiB")
		b.ReportMetric(now, "rss-now-MiB")
		b.Logf("controller with %d × %d objects: peak RSS %.1f MiB, RSS now %.1f MiB", syncs, objects, peak, now)
	}
}

// syncBench is what the GitSync benchmarks share: the controller binary,
// clients of the API server, and the Git server.
type syncBench struct {
	bin, kubeconfig string
	c               client.Client
	wc              client.WithWatch
	hc              *http.Client
	host            string
	root, baseURL   string
	ca              []byte
}

func newSyncBench(b *testing.B) *syncBench {
	env := cluster.Get(b)
	s := &syncBench{bin: buildController(b), kubeconfig: writeKubeconfig(b), root: b.TempDir()}
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	var err error
	if s.wc, err = client.NewWithWatch(cfg, client.Options{Scheme: env.Scheme}); err != nil {
		b.Fatal(err)
	}
	s.c = s.wc
	if s.hc, err = rest.HTTPClientFor(cfg); err != nil {
		b.Fatal(err)
	}
	s.host = strings.TrimSuffix(cfg.Host, "/")
	s.baseURL, s.ca = gitserver.ServeHTTPS(b, s.root, gitserver.HTTPOptions{})
	return s
}

// repo creates a repository on the Git server and returns it and its URL.
func (s *syncBench) repo(b *testing.B, name string) (*gitserver.Repo, string) {
	return gitserver.NewRepo(b, s.root, name), s.baseURL + "/" + name + ".git"
}

func (s *syncBench) requests(b *testing.B) apiRequests {
	return readAPIRequests(b, s.hc, s.host)
}

// settledRequests reads the API server's request counts every 200 ms until
// two readings agree, or for 5 s at most. A step is seen done before its
// last requests are counted: the API server counts a request once it has
// answered, after a watch may have seen its effect; and a revert is seen
// before its sync writes the GitSync's status.
func (s *syncBench) settledRequests(b *testing.B) apiRequests {
	last := s.requests(b)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		now := s.requests(b)
		if maps.Equal(now, last) {
			break
		}
		last = now
	}
	return last
}

// benchController is a running controller, in a namespace of its own
// that holds the Git credentials Secret and a webhook receiver.
type benchController struct {
	proc        *exec.Cmd
	ns          string
	addr, token string
}

// startController starts the controller, with its webhook on a loopback
// port, and waits until its manager is up.
func (s *syncBench) startController(b *testing.B) *benchController {
	ctrl := &benchController{ns: namespace(b, s.c, "gitseal"), addr: freeAddr(b)}
	must(b, s.c.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ctrl.ns, Name: "git"},
		Data:       map[string][]byte{"ca.crt": s.ca},
	}))
	ctrl.token = createReceiver(b, s.c, ctrl.ns)
	ctrl.proc = startController(b, s.bin, s.kubeconfig, ctrl.ns, ctrl.ns, crypto.X25519, "--http-bind-address", ctrl.addr)
	activeKey(b, s.c, ctrl.ns)
	return ctrl
}

func (ctrl *benchController) stop() {
	_ = ctrl.proc.Process.Signal(os.Interrupt)
	_ = ctrl.proc.Wait()
}

// gitSync is a GitSync of the controller's namespace that applies the
// repository's apps/ into target as gitseal-platform. Its interval is an
// hour, so only the benchmark starts a sync.
func (ctrl *benchController) gitSync(name, repoURL, target string) *gitsealv1alpha1.GitSync {
	return &gitsealv1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Namespace: ctrl.ns, Name: name},
		Spec: gitsealv1alpha1.GitSyncSpec{
			URL:                repoURL,
			Ref:                &gitsealv1alpha1.GitRef{Branch: "main"},
			Path:               "apps",
			Interval:           metav1.Duration{Duration: time.Hour},
			SecretRef:          &gitsealv1alpha1.LocalObjectReference{Name: "git"},
			TargetNamespace:    target,
			ServiceAccountName: "gitseal-platform",
		},
	}
}

// watchGitSync watches one GitSync, which need not exist yet. A watch, not
// polling: the GitSync's status lists 1,000 objects, and reading it every
// few milliseconds would load the API server and add to the requests
// counted.
func (s *syncBench) watchGitSync(b *testing.B, key client.ObjectKey) watch.Interface {
	w, err := s.wc.Watch(context.Background(), &gitsealv1alpha1.GitSyncList{}, client.InNamespace(key.Namespace),
		client.MatchingFields{"metadata.name": key.Name})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// watchGitSyncs watches the GitSyncs of a namespace.
func (s *syncBench) watchGitSyncs(b *testing.B, ns string) watch.Interface {
	w, err := s.wc.Watch(context.Background(), &gitsealv1alpha1.GitSyncList{}, client.InNamespace(ns))
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// awaitEvent reads w, which starts with the object as it is, until done
// holds for an object it sends; it fails after within or if the watch
// ends.
func awaitEvent(b *testing.B, w watch.Interface, what string, within time.Duration, done func(runtime.Object) bool) {
	timeout := time.After(within)
	for {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				b.Fatalf("%s: the watch ended", what)
			}
			if done(e.Object) {
				return
			}
		case <-timeout:
			b.Fatalf("%s: not done after %s", what, within)
		}
	}
}

// awaitAll reads w until done holds for n GitSyncs, stops it, and returns
// each as done found it, by name.
func awaitAll(b *testing.B, w watch.Interface, n int, done func(*gitsealv1alpha1.GitSync) bool) map[string]*gitsealv1alpha1.GitSync {
	defer w.Stop()
	found := map[string]*gitsealv1alpha1.GitSync{}
	awaitEvent(b, w, fmt.Sprintf("%d GitSyncs", n), 5*time.Minute, func(o runtime.Object) bool {
		if gs, ok := o.(*gitsealv1alpha1.GitSync); ok && done(gs) {
			found[gs.Name] = gs
		}
		return len(found) == n
	})
	return found
}

// readyAt reports whether the GitSync is Ready at rev for its current
// generation.
func readyAt(gs *gitsealv1alpha1.GitSync, rev string) bool {
	ready := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == gs.Generation &&
		gs.Status.LastAppliedRevision == rev
}

// BenchmarkFetchAndBuild1000 times, in process and without a cluster, what a
// sync of BenchmarkGitSync1000 does before it talks to the API server: fetch
// the repository over HTTPS into an empty directory, generate the
// kustomization of apps/ and build it. fetch-ms and build-ms split the time.
// The allocations include the in-process side of the test server, which
// copies the pack from git http-backend.
func BenchmarkFetchAndBuild1000(b *testing.B) {
	root := b.TempDir()
	baseURL, ca := gitserver.ServeHTTPS(b, root, gitserver.HTTPOptions{})
	gitserver.NewRepo(b, root, "apps").Commit(b, appsFiles(objects, "", 0), "1,000 ConfigMaps")
	opts := gitsource.Options{
		URL:  baseURL + "/apps.git",
		Ref:  gitsource.Ref{Branch: "main"},
		Auth: &gitsource.Auth{CABundle: ca},
	}
	ctx, checkouts := context.Background(), b.TempDir()
	var fetching, building time.Duration
	b.ReportAllocs()
	for b.Loop() {
		dir, err := os.MkdirTemp(checkouts, "gitsync-")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := gitsource.Fetch(ctx, opts, dir); err != nil {
			b.Fatal(err)
		}
		fetched := time.Now()
		apps := filepath.Join(dir, "apps")
		if err := render.WriteKustomization(dir, apps); err != nil {
			b.Fatal(err)
		}
		out, err := render.Build(ctx, dir, apps, render.Options{})
		if err != nil {
			b.Fatal(err)
		}
		fetching += fetched.Sub(start)
		building += time.Since(fetched)
		if n := len(out.Objects()); n != objects {
			b.Fatalf("built %d objects, want %d", n, objects)
		}
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(fetching.Seconds()*1000/float64(b.N), "fetch-ms")
	b.ReportMetric(building.Seconds()*1000/float64(b.N), "build-ms")
}

// configMapData is the data of ConfigMap i: 5 items of about 50 bytes.
func configMapData(i int, prefix string) map[string]string {
	d := make(map[string]string, items)
	for k := range items {
		d[fmt.Sprintf("key-%d", k)] = fmt.Sprintf("%s-%d-%d-%s", prefix, i, k, strings.Repeat("x", 40))
	}
	return d
}

// appsFiles is the repository's tree of n ConfigMaps: apps/cm-NNNN.yaml,
// one ConfigMap a file, with no namespace (the GitSync's targetNamespace
// supplies it). With changed set, the first 10 ConfigMaps have values
// prefixed with it; the last deleted ConfigMaps are left out.
func appsFiles(n int, changed string, deleted int) map[string]string {
	files := make(map[string]string, n)
	for i := range n - deleted {
		prefix := "value"
		if changed != "" && i < changedObjects {
			prefix = changed
		}
		var y strings.Builder
		fmt.Fprintf(&y, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\ndata:\n", i)
		d := configMapData(i, prefix)
		for _, k := range slices.Sorted(maps.Keys(d)) {
			fmt.Fprintf(&y, "  %s: %s\n", k, d[k])
		}
		files[fmt.Sprintf("apps/cm-%04d.yaml", i)] = y.String()
	}
	return files
}

// createConfigMaps creates n ConfigMaps of the repository's in ns with the
// benchmark's workers and returns how long that took: the floor.
func createConfigMaps(b *testing.B, c client.Client, ns string, n int) time.Duration {
	start := time.Now()
	parallel(n, func(i int) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%04d", i), Namespace: ns}, Data: configMapData(i, "value")}
		must(b, c.Create(context.Background(), cm))
	})
	return time.Since(start)
}

// applyConfigMaps sends what a first sync of the n ConfigMaps cannot do
// without, and nothing else: a server-side apply dry run of each, then a
// server-side apply of each, as the field manager gitseal, with the labels
// a GitSync sets.
func applyConfigMaps(b *testing.B, c client.Client, ns string, n int) time.Duration {
	cm := func(i int) *unstructured.Unstructured {
		data := map[string]any{}
		for k, v := range configMapData(i, "value") {
			data[k] = v
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": fmt.Sprintf("cm-%04d", i), "namespace": ns,
				"labels": map[string]any{controllers.LabelGitSyncName: "floor", controllers.LabelGitSyncNamespace: ns}},
			"data": data,
		}}
	}
	start := time.Now()
	for _, dryRun := range []bool{true, false} {
		opts := []client.ApplyOption{client.FieldOwner("gitseal"), client.ForceOwnership}
		if dryRun {
			opts = append(opts, client.DryRunAll)
		}
		parallel(n, func(i int) {
			must(b, c.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(cm(i)), opts...))
		})
	}
	return time.Since(start)
}

// requestSync asks for a sync now with the annotation, as `gitseal sync`
// does, and returns the value to wait for in lastHandledReconcileAt.
func requestSync(b *testing.B, c client.Client, key client.ObjectKey) string {
	request := time.Now().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{gitsealv1alpha1.AnnotationReconcileRequestedAt: request},
	}})
	must(b, err)
	gs := &gitsealv1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	must(b, c.Patch(context.Background(), gs, client.RawPatch(types.MergePatchType, patch)))
	return request
}

// checkApplied fails unless the namespace holds exactly want ConfigMaps
// labelled as the GitSync's.
func checkApplied(b *testing.B, c client.Client, ns string, want int) {
	var list corev1.ConfigMapList
	must(b, c.List(context.Background(), &list, client.InNamespace(ns), client.HasLabels{controllers.LabelGitSyncName}))
	if len(list.Items) != want {
		b.Fatalf("%d ConfigMaps applied in %s, want %d", len(list.Items), ns, want)
	}
}

// removeApplied deletes the ConfigMaps a stopped controller applied in ns.
// envtest runs no namespace controller to delete them with their
// namespace, and the next run's controller would hold them too: its drift
// watch keeps the metadata of every object in the cluster that carries
// the GitSync label, whichever controller applied it.
func removeApplied(b *testing.B, c client.Client, ns string) {
	must(b, c.DeleteAllOf(context.Background(), &corev1.ConfigMap{}, client.InNamespace(ns), client.HasLabels{controllers.LabelGitSyncName}))
}

// checkChanged fails unless the first 10 ConfigMaps have the values
// prefixed with changed and the last deleted ones were pruned.
func checkChanged(b *testing.B, c client.Client, ns, changed string, deleted int) {
	for i := range changedObjects {
		var cm corev1.ConfigMap
		must(b, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("cm-%04d", i)}, &cm))
		if want := configMapData(i, changed); !maps.Equal(cm.Data, want) {
			b.Errorf("cm-%04d was not updated", i)
		}
	}
	for i := range deleted {
		gone := fmt.Sprintf("cm-%04d", objects-1-i)
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: gone}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
			b.Errorf("%s was not pruned: %v", gone, err)
		}
	}
}

var (
	verbLabel        = regexp.MustCompile(`[{,]verb="([A-Z]+)"`)
	resourceLabel    = regexp.MustCompile(`[{,]resource="([^"]*)"`)
	subresourceLabel = regexp.MustCompile(`[{,]subresource="([^"]*)"`)
	dryRunLabel      = regexp.MustCompile(`[{,]dry_run="([^"]*)"`)
)

// apiServersOwn are the resources readAPIRequests leaves out; "" is a
// request for no resource, such as /metrics.
var apiServersOwn = map[string]bool{"": true, "leases": true, "endpoints": true, "endpointslices": true}

// apiRequest is one kind of request the API server counts.
type apiRequest struct {
	verb     string
	resource string // with "/subresource" when there is one
	dryRun   bool
}

// apiRequests is the API server's count of requests served so far, by kind.
type apiRequests map[apiRequest]float64

// readAPIRequests reads apiserver_request_total from the API server's
// metrics. Two kinds are left out: watches, which the API server counts
// when they end, so the benchmark's own watch would count in whichever
// step it ends; and what the API server itself reads and writes every few
// seconds, leases, endpoints and endpoint slices, none of which the
// controller touches with leader election off.
func readAPIRequests(b *testing.B, hc *http.Client, host string) apiRequests {
	resp, err := hc.Get(host + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	counts := apiRequests{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		verb, resource := verbLabel.FindStringSubmatch(line), resourceLabel.FindStringSubmatch(line)
		if verb == nil || resource == nil || verb[1] == "WATCH" || apiServersOwn[resource[1]] {
			continue
		}
		n, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			b.Fatalf("metrics line %q: %v", line, err)
		}
		req := apiRequest{verb: verb[1], resource: resource[1]}
		if sub := subresourceLabel.FindStringSubmatch(line); sub != nil && sub[1] != "" {
			req.resource += "/" + sub[1]
		}
		if dry := dryRunLabel.FindStringSubmatch(line); dry != nil && dry[1] != "" {
			req.dryRun = true
		}
		counts[req] += n
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return counts
}

// apiRequestsDelta is the requests served between two readings.
type apiRequestsDelta apiRequests

func (now apiRequests) since(before apiRequests) apiRequestsDelta {
	d := apiRequestsDelta{}
	for req, n := range now {
		if n -= before[req]; n > 0 {
			d[req] = n
		}
	}
	return d
}

func (d apiRequestsDelta) count(match func(apiRequest) bool) float64 {
	var n float64
	for req, c := range d {
		if match(req) {
			n += c
		}
	}
	return n
}

func (d apiRequestsDelta) total() float64 { return d.count(func(apiRequest) bool { return true }) }

func (d apiRequestsDelta) dryRuns() float64 {
	return d.count(func(r apiRequest) bool { return r.dryRun })
}

// writes counts the requests that change resource, dry runs not included.
func (d apiRequestsDelta) writes(resource string) float64 {
	return d.count(func(r apiRequest) bool {
		return r.resource == resource && !r.dryRun && r.verb != "GET" && r.verb != "LIST"
	})
}

// String lists the requests as "VERB resource n", dry runs marked, in
// order.
func (d apiRequestsDelta) String() string {
	var parts []string
	for req, n := range d {
		what := req.verb + " " + req.resource
		if req.dryRun {
			what += " (dry run)"
		}
		parts = append(parts, fmt.Sprintf("%s %.0f", what, n))
	}
	if len(parts) == 0 {
		return "none"
	}
	slices.Sort(parts)
	return fmt.Sprintf("%.0f in all: %s", d.total(), strings.Join(parts, ", "))
}
