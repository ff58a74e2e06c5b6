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

// Package repoconfig reads .gitseal.yaml, the file at a repository's root
// that says, by file path, which clusters' keys Secrets are sealed to and
// with which scope, so that CI can seal offline and scan what it finds.
package repoconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/gitseal/gitseal/crypto"
)

// FileName is the configuration's file name at the repository root.
const FileName = ".gitseal.yaml"

// maxFileSize caps the configuration file.
const maxFileSize = 1 << 20

// Config is a parsed .gitseal.yaml:
//
//	clusters:
//	  - name: prod
//	    recipients: [age1pq1…]          # the cluster's public keys
//	    retired: [3f2a9c1b2d3e4f5a]      # key IDs or public keys it retired
//	rules:                               # first match wins
//	  - path: apps/prod/**               # a glob; ** spans directories
//	    clusters: [prod]
//	    recipients: [age1…]              # more keys, e.g. a break-glass key
//	    scope: strict                    # strict (default), namespace or cluster
type Config struct {
	Clusters []Cluster `json:"clusters,omitempty"`
	Rules    []Rule    `json:"rules,omitempty"`
}

// Cluster is a cluster's public keys, by name.
type Cluster struct {
	Name string `json:"name"`
	// Recipients are the cluster's public keys (age1pq1… or age1…).
	Recipients []string `json:"recipients,omitempty"`
	// Retired lists keys the cluster retired, by key ID or public key.
	// They are never sealed to: a rule that names one, here or in its
	// own recipients, fails to resolve (RetiredKeyError).
	Retired []string `json:"retired,omitempty"`
}

// Rule matches file paths to the keys their Secrets are sealed to.
type Rule struct {
	// Path is a slash-separated glob relative to the repository root:
	// * and ? match within a directory name, ** matches any number of
	// directories. Empty matches every path.
	Path string `json:"path,omitempty"`
	// Clusters name the clusters whose keys to seal to.
	Clusters []string `json:"clusters,omitempty"`
	// Recipients are public keys sealed to in addition to the clusters'.
	Recipients []string `json:"recipients,omitempty"`
	// Scope is the default scope of Secrets this rule matches; empty
	// means strict.
	Scope crypto.Scope `json:"scope,omitempty"`
}

// ErrNoRule is returned by Resolve when no rule matches a path.
var ErrNoRule = errors.New("no rule matches")

// RetiredKeyError is returned by Resolve when the matching rule would seal
// to a retired key: one a cluster's retired list names (InFile), or one the
// caller says is retired.
type RetiredKeyError struct {
	// Rule is the index of the rule in rules, Path its pattern.
	Rule int
	Path string
	// Cluster names the cluster whose recipients hold the key; empty when
	// the rule's own recipients do.
	Cluster string
	KeyID   crypto.KeyID
	// InFile is set when the configuration lists the key as retired.
	InFile bool
}

func (e *RetiredKeyError) Error() string {
	of := ""
	if e.Cluster != "" {
		of = fmt.Sprintf(" of cluster %q", e.Cluster)
	}
	by := "is retired"
	if e.InFile {
		by = "the configuration lists as retired"
	}
	return fmt.Sprintf("rules[%d] (path %q) seals to key %s%s, which %s", e.Rule, e.Path, e.KeyID, of, by)
}

// Parse parses and checks a configuration. Unknown fields are errors, so
// a typo does not silently seal to the wrong keys. Errors never quote a
// key's text.
func Parse(data []byte) (*Config, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Load reads and parses the configuration file at path.
func Load(file string) (*Config, error) {
	data, err := os.ReadFile(file) //nolint:gosec // G304: the caller names the file.
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// Find looks for FileName in dir and its parents, up to the first
// directory that holds .git (the repository root) or the file system's
// root. It returns the file's path, or an error wrapping fs.ErrNotExist.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		candidate := filepath.Join(dir, FileName)
		if info, err := os.Stat(candidate); err == nil && info.Mode().IsRegular() {
			return candidate, nil
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("%s: %w", FileName, fs.ErrNotExist)
}

func (c *Config) check() error {
	clusters := map[string]bool{}
	for i, cl := range c.Clusters {
		if cl.Name == "" {
			return fmt.Errorf("clusters[%d]: no name", i)
		}
		if clusters[cl.Name] {
			return fmt.Errorf("cluster %q is defined twice", cl.Name)
		}
		clusters[cl.Name] = true
		if _, err := parseRecipients(cl.Recipients); err != nil {
			return fmt.Errorf("cluster %q: %w", cl.Name, err)
		}
		for j, r := range cl.Retired {
			if _, err := RetiredID(r); err != nil {
				return fmt.Errorf("cluster %q: retired[%d]: %w", cl.Name, j, err)
			}
		}
	}
	for i, r := range c.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if r.Path != "" {
			where = fmt.Sprintf("rules[%d] (path %q)", i, r.Path)
		}
		if err := checkPattern(r.Path); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		for _, name := range r.Clusters {
			if !clusters[name] {
				return fmt.Errorf("%s: no cluster named %q", where, name)
			}
		}
		if r.Scope != "" {
			if _, err := crypto.ParseScope(string(r.Scope)); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		named, err := c.keysOf(r)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", where, err)
		case len(named) == 0:
			return fmt.Errorf("%s: seals to no key: name clusters or recipients", where)
		case len(named) > crypto.MaxRecipients:
			return fmt.Errorf("%s: %d keys, the limit is %d", where, len(named), crypto.MaxRecipients)
		}
		for _, k := range named[1:] {
			if k.rc.Kind() != named[0].rc.Kind() {
				return fmt.Errorf("%s: %w: mixes post-quantum (age1pq1…) and X25519 (age1…) keys (%s and %s)",
					where, crypto.ErrIncompatibleRecipients, named[0].rc.ID(), k.rc.ID())
			}
		}
	}
	return nil
}

// Rule returns the first rule that matches path, a slash-separated path
// relative to the repository root. An empty path (standard input) matches
// only rules whose pattern matches every path.
func (c *Config) Rule(p string) (*Rule, bool) {
	i, ok := c.ruleIndex(p)
	if !ok {
		return nil, false
	}
	return &c.Rules[i], true
}

func (c *Config) ruleIndex(p string) (int, bool) {
	for i := range c.Rules {
		if Match(c.Rules[i].Path, p) {
			return i, true
		}
	}
	return 0, false
}

// Resolve returns the keys and scope for a Secret at path (see Rule): the
// first matching rule's clusters' keys plus its own recipients, and its
// scope (strict by default). It never drops a key it is told to seal to:
// if one is retired, by a cluster's retired list or by retired (what the
// caller knows, e.g. from the cluster), it fails with a *RetiredKeyError.
// Errors: ErrNoRule, *RetiredKeyError.
func (c *Config) Resolve(p string, retired ...crypto.KeyID) ([]*crypto.Recipient, crypto.Scope, error) {
	i, ok := c.ruleIndex(p)
	if !ok {
		return nil, "", fmt.Errorf("%w %q", ErrNoRule, p)
	}
	r := c.Rules[i]
	named, err := c.keysOf(r)
	if err != nil {
		return nil, "", err
	}
	inFile := c.RetiredKeyIDs()
	recipients := make([]*crypto.Recipient, len(named))
	for j, k := range named {
		id := k.rc.ID()
		if slices.Contains(inFile, id) || slices.Contains(retired, id) {
			return nil, "", &RetiredKeyError{Rule: i, Path: r.Path, Cluster: k.cluster, KeyID: id, InFile: slices.Contains(inFile, id)}
		}
		recipients[j] = k.rc
	}
	scope := r.Scope
	if scope == "" {
		scope = crypto.Strict
	}
	return recipients, scope, nil
}

// RetiredKeyIDs returns the IDs of every key any cluster retired.
func (c *Config) RetiredKeyIDs() []crypto.KeyID {
	var out []crypto.KeyID
	for _, cl := range c.Clusters {
		for _, r := range cl.Retired {
			if id, err := RetiredID(r); err == nil && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// KeyIDs returns the IDs of the keys a cluster lists, recipients and
// retired, in that order; entries that do not parse are left out.
func (cl *Cluster) KeyIDs() []crypto.KeyID {
	var out []crypto.KeyID
	for _, r := range cl.Recipients {
		if rc, err := crypto.ParseRecipient(r); err == nil {
			out = append(out, rc.ID())
		}
	}
	for _, r := range cl.Retired {
		if id, err := RetiredID(r); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// namedKey is a key a rule names, and the cluster that holds it ("" for
// the rule's own recipients).
type namedKey struct {
	rc      *crypto.Recipient
	cluster string
}

// keysOf returns the keys a rule names, its clusters' first, without
// duplicates, retired ones included.
func (c *Config) keysOf(r Rule) ([]namedKey, error) {
	var out []namedKey
	add := func(texts []string, cluster string) error {
		rs, err := parseRecipients(texts)
		if err != nil {
			return err
		}
		for _, rc := range rs {
			if !slices.ContainsFunc(out, func(o namedKey) bool { return o.rc.ID() == rc.ID() }) {
				out = append(out, namedKey{rc: rc, cluster: cluster})
			}
		}
		return nil
	}
	for _, name := range r.Clusters {
		for _, cl := range c.Clusters {
			if cl.Name == name {
				if err := add(cl.Recipients, name); err != nil {
					return nil, fmt.Errorf("cluster %q: %w", name, err)
				}
			}
		}
	}
	if err := add(r.Recipients, ""); err != nil {
		return nil, err
	}
	return out, nil
}

func parseRecipients(texts []string) ([]*crypto.Recipient, error) {
	out := make([]*crypto.Recipient, 0, len(texts))
	for i, t := range texts {
		rc, err := crypto.ParseRecipient(t)
		if err != nil {
			return nil, fmt.Errorf("recipients[%d]: %w", i, err)
		}
		out = append(out, rc)
	}
	return out, nil
}

// RetiredID returns the key ID of an entry of a cluster's retired list: a
// key ID, or a public key. The error does not quote the entry.
func RetiredID(s string) (crypto.KeyID, error) {
	s = strings.TrimSpace(s)
	if id, err := crypto.ParseKeyID(s); err == nil {
		return id, nil
	}
	rc, err := crypto.ParseRecipient(s)
	if err != nil {
		return "", fmt.Errorf("neither a key ID (16 hex digits) nor a public key: %w", err)
	}
	return rc.ID(), nil
}

// checkPattern reports a malformed glob.
func checkPattern(pattern string) error {
	for seg := range strings.SplitSeq(pattern, "/") {
		if seg == "**" {
			continue
		}
		if strings.Contains(seg, "**") {
			return fmt.Errorf("bad pattern %q: ** must be a whole path element", pattern)
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("bad pattern %q: %w", pattern, err)
		}
	}
	return nil
}

// Match reports whether a slash-separated path matches pattern: * and ?
// match within one path element, [..] a class, and a ** element any
// number of elements, none included. An empty pattern, like "**", matches
// every path, the empty path of standard input included.
func Match(pattern, p string) bool {
	if pattern == "" || pattern == "**" {
		return true
	}
	if p == "" {
		return false
	}
	p = path.Clean(strings.TrimPrefix(p, "./"))
	return matchElems(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchElems(pat, elems []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			for i := 0; i <= len(elems); i++ {
				if matchElems(rest, elems[i:]) {
					return true
				}
			}
			return false
		}
		if len(elems) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], elems[0]); !ok {
			return false
		}
		pat, elems = pat[1:], elems[1:]
	}
	return len(elems) == 0
}
