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
	// They are never sealed to, even if listed in Recipients.
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
			if _, err := retiredID(r); err != nil {
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
		recipients, err := c.recipientsOf(r)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", where, err)
		case len(recipients) == 0:
			return fmt.Errorf("%s: seals to no key: name clusters or recipients", where)
		case len(recipients) > crypto.MaxRecipients:
			return fmt.Errorf("%s: %d keys, the limit is %d", where, len(recipients), crypto.MaxRecipients)
		}
		for _, rc := range recipients[1:] {
			if rc.Kind() != recipients[0].Kind() {
				return fmt.Errorf("%s: %w: mixes post-quantum (age1pq1…) and X25519 (age1…) keys (%s and %s)",
					where, crypto.ErrIncompatibleRecipients, recipients[0].ID(), rc.ID())
			}
		}
	}
	return nil
}

// Rule returns the first rule that matches path, a slash-separated path
// relative to the repository root. An empty path (standard input) matches
// only rules whose pattern matches every path.
func (c *Config) Rule(p string) (*Rule, bool) {
	for i := range c.Rules {
		if Match(c.Rules[i].Path, p) {
			return &c.Rules[i], true
		}
	}
	return nil, false
}

// Resolve returns the keys and scope for a Secret at path (see Rule): the
// first matching rule's clusters' keys that are not retired, plus its
// recipients, and its scope (strict by default). Errors: ErrNoRule.
func (c *Config) Resolve(p string) ([]*crypto.Recipient, crypto.Scope, error) {
	r, ok := c.Rule(p)
	if !ok {
		return nil, "", fmt.Errorf("%w %q", ErrNoRule, p)
	}
	recipients, err := c.recipientsOf(*r)
	if err != nil {
		return nil, "", err
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
			if id, err := retiredID(r); err == nil && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// recipientsOf returns a rule's keys, without duplicates or retired keys.
func (c *Config) recipientsOf(r Rule) ([]*crypto.Recipient, error) {
	retired := c.RetiredKeyIDs()
	var out []*crypto.Recipient
	add := func(texts []string) error {
		rs, err := parseRecipients(texts)
		if err != nil {
			return err
		}
		for _, rc := range rs {
			dup := slices.ContainsFunc(out, func(o *crypto.Recipient) bool { return o.ID() == rc.ID() })
			if !dup && !slices.Contains(retired, rc.ID()) {
				out = append(out, rc)
			}
		}
		return nil
	}
	for _, name := range r.Clusters {
		for _, cl := range c.Clusters {
			if cl.Name == name {
				if err := add(cl.Recipients); err != nil {
					return nil, fmt.Errorf("cluster %q: %w", name, err)
				}
			}
		}
	}
	if err := add(r.Recipients); err != nil {
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

// retiredID reads a retired entry: a key ID, or a public key.
func retiredID(s string) (crypto.KeyID, error) {
	s = strings.TrimSpace(s)
	if isKeyID(s) {
		return crypto.KeyID(s), nil
	}
	rc, err := crypto.ParseRecipient(s)
	if err != nil {
		return "", fmt.Errorf("neither a key ID (16 hex digits) nor a public key: %w", err)
	}
	return rc.ID(), nil
}

func isKeyID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
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
