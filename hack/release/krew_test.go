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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The krew manifest lists each archive as a platform, with the archive's
// own SHA-256, its download URL under the version, and the binary krew
// links as kubectl-gitseal (gitseal.exe on Windows).
func TestKrewManifestNamesEachArchiveWithItsSum(t *testing.T) {
	dir := t.TempDir()
	var archives []string
	sums := map[string]string{}
	for _, platform := range []string{"linux_amd64", "darwin_arm64", "windows_amd64"} {
		path := filepath.Join(dir, "gitseal_v1.2.3_"+platform+".tar.gz")
		content := []byte("archive of " + platform)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(content)
		sums[platform] = hex.EncodeToString(sum[:])
		archives = append(archives, path)
	}
	raw, err := krewManifest("v1.2.3", "https://example.invalid/dl/", archives)
	if err != nil {
		t.Fatal(err)
	}
	var p krewPlugin
	if err := yaml.UnmarshalStrict(raw, &p); err != nil {
		t.Fatalf("the manifest does not read back: %v\n%s", err, raw)
	}
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Kind != "Plugin" || p.Metadata.Name != "gitseal" || p.Spec.Version != "v1.2.3" {
		t.Errorf("manifest header: %+v", p)
	}
	if len(p.Spec.Platforms) != len(archives) {
		t.Fatalf("%d platforms, want %d", len(p.Spec.Platforms), len(archives))
	}
	for _, pl := range p.Spec.Platforms {
		platform := pl.Selector.MatchLabels["os"] + "_" + pl.Selector.MatchLabels["arch"]
		if pl.Sha256 != sums[platform] {
			t.Errorf("%s: sha256 %s, want %s", platform, pl.Sha256, sums[platform])
		}
		if want := "https://example.invalid/dl/v1.2.3/gitseal_v1.2.3_" + platform + ".tar.gz"; pl.URI != want {
			t.Errorf("%s: uri %s, want %s", platform, pl.URI, want)
		}
		wantBin := "gitseal"
		if strings.HasPrefix(platform, "windows") {
			wantBin = "gitseal.exe"
		}
		if pl.Bin != wantBin || pl.Files[0].From != wantBin {
			t.Errorf("%s: bin %q, files %v, want %s", platform, pl.Bin, pl.Files, wantBin)
		}
	}
}

func TestKrewManifestRefusesAnArchiveOfAnotherVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gitseal_v1.0.0_linux_amd64.tar.gz")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for version, want := range map[string]string{"v1.2.3": "not v1.2.3", "1.0.0": "not a release tag"} {
		if _, err := krewManifest(version, "https://example.invalid", []string{path}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("version %s: err = %v, want %q", version, err, want)
		}
	}
}
