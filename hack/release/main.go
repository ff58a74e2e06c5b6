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

// Command release writes the install manifest of a release: what
// `kubectl apply -k config/default` applies, as one file, with the
// controller image pinned by digest. `make release` runs it after
// `make image`:
//
//	go -C hack run ./release -config $PWD/config/default -image ghcr.io/gitseal/gitseal@sha256:… -version v0.4.0 -o $PWD/dist/install.yaml
//
// With `krew` first it writes the krew plugin manifest of the CLI's
// release archives instead (see krew.go).
//
// It builds config/default through an overlay that sets only the image,
// as docs/operations.md tells users to do, so the two installs are the
// same objects.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// shippedImage is the image config/manager names.
const shippedImage = "ghcr.io/gitseal/gitseal"

// pinned is an image reference by digest: REPOSITORY@sha256:HEX.
var pinned = regexp.MustCompile(`^([a-z0-9][a-z0-9._/:-]*)@(sha256:[0-9a-f]{64})$`)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "krew" {
		krewMain(os.Args[2:])
		return
	}
	var image, version, out, config string
	flag.StringVar(&image, "image", "", "the controller image, pinned by digest: `REPOSITORY@sha256:HEX`")
	flag.StringVar(&version, "version", "dev", "the release's version, for the manifest's header")
	flag.StringVar(&out, "o", "dist/install.yaml", "the manifest to write")
	flag.StringVar(&config, "config", "config/default", "the kustomization to build")
	flag.Parse()
	if err := run(image, version, config, out); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(image, version, config, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil { //nolint:gosec // G301: a public build output directory.
		return err
	}
	manifest, err := build(image, version, config, filepath.Dir(out))
	if err != nil {
		return err
	}
	return writeFile(out, manifest)
}

// writeFile writes a public release file atomically, making its directory.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // G301: a public build output directory.
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil { //nolint:gosec // G306: a public release file.
		return err
	}
	return os.Rename(tmp, path)
}

// build returns config built through an overlay that pins the
// controller image to image, which must name a digest. The overlay lives
// in a temporary directory under work: kustomize takes bases only by
// relative path.
func build(image, version, config, work string) ([]byte, error) {
	m := pinned.FindStringSubmatch(image)
	if m == nil {
		return nil, fmt.Errorf("-image %q is not pinned by digest (REPOSITORY@sha256:HEX)", image)
	}
	overlay, err := os.MkdirTemp(work, ".release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(overlay)
	base, err := relativePath(overlay, config)
	if err != nil {
		return nil, err
	}
	kustomization := fmt.Sprintf("resources:\n  - %s\nimages:\n  - name: %s\n    newName: %s\n    digest: %s\n", base, shippedImage, m[1], m[2])
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o600); err != nil {
		return nil, err
	}
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), overlay)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", config, err)
	}
	body, err := resources.AsYaml()
	if err != nil {
		return nil, err
	}
	if n := strings.Count(string(body), image); n == 0 {
		return nil, errors.New("no container runs the controller image: config/manager names another image than " + shippedImage)
	}
	header := fmt.Sprintf(`# gitseal %s: everything gitseal needs in a cluster, with the controller
# image %s.
#   install or upgrade: kubectl apply -f install.yaml
#   uninstall:          see docs/operations.md; never kubectl delete -f
#                       install.yaml, which deletes the keys and every
#                       SealedSecret with its Secret.
# Written by make release from config/default.
`, version, image)
	return append([]byte(header), body...), nil
}

// relativePath returns the path of target relative to dir.
func relativePath(dir, target string) (string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	absTarget, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	return filepath.Rel(absDir, absTarget)
}
