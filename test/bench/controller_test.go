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

// Package bench measures the controller against a real API server: how long
// 1,000 SealedSecrets of 5 items take to become Secrets, next to the floor
// of creating the same Secrets directly, and the controller's peak memory.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
	"github.com/gitseal/gitseal/internal/sealer"
	"github.com/gitseal/gitseal/test/testenv"
)

// cluster is the control plane the benchmarks share; the first one to run
// starts it, so that `go test` without -bench starts none.
var cluster testenv.Shared

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard()) // the benchmarks' clients have nothing to say
	cluster.Main(m)
}

const (
	objects = 1000
	items   = 5
	workers = 8
)

// BenchmarkController1000x5 reports, per run:
//   - floor-s: creating 1,000 five-item Secrets directly with 8 workers;
//   - gitseal-s: creating 1,000 SealedSecrets until every Secret exists and
//     every SealedSecret is Ready;
//   - ratio: gitseal-s / floor-s (goal: at most 2);
//   - rss-MiB: the controller process's peak resident memory (goal: < 100);
//   - create-only-s: creating the same SealedSecrets where no controller
//     watches, which is what the API server alone needs for objects of
//     this size.
//
// It runs once per kind of key: in sealing format 2 a SealedSecret is about
// 2.3 KB of JSON with a hybrid key and 0.8 KB with X25519 (format 1: 12 KB and
// 2.3 KB), and the API server's cost grows with object size.
func BenchmarkController1000x5(b *testing.B) {
	env := cluster.Get(b)
	bin := buildController(b)
	kubeconfig := writeKubeconfig(b)
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	for _, kind := range []crypto.Kind{crypto.Hybrid, crypto.X25519} {
		b.Run(string(kind), func(b *testing.B) { benchmarkController(b, cfg, c, bin, kubeconfig, kind) })
	}
}

func benchmarkController(b *testing.B, cfg *rest.Config, c client.Client, bin, kubeconfig string, kind crypto.Kind) {
	for b.Loop() {
		cp := controlPlaneCPU(b)
		floor := createSecrets(b, c, namespace(b, c, "floor"), objects)
		b.Logf("floor: control plane CPU %s", controlPlaneCPU(b).since(cp))
		unwatched := namespace(b, c, "unwatched")
		recipientless := sealAll(b, unwatched, mustRecipient(b, kind), objects)
		cp = controlPlaneCPU(b)
		start := time.Now()
		parallel(objects, func(i int) {
			if err := c.Create(context.Background(), recipientless[i]); err != nil {
				b.Error(err)
			}
		})
		createOnly := time.Since(start)
		b.Logf("create only: control plane CPU %s", controlPlaneCPU(b).since(cp))

		ctrlNS, apps := namespace(b, c, "gitseal"), namespace(b, c, "apps")
		proc := startController(b, bin, kubeconfig, ctrlNS, apps, kind)
		recipient := activeKey(b, c, ctrlNS)
		sealed := sealAll(b, apps, recipient, objects)

		waitProfiles := profile(b, cfg, controllerPprof)
		cp = controlPlaneCPU(b)
		start = time.Now()
		parallel(len(sealed), func(i int) {
			if err := c.Create(context.Background(), sealed[i]); err != nil {
				b.Error(err)
			}
		})
		created := time.Since(start)
		waitAllReady(b, cfg, apps, objects)
		took := time.Since(start)
		b.Logf("gitseal: control plane CPU %s", controlPlaneCPU(b).since(cp))
		waitProfiles()
		b.Logf("creating the SealedSecrets took %.2fs", created.Seconds())
		rss := peakRSS(b, proc.Process.Pid)
		if addr := os.Getenv("GITSEAL_BENCH_METRICS"); addr != "" {
			if out, err := exec.Command("curl", "-s", "http://"+addr+"/metrics").Output(); err == nil {
				_ = os.WriteFile(os.Getenv("GITSEAL_BENCH_LOG")+".metrics", out, 0o600)
			}
		}
		b.Logf("controller CPU time %.2fs", cpuSeconds(b, proc.Process.Pid))
		_ = proc.Process.Signal(os.Interrupt)
		_ = proc.Wait()

		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(took.Seconds(), "gitseal-s")
		b.ReportMetric(took.Seconds()/floor.Seconds(), "ratio")
		b.ReportMetric(rss, "rss-MiB")
		b.ReportMetric(createOnly.Seconds(), "create-only-s")
		b.Logf("creating 1,000 SealedSecrets with no controller running takes %.2fs", createOnly.Seconds())
		b.Logf("floor %.2fs, gitseal %.2fs (%.2f× floor, %.0f Secrets/s), controller peak RSS %.1f MiB",
			floor.Seconds(), took.Seconds(), took.Seconds()/floor.Seconds(), objects/took.Seconds(), rss)
	}
}

// profile records CPU profiles of the API server and of the controller
// into the directory GITSEAL_BENCH_PROFILES names (apiserver.pprof,
// controller.pprof), for the first 6 seconds from now; the returned function
// waits for them. It does nothing when the variable is unset.
func profile(b *testing.B, cfg *rest.Config, controllerPprof string) (wait func()) {
	dir := os.Getenv("GITSEAL_BENCH_PROFILES")
	if dir == "" {
		return func() {}
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	const path = "/debug/pprof/profile?seconds=6"
	var wg sync.WaitGroup
	get := func(c *http.Client, url, file string) {
		resp, err := c.Get(url)
		if err != nil {
			b.Logf("profile %s: %v", file, err)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		raw, _ := io.ReadAll(resp.Body)
		if err := os.WriteFile(filepath.Join(dir, file), raw, 0o600); err != nil {
			b.Log(err)
		}
	}
	host := strings.TrimSuffix(cfg.Host, "/")
	get(hc, host+"/metrics", "apiserver-before.metrics")
	wg.Go(func() { get(hc, host+path, "apiserver.pprof") })
	wg.Go(func() { get(http.DefaultClient, "http://"+controllerPprof+path, "controller.pprof") })
	return func() {
		wg.Wait()
		get(hc, host+"/metrics", "apiserver-after.metrics")
	}
}

func buildController(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "gitseal-controller")
	// cmd/gitseal-controller is a module of its own: build it from there.
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..", "cmd", "gitseal-controller")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build controller: %v\n%s", err, out)
	}
	return bin
}

func writeKubeconfig(b *testing.B) string {
	env := cluster.Get(b)
	raw, err := env.AdminKubeconfig()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

func namespace(b *testing.B, c client.Client, prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := c.Create(context.Background(), ns); err != nil {
		b.Fatal(err)
	}
	return ns.Name
}

func data(i int) map[string][]byte {
	d := map[string][]byte{}
	for k := range items {
		d[fmt.Sprintf("key-%d", k)] = fmt.Appendf(nil, "value-%d-%d-%s", i, k, strings.Repeat("x", 40))
	}
	return d
}

// parallel runs f(0..n-1) on the benchmark's worker count.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// createSecrets creates n five-item Secrets in ns with the benchmark's
// workers and returns how long that took: the floor.
func createSecrets(b *testing.B, c client.Client, ns string, n int) time.Duration {
	start := time.Now()
	parallel(n, func(i int) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s-%04d", i), Namespace: ns}, Data: data(i)}
		if err := c.Create(context.Background(), s); err != nil {
			b.Error(err)
		}
	})
	return time.Since(start)
}

// controllerPprof is where the controller serves pprof when
// GITSEAL_BENCH_PROFILES asks for profiles.
const controllerPprof = "127.0.0.1:6061"

func startController(b *testing.B, bin, kubeconfig, ns, watch string, kind crypto.Kind, extraArgs ...string) *exec.Cmd {
	pprof := ""
	if os.Getenv("GITSEAL_BENCH_PROFILES") != "" {
		pprof = controllerPprof
	}
	cmd := exec.Command(bin, "--kubeconfig", kubeconfig, "--namespace", ns, "--watch-namespaces", watch,
		"--key-type", string(kind), "--workers", cmp.Or(os.Getenv("GITSEAL_BENCH_WORKERS"), "8"), "--metrics-bind-address", cmp.Or(os.Getenv("GITSEAL_BENCH_METRICS"), "0"),
		"--metrics-secure=false", // plain HTTP for the curl above, on a local control plane only
		"--health-probe-bind-address", "0", "--http-bind-address", "", "--pprof-bind-address", pprof)
	cmd.Args = append(cmd.Args, extraArgs...) // later flags win
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if path := os.Getenv("GITSEAL_BENCH_LOG"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = f.Close() })
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		if b.Failed() {
			b.Logf("controller output:\n%s", logs.String())
		}
	})
	return cmd
}

func activeKey(b *testing.B, c client.Client, ns string) *crypto.Recipient {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var cm corev1.ConfigMap
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: keys.PublicKeysConfigMap}, &cm); err == nil {
			var list []keys.PublicKey
			if err := json.Unmarshal([]byte(cm.Data[keys.ConfigMapKeysJSON]), &list); err == nil && len(list) > 0 {
				r, err := crypto.ParseRecipient(list[0].Recipient)
				if err != nil {
					b.Fatal(err)
				}
				return r
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatal("the controller published no key")
	return nil
}

// sealAll seals n five-item Secrets of ns to r, strictly.
func sealAll(b *testing.B, ns string, r *crypto.Recipient, n int) []*gitsealv1alpha1.SealedSecret {
	out := make([]*gitsealv1alpha1.SealedSecret, n)
	parallel(n, func(i int) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s-%04d", i), Namespace: ns}, Data: data(i)}
		ss, err := sealer.Seal(s, crypto.Strict, []*crypto.Recipient{r})
		if err != nil {
			b.Error(err)
			return
		}
		out[i] = ss
	})
	return out
}

// waitAllReady watches until n SealedSecrets are Ready and n Secrets
// exist. It watches rather than lists: listing 1,000 ciphertext-heavy
// objects every few milliseconds would load the API server more than the
// controller does, and slow down what is being measured. It fails after 5
// minutes per 1,000 objects.
func waitAllReady(b *testing.B, cfg *rest.Config, ns string, n int) {
	env := cluster.Get(b)
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	timeout := 5 * time.Minute * time.Duration(max(1, n/1000))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ready, secrets := map[string]bool{}, map[string]bool{}
	restarts := 0
	var sealedWatch, secretWatch watch.Interface
	defer func() {
		for _, w := range []watch.Interface{sealedWatch, secretWatch} {
			if w != nil {
				w.Stop()
			}
		}
	}()
	for len(ready) < n || len(secrets) < n {
		// A watch the API server ends is started again; it begins with
		// the current objects, which the sets de-duplicate.
		if sealedWatch == nil {
			if sealedWatch, err = c.Watch(ctx, &gitsealv1alpha1.SealedSecretList{}, client.InNamespace(ns)); err != nil {
				b.Fatal(err)
			}
		}
		if secretWatch == nil {
			if secretWatch, err = c.Watch(ctx, &corev1.SecretList{}, client.InNamespace(ns),
				client.MatchingLabels{keys.ManagedByLabel: keys.ManagedByValue}); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case e, ok := <-sealedWatch.ResultChan():
			if !ok {
				sealedWatch, restarts = nil, restarts+1
				continue
			}
			if ss, isSS := e.Object.(*gitsealv1alpha1.SealedSecret); isSS &&
				meta.IsStatusConditionTrue(ss.Status.Conditions, gitsealv1alpha1.ConditionReady) {
				ready[ss.Name] = true
			}
		case e, ok := <-secretWatch.ResultChan():
			if !ok {
				secretWatch, restarts = nil, restarts+1
				continue
			}
			if s, isSecret := e.Object.(*corev1.Secret); isSecret {
				secrets[s.Name] = true
			}
		case <-ctx.Done():
			b.Fatalf("after %s %d SealedSecrets are Ready and %d Secrets exist", timeout, len(ready), len(secrets))
		}
	}
	if restarts > 0 {
		b.Logf("the API server ended %d watches", restarts)
	}
}

func mustRecipient(b *testing.B, kind crypto.Kind) *crypto.Recipient {
	id, err := crypto.GenerateIdentity(kind)
	if err != nil {
		b.Fatal(err)
	}
	return id.Recipient()
}

// cpuTimes is the CPU time so far of the API server and etcd processes
// the benchmark started.
type cpuTimes struct{ apiServer, etcd float64 }

func (t cpuTimes) since(prev cpuTimes) string {
	return fmt.Sprintf("kube-apiserver %.2fs, etcd %.2fs", t.apiServer-prev.apiServer, t.etcd-prev.etcd)
}

func controlPlaneCPU(b *testing.B) cpuTimes {
	var t cpuTimes
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(raw)
		comm := s[strings.IndexByte(s, '(')+1 : strings.LastIndexByte(s, ')')]
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if ppid, _ := strconv.Atoi(fields[1]); ppid != os.Getpid() {
			continue
		}
		switch comm {
		case "kube-apiserver":
			t.apiServer = cpuSeconds(b, pid)
		case "etcd":
			t.etcd = cpuSeconds(b, pid)
		}
	}
	return t
}

// cpuSeconds reads the process's user and system CPU time.
func cpuSeconds(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.Atoi(fields[11])
	stime, _ := strconv.Atoi(fields[12])
	return float64(utime+stime) / 100 // USER_HZ
}

// peakRSS reads the process's peak resident set size (VmHWM) in MiB.
func peakRSS(b *testing.B, pid int) float64 { return memoryMiB(b, pid, "VmHWM") }

// memoryMiB reads one memory figure of /proc/<pid>/status, such as VmRSS
// or VmHWM, in MiB.
func memoryMiB(b *testing.B, pid int, field string) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				b.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	b.Fatalf("no %s in /proc status", field)
	return 0
}
