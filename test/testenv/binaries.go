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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// howToGetBinaries tells a developer how to build the binaries. It is part of
// the error because this package runs only inside go test, where the error is
// all a developer sees.
const howToGetBinaries = "run `make test`, or export KUBEBUILDER_ASSETS=$(hack/envtest.sh)"

const assetsDirEnv = "KUBEBUILDER_ASSETS"

// binaries are the paths of the control plane's executables.
type binaries struct {
	apiServer string
	etcd      string
	kubectl   string // empty when absent; only tests that shell out need it
}

// findBinaries locates kube-apiserver, etcd and kubectl the way envtest does,
// minus its download and its /usr/local/kubebuilder default: first
// TEST_ASSET_<NAME>, then $KUBEBUILDER_ASSETS/<name>. kube-apiserver and etcd
// are required; the error names each one that is missing and says how to
// build them.
func findBinaries() (binaries, error) {
	var problems []string
	require := func(name string) string {
		path, problem := findBinary(name)
		if problem != "" {
			problems = append(problems, problem)
		}
		return path
	}
	bins := binaries{
		apiServer: require("kube-apiserver"),
		etcd:      require("etcd"),
	}
	if path, problem := findBinary("kubectl"); problem == "" {
		bins.kubectl = path
	}
	if len(problems) > 0 {
		return binaries{}, fmt.Errorf("test control plane binaries missing: %s; %s",
			strings.Join(problems, "; "), howToGetBinaries)
	}
	return bins, nil
}

// findBinary returns the path of the named executable, or a description of
// why it was not found.
func findBinary(name string) (path, problem string) {
	overrideEnv := "TEST_ASSET_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	var source string
	switch {
	case os.Getenv(overrideEnv) != "":
		path, source = os.Getenv(overrideEnv), overrideEnv
	case os.Getenv(assetsDirEnv) != "":
		path, source = filepath.Join(os.Getenv(assetsDirEnv), name), assetsDirEnv
	default:
		return "", fmt.Sprintf("%s: neither %s nor %s is set", name, overrideEnv, assetsDirEnv)
	}

	info, err := os.Stat(path) //nolint:gosec // G703: the developer's own environment names the path, as for envtest.
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Sprintf("%s: %s (from %s) does not exist", name, path, source)
	case err != nil:
		return "", fmt.Sprintf("%s: %v (from %s)", name, err, source)
	case !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0:
		return "", fmt.Sprintf("%s: %s (from %s) is not an executable file", name, path, source)
	}
	return path, ""
}
