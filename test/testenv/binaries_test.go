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
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unsetenv unsets key for the duration of the test.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	t.Setenv(key, "") // restores the old value after the test
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}

// writeExecutable creates an empty executable file dir/name.
func writeExecutable(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFindBinariesErrorNamesMissingBinaryAndFix(t *testing.T) {
	withFile := func(name string, mode os.FileMode) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, name), nil, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name        string
		setAssets   bool
		files       []func(t *testing.T, dir string)
		wantMissing []string
		wantPresent []string
	}{
		{
			name:        "unset KUBEBUILDER_ASSETS misses both binaries",
			wantMissing: []string{"kube-apiserver: neither TEST_ASSET_KUBE_APISERVER nor KUBEBUILDER_ASSETS is set", "etcd: neither"},
		},
		{
			name:        "empty assets directory misses both binaries",
			setAssets:   true,
			wantMissing: []string{"kube-apiserver", "etcd", "does not exist"},
		},
		{
			name:        "directory without etcd misses only etcd",
			setAssets:   true,
			files:       []func(*testing.T, string){withFile("kube-apiserver", 0o755)},
			wantMissing: []string{"etcd", "does not exist"},
			wantPresent: []string{"kube-apiserver"},
		},
		{
			name:        "non-executable kube-apiserver is missing",
			setAssets:   true,
			files:       []func(*testing.T, string){withFile("kube-apiserver", 0o644), withFile("etcd", 0o755)},
			wantMissing: []string{"kube-apiserver", "is not an executable file"},
			wantPresent: []string{"etcd"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, key := range []string{"KUBEBUILDER_ASSETS", "TEST_ASSET_KUBE_APISERVER", "TEST_ASSET_ETCD", "TEST_ASSET_KUBECTL"} {
				unsetenv(t, key)
			}
			dir := t.TempDir()
			if tt.setAssets {
				t.Setenv("KUBEBUILDER_ASSETS", dir)
			}
			for _, create := range tt.files {
				create(t, dir)
			}

			_, err := findBinaries()
			if err == nil {
				t.Fatal("findBinaries succeeded, want an error")
			}
			msg := err.Error()
			for _, want := range append(tt.wantMissing, "make test", "export KUBEBUILDER_ASSETS=$(hack/envtest.sh)") {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			for _, present := range tt.wantPresent {
				if strings.Contains(msg, present+":") {
					t.Errorf("error %q reports %s, which is present", msg, present)
				}
			}
		})
	}
}

func TestFindBinariesPrefersTestAssetOverrides(t *testing.T) {
	assets := t.TempDir()
	for _, name := range []string{"kube-apiserver", "etcd", "kubectl"} {
		writeExecutable(t, assets, name)
	}
	overrideEtcd := writeExecutable(t, t.TempDir(), "my-etcd")
	t.Setenv("KUBEBUILDER_ASSETS", assets)
	t.Setenv("TEST_ASSET_ETCD", overrideEtcd)
	unsetenv(t, "TEST_ASSET_KUBE_APISERVER")
	unsetenv(t, "TEST_ASSET_KUBECTL")

	got, err := findBinaries()
	if err != nil {
		t.Fatalf("findBinaries: %v", err)
	}
	want := binaries{
		apiServer: filepath.Join(assets, "kube-apiserver"),
		etcd:      overrideEtcd,
		kubectl:   filepath.Join(assets, "kubectl"),
	}
	if got != want {
		t.Errorf("findBinaries() = %+v, want %+v", got, want)
	}
}

func TestFindBinariesToleratesMissingKubectl(t *testing.T) {
	assets := t.TempDir()
	writeExecutable(t, assets, "kube-apiserver")
	writeExecutable(t, assets, "etcd")
	t.Setenv("KUBEBUILDER_ASSETS", assets)
	for _, key := range []string{"TEST_ASSET_KUBE_APISERVER", "TEST_ASSET_ETCD", "TEST_ASSET_KUBECTL"} {
		unsetenv(t, key)
	}

	got, err := findBinaries()
	if err != nil {
		t.Fatalf("findBinaries: %v", err)
	}
	if got.kubectl != "" {
		t.Errorf("kubectl = %q, want empty", got.kubectl)
	}
}

func TestCRDDirectoryHoldsTheGeneratedCRDs(t *testing.T) {
	dir, err := crdDirectory()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gitseal.dev_sealedsecrets.yaml")); err != nil {
		t.Errorf("SealedSecret CRD not found next to the testenv package: %v", err)
	}
}
