package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
	f.StringVar(&r.Scope, "scope", "", "strict, namespace or cluster (default: the .gitseal.yaml rule's, else strict)")
	f.StringVar(&r.Config, "config", "", "the .gitseal.yaml `FILE` (default: found from the working directory up to the repository root)")
	f.StringVar(&r.RulePath, "path", "", "match .gitseal.yaml rules as if standard input were the file at `PATH`")
	_ = cmd.RegisterFlagCompletionFunc("scope", cobra.FixedCompletions(
		[]string{"strict\tbound to namespace and name", "namespace\tbound to the namespace", "cluster\tbound to nothing but the item key"},
		cobra.ShellCompDirectiveNoFileComp))
}

// complete parses the recipients and the scope.
func (r *Recipients) complete() error {
	if r.Scope != "" {
		s, err := crypto.ParseScope(r.Scope)
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
	for _, file := range r.RecipientsFiles {
		f, err := os.Open(file) //nolint:gosec // G304: the user names the file.
		if err != nil {
			return err
		}
		rs, err := crypto.ParseRecipients(f)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		r.fixed = append(r.fixed, rs...)
	}
	return nil
}

// sealTarget is whom the Secrets of one file are sealed to, and how.
type sealTarget struct {
	recipients []*crypto.Recipient
	scope      crypto.Scope
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
	configDir    string
	fetched      *sealTarget
	byRule       map[*repoconfig.Rule]*sealTarget
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
		scope := r.flags.scope
		if scope == "" && r.config != nil {
			if _, ruleScope, err := r.config.Resolve(r.rulePath(path)); err == nil {
				scope = ruleScope
			}
		}
		if scope == "" {
			scope = crypto.Strict
		}
		return &sealTarget{recipients: r.flags.fixed, scope: scope}, nil
	}
	if r.config != nil {
		return r.fromConfig(path)
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
	r.config, r.configDir = cfg, filepath.Dir(abs)
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

func (r *targetResolver) fromConfig(path string) (*sealTarget, error) {
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
	recipients, scope, err := r.config.Resolve(rel)
	if err != nil {
		return nil, err
	}
	if r.flags.scope != "" {
		scope = r.flags.scope
	}
	t := &sealTarget{recipients: recipients, scope: scope}
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
	scope := r.flags.scope
	if scope == "" {
		scope = crypto.Strict
	}
	fmt.Fprintf(r.errOut, "sealing to key %s from %s\n", active.ID, source)
	r.fetched = &sealTarget{recipients: []*crypto.Recipient{active.recipient}, scope: scope, online: true}
	return r.fetched, nil
}
