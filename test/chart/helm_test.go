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

package chart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// helmEnv names the pinned helm binary; the Makefile sets it (make test,
// make test-cluster), and `make -s helm` prints it.
const helmEnv = "GITSEAL_TEST_HELM"

// releaseNamespace is where the tests render and install the chart, as the
// docs tell users to.
const releaseNamespace = "gitseal-system"

// helm runs the pinned helm binary with its cache, configuration and data
// in a test directory, and with no kubeconfig but the one it is given, so
// that it can reach no cluster but the test API server.
type helm struct {
	bin        string
	home       string
	kubeconfig string
}

// newHelm returns the helm of GITSEAL_TEST_HELM, failing the test (never
// skipping it) when it is not set or not there.
func newHelm(t *testing.T, kubeconfig string) *helm {
	t.Helper()
	bin := os.Getenv(helmEnv)
	if bin == "" {
		t.Fatalf("%s is not set: run `make test`, or export %s=$(make -s helm)", helmEnv, helmEnv)
	}
	if info, err := os.Stat(bin); err != nil || info.Mode().Perm()&0o111 == 0 {
		t.Fatalf("%s=%s is not an executable (%v): run `make helm`", helmEnv, bin, err)
	}
	return &helm{bin: bin, home: t.TempDir(), kubeconfig: kubeconfig}
}

// run runs helm with args and returns its standard output; the error
// holds its standard error.
func (h *helm) run(args ...string) (string, error) {
	cmd := exec.Command(h.bin, args...)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "HELM_")
	})
	kubeconfig := h.kubeconfig
	if kubeconfig == "" {
		kubeconfig = filepath.Join(h.home, "no-cluster")
	}
	cmd.Env = append(env,
		"KUBECONFIG="+kubeconfig,
		"HELM_CACHE_HOME="+filepath.Join(h.home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(h.home, "config"),
		"HELM_DATA_HOME="+filepath.Join(h.home, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// chartDir returns charts/gitseal of this repository.
func chartDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "charts", "gitseal"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// render runs `helm template` on the chart, CRDs included, in
// releaseNamespace with values set by args (--set, -f), and returns the
// objects it renders.
func (h *helm) render(t *testing.T, args ...string) ([]*unstructured.Unstructured, error) {
	t.Helper()
	return h.renderIn(t, releaseNamespace, args...)
}

// renderIn is render in namespace ns.
func (h *helm) renderIn(t *testing.T, ns string, args ...string) ([]*unstructured.Unstructured, error) {
	t.Helper()
	out, err := h.run(append([]string{"template", "gitseal", chartDir(t), "--namespace", ns, "--include-crds"}, args...)...)
	if err != nil {
		return nil, err
	}
	return decodeObjects([]byte(out))
}

// mustRender is render that fails the test on an error.
func (h *helm) mustRender(t *testing.T, args ...string) []*unstructured.Unstructured {
	t.Helper()
	return h.mustRenderIn(t, releaseNamespace, args...)
}

// mustRenderIn is renderIn that fails the test on an error.
func (h *helm) mustRenderIn(t *testing.T, ns string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	objects, err := h.renderIn(t, ns, args...)
	if err != nil {
		t.Fatal(err)
	}
	return objects
}

// decodeObjects parses a stream of YAML documents, leaving out empty ones.
// Numbers go through JSON, so that they compare equal to kustomize's.
func decodeObjects(stream []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var objects []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objects, nil
		}
		if err != nil {
			return nil, err
		}
		raw, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, err
		}
		if s := strings.TrimSpace(string(raw)); s == "null" || s == "{}" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("%w:\n%s", err, doc)
		}
		objects = append(objects, u)
	}
}

// objectID names an object: group and kind, namespace and name.
func objectID(u *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", u.GroupVersionKind().GroupKind(), u.GetNamespace(), u.GetName())
}

// byID indexes objects by objectID, failing on a duplicate.
func byID(t *testing.T, what string, objects []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	for _, u := range objects {
		if _, dup := out[objectID(u)]; dup {
			t.Fatalf("%s holds %s twice", what, objectID(u))
		}
		out[objectID(u)] = u
	}
	return out
}

// toYAML is u as YAML, for failure messages.
func toYAML(u *unstructured.Unstructured) string {
	out, err := yaml.Marshal(u.Object)
	if err != nil {
		return err.Error()
	}
	return string(out)
}
