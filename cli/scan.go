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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/gitscan"
	"github.com/gitseal/gitseal/internal/policy"
	"github.com/gitseal/gitseal/internal/render"
	"github.com/gitseal/gitseal/internal/repoconfig"
	"github.com/gitseal/gitseal/internal/scanner"
)

// BaselineFileName is where scan looks for its baseline, at the root of the
// repository (or of the scan, outside a repository).
const BaselineFileName = ".gitseal-baseline.json"

// Report formats of `gitseal scan`.
const (
	scanFormatText  = "text"
	scanFormatJSON  = "json"
	scanFormatSARIF = "sarif"
)

// ScanOptions are the options of `gitseal scan`.
type ScanOptions struct {
	IOStreams

	// Paths are the files and directories to check; empty means the
	// current directory.
	Paths []string
	// Staged checks the git index: what the commit being made adds or
	// changes.
	Staged bool
	// Since checks every commit of Since..HEAD.
	Since string
	// Build checks the output of kustomize build on this directory.
	Build string
	// Format is text, json or sarif.
	Format string
	// Color is auto, always or never.
	Color string
	// Config is .gitseal.yaml; empty means look for it.
	Config string
	// Baseline is the baseline file; empty means .gitseal-baseline.json at
	// the root.
	Baseline string
	// WriteBaseline accepts every current finding into the baseline file.
	WriteBaseline bool
	// ShowAllowed reports allowed findings too, marked as such.
	ShowAllowed bool
	// MaxFileSize is the largest file checked; larger ones are a finding.
	MaxFileSize int64
	// Exclude lists globs of paths not to check.
	Exclude []string
	// Workers bounds the files checked at once; 0 means two per CPU.
	Workers int
	// Timeout bounds a kustomize build.
	Timeout time.Duration

	// workDir and getenv stand in for the process's, in tests.
	workDir string
	getenv  func(string) string
}

// NewCmdScan returns `gitseal scan`.
func NewCmdScan(streams IOStreams) *cobra.Command {
	return newCmdScan(streams, &ScanOptions{})
}

// newCmdScan binds the flags to o, which tests preset.
func newCmdScan(streams IOStreams, o *ScanOptions) *cobra.Command {
	o.IOStreams = streams
	cmd := &cobra.Command{
		Use:   "scan [PATH...]",
		Short: "Fail when files would put a secret into Git in plain text",
		Long: `Check files for secrets in plain text: Kubernetes Secrets with data or
stringData (YAML or JSON, any file name, multi-document files and Lists),
kustomize secretGenerator entries, SealedSecrets that are malformed or
sealed to keys .gitseal.yaml does not know or has retired, private keys,
well-known tokens, and high-entropy values in env vars and ConfigMaps.
Every rule has an ID; docs/scan.md lists them. A finding shows where the
value is, never the value.

What to check: PATHs (files or directories, default "."), --staged (the
git index, for a pre-commit hook), --since REV (every commit of REV..HEAD,
for CI), or --build DIR (the output of kustomize build, in a sandbox).

To accept a finding: a "# gitseal:allow <reason>" comment on its line or
the line above, the annotation gitseal.dev/allow-plaintext: <reason> on
the object, or the baseline (--write-baseline, matched by fingerprint).

Exit status: 0 when nothing is found, 1 when something is, 2 on a usage
error or a failure.`,
		Example: `  # Before a commit (gitseal hook install sets this up)
  gitseal scan --staged

  # In CI, every commit of a pull request, as SARIF for code scanning
  gitseal scan --since origin/main --format sarif > gitseal.sarif

  # A directory, and what kustomize renders from an overlay
  gitseal scan apps/
  gitseal scan --build apps/prod

  # Accept today's findings as known false positives
  gitseal scan --write-baseline`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Paths = args
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Staged, "staged", false, "check the files staged in the git index (for a pre-commit hook)")
	f.StringVar(&o.Since, "since", "", "check every commit of `REV`..HEAD (for CI)")
	f.StringVar(&o.Build, "build", "", "check the output of kustomize build on `DIR`, rendered in a sandbox")
	f.StringVarP(&o.Format, "format", "f", scanFormatText, "report format: text, json or sarif")
	f.StringVar(&o.Color, "color", "auto", "colour the text report: auto (on a terminal, unless NO_COLOR is set), always or never")
	f.StringVar(&o.Config, "config", "", "repository configuration (default: .gitseal.yaml at the repository root)")
	f.StringVar(&o.Baseline, "baseline", "", "baseline `FILE` of accepted findings (default: "+BaselineFileName+" at the repository root)")
	f.BoolVar(&o.WriteBaseline, "write-baseline", false, "accept every current finding into the baseline file, and exit 0")
	f.BoolVar(&o.ShowAllowed, "show-allowed", false, "report allowed findings too")
	f.Int64Var(&o.MaxFileSize, "max-file-size", policy.DefaultMaxFileSize, "largest file checked, in `BYTES`; a larger file is a finding (GS011)")
	f.StringArrayVar(&o.Exclude, "exclude", nil, "do not check paths matching `GLOB` (relative to the root; ** spans directories); repeatable")
	f.IntVar(&o.Workers, "workers", 0, "files checked at once (default: two per CPU)")
	f.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "time limit of a kustomize build")
	cmd.MarkFlagsMutuallyExclusive("staged", "since", "build")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitError{Code: ExitFailure, Err: err}
	})
	return cmd
}

// Complete fills in what the flags leave open.
func (o *ScanOptions) Complete() error {
	if o.workDir == "" {
		o.workDir = "."
	}
	if o.getenv == nil {
		o.getenv = os.Getenv
	}
	return nil
}

// Validate checks the options.
func (o *ScanOptions) Validate() error {
	modes := 0
	for _, set := range []bool{o.Staged, o.Since != "", o.Build != ""} {
		if set {
			modes++
		}
	}
	switch {
	case modes > 1:
		return errors.New("--staged, --since and --build are mutually exclusive")
	case modes == 1 && len(o.Paths) > 0:
		return errors.New("paths cannot be combined with --staged, --since or --build")
	case o.Format != scanFormatText && o.Format != scanFormatJSON && o.Format != scanFormatSARIF:
		return fmt.Errorf("unknown --format %q: want text, json or sarif", o.Format)
	case o.Color != "auto" && o.Color != "always" && o.Color != "never":
		return fmt.Errorf("unknown --color %q: want auto, always or never", o.Color)
	case o.MaxFileSize <= 0:
		return errors.New("--max-file-size must be positive")
	case o.Workers < 0:
		return errors.New("--workers cannot be negative")
	}
	return nil
}

// scanSetup is what a scan needs before it reads any file.
type scanSetup struct {
	root     string        // repository root, or the working directory
	repo     *gitscan.Repo // nil outside a repository
	baseline string        // the baseline file's path
	existing *policy.Baseline
	policy   *policy.Policy
	base     *policy.Baseline // the one the policy uses
}

// Run scans and reports. Findings end it with ExitError{Code: ExitNo}.
func (o *ScanOptions) Run(ctx context.Context) error {
	s, err := o.setup(ctx)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	rep, label, err := o.scan(ctx, s)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	if o.WriteBaseline {
		return o.writeBaseline(s, rep)
	}
	report := scanReport{Report: rep, ShowAllowed: o.ShowAllowed, Label: label, BaselineUsed: s.existing != nil}
	switch o.Format {
	case scanFormatJSON:
		err = report.writeJSON(o.Out)
	case scanFormatSARIF:
		err = report.writeSARIF(o.Out)
	default:
		err = report.writeText(o.Out, o.colorOn())
	}
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("write report: %w", err)}
	}
	if len(rep.Failing()) > 0 {
		return &ExitError{Code: ExitNo}
	}
	return nil
}

func (o *ScanOptions) colorOn() bool {
	switch o.Color {
	case "always":
		return true
	case "never":
		return false
	}
	return o.getenv("NO_COLOR") == "" && o.getenv("TERM") != "dumb" && isTerminal(o.Out)
}

func (o *ScanOptions) setup(ctx context.Context) (*scanSetup, error) {
	s := &scanSetup{}
	repo, err := gitscan.Open(ctx, o.workDir)
	switch {
	case err == nil:
		s.repo, s.root = repo, repo.Root()
	case o.Staged || o.Since != "":
		return nil, withHint(err, "--staged and --since read a git repository: run gitseal scan inside one")
	default:
		if s.root, err = filepath.Abs(o.workDir); err != nil {
			return nil, err
		}
	}

	keys, err := o.loadKeys(s.root)
	if err != nil {
		return nil, err
	}

	s.baseline = o.Baseline
	if s.baseline == "" {
		s.baseline = filepath.Join(s.root, BaselineFileName)
	} else if !filepath.IsAbs(s.baseline) {
		s.baseline = filepath.Join(o.workDir, s.baseline)
	}
	switch data, err := os.ReadFile(s.baseline); {
	case err == nil:
		if s.existing, err = policy.ReadBaseline(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: %w", s.baseline, err)
		}
	case errors.Is(err, fs.ErrNotExist) && (o.Baseline == "" || o.WriteBaseline):
	default:
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	switch {
	case o.WriteBaseline && s.existing != nil:
		s.base = s.existing.Empty() // same key: unchanged findings keep their fingerprints
	case o.WriteBaseline:
		s.base = policy.NewBaseline()
	case s.existing != nil:
		s.base = s.existing
	default:
		// No baseline: a throwaway key still gives fingerprints, which
		// tell repeats of a finding across commits apart.
		s.base = policy.NewBaseline()
	}

	exists, err := o.fileExists(ctx, s)
	if err != nil {
		return nil, err
	}
	s.policy = policy.New(policy.Options{Keys: keys, MaxFileSize: o.MaxFileSize, FileExists: exists, Baseline: s.base})
	return s, nil
}

// loadKeys reads the key list of .gitseal.yaml: --config, or the file at
// the repository root, or in the directory scanned from. Without one, the
// key rules are skipped.
func (o *ScanOptions) loadKeys(root string) (*policy.KeySet, error) {
	path := o.Config
	if path == "" {
		wd, err := filepath.Abs(o.workDir)
		if err != nil {
			return nil, err
		}
		for _, dir := range []string{root, wd} {
			candidate := filepath.Join(dir, repoconfig.FileName)
			if info, err := os.Stat(candidate); err == nil && info.Mode().IsRegular() {
				path = candidate
				break
			}
		}
		if path == "" {
			return nil, nil
		}
	} else if !filepath.IsAbs(path) {
		path = filepath.Join(o.workDir, path)
	}
	cfg, err := repoconfig.Load(path)
	if err != nil {
		return nil, withHint(err, "fix the file, or point --config at another one")
	}
	var known []crypto.KeyID
	add := func(texts []string) {
		for _, t := range texts {
			if r, err := crypto.ParseRecipient(t); err == nil {
				known = append(known, r.ID())
			}
		}
	}
	for _, c := range cfg.Clusters {
		add(c.Recipients)
	}
	for _, r := range cfg.Rules {
		add(r.Recipients)
	}
	return policy.NewKeySet(known, cfg.RetiredKeyIDs()), nil
}

// fileExists tells the policy which files a secretGenerator may read from
// Git: tracked ones in a repository (in HEAD for --since), else files on
// disk under the root.
func (o *ScanOptions) fileExists(ctx context.Context, s *scanSetup) (func(string) bool, error) {
	if s.repo == nil {
		return func(p string) bool {
			_, err := os.Lstat(filepath.Join(s.root, filepath.FromSlash(p)))
			return err == nil
		}, nil
	}
	treeish := ""
	if o.Since != "" {
		treeish = "HEAD"
	}
	tracked, err := s.repo.Tracked(ctx, treeish)
	if err != nil {
		return nil, err
	}
	return func(p string) bool { return tracked[p] }, nil
}

// scan runs the scan the options ask for. label names what --build
// checked, for the report.
func (o *ScanOptions) scan(ctx context.Context, s *scanSetup) (*scanner.Report, string, error) {
	sc := &scanner.Scanner{Policy: s.policy, Workers: o.Workers, Exclude: o.Exclude}
	if s.repo != nil && !o.Staged && o.Since == "" && o.Build == "" {
		// Files git ignores never go into a commit.
		ignored, err := s.repo.Ignored(ctx)
		if err != nil {
			return nil, "", err
		}
		sc.Ignored = ignored
	}
	switch {
	case o.Staged:
		blobs, err := s.repo.Staged(ctx)
		if err != nil {
			return nil, "", err
		}
		rep, err := sc.ScanBlobs(ctx, s.repo, blobs)
		return rep, "", err
	case o.Since != "":
		blobs, err := s.repo.Since(ctx, o.Since)
		if err != nil {
			return nil, "", withHint(err, "in CI, fetch the history of the range (actions/checkout with fetch-depth: 0, or git fetch --unshallow)")
		}
		rep, err := sc.ScanBlobs(ctx, s.repo, blobs)
		return rep, "", err
	case o.Build != "":
		return o.scanBuild(ctx, s)
	}
	paths := o.Paths
	if len(paths) == 0 {
		paths = []string{o.workDir}
	} else if o.workDir != "." {
		for i, p := range paths {
			if !filepath.IsAbs(p) {
				paths[i] = filepath.Join(o.workDir, p)
			}
		}
	}
	rep, err := sc.ScanPaths(ctx, s.root, paths)
	return rep, "", err
}

// scanBuild renders a kustomization in the sandbox and checks the output.
// Findings name the directory, with the line in the rendered output.
func (o *ScanOptions) scanBuild(ctx context.Context, s *scanSetup) (*scanner.Report, string, error) {
	dir := o.Build
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(o.workDir, dir)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	res, err := render.Build(ctx, s.root, dir, render.Options{MaxFileSize: o.MaxFileSize})
	switch {
	case errors.Is(err, render.ErrRefused):
		return nil, "", withHint(err, "gitseal renders kustomizations without remote bases, plugins or Helm, and only from files under the repository")
	case err != nil:
		return nil, "", err
	}
	rel, err := filepath.Rel(s.root, dir)
	if err != nil {
		rel = dir
	}
	label := filepath.ToSlash(rel) + " (kustomize build)"
	fr := s.policy.CheckFile(label, res.YAML())
	return &scanner.Report{Findings: fr.Findings, Files: 1}, label, nil
}

// writeBaseline accepts every finding no comment or annotation allows, and
// writes the baseline file.
func (o *ScanOptions) writeBaseline(s *scanSetup, rep *scanner.Report) error {
	n := 0
	for _, f := range rep.Findings {
		if f.Allowed != nil && f.Allowed.By != policy.AllowedByBaseline {
			continue
		}
		if s.base.Add(f) {
			n++
		}
	}
	var buf bytes.Buffer
	if _, err := s.base.WriteTo(&buf); err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	if err := writeFileAtomic(s.baseline, buf.Bytes(), fileMode(s.baseline, 0o644)); err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	fmt.Fprintf(o.ErrOut, "wrote %d accepted finding%s to %s\n", n, plural(n), displayPath(s.root, s.baseline))
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func displayPath(root, p string) string {
	if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return p
}
