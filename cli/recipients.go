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

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/repoconfig"
)

// Recipients are the flags that choose whom values are sealed to and with
// which scope, shared by seal and reseal.
type Recipients struct {
	// Recipient are public keys given on the command line.
	Recipient []string
	// RecipientsFiles are age recipients files.
	RecipientsFiles []string
	// Certs are recipients files given with kubeseal's spelling, --cert.
	Certs []string
	// Scope overrides the configuration's scope.
	Scope string
	// Config is the .gitseal.yaml to use; empty means search for one from
	// the working directory up to the repository root.
	Config string
	// RulePath is the path .gitseal.yaml rules are matched against for
	// standard input.
	RulePath string

	fixed []*crypto.Recipient
	scope crypto.Scope
}

func (r *Recipients) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&r.Recipient, "recipient", nil, "seal to this public key (age1pq1… or age1…); repeatable; overrides .gitseal.yaml")
	f.StringArrayVar(&r.RecipientsFiles, "recipients-file", nil, "seal to the public keys in `FILE` (as written by gitseal keys fetch); repeatable")
	f.StringArrayVar(&r.Certs, "cert", nil, "the same as --recipients-file (kubeseal's spelling): a `FILE` of gitseal public keys")
	f.StringVar(&r.Scope, "scope", "", "strict, namespace or cluster; or kubeseal's strict, namespace-wide, cluster-wide (default: the Secret's scope annotation, else the .gitseal.yaml rule's, else strict)")
	f.StringVar(&r.Config, "config", "", "the .gitseal.yaml `FILE` (default: found from the working directory up to the repository root)")
	f.StringVar(&r.RulePath, "path", "", "match .gitseal.yaml rules as if standard input were the file at `PATH`")
	_ = cmd.RegisterFlagCompletionFunc("scope", cobra.FixedCompletions(
		[]string{"strict\tbound to namespace and name", "namespace\tbound to the namespace", "cluster\tbound to nothing but the item key",
			"namespace-wide\tkubeseal's name of namespace", "cluster-wide\tkubeseal's name of cluster"},
		cobra.ShellCompDirectiveNoFileComp))
}

// complete parses the recipients and the scope.
func (r *Recipients) complete() error {
	if r.Scope != "" {
		s, err := parseScope(r.Scope)
		if err != nil {
			return err
		}
		r.scope = s
	}
	for i, text := range r.Recipient {
		rc, err := crypto.ParseRecipient(text)
		if err != nil {
			return fmt.Errorf("--recipient #%d: %w", i+1, err)
		}
		r.fixed = append(r.fixed, rc)
	}
	for i, file := range append(slices.Clone(r.RecipientsFiles), r.Certs...) {
		cert := i >= len(r.RecipientsFiles)
		if cert && (strings.HasPrefix(file, "http://") || strings.HasPrefix(file, "https://")) {
			return withHint(fmt.Errorf("--cert %s: gitseal reads public keys from a file, not a URL", file),
				"fetch them with gitseal keys fetch --output-file FILE, then pass --cert FILE")
		}
		f, err := os.Open(file) //nolint:gosec // G304: the user names the file.
		if err != nil {
			return err
		}
		rs, err := crypto.ParseRecipients(f)
		_ = f.Close()
		if err != nil {
			err = fmt.Errorf("%s: %w", file, err)
			if cert {
				err = withHint(err, "--cert takes gitseal public keys, not a kubeseal certificate: gitseal keys fetch --output-file FILE writes them")
			}
			return err
		}
		r.fixed = append(r.fixed, rs...)
	}
	return nil
}

// parseScope parses a scope in gitseal's or kubeseal's spelling.
func parseScope(s string) (crypto.Scope, error) {
	switch s {
	case "namespace-wide":
		return crypto.Namespace, nil
	case "cluster-wide":
		return crypto.Cluster, nil
	}
	scope, err := crypto.ParseScope(s)
	if err != nil {
		return "", fmt.Errorf("unknown scope %q: want strict, namespace (namespace-wide) or cluster (cluster-wide)", s)
	}
	return scope, nil
}

// sealTarget is whom the Secrets of one file are sealed to, and how.
type sealTarget struct {
	recipients []*crypto.Recipient
	scope      crypto.Scope
	// scopeFrom names what set scope: "--scope", the .gitseal.yaml rule,
	// or "" for the default, which a Secret's scope annotation overrides.
	scopeFrom string
	// online is set when the keys were fetched from the cluster; then the
	// kube context's namespace may stand in for a missing one.
	online bool
}

// targetResolver decides the sealTarget of each file: the flags, else the
// .gitseal.yaml rule for its path, else the cluster's active key.
type targetResolver struct {
	cluster *ClusterOptions
	flags   *Recipients
	errOut  io.Writer

	configLoaded bool
	config       *repoconfig.Config
	configFile   string
	configDir    string
	fetched      *sealTarget
	byRule       map[*repoconfig.Rule]*sealTarget

	// askedRetired is set once the cluster was asked which keys it
	// retired; retired and retiredFrom are its answer and where it came
	// from.
	askedRetired bool
	retired      []crypto.KeyID
	retiredFrom  keySource
}

func newTargetResolver(cluster *ClusterOptions, flags *Recipients, errOut io.Writer) *targetResolver {
	return &targetResolver{cluster: cluster, flags: flags, errOut: errOut, byRule: map[*repoconfig.Rule]*sealTarget{}}
}

// resolve returns the target for a file at path; "" is standard input.
func (r *targetResolver) resolve(ctx context.Context, path string) (*sealTarget, error) {
	if err := r.loadConfig(); err != nil {
		return nil, err
	}
	if len(r.flags.fixed) > 0 {
		scope, from := r.flags.scope, ""
		if scope != "" {
			from = "--scope"
		} else if r.config != nil {
			if rule, ok := r.config.Rule(r.rulePath(path)); ok && rule.Scope != "" {
				scope, from = rule.Scope, "the .gitseal.yaml rule"
			}
		}
		if scope == "" {
			scope = crypto.Strict
		}
		return &sealTarget{recipients: r.flags.fixed, scope: scope, scopeFrom: from}, nil
	}
	if r.config != nil {
		return r.fromConfig(ctx, path)
	}
	return r.fromCluster(ctx)
}

func (r *targetResolver) loadConfig() error {
	if r.configLoaded {
		return nil
	}
	r.configLoaded = true
	file := r.flags.Config
	if file == "" {
		found, err := repoconfig.Find(".")
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		file = found
	}
	cfg, err := repoconfig.Load(file)
	if err != nil {
		return withHint(err, "fix "+file+", or pass --recipient / --recipients-file to bypass it")
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	r.config, r.configFile, r.configDir = cfg, file, filepath.Dir(abs)
	return nil
}

// rulePath is path relative to the configuration's directory, slash
// separated; for standard input, --path (or "").
func (r *targetResolver) rulePath(path string) string {
	if path == "" {
		path = r.flags.RulePath
		if path == "" {
			return ""
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(r.configDir, abs)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

func (r *targetResolver) fromConfig(ctx context.Context, path string) (*sealTarget, error) {
	rel := r.rulePath(path)
	rule, ok := r.config.Rule(rel)
	if !ok {
		what := fmt.Sprintf("no rule in %s matches %s", filepath.Join(r.configDir, repoconfig.FileName), rel)
		hint := "add a rule for it, or pass --recipient / --recipients-file"
		if rel == "" {
			what = fmt.Sprintf("no rule in %s matches standard input", filepath.Join(r.configDir, repoconfig.FileName))
			hint = "pass --path with the file's path in the repository, add a catch-all rule (path: \"**\"), or pass --recipient"
		}
		if strings.HasPrefix(rel, "../") {
			what = fmt.Sprintf("%s is outside the repository of %s", path, filepath.Join(r.configDir, repoconfig.FileName))
		}
		return nil, withHint(errors.New(what), hint)
	}
	if t, ok := r.byRule[rule]; ok {
		return t, nil
	}
	// The file first, which needs no cluster; then what the cluster
	// retired since the file was last refreshed.
	recipients, scope, err := r.config.Resolve(rel)
	if err == nil {
		recipients, scope, err = r.config.Resolve(rel, r.retiredByCluster(ctx)...)
	}
	if rerr, ok := errors.AsType[*repoconfig.RetiredKeyError](err); ok {
		return nil, r.retiredKeyError(rerr)
	}
	if err != nil {
		return nil, err
	}
	from := ""
	if rule.Scope != "" {
		from = "the .gitseal.yaml rule"
	}
	if r.flags.scope != "" {
		scope, from = r.flags.scope, "--scope"
	}
	t := &sealTarget{recipients: recipients, scope: scope, scopeFrom: from}
	r.byRule[rule] = t
	return t, nil
}

func (r *targetResolver) fromCluster(ctx context.Context) (*sealTarget, error) {
	if r.fetched != nil {
		return r.fetched, nil
	}
	published, source, err := r.cluster.fetchPublicKeys(ctx, r.errOut)
	if err != nil {
		return nil, err
	}
	active := activeKey(published)
	scope, from := r.flags.scope, "--scope"
	if scope == "" {
		scope, from = crypto.Strict, ""
	}
	fmt.Fprintf(r.errOut, "sealing to key %s from %s\n", active.ID, source)
	r.fetched = &sealTarget{recipients: []*crypto.Recipient{active.recipient}, scope: scope, scopeFrom: from, online: true}
	return r.fetched, nil
}

// retiredCheckTimeout bounds asking the cluster which keys it retired: a
// seal by .gitseal.yaml rules works offline, and must not hang on a
// cluster that does not answer.
const retiredCheckTimeout = 10 * time.Second

// retiredByCluster returns the keys the cluster of the kube context
// retired, asked once, so that a .gitseal.yaml not refreshed since the
// cluster retired a key does not seal to it. Without a kubeconfig there is
// no cluster to ask, and nothing is said. When the cluster cannot be asked,
// a note says that the file alone decides.
func (r *targetResolver) retiredByCluster(ctx context.Context) []crypto.KeyID {
	if r.askedRetired {
		return r.retired
	}
	r.askedRetired = true
	if !r.cluster.configured() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, retiredCheckTimeout)
	defer cancel()
	published, source, err := r.cluster.fetchPublicKeys(ctx, io.Discard)
	if err != nil {
		where := "the cluster"
		if name, cerr := r.cluster.ContextName(); cerr == nil {
			where = "the cluster of context " + name
		}
		fmt.Fprintf(r.errOut, "note: could not ask %s which keys it retired (%s); sealing by %s alone\n", where, firstLine(err), r.configFile)
		return nil
	}
	r.retired, r.retiredFrom = retiredKeyIDs(published), source
	return r.retired
}

// retiredKeyError says which rule would seal to a retired key, who says it
// is retired, and how to fix the file.
func (r *targetResolver) retiredKeyError(e *repoconfig.RetiredKeyError) error {
	of := ""
	if e.Cluster != "" {
		of = fmt.Sprintf(" of cluster %q", e.Cluster)
	}
	by := "which the cluster retired (" + string(r.retiredFrom) + ")"
	if e.InFile {
		by = "which the file lists as retired"
	}
	err := fmt.Errorf("%s: rules[%d] (path %q) seals to key %s%s, %s", r.configFile, e.Rule, e.Path, e.KeyID, of, by)
	if e.Cluster == "" {
		return withHint(err, fmt.Sprintf("remove key %s from the recipients of rules[%d], or pass --recipient / --recipients-file", e.KeyID, e.Rule))
	}
	return withHint(err, fmt.Sprintf("run gitseal keys refresh to update cluster %q's keys in %s from the cluster, then seal again", e.Cluster, r.configFile))
}
