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

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// archiveName is a CLI release archive, as `make release` names it:
// gitseal_<version>_<os>_<arch>.tar.gz.
var archiveName = regexp.MustCompile(`^gitseal_(.+)_([a-z0-9]+)_([a-z0-9]+)\.tar\.gz$`)

// krewPlugin is the krew index's Plugin manifest (krew.googlecontainertools.github.com/v1alpha2).
type krewPlugin struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   krewMetadata `json:"metadata"`
	Spec       krewSpec     `json:"spec"`
}

type krewMetadata struct {
	Name string `json:"name"`
}

type krewSpec struct {
	Version          string         `json:"version"`
	Homepage         string         `json:"homepage"`
	ShortDescription string         `json:"shortDescription"`
	Description      string         `json:"description"`
	Caveats          string         `json:"caveats"`
	Platforms        []krewPlatform `json:"platforms"`
}

type krewPlatform struct {
	Selector krewSelector `json:"selector"`
	URI      string       `json:"uri"`
	Sha256   string       `json:"sha256"`
	Bin      string       `json:"bin"`
	Files    []krewFile   `json:"files"`
}

type krewSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

type krewFile struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func krewMain(args []string) {
	fs := flag.NewFlagSet("release krew", flag.ExitOnError)
	version := fs.String("version", "", "the release's version, a tag such as v0.1.0")
	baseURL := fs.String("base-url", "https://github.com/gitseal/gitseal/releases/download", "where the release's archives are downloaded from; the version is appended")
	out := fs.String("o", "dist/krew/gitseal.yaml", "the manifest to write")
	_ = fs.Parse(args)
	manifest, err := krewManifest(*version, *baseURL, fs.Args())
	if err == nil {
		err = writeFile(*out, manifest)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release krew:", err)
		os.Exit(1)
	}
}

// krewManifest returns the krew plugin manifest of archives, one platform
// each, with their SHA-256 sums. Every archive must be of version.
func krewManifest(version, baseURL string, archives []string) ([]byte, error) {
	if !strings.HasPrefix(version, "v") {
		return nil, fmt.Errorf("-version %q is not a release tag such as v0.1.0", version)
	}
	if len(archives) == 0 {
		return nil, errors.New("no archives given")
	}
	p := krewPlugin{
		APIVersion: "krew.googlecontainertools.github.com/v1alpha2",
		Kind:       "Plugin",
		Metadata:   krewMetadata{Name: "gitseal"},
		Spec: krewSpec{
			Version:          version,
			Homepage:         "https://github.com/gitseal/gitseal",
			ShortDescription: "Seal Secrets for Git; the key stays in the cluster",
			Description: "gitseal seals Kubernetes Secrets with the cluster's post-quantum public key,\n" +
				"so they can be kept in Git; only the gitseal controller in that cluster can\n" +
				"open them. It re-seals, rotates and recovers keys, and scans a repository\n" +
				"for plaintext secrets before they are committed.\n",
			Caveats: "The plugin talks to the gitseal controller, which must be installed in the\n" +
				"cluster: https://github.com/gitseal/gitseal/blob/main/docs/operations.md\n",
		},
	}
	for _, path := range archives {
		m := archiveName.FindStringSubmatch(filepath.Base(path))
		if m == nil {
			return nil, fmt.Errorf("%s is not named gitseal_<version>_<os>_<arch>.tar.gz", path)
		}
		if m[1] != version {
			return nil, fmt.Errorf("%s is of version %s, not %s", path, m[1], version)
		}
		sum, err := fileSHA256(path)
		if err != nil {
			return nil, err
		}
		bin := "gitseal"
		if m[2] == "windows" {
			bin += ".exe"
		}
		p.Spec.Platforms = append(p.Spec.Platforms, krewPlatform{
			Selector: krewSelector{MatchLabels: map[string]string{"os": m[2], "arch": m[3]}},
			URI:      strings.TrimSuffix(baseURL, "/") + "/" + version + "/" + filepath.Base(path),
			Sha256:   sum,
			Bin:      bin,
			Files:    []krewFile{{From: bin, To: "."}, {From: "LICENSE", To: "."}},
		})
	}
	body, err := yaml.Marshal(p)
	if err != nil {
		return nil, err
	}
	header := "# krew plugin manifest of gitseal " + version + ", written by make release.\n" +
		"# Submit it to https://github.com/kubernetes-sigs/krew-index once the archives are published.\n"
	return append([]byte(header), body...), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path) //nolint:gosec // G304: an archive the release names.
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
