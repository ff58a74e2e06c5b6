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

// Package render builds a kustomization inside a sandbox, for the plaintext
// scanner (gitseal scan --build) and the GitSync reconciler. The sandbox
// allows only what a repository of plain manifests needs: files under one
// root, no remote bases or URLs, no plugins, no Helm, no symbolic link that
// leaves the root, and caps on sizes, counts and time.
package render

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Errors a caller branches on. Every error from Build wraps one of them.
var (
	// ErrRefused: the sandbox policy refused the kustomization (a remote
	// base, a plugin, Helm, a path or link outside the root, a cap or the
	// deadline). Retrying the same input fails the same way.
	ErrRefused = errors.New("kustomization refused")
	// ErrBuildFailed: kustomize could not build the kustomization.
	ErrBuildFailed = errors.New("kustomize build failed")
	// ErrNoPath: the path BuildPath was given is not a directory under
	// the root. Its message reads "path apps/prod does not exist".
	ErrNoPath = errors.New("does not exist")
)

// Defaults for Options.
const (
	DefaultMaxFileSize   = 4 << 20
	DefaultMaxTotalBytes = 64 << 20
	DefaultMaxFiles      = 10_000
	DefaultMaxOutput     = 64 << 20
	DefaultMaxResources  = 10_000
	// maxNodes bounds one YAML file, aliases expanded at every use, before
	// kustomize (which expands them) reads it.
	maxNodes = 1_000_000
	// maxDepth bounds how deep the values of one YAML file nest, aliases
	// expanded: the limit of policy.DefaultMaxDepth, which refuses deeper
	// documents anyway. kustomize's pipeline takes time that grows with
	// the square of the depth (0.4 s at 900, 12 s at 5,000, 40 s at 10,000
	// for one file of a few KB); Kubernetes objects nest a few dozen levels.
	maxDepth = 256
	// maxKustomizationDepth bounds the chain of bases.
	maxKustomizationDepth = 64
)

// Options bound a build. Zero values mean the defaults.
type Options struct {
	// MaxFileSize caps each file read.
	MaxFileSize int64
	// MaxTotalBytes caps all files read together.
	MaxTotalBytes int64
	// MaxFiles caps the number of files read.
	MaxFiles int
	// MaxOutput caps the rendered objects, measured as the length of
	// their JSON encoding (outputSize), which is close to the YAML's.
	MaxOutput int64
	// MaxResources caps the number of resources rendered.
	MaxResources int
	// NoYAML leaves Result.YAML empty, for a caller that needs only the
	// objects: writing the YAML takes about a fifth of a build.
	NoYAML bool

	// viaKustomize makes BuildPath run kustomize on a directory of plain
	// manifests too, which it otherwise reads itself (buildPlain): for
	// the tests that compare the two.
	viaKustomize bool
}

func (o Options) withDefaults() Options {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = DefaultMaxOutput
	}
	if o.MaxResources <= 0 {
		o.MaxResources = DefaultMaxResources
	}
	return o
}

// Result is a rendered kustomization.
type Result struct {
	yaml    []byte
	objects []map[string]any
}

// YAML returns the resources as a multi-document YAML stream, as
// `kustomize build` prints them; nil when the build had Options.NoYAML.
func (r *Result) YAML() []byte { return r.yaml }

// Objects returns the resources as decoded objects, in the same order.
func (r *Result) Objects() []map[string]any { return r.objects }

// Unstructured returns the resources as unstructured objects, in the same
// order, for a client that applies them.
func (r *Result) Unstructured() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(r.objects))
	for i, o := range r.objects {
		out[i] = &unstructured.Unstructured{Object: o}
	}
	return out
}

// Build renders the kustomization in dir, which must be root or below it.
// Every file it loads must lie under root, after symbolic links are
// resolved. The context bounds the time; a build that outlives it is
// refused.
//
// Errors wrap ErrRefused or ErrBuildFailed. Messages name
// paths and fields, never file contents.
func Build(ctx context.Context, root, dir string, opts Options) (*Result, error) {
	s, absDir, err := newSandbox(root, dir, opts.withDefaults())
	if err != nil {
		return nil, err
	}
	if err := s.checkKustomization(absDir, 0); err != nil {
		return nil, err
	}
	return build(ctx, s, absDir)
}

// BuildPath renders relPath of the checkout at root the way a GitSync
// renders its spec.path, so that `gitseal build` and the controller can
// never disagree. relPath is slash-separated and taken relative to root
// whatever it starts with ("/apps", "../apps" and "apps" are one path). A
// directory without a kustomization is built as every manifest under it,
// listed as WriteKustomization would list them, but the list is kept in
// memory: nothing under root is written. Everything else is Build. When
// no subdirectory has a kustomization either, the manifests are read
// without running kustomize, in linear time, to the same objects and the
// same errors; see buildPlain.
//
// Errors wrap ErrNoPath (relPath is not a directory), ErrRefused or
// ErrBuildFailed. Messages name paths and fields, never file contents.
func BuildPath(ctx context.Context, root, relPath string, opts Options) (*Result, error) {
	clean := path.Clean("/" + relPath)
	dir := filepath.Join(root, filepath.FromSlash(clean))
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("path %s %w", cmp.Or(strings.TrimPrefix(clean, "/"), "."), ErrNoPath)
	}
	s, absDir, plain, err := preparePath(root, dir, opts)
	if err != nil {
		return nil, err
	}
	if plain != nil && !s.opts.viaKustomize {
		res, err := buildPlain(ctx, s, absDir, plain)
		if !errors.Is(err, errNeedsKustomize) {
			return res, err
		}
	}
	if err := s.checkKustomization(absDir, 0); err != nil {
		return nil, err
	}
	return build(ctx, s, absDir)
}

// preparePath is BuildPath up to the build: the sandbox, dir resolved,
// and the kustomization generated when dir has none, not yet checked.
// plain lists the manifests when dir holds plain manifests only (no
// kustomization in it or under it; empty, not nil, when there are none),
// and is nil otherwise.
func preparePath(root, dir string, opts Options) (s *sandbox, absDir string, plain []string, err error) {
	s, absDir, err = newSandbox(root, dir, opts.withDefaults())
	if err != nil {
		return nil, "", nil, err
	}
	if !hasKustomization(absDir) {
		l, err := s.listManifests(absDir)
		if err != nil {
			return nil, "", nil, err
		}
		generated, err := l.kustomization()
		if err != nil {
			return nil, "", nil, err
		}
		s.virtual = map[string][]byte{filepath.Join(absDir, generatedKustomization): generated}
		if !l.nested {
			plain = l.resources
			if plain == nil {
				plain = []string{}
			}
		}
	}
	return s, absDir, plain, nil
}

// sandbox holds the root and the running totals of one build.
type sandbox struct {
	root    string // absolute, symbolic links resolved
	opts    Options
	visited map[string]bool
	// virtual holds files that exist only in memory, by absolute path:
	// the kustomization BuildPath generates. They take precedence over
	// the disk, where they do not exist.
	virtual map[string][]byte
}

func newSandbox(root, dir string, opts Options) (*sandbox, string, error) {
	absRoot, err := filepath.Abs(root)
	if err == nil {
		absRoot, err = filepath.EvalSymlinks(absRoot)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: root %s: %v", ErrBuildFailed, root, err)
	}
	s := &sandbox{root: absRoot, opts: opts, visited: map[string]bool{}}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrBuildFailed, dir, err)
	}
	resolved, err := s.resolve(absDir)
	if err != nil {
		return nil, "", err
	}
	return s, resolved, nil
}

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, args...)...)
}

// within reports whether p is the root or below it.
func (s *sandbox) within(p string) bool {
	rel, err := filepath.Rel(s.root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolve checks that an absolute path stays under the root, before and
// after its symbolic links are resolved. A path that does not exist is
// returned as it is, for kustomize to report.
func (s *sandbox) resolve(p string) (string, error) {
	p = filepath.Clean(p)
	if !s.within(p) {
		return "", refused("%s is outside the root", s.show(p))
	}
	real, err := filepath.EvalSymlinks(p)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrBuildFailed, s.show(p), err)
	}
	if !s.within(real) {
		return "", refused("%s is a symbolic link out of the root", s.show(p))
	}
	return real, nil
}

// show names a path relative to the root, for messages.
func (s *sandbox) show(p string) string {
	if rel, err := filepath.Rel(s.root, p); err == nil {
		return filepath.ToSlash(rel)
	}
	return filepath.Base(p)
}

// kustomization is the part of a kustomization file the sandbox checks
// before kustomize reads it: every field that names a file, a directory or
// a URL, and the ones that run something.
type kustomization struct {
	Resources             []string       `yaml:"resources"`
	Bases                 []string       `yaml:"bases"`
	Components            []string       `yaml:"components"`
	Crds                  []string       `yaml:"crds"`
	Configurations        []string       `yaml:"configurations"`
	Generators            []string       `yaml:"generators"`
	Transformers          []string       `yaml:"transformers"`
	Validators            []string       `yaml:"validators"`
	OpenAPI               map[string]any `yaml:"openapi"`
	Patches               []pathRef      `yaml:"patches"`
	PatchesJSON6902       []pathRef      `yaml:"patchesJson6902"`
	PatchesStrategicMerge []string       `yaml:"patchesStrategicMerge"`
	Replacements          []pathRef      `yaml:"replacements"`
	ConfigMapGenerator    []generator    `yaml:"configMapGenerator"`
	SecretGenerator       []generator    `yaml:"secretGenerator"`
	HelmCharts            []any          `yaml:"helmCharts"`
	HelmChartInflation    []any          `yaml:"helmChartInflationGenerator"`
	HelmGlobals           any            `yaml:"helmGlobals"`
}

type pathRef struct {
	Path string `yaml:"path"`
}

type generator struct {
	Files []string `yaml:"files"`
	Envs  []string `yaml:"envs"`
	Env   string   `yaml:"env"`
}

// kustomizationFiles are the names kustomize looks for, in its order.
var kustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// checkKustomization checks the kustomization in dir and, through its
// resources, bases and components, every kustomization it loads.
func (s *sandbox) checkKustomization(dir string, depth int) error {
	if depth > maxKustomizationDepth {
		return refused("bases nest more than %d deep", maxKustomizationDepth)
	}
	if s.visited[dir] {
		return nil
	}
	s.visited[dir] = true
	var file string
	if _, ok := s.virtual[filepath.Join(dir, generatedKustomization)]; ok {
		file = filepath.Join(dir, generatedKustomization)
	}
	for _, name := range kustomizationFiles {
		if file != "" {
			break
		}
		if info, err := os.Lstat(filepath.Join(dir, name)); err == nil && !info.IsDir() {
			file = filepath.Join(dir, name)
			break
		}
	}
	if file == "" {
		if depth == 0 {
			return fmt.Errorf("%w: no kustomization file in %s", ErrBuildFailed, s.show(dir))
		}
		return nil // a directory of plain resources; kustomize decides
	}
	real, err := s.resolve(file)
	if err != nil {
		return err
	}
	data, err := s.readSmall(real)
	if err != nil {
		return err
	}
	var k kustomization
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBuildFailed, s.show(file), err)
	}
	if err := checkNodeBudget(&n); err != nil {
		return refused("%s: %v", s.show(file), err)
	}
	if n.Kind != 0 {
		if err := n.Decode(&k); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBuildFailed, s.show(file), err)
		}
	}
	where := s.show(file)
	if len(k.HelmCharts) > 0 || len(k.HelmChartInflation) > 0 || k.HelmGlobals != nil {
		return refused("%s: Helm charts are not allowed", where)
	}
	for _, ref := range slices.Concat(k.Resources, k.Bases, k.Components) {
		p, err := s.local(dir, ref, where)
		if err != nil {
			return err
		}
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			if err := s.checkKustomization(p, depth+1); err != nil {
				return err
			}
		}
	}
	files := slices.Concat(k.Crds, k.Configurations, k.PatchesStrategicMerge)
	for _, p := range slices.Concat(k.Patches, k.PatchesJSON6902, k.Replacements) {
		files = append(files, p.Path)
	}
	if p, ok := k.OpenAPI["path"].(string); ok {
		files = append(files, p)
	}
	for _, g := range slices.Concat(k.ConfigMapGenerator, k.SecretGenerator) {
		for _, f := range g.Files {
			if _, src, ok := strings.Cut(f, "="); ok {
				f = src
			}
			files = append(files, f)
		}
		files = append(files, g.Envs...)
		files = append(files, g.Env)
	}
	for _, f := range files {
		if f == "" || strings.Contains(f, "\n") { // an inline patch
			continue
		}
		if _, err := s.local(dir, f, where); err != nil {
			return err
		}
	}
	for _, ref := range slices.Concat(k.Generators, k.Transformers, k.Validators) {
		if strings.Contains(ref, "\n") {
			if err := checkPluginConfigs([]byte(ref), where); err != nil {
				return err
			}
			continue
		}
		p, err := s.local(dir, ref, where)
		if err != nil {
			return err
		}
		info, err := os.Stat(p)
		switch {
		case err != nil:
			continue // kustomize reports it
		case info.IsDir():
			if err := s.checkKustomization(p, depth+1); err != nil {
				return err
			}
		default:
			data, err := s.readSmall(p)
			if err != nil {
				return err
			}
			if err := checkPluginConfigs(data, s.show(p)); err != nil {
				return err
			}
		}
	}
	return nil
}

// local resolves a reference made by a kustomization in dir. It refuses
// remote references (URLs and git repositories, which kustomize would
// fetch) and paths that leave the root.
func (s *sandbox) local(dir, ref, where string) (string, error) {
	ref = strings.TrimSpace(ref)
	if err := checkLocal(ref, where); err != nil {
		return "", err
	}
	return s.resolve(filepath.Join(dir, filepath.FromSlash(ref)))
}

// checkLocal refuses a reference, trimmed, that is remote or absolute.
func checkLocal(ref, where string) error {
	if isRemote(ref) {
		return refused("%s: remote reference %q: only files under the root can be loaded", where, redactURL(ref))
	}
	if filepath.IsAbs(ref) {
		return refused("%s: absolute path %q", where, ref)
	}
	return nil
}

// isRemote reports whether kustomize would fetch a reference over the
// network: any URL, a git::, github.com or SCP-style (user@host:path)
// reference.
func isRemote(ref string) bool {
	lower := strings.ToLower(ref)
	if strings.Contains(lower, "://") || strings.HasPrefix(lower, "git::") || strings.HasPrefix(lower, "github.com") || strings.HasPrefix(lower, "gh:") {
		return true
	}
	at := strings.IndexByte(ref, '@')
	return at >= 0 && strings.IndexByte(ref[at:], ':') >= 0
}

// redactURL drops credentials from a URL before it is shown.
func redactURL(ref string) string {
	if i := strings.Index(ref, "://"); i >= 0 {
		rest := ref[i+3:]
		if at := strings.LastIndexByte(strings.SplitN(rest, "/", 2)[0], '@'); at >= 0 {
			return ref[:i+3] + "…@" + rest[at+1:]
		}
	}
	if len(ref) > 200 {
		return ref[:200] + "…"
	}
	return ref
}

// builtinPlugins are the generator and transformer kinds kustomize has
// built in, minus Helm. Anything else is an exec, container or Go plugin.
var builtinPlugins = map[string]bool{
	"AnnotationsTransformer": true, "ConfigMapGenerator": true, "IAMPolicyGenerator": true,
	"HashTransformer": true, "ImageTagTransformer": true, "LabelTransformer": true,
	"NamespaceTransformer": true, "PatchJson6902Transformer": true, "PatchStrategicMergeTransformer": true,
	"PatchTransformer": true, "PrefixSuffixTransformer": true, "PrefixTransformer": true,
	"SuffixTransformer": true, "ReplicaCountTransformer": true, "SecretGenerator": true,
	"ValueAddTransformer": true, "ReplacementTransformer": true, "SortOrderTransformer": true,
}

// checkPluginConfigs refuses plugin configurations other than kustomize's
// built-in ones, and KRM functions of any kind.
func checkPluginConfigs(data []byte, where string) error {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
		}
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%w: %s: %v", ErrBuildFailed, where, err)
		}
		if err := checkNodeBudget(&n); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrRefused, where, err)
		}
		if err := n.Decode(&doc); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBuildFailed, where, err)
		}
		for k := range doc.Metadata.Annotations {
			if k == "config.kubernetes.io/function" || k == "config.k8s.io/function" {
				return refused("%s: KRM function plugins are not allowed", where)
			}
		}
		if doc.Kind == "HelmChartInflationGenerator" {
			return refused("%s: Helm charts are not allowed", where)
		}
		if doc.Kind != "" && !builtinPlugins[doc.Kind] {
			return refused("%s: plugin kind %q is not a kustomize builtin; plugins are not allowed", where, doc.Kind)
		}
	}
}

// readSmall reads a file the sandbox checks itself, within the file cap.
func (s *sandbox) readSmall(p string) ([]byte, error) {
	if data, ok := s.virtual[p]; ok {
		return data, nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBuildFailed, err)
	}
	if info.Size() > s.opts.MaxFileSize {
		return nil, refused("%s is %d bytes, over the %d-byte limit", s.show(p), info.Size(), s.opts.MaxFileSize)
	}
	data, err := os.ReadFile(p) //nolint:gosec // G304: p was resolved under the root.
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBuildFailed, err)
	}
	return data, nil
}

// checkNodeBudget refuses a document whose aliases, expanded at every use,
// make more than maxNodes nodes (a "billion laughs"), whose values nest,
// aliases expanded, more than maxDepth deep, or that refers to itself.
// Each node's size and height are memoized, so the check is linear.
func checkNodeBudget(n *yaml.Node) error {
	type measure struct{ size, height int }
	known := map[*yaml.Node]measure{}
	busy := map[*yaml.Node]bool{}
	var walk func(*yaml.Node) (measure, error)
	walk = func(n *yaml.Node) (measure, error) {
		if m, ok := known[n]; ok {
			return m, nil
		}
		if busy[n] {
			return measure{}, errors.New("an alias refers to a node that contains it")
		}
		busy[n] = true
		defer delete(busy, n)
		m := measure{size: 1, height: 1}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			target, err := walk(n.Alias)
			if err != nil {
				return measure{}, err
			}
			m = target
		}
		for _, c := range n.Content {
			child, err := walk(c)
			if err != nil {
				return measure{}, err
			}
			m.size += child.size
			m.height = max(m.height, child.height+1)
			switch {
			case m.size > maxNodes:
				return measure{}, fmt.Errorf("aliases expand to more than %d nodes", maxNodes)
			case m.height > maxDepth:
				return measure{}, fmt.Errorf("values nest more than %d deep", maxDepth)
			}
		}
		known[n] = m
		return m, nil
	}
	_, err := walk(n)
	return err
}
