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

package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// WriteKustomization makes the directory dir, under root, buildable when it
// holds plain manifests, the way Flux does: unless dir already has a
// kustomization file, it writes a kustomization.yaml listing every manifest
// under dir (files ending in .yaml, .yml or .json that name an apiVersion
// and a kind), and every subdirectory that has a kustomization of its own
// instead of its files. Hidden files and directories are left out. It is
// meant for a checkout the caller owns; Build still enforces the sandbox on
// everything listed.
//
// Symbolic links: dir is resolved first, as Build resolves it, so a path
// that is a link (or lies under one) names the same directory for both.
// Under dir, a link is refused (ErrRefused, naming it) rather than left out
// or followed. Left out, the objects behind it would silently vanish from
// the set, and an apply would prune them; followed, the walk would list
// files that kustomize refuses to load (a file that resolves above the
// kustomization's directory) or lists twice. A kustomization, which names
// what it loads, may name links: kustomize follows them within the sandbox.
// A kustomization file that is itself a link counts as a kustomization.
//
// Errors wrap ErrRefused (dir resolves out of root, or a link under dir)
// or ErrBuildFailed.
func WriteKustomization(root, dir string) error {
	s, dir, err := newSandbox(root, dir, Options{}.withDefaults())
	if err != nil {
		return err
	}
	out, err := s.generateKustomization(dir)
	if err != nil || out == nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, generatedKustomization), out, 0o600); err != nil {
		return fmt.Errorf("%w: write the generated kustomization: %v", ErrBuildFailed, err)
	}
	return nil
}

// generatedKustomization is the name WriteKustomization writes and
// BuildPath serves from memory.
const generatedKustomization = "kustomization.yaml"

// generateKustomization returns the kustomization WriteKustomization
// writes for dir (resolved, under the root), or nil when dir has one.
func (s *sandbox) generateKustomization(dir string) ([]byte, error) {
	if hasKustomization(dir) {
		return nil, nil
	}
	l, err := s.listManifests(dir)
	if err != nil {
		return nil, err
	}
	return l.kustomization()
}

// listing is what a kustomization generated for a directory lists.
type listing struct {
	// resources are the manifests under the directory and the
	// subdirectories with a kustomization of their own, relative to it,
	// slash-separated, in the order of a walk (lexical, depth first).
	resources []string
	// nested is set when a subdirectory with a kustomization is listed:
	// the directory is not plain manifests only.
	nested bool
}

// listManifests walks dir (resolved, under the root, without a
// kustomization) for the resources its generated kustomization lists.
func (s *sandbox) listManifests(dir string) (listing, error) {
	var l listing
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%w: list manifests: %v", ErrBuildFailed, err)
		}
		if p == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("%w: list manifests: %v", ErrBuildFailed, err)
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			return refused("%s is a symbolic link: a directory without a kustomization may not hold links (a kustomization may name them)", s.show(p))
		case d.IsDir():
			if hasKustomization(p) {
				l.resources = append(l.resources, filepath.ToSlash(rel))
				l.nested = true
				return filepath.SkipDir
			}
		case d.Type().IsRegular() && isManifest(p):
			l.resources = append(l.resources, filepath.ToSlash(rel))
		}
		return nil
	})
	return l, err
}

// kustomization is the kustomization.yaml that lists l.
func (l listing) kustomization() ([]byte, error) {
	out, err := yaml.Marshal(map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"resources":  l.resources,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBuildFailed, err)
	}
	return out, nil
}

// hasKustomization reports whether dir holds a kustomization file, or a
// link to one, as kustomize (and checkKustomization) would read it.
func hasKustomization(dir string) bool {
	for _, name := range kustomizationFiles {
		if info, err := os.Stat(filepath.Join(dir, name)); err == nil && info.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// isManifest reports whether a file looks like Kubernetes objects: a
// manifest extension and both fields every object has. Anything else (CI
// configuration, Helm values) would only make kustomize fail.
func isManifest(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json":
	default:
		return false
	}
	data, err := os.ReadFile(p) //nolint:gosec // G304: a file of the caller's own checkout.
	if err != nil || int64(len(data)) > DefaultMaxFileSize {
		return err == nil // too large: listed, so that Build refuses it by name
	}
	return bytes.Contains(data, []byte("apiVersion")) && bytes.Contains(data, []byte("kind"))
}
