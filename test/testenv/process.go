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

package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Process is a gitseal controller running as its own process, the binary
// users run, so that a test can kill it or read its memory use.
type Process struct {
	cmd    *exec.Cmd
	output *lockedBuffer
	done   chan struct{}
}

var (
	controllerBinary = buildOnce("gitseal-controller")
	cliBinary        = buildOnce("gitseal")
)

// CLIBinary returns the path of the gitseal CLI, built once per test binary.
func CLIBinary() (string, error) { return cliBinary() }

// buildOnce returns a function that builds ./cmd/name into a new temporary
// directory the first time it is called, and its path every time. The
// build runs in ./cmd/name, since cmd/gitseal-controller is a module of its
// own (see its go.mod).
func buildOnce(name string) func() (string, error) {
	return sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", name+"-")
		if err != nil {
			return "", err
		}
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		bin := filepath.Join(dir, name)
		// Built as the test binary was, so that the build cache already
		// holds every package; the image's CGO_ENABLED=0 would compile them
		// all again, for the same behaviour and memory.
		cmd := exec.Command("go", "build", "-o", bin, ".") //nolint:gosec // G204: the repository's own package, into a new temp dir
		cmd.Dir = filepath.Join(root, "cmd", name)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
		return bin, nil
	})
}

// repoRoot is the repository's top directory, found from this file.
func repoRoot() (string, error) {
	crds, err := crdDirectory()
	if err != nil {
		return "", err
	}
	return filepath.Clean(filepath.Join(crds, "..", "..", "..")), nil
}

// WriteKubeconfig writes kubeconfig to a file in a test directory and
// returns its path.
func WriteKubeconfig(t testing.TB, kubeconfig []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// StartController builds (once) and starts cmd/gitseal-controller with the
// kubeconfig file and the extra flags. The process is killed when the test
// ends, and its output is logged if the test failed.
func StartController(t testing.TB, kubeconfig string, args ...string) *Process {
	t.Helper()
	bin, err := controllerBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{output: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"--kubeconfig", kubeconfig}, args...)...) //nolint:gosec // G204: the binary this package built, with the test's flags
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	p.cmd.Env = append(os.Environ(), "POD_NAMESPACE=")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("controller %d output:\n%s", p.cmd.Process.Pid, p.Output())
		}
	})
	return p
}

// Kill stops the process at once, as a node failure or the OOM killer
// would, and waits for it to exit.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Output returns what the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.output.String() }

// Pid is the process's ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// PeakRSS returns the process's peak resident set size (VmHWM), in bytes.
func (p *Process) PeakRSS() (int64, error) { return p.Memory("VmHWM") }

// Memory reads one memory figure of /proc/<pid>/status, such as VmRSS or
// VmHWM, in bytes.
func (p *Process) Memory(field string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, p.Pid())
}

// WaitFor polls f every 100 ms until it returns nil or timeout passes, and
// returns how long that took.
func WaitFor(t testing.TB, what string, timeout time.Duration, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s after %v: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Kubeconfig returns a kubeconfig file's content for cfg's server, CA and
// bearer token (as from ServiceAccountConfig), for a process that reads one.
func Kubeconfig(cfg *rest.Config) ([]byte, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["test"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test"}
	kc.CurrentContext = "test"
	return clientcmd.Write(*kc)
}

// ControllerKubeconfig installs config/rbac into namespace and writes a
// kubeconfig file for the controller's ServiceAccount there, holding a
// token from the TokenRequest API: a controller process started with it
// has exactly the shipped rights. It returns the file's path.
func (e *Env) ControllerKubeconfig(t testing.TB, namespace string) string {
	t.Helper()
	e.InstallConfig(t, "rbac", namespace)
	raw, err := Kubeconfig(e.ServiceAccountConfig(t, namespace, "gitseal-controller"))
	if err != nil {
		t.Fatal(err)
	}
	return WriteKubeconfig(t, raw)
}
