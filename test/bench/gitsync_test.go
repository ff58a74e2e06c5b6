package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/controllers"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/gitsource"
	"github.com/gitseal/gitseal/internal/render"
	"github.com/gitseal/gitseal/test/gitserver"
)

// changedObjects is how many ConfigMaps the second commit changes, and how
// many others it deletes.
const changedObjects = 10

// BenchmarkGitSync1000 syncs a repository whose apps/ directory holds 1,000
// five-item ConfigMaps, one file each and no kustomization.yaml, served over
// HTTPS on 127.0.0.1, with the controller as its own process. It reports,
// per run:
//   - floor-s: creating the same 1,000 ConfigMaps directly with 8 workers;
//   - first-sync-s: from creating the GitSync until it is Ready at the
//     commit;
//   - ratio: first-sync-s / floor-s;
//   - resync-s: a requested sync when nothing changed, which is what the
//     drift check does every interval;
//   - change-s: a requested sync after a commit that changes 10 ConfigMaps
//     and deletes 10 others;
//   - rss-MiB: the controller process's peak resident memory.
//
// The logs add the CPU time of the controller and of the control plane, and
// the API server's requests on ConfigMaps by verb, for each sync.
func BenchmarkGitSync1000(b *testing.B) {
	bin := buildController(b)
	kubeconfig := writeKubeconfig(b)
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	requests := func() map[string]float64 { return configMapRequests(b, hc, strings.TrimSuffix(cfg.Host, "/")) }
	root := b.TempDir()
	baseURL, ca := gitserver.ServeHTTPS(b, root, gitserver.HTTPOptions{})
	run := 0
	for b.Loop() {
		run++
		cp := controlPlaneCPU(b)
		floor := createConfigMaps(b, c, namespace(b, c, "floor"))
		b.Logf("floor: control plane CPU %s", controlPlaneCPU(b).since(cp))

		repoName := fmt.Sprintf("apps-%d", run)
		repo := gitserver.NewRepo(b, root, repoName)
		firstRev := "main@sha1:" + repo.Commit(b, appsFiles(false), "1,000 ConfigMaps")
		ctrlNS, target := namespace(b, c, "gitseal"), namespace(b, c, "apps")
		must(b, c.Create(context.Background(), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ctrlNS, Name: "git"},
			Data:       map[string][]byte{"ca.crt": ca},
		}))
		env.InstallConfig(b, "platform", ctrlNS) // the GitSync applies as gitseal-platform
		proc := startController(b, bin, kubeconfig, ctrlNS, ctrlNS+","+target, crypto.X25519)
		activeKey(b, c, ctrlNS) // the manager is up
		gs := &gitsealv1alpha1.GitSync{
			ObjectMeta: metav1.ObjectMeta{Namespace: ctrlNS, Name: "apps"},
			Spec: gitsealv1alpha1.GitSyncSpec{
				URL:                baseURL + "/" + repoName + ".git",
				Ref:                &gitsealv1alpha1.GitRef{Branch: "main"},
				Path:               "apps",
				Interval:           metav1.Duration{Duration: time.Hour},
				SecretRef:          &gitsealv1alpha1.LocalObjectReference{Name: "git"},
				TargetNamespace:    target,
				ServiceAccountName: "gitseal-platform",
			},
		}
		key := client.ObjectKeyFromObject(gs)

		// measureSync times one sync, started by start, until the GitSync is
		// Ready at rev with the request handled.
		measureSync := func(what, rev string, start func() (request string)) time.Duration {
			cp, cpu, reqs := controlPlaneCPU(b), cpuSeconds(b, proc.Process.Pid), requests()
			began := time.Now()
			request := start()
			waitSynced(b, c, key, rev, request)
			took := time.Since(began)
			b.Logf("%s: %.2fs, controller CPU %.2fs, control plane CPU %s; ConfigMap requests: %s", what, took.Seconds(),
				cpuSeconds(b, proc.Process.Pid)-cpu, controlPlaneCPU(b).since(cp), requestsSince(requests(), reqs))
			return took
		}
		firstSync := measureSync("first sync", firstRev, func() string {
			must(b, c.Create(context.Background(), gs))
			return ""
		})
		checkApplied(b, c, target, objects)

		resync := measureSync("resync, nothing changed", firstRev, func() string { return requestSync(b, c, key) })

		secondRev := "main@sha1:" + repo.Commit(b, appsFiles(true), "change 10 ConfigMaps, delete 10")
		change := measureSync("sync of 10 changed and 10 deleted", secondRev, func() string { return requestSync(b, c, key) })
		checkApplied(b, c, target, objects-changedObjects)
		checkChanged(b, c, target)

		rss := peakRSS(b, proc.Process.Pid)
		_ = proc.Process.Signal(os.Interrupt)
		_ = proc.Wait()

		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(firstSync.Seconds(), "first-sync-s")
		b.ReportMetric(firstSync.Seconds()/floor.Seconds(), "ratio")
		b.ReportMetric(resync.Seconds(), "resync-s")
		b.ReportMetric(change.Seconds(), "change-s")
		b.ReportMetric(rss, "rss-MiB")
		b.Logf("floor %.2fs, first sync %.2fs (%.2f× floor), resync %.2fs, change %.2fs, controller peak RSS %.1f MiB",
			floor.Seconds(), firstSync.Seconds(), firstSync.Seconds()/floor.Seconds(), resync.Seconds(), change.Seconds(), rss)
	}
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
	gitserver.NewRepo(b, root, "apps").Commit(b, appsFiles(false), "1,000 ConfigMaps")
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

// appsFiles is the repository's tree: apps/cm-NNNN.yaml, one ConfigMap a
// file, with no namespace (the GitSync's targetNamespace supplies it). The
// second revision changes the first 10 ConfigMaps and deletes the last 10.
func appsFiles(second bool) map[string]string {
	files := make(map[string]string, objects)
	for i := range objects {
		prefix := "value"
		switch {
		case second && i >= objects-changedObjects:
			continue
		case second && i < changedObjects:
			prefix = "changed"
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

func createConfigMaps(b *testing.B, c client.Client, ns string) time.Duration {
	start := time.Now()
	parallel(objects, func(i int) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%04d", i), Namespace: ns}, Data: configMapData(i, "value")}
		must(b, c.Create(context.Background(), cm))
	})
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

// waitSynced polls the GitSync, one small object, every 50 ms until it is
// Ready at rev for its current generation and has handled request.
func waitSynced(b *testing.B, c client.Client, key client.ObjectKey, rev, request string) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var gs gitsealv1alpha1.GitSync
		err := c.Get(context.Background(), key, &gs)
		ready := meta.FindStatusCondition(gs.Status.Conditions, gitsealv1alpha1.ConditionReady)
		if err == nil && ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == gs.Generation &&
			gs.Status.LastAppliedRevision == rev && gs.Status.LastHandledReconcileAt == request {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("after 5 minutes the GitSync is not Ready at %s (get: %v, Ready: %+v)", rev, err, ready)
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// checkChanged fails unless the second revision's changes were applied and
// its deletions pruned.
func checkChanged(b *testing.B, c client.Client, ns string) {
	for i := range changedObjects {
		var cm corev1.ConfigMap
		must(b, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("cm-%04d", i)}, &cm))
		if want := configMapData(i, "changed"); !maps.Equal(cm.Data, want) {
			b.Errorf("cm-%04d was not updated", i)
		}
		gone := fmt.Sprintf("cm-%04d", objects-1-i)
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: gone}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
			b.Errorf("%s was not pruned: %v", gone, err)
		}
	}
}

var (
	verbLabel   = regexp.MustCompile(`[{,]verb="([A-Z]+)"`)
	dryRunLabel = regexp.MustCompile(`[{,]dry_run="([^"]*)"`)
)

// configMapRequests reads the API server's count of requests on ConfigMaps
// so far, by verb, from its metrics; dry runs are counted apart.
func configMapRequests(b *testing.B, hc *http.Client, host string) map[string]float64 {
	resp, err := hc.Get(host + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	counts := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") || !strings.Contains(line, `resource="configmaps"`) ||
			!strings.Contains(line, `subresource=""`) {
			continue
		}
		verb := verbLabel.FindStringSubmatch(line)
		if verb == nil {
			continue
		}
		n, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			b.Fatalf("metrics line %q: %v", line, err)
		}
		what := verb[1]
		if dry := dryRunLabel.FindStringSubmatch(line); dry != nil && dry[1] != "" {
			what += " (dry run)"
		}
		counts[what] += n
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return counts
}

// requestsSince formats the requests made between two readings.
func requestsSince(now, before map[string]float64) string {
	var parts []string
	for _, what := range slices.Sorted(maps.Keys(now)) {
		if n := now[what] - before[what]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", what, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
