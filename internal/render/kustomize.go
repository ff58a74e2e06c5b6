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
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// build runs kustomize on a file system that enforces the sandbox: reads
// only under the root and within the caps, no writes.
func build(ctx context.Context, s *sandbox, dir string) (*Result, error) {
	fsys := &guardFS{s: s, disk: filesys.MakeFsOnDisk(), ctx: ctx}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.PluginConfig = types.DisabledPluginConfig()
	opts.PluginConfig.HelmConfig.Enabled = false
	opts.AddManagedbyLabel = false

	type outcome struct {
		m   resmap.ResMap
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{err: fmt.Errorf("kustomize panicked: %v", r)}
			}
		}()
		m, err := krusty.MakeKustomizer(opts).Run(fsys, dir)
		done <- outcome{m, err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		// Every further file system call fails, so kustomize returns soon.
		_ = fsys.refuse(fmt.Errorf("deadline: %w", ctx.Err()))
		return nil, refused("build took too long: %v", ctx.Err())
	}
	if v := fsys.violation(); v != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, v)
	}
	if out.err != nil {
		// Paths are shown relative to the checkout, which is the
		// controller's own business.
		msg := strings.ReplaceAll(out.err.Error(), s.root+string(filepath.Separator), "")
		return nil, fmt.Errorf("%w: %s", ErrBuildFailed, sanitize(msg))
	}
	return result(s, out.m.Resources(), out.m.AsYaml)
}

// result makes the Result of the resources a build rendered, within the
// resource and output caps; asYAML writes them unless Options.NoYAML.
func result(s *sandbox, resources []*resource.Resource, asYAML func() ([]byte, error)) (*Result, error) {
	if n := len(resources); n > s.opts.MaxResources {
		return nil, refused("%d resources, over the limit of %d", n, s.opts.MaxResources)
	}
	res := &Result{}
	var size int64
	for _, r := range resources {
		obj, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrBuildFailed, sanitize(err.Error()))
		}
		if size += outputSize(obj); size > s.opts.MaxOutput {
			return nil, refused("output is over the limit of %d bytes", s.opts.MaxOutput)
		}
		res.objects = append(res.objects, obj)
	}
	if !s.opts.NoYAML {
		data, err := asYAML()
		if err != nil {
			return nil, fmt.Errorf("%w: %s", ErrBuildFailed, sanitize(err.Error()))
		}
		res.yaml = data
	}
	return res, nil
}

// outputSize is about the length of v's JSON encoding: strings and keys
// with their quotes, brackets, separators, and 8 bytes for any other
// scalar. It measures the output against MaxOutput for the objects and the
// YAML alike, without encoding either.
func outputSize(v any) int64 {
	switch t := v.(type) {
	case string:
		return int64(len(t)) + 2
	case map[string]any:
		n := int64(2)
		for k, e := range t {
			n += int64(len(k)) + 4 + outputSize(e)
		}
		return n
	case map[any]any:
		n := int64(2)
		for k, e := range t {
			n += outputSize(fmt.Sprint(k)) + 2 + outputSize(e)
		}
		return n
	case []any:
		n := int64(2)
		for _, e := range t {
			n += outputSize(e) + 1
		}
		return n
	default:
		return 8
	}
}

// quoted matches the spans YAML and JSON decoders quote values in, so a
// value never reaches a message.
var quoted = regexp.MustCompile("`[^`]*`|\"[^\"\n]{24,}\"")

// objectDumps are where kustomize's messages print a whole object: as
// YAML after "for the following resource:", or with %v (" in object
// {{...}}", any Go map), labels, annotations and values included.
var objectDumps = []string{" for the following resource", " in object {", "map[", "\napiVersion:", "\nkind:"}

// sanitize keeps kustomize's message but drops quoted values and bounds it.
// From where the message prints a whole object, the rest is cut: a value
// may hold anything, brackets and quotes too.
func sanitize(msg string) string {
	for _, dump := range objectDumps {
		if i := strings.Index(msg, dump); i >= 0 {
			msg = msg[:i] + " (object not shown)"
		}
	}
	msg = quoted.ReplaceAllString(msg, "`…`")
	if len(msg) > 2000 {
		msg = msg[:2000] + "…"
	}
	return msg
}

// guardFS is the file system kustomize sees. Reads outside the root, over
// the caps or after the deadline fail and are recorded: the build is then
// refused, whatever kustomize made of the error. Writes always fail.
type guardFS struct {
	s    *sandbox
	disk filesys.FileSystem
	ctx  context.Context

	mu    sync.Mutex
	err   error
	files int
	bytes int64
}

var _ filesys.FileSystem = (*guardFS)(nil)

var errWrite = errors.New("writing is not allowed")

func (g *guardFS) refuse(err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
	}
	return err
}

func (g *guardFS) violation() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// allow checks a path kustomize reads.
func (g *guardFS) allow(p string) (string, error) {
	if err := g.ctx.Err(); err != nil {
		return "", g.refuse(fmt.Errorf("deadline: %w", err))
	}
	if v := g.violation(); v != nil {
		return "", v
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	real, err := g.s.resolve(abs)
	if errors.Is(err, ErrRefused) {
		return "", g.refuse(err)
	}
	return real, err
}

// probe checks a path kustomize only asks about: outside the root it does
// not exist.
func (g *guardFS) probe(p string) (string, bool) {
	real, err := g.allow(p)
	return real, err == nil
}

func (g *guardFS) Create(p string) (filesys.File, error) { return nil, g.refuse(errWrite) }
func (g *guardFS) Mkdir(p string) error                  { return g.refuse(errWrite) }
func (g *guardFS) MkdirAll(p string) error               { return g.refuse(errWrite) }
func (g *guardFS) RemoveAll(p string) error              { return g.refuse(errWrite) }
func (g *guardFS) WriteFile(p string, _ []byte) error    { return g.refuse(errWrite) }

func (g *guardFS) Open(p string) (filesys.File, error) {
	real, err := g.allow(p)
	if err != nil {
		return nil, err
	}
	if _, ok := g.s.virtual[real]; ok {
		return nil, fmt.Errorf("open %s: only ReadFile serves a generated kustomization", g.s.show(real))
	}
	if err := g.count(real); err != nil {
		return nil, err
	}
	return g.disk.Open(real)
}

func (g *guardFS) IsDir(p string) bool {
	real, ok := g.probe(p)
	return ok && g.disk.IsDir(real)
}

func (g *guardFS) Exists(p string) bool {
	real, ok := g.probe(p)
	if _, virtual := g.s.virtual[real]; ok && virtual {
		return true
	}
	return ok && g.disk.Exists(real)
}

func (g *guardFS) ReadDir(p string) ([]string, error) {
	real, err := g.allow(p)
	if err != nil {
		return nil, err
	}
	names, err := g.disk.ReadDir(real)
	if err != nil {
		return nil, err
	}
	for v := range g.s.virtual {
		if filepath.Dir(v) == real {
			names = append(names, filepath.Base(v))
		}
	}
	slices.Sort(names)
	return names, nil
}

func (g *guardFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	real, err := g.allow(p)
	if err != nil {
		return "", "", err
	}
	if _, ok := g.s.virtual[real]; ok {
		return filesys.ConfirmedDir(filepath.Dir(real)), filepath.Base(real), nil
	}
	return g.disk.CleanedAbs(p)
}

func (g *guardFS) Glob(pattern string) ([]string, error) {
	matches, err := g.disk.Glob(pattern)
	if err != nil {
		return nil, err
	}
	out := matches[:0]
	for _, m := range matches {
		if _, ok := g.probe(m); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

func (g *guardFS) Walk(p string, fn filepath.WalkFunc) error {
	real, err := g.allow(p)
	if err != nil {
		return err
	}
	return g.disk.Walk(real, func(q string, info os.FileInfo, err error) error {
		if _, aerr := g.allow(q); aerr != nil {
			return aerr
		}
		return fn(q, info, err)
	})
}

func (g *guardFS) ReadFile(p string) ([]byte, error) {
	real, err := g.allow(p)
	if err != nil {
		return nil, err
	}
	return g.readResolved(real)
}

// readResolved is ReadFile of a path allow or sandbox.resolve returned.
func (g *guardFS) readResolved(real string) ([]byte, error) {
	if err := g.ctx.Err(); err != nil {
		return nil, g.refuse(fmt.Errorf("deadline: %w", err))
	}
	if v := g.violation(); v != nil {
		return nil, v
	}
	if data, ok := g.s.virtual[real]; ok {
		g.mu.Lock()
		g.files++
		g.bytes += int64(len(data))
		g.mu.Unlock()
		return slices.Clone(data), nil
	}
	if err := g.count(real); err != nil {
		return nil, err
	}
	data, err := g.disk.ReadFile(real)
	if err != nil {
		return nil, err
	}
	if err := checkYAMLBudget(data); err != nil {
		return nil, g.refuse(fmt.Errorf("%s: %w", g.s.show(real), err))
	}
	return data, nil
}

// count applies the file, size and total caps to a file about to be read.
func (g *guardFS) count(real string) error {
	info, err := os.Stat(real)
	if err != nil || info.IsDir() {
		return nil // kustomize reports it
	}
	g.mu.Lock()
	g.files++
	g.bytes += info.Size()
	files, total := g.files, g.bytes
	g.mu.Unlock()
	switch {
	case info.Size() > g.s.opts.MaxFileSize:
		return g.refuse(fmt.Errorf("%s is %d bytes, over the %d-byte limit", g.s.show(real), info.Size(), g.s.opts.MaxFileSize))
	case files > g.s.opts.MaxFiles:
		return g.refuse(fmt.Errorf("more than %d files read", g.s.opts.MaxFiles))
	case total > g.s.opts.MaxTotalBytes:
		return g.refuse(fmt.Errorf("more than %d bytes read", g.s.opts.MaxTotalBytes))
	}
	return nil
}

// checkYAMLBudget checks every document of a YAML stream against the node
// budget and the nesting limit. Text without an alias, and with too few
// brackets to nest maxDepth deep in flow style, is linear in its size and
// is not parsed: deeper block-style nesting costs more indentation than a
// file may hold.
func checkYAMLBudget(data []byte) error {
	flow := bytes.Count(data, []byte("[")) + bytes.Count(data, []byte("{"))
	if flow < maxDepth && !bytes.Contains(data, []byte("*")) {
		return nil
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return nil // not YAML, or the end: kustomize reports syntax errors
		}
		if err := checkNodeBudget(&n); err != nil {
			return err
		}
	}
}
