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
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/internal/keys"
)

const (
	controllerNamespace = "gitseal-system"
	controllerName      = "gitseal-controller"
	// shippedImage is the image config/manager names; the install
	// overlay overrides only it.
	shippedImage = "ghcr.io/gitseal/gitseal"
	// leaderElectionID is the Lease the replicas compete for
	// (cmd/gitseal-controller).
	leaderElectionID = "gitseal-controller.gitseal.dev"
	// nodeName is the one node of hack/cluster.
	nodeName = "gitseal-node"
)

// TestDeployed runs the scenarios in order against one install, as a user
// would meet them. Each scenario makes what it needs besides the install,
// so one failure does not hide the others.
func TestDeployed(t *testing.T) {
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"install", testInstall},
		{"keys", testKeys},
		{"seal and use", testSealAndUse},
		{"pod security", testPodSecurity},
		{"garbage collection", testGarbageCollection},
		{"gitsync over ssh", testGitSyncOverSSH},
		{"rotation", testRotation},
		{"upgrade", testUpgrade},
		{"uninstall and reinstall", testUninstall},
		{"helm install", testHelmInstall}, // the later scenarios run on the chart's install
		{"scale", testScale},
		{"hostile repository", testHostileRepository},
		{"failover", testFailover}, // last: it restarts the controller
	}
	t.Cleanup(func() {
		if t.Failed() {
			diagnose(t)
		}
	})
	for i, step := range steps {
		if !t.Run(step.name, step.fn) && i == 0 {
			t.Fatal("the install failed; every other scenario needs it")
		}
	}
}

// diagnose logs what a failure in the cluster needs to be understood:
// pods, events and the controller's logs. None of them holds a secret
// value.
func diagnose(t *testing.T) {
	for _, args := range [][]string{
		{"get", "pods", "-A", "-o", "wide"},
		{"get", "events", "-A", "--sort-by=.lastTimestamp"},
		{"-n", controllerNamespace, "logs", "-l", "app.kubernetes.io/name=" + controllerName, "--prefix", "--tail=200", "--all-containers"},
		{"get", "gitsyncs,sealedsecrets", "-A", "-o", "wide"},
	} {
		out, err := tryRun(context.Background(), "", s.kubectl, args...)
		t.Logf("kubectl %s:\n%s%v", strings.Join(args, " "), out, errOrEmpty(err))
	}
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// installOverlay writes the kustomization the suite installs with:
// config/default and nothing but the image override, as docs/operations.md
// tells users to do.
func installOverlay(t *testing.T, image string) string {
	t.Helper()
	dir, err := os.MkdirTemp(s.work, "install-")
	if err != nil {
		t.Fatal(err)
	}
	base, err := filepath.Rel(dir, filepath.Join(s.repoRoot, "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	repo, digest, pinned := strings.Cut(image, "@")
	var tag string
	if !pinned {
		i := strings.LastIndex(image, ":")
		if i < 0 || strings.Contains(image[i:], "/") {
			t.Fatalf("image %q names no tag or digest", image)
		}
		repo, tag = image[:i], image[i+1:]
	}
	override := fmt.Sprintf("  - name: %s\n", shippedImage)
	if repo != shippedImage {
		override += fmt.Sprintf("    newName: %s\n", repo)
	}
	if pinned {
		override += fmt.Sprintf("    digest: %s\n", digest)
	} else {
		override += fmt.Sprintf("    newTag: %s\n", tag)
	}
	writeFile(t, dir, "kustomization.yaml", fmt.Sprintf("resources:\n  - %s\nimages:\n%s", base, override))
	return dir
}

// testInstall installs with `kubectl apply -k` and waits until both
// replicas are Ready in a namespace that enforces the restricted Pod
// Security level.
func testInstall(t *testing.T) {
	overlay := installOverlay(t, s.image)
	start := time.Now()
	kubectl(t, "", "apply", "-k", overlay)
	kubectl(t, "", "-n", controllerNamespace, "rollout", "status", "deploy/"+controllerName, "--timeout=5m")
	measure(t, "apply -k to rollout complete", time.Since(start).Round(100*time.Millisecond))

	checkInstalled(t, s.image)
}

// checkInstalled checks what every install must give: a namespace that
// enforces the restricted Pod Security level, and two Ready controller
// pods that run image as the controller's ServiceAccount and never
// restarted. It returns the namespace.
func checkInstalled(t *testing.T, image string) *corev1.Namespace {
	t.Helper()
	var ns corev1.Namespace
	if err := s.client.Get(t.Context(), client.ObjectKey{Name: controllerNamespace}, &ns); err != nil {
		t.Fatal(err)
	}
	if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("namespace %s enforces Pod Security %q, want restricted", controllerNamespace, got)
	}
	pods := controllerPods(t)
	if len(pods) != 2 {
		t.Fatalf("%d controller pods, want 2", len(pods))
	}
	for _, p := range pods {
		if !podReady(&p) {
			t.Errorf("pod %s is not Ready", p.Name)
		}
		if p.Spec.ServiceAccountName != controllerName {
			t.Errorf("pod %s runs as ServiceAccount %q, want %s", p.Name, p.Spec.ServiceAccountName, controllerName)
		}
		for _, c := range p.Status.ContainerStatuses {
			if c.RestartCount != 0 {
				t.Errorf("pod %s container %s restarted %d times", p.Name, c.Name, c.RestartCount)
			}
		}
		checkImage(t, &p, image)
	}
	return &ns
}

// checkImage fails the test unless every container of pod runs image.
func checkImage(t *testing.T, pod *corev1.Pod, image string) {
	t.Helper()
	if !runsImage(pod, image) {
		t.Errorf("pod %s runs another image than %s: %+v", pod.Name, image, pod.Status.ContainerStatuses)
	}
}

// runsImage reports whether every container of pod has started from
// image, when image is pinned by digest (else it cannot tell, and says yes).
func runsImage(pod *corev1.Pod, image string) bool {
	_, digest, pinned := strings.Cut(image, "@")
	if !pinned {
		return true
	}
	if len(pod.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, c := range pod.Status.ContainerStatuses {
		if !strings.Contains(c.ImageID, digest) {
			return false
		}
	}
	return true
}

// testKeys checks that the controller made a key in the cluster, that the
// CLI fetches it with only a kubeconfig, and that the controller's
// /v1/keys answers through the API server's service proxy with the same key.
func testKeys(t *testing.T) {
	var id string
	eventually(t, 2*time.Minute, "a sealing key", func() error {
		var secrets corev1.SecretList
		if err := s.client.List(t.Context(), &secrets, client.InNamespace(controllerNamespace),
			client.MatchingLabels{keys.LabelSealingKey: "true"}); err != nil {
			return err
		}
		if len(secrets.Items) == 0 {
			return fmt.Errorf("no Secret labelled %s=true in %s", keys.LabelSealingKey, controllerNamespace)
		}
		var cm corev1.ConfigMap
		if err := s.client.Get(t.Context(), client.ObjectKey{Namespace: controllerNamespace, Name: keys.PublicKeysConfigMap}, &cm); err != nil {
			return err
		}
		var published []keys.PublicKey
		if err := json.Unmarshal([]byte(cm.Data[keys.ConfigMapKeysJSON]), &published); err != nil {
			return err
		}
		if len(published) == 0 {
			return fmt.Errorf("ConfigMap %s publishes no key", keys.PublicKeysConfigMap)
		}
		id = string(published[0].ID)
		return nil
	})

	// An ordinary user, with only what every authenticated user gets,
	// fetches through the service proxy, the default path.
	user := impersonating(t, "developer-dana")
	fetched := run(t, "", s.gitseal, "--kubeconfig", user, "keys", "fetch")
	if !strings.Contains(fetched, "# id: "+id) {
		t.Errorf("gitseal keys fetch printed no key %s:\n%s", id, fetched)
	}
	if via := "from the controller via the API server's proxy to service " + controllerNamespace + "/gitseal."; !strings.Contains(fetched, via) {
		t.Errorf("gitseal keys fetch did not go through the service proxy (want %q):\n%s", via, fetched)
	}
	// Through the service proxy, as the CLI's re-seal and validate go, and
	// at each replica: the standby serves the HTTP API too.
	paths := map[string]string{"the service proxy": "/api/v1/namespaces/" + controllerNamespace + "/services/http:gitseal:http/proxy/v1/keys"}
	for _, p := range controllerPods(t) {
		paths["replica "+p.Name] = "/api/v1/namespaces/" + controllerNamespace + "/pods/" + p.Name + ":8000/proxy/v1/keys"
	}
	for via, path := range paths {
		if out := kubectl(t, "", "get", "--raw", path); !strings.Contains(out, id) {
			t.Errorf("/v1/keys through %s does not list key %s:\n%s", via, id, out)
		}
	}
	for _, p := range controllerPods(t) {
		measure(t, "memory at rest of "+p.Name, podMemory(t, p.Name))
	}
}

// podMemory returns the working set of a controller pod as the kubelet
// reports it (what the memory limit is held against), in MiB.
func podMemory(t *testing.T, pod string) string {
	t.Helper()
	var summary struct {
		Pods []struct {
			PodRef struct{ Name, Namespace string } `json:"podRef"`
			Memory struct {
				WorkingSetBytes uint64 `json:"workingSetBytes"`
			} `json:"memory"`
		} `json:"pods"`
	}
	var bytes uint64
	// The kubelet gathers stats every 10s or so: a new pod has none yet.
	eventually(t, time.Minute, "the kubelet's memory stats of pod "+pod, func() error {
		raw, err := tryRun(t.Context(), "", s.kubectl, "get", "--raw", "/api/v1/nodes/"+nodeName+"/proxy/stats/summary")
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(raw), &summary); err != nil {
			return fmt.Errorf("kubelet stats summary: %w", err)
		}
		for _, p := range summary.Pods {
			if p.PodRef.Namespace == controllerNamespace && p.PodRef.Name == pod && p.Memory.WorkingSetBytes > 0 {
				bytes = p.Memory.WorkingSetBytes
				return nil
			}
		}
		return errors.New("none yet")
	})
	return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20))
}

// testSealAndUse seals a Secret with the CLI, applies the SealedSecret, and
// has a pod of the restricted level read the unsealed value from its
// environment. Only hashes of the value are ever printed.
func testSealAndUse(t *testing.T) {
	ns := restrictedNamespace(t, "apps")
	value := randomValue(t)
	sealed := seal(t, ns, "db", value)
	sealedFile := writeFile(t, s.work, "db.sealed.yaml", sealed)
	// Each replica serves the HTTP API, the standby too: validate through
	// the service proxy, as users do, and at each pod.
	if _, err := tryRun(t.Context(), "", s.gitseal, "validate", sealedFile); err != nil {
		t.Errorf("validate through the service proxy: %v", err)
	}
	for _, p := range controllerPods(t) {
		out, err := tryRun(t.Context(), "", s.gitseal, "validate", "--controller-url", "http://"+p.Status.PodIP+":8000", sealedFile)
		if err != nil {
			t.Errorf("replica %s does not open what the cluster's key sealed: %v", p.Name, err)
		} else if !strings.Contains(out, "valid") {
			t.Errorf("replica %s: %s", p.Name, out)
		}
	}
	kubectl(t, sealed, "apply", "-f", "-")

	waitForSecret(t, ns, "db", time.Minute)
	logs := runPod(t, ns, "reader", []string{"envhash", "PASSWORD"}, []corev1.EnvVar{{
		Name: "PASSWORD",
		ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password",
		}},
	}})
	if want := "PASSWORD=" + sha256Hex(value); strings.TrimSpace(logs) != want {
		t.Errorf("the pod read %q, want %q", strings.TrimSpace(logs), want)
	}
}

// testGarbageCollection deletes a SealedSecret and waits for the garbage
// collector, which envtest lacks, to delete the Secret it owns.
func testGarbageCollection(t *testing.T) {
	ns := restrictedNamespace(t, "apps")
	sealAndApply(t, ns, "gc", randomValue(t))
	waitForSecret(t, ns, "gc", time.Minute)
	start := time.Now()
	if err := s.client.Delete(t.Context(), &gitsealv1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gc"}},
		client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the garbage collector to delete Secret "+ns+"/gc", func() error {
		err := s.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "gc"}, &corev1.Secret{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return errors.New("still there")
	})
	measure(t, "garbage collection of an unsealed Secret", time.Since(start).Round(10*time.Millisecond))
}

// testFailover takes the leader away twice, by deleting its pod (as a
// rollout or a drain does) and by killing its process (as a crash or the
// OOM killer does), and measures how long until the other replica unseals
// a new SealedSecret.
func testFailover(t *testing.T) {
	ns := restrictedNamespace(t, "apps")
	for _, how := range []string{"pod deleted", "process killed"} {
		name := "failover-" + strings.ReplaceAll(how, " ", "-")
		sealed := seal(t, ns, name, randomValue(t))
		leader := leaderPod(t)
		start := time.Now()
		switch how {
		case "pod deleted":
			kubectl(t, "", "-n", controllerNamespace, "delete", "pod", leader.Name, "--wait=false")
		case "process killed":
			id, ok := strings.CutPrefix(leader.Status.ContainerStatuses[0].ContainerID, "containerd://")
			if !ok {
				t.Fatalf("pod %s: container ID %q is not containerd's", leader.Name, leader.Status.ContainerStatuses[0].ContainerID)
			}
			run(t, "", "ctr", "--address", os.Getenv("GITSEAL_CLUSTER_CONTAINERD"), "-n", "k8s.io",
				"tasks", "kill", "-s", "SIGKILL", id)
		}
		kubectl(t, sealed, "apply", "-f", "-")
		waitForSecret(t, ns, name, 2*time.Minute)
		measure(t, "failover ("+how+") to a new SealedSecret unsealed", time.Since(start).Round(100*time.Millisecond))
		if next := leaderPod(t); next.Name == leader.Name && how == "pod deleted" {
			t.Errorf("pod %s still leads after it was deleted", leader.Name)
		}
		kubectl(t, "", "-n", controllerNamespace, "rollout", "status", "deploy/"+controllerName, "--timeout=3m")
		eventually(t, 2*time.Minute, "two Ready controller pods", func() error {
			ready := 0
			for _, p := range controllerPods(t) {
				if podReady(&p) && p.DeletionTimestamp == nil {
					ready++
				}
			}
			if ready != 2 {
				return fmt.Errorf("%d Ready", ready)
			}
			return nil
		})
	}
}

// leaderPod returns the controller pod that holds the leader election
// Lease, once that pod exists and is not going away.
func leaderPod(t *testing.T) corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	eventually(t, time.Minute, "a leader", func() (err error) {
		pod, err = currentLeader(t.Context())
		return err
	})
	return pod
}

// currentLeader returns the pod that holds the leader election Lease, or
// an error while there is none or it is being deleted (a Lease outlives
// its holder for up to its duration).
func currentLeader(ctx context.Context) (corev1.Pod, error) {
	var lease coordinationv1.Lease
	var pod corev1.Pod
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: controllerNamespace, Name: leaderElectionID}, &lease); err != nil {
		return pod, err
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		return pod, errors.New("the Lease has no holder")
	}
	holder, _, _ := strings.Cut(*lease.Spec.HolderIdentity, "_")
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: controllerNamespace, Name: holder}, &pod); err != nil {
		return pod, fmt.Errorf("leader %s: %w", holder, err)
	}
	if pod.DeletionTimestamp != nil {
		return pod, fmt.Errorf("leader %s is being deleted", holder)
	}
	return pod, nil
}

// seal returns a SealedSecret for a Secret name in ns with one item,
// password, sealed by the CLI with the cluster's key.
func seal(t *testing.T, ns, name, value string) string {
	t.Helper()
	secret := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		StringData: map[string]string{"password": value},
	}
	plain, err := yaml.Marshal(secret)
	if err != nil {
		t.Fatal(err)
	}
	sealed := gitseal(t, string(plain), "seal")
	if strings.Contains(sealed, value) {
		t.Fatal("the sealed output contains the plaintext value")
	}
	return sealed
}

func sealAndApply(t *testing.T, ns, name, value string) {
	t.Helper()
	kubectl(t, seal(t, ns, name, value), "apply", "-f", "-")
}

func waitForSecret(t *testing.T, ns, name string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "Secret "+ns+"/"+name, func() error {
		return s.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &corev1.Secret{})
	})
}

// restrictedNamespace makes sure a namespace exists that enforces the
// restricted Pod Security level.
func restrictedNamespace(t *testing.T, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
	}}
	if err := s.client.Create(t.Context(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return name
}

// runPod runs the test image with args as a pod that meets the restricted
// level, waits until it has succeeded, and returns its log.
func runPod(t *testing.T, ns, name string, args []string, env []corev1.EnvVar) string {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			AutomountServiceAccountToken: new(false),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   new(true),
				RunAsUser:      new(int64(65532)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            "main",
				Image:           s.podImage,
				ImagePullPolicy: corev1.PullNever,
				Args:            args,
				Env:             env,
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: new(false),
					ReadOnlyRootFilesystem:   new(true),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
	if err := s.client.Create(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "pod "+ns+"/"+name+" to succeed", func() error {
		if err := s.client.Get(t.Context(), client.ObjectKeyFromObject(pod), pod); err != nil {
			return err
		}
		switch pod.Status.Phase {
		case corev1.PodSucceeded:
			return nil
		case corev1.PodFailed:
			t.Fatalf("pod %s/%s failed: %s", ns, name, kubectl(t, "", "-n", ns, "logs", name))
		}
		return fmt.Errorf("phase %s", pod.Status.Phase)
	})
	return kubectl(t, "", "-n", ns, "logs", name)
}

func controllerPods(t *testing.T) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	if err := s.client.List(t.Context(), &pods, client.InNamespace(controllerNamespace),
		client.MatchingLabels{"app.kubernetes.io/name": controllerName}); err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func randomValue(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
