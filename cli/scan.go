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

	"github.com/gitseal/gitseal/cli/internal/manifest"
	"github.com/gitseal/gitseal/cli/internal/report"

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
	// Output is the report format: text, json or sarif. Format is another
	// spelling of it, which older CI configurations use.
	Output string
	Format string
	// OutputFile receives the report instead of standard output.
	OutputFile string
	// OldFormatShorthand is what -f, once the format, was given; it is
	// refused with a hint.
	OldFormatShorthand string
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
  gitseal scan --since origin/main -o sarif > gitseal.sarif

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
	f.StringVarP(&o.Output, "output", "o", "", "report format: text, json or sarif (default text)")
	f.StringVar(&o.Format, "format", "", "the same as --output")
	f.StringVar(&o.OutputFile, outputFileFlag, "", "write the report to `FILE` instead of standard output")
	f.StringVarP(&o.OldFormatShorthand, "filename", "f", "", "no longer the report format: use -o")
	_ = f.MarkHidden("filename")
	formats := cobra.FixedCompletions([]string{scanFormatText, scanFormatJSON, scanFormatSARIF}, cobra.ShellCompDirectiveNoFileComp)
	_ = cmd.RegisterFlagCompletionFunc("output", formats)
	_ = cmd.RegisterFlagCompletionFunc("format", formats)
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
	if o.OldFormatShorthand != "" {
		return withHint(fmt.Errorf("-f %s: scan has no -f", o.OldFormatShorthand), "the report format is -o/--output (or --format); name files to check as arguments")
	}
	format, err := formatFlag(o.Output, o.Format, scanFormatText, scanFormatText, scanFormatJSON, scanFormatSARIF)
	if err != nil {
		return err
	}
	o.Output, o.Format = format, format
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
	// root is the repository root, or outside a repository the directory
	// scanned. For paths and --build it comes from what is scanned, not
	// from the working directory, so the verdict and the names in findings
	// are the same wherever the scan runs from.
	root     string
	repo     *gitscan.Repo // nil outside a repository
	tree     *scanner.Tree // what PATHs and --build scan; nil for --staged and --since
	start    string        // where .gitseal.yaml is looked for when root has none
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
	findings := report.Scan{Report: rep, ShowAllowed: o.ShowAllowed, Label: label, BaselineUsed: s.existing != nil}
	out := o.Out
	var buf bytes.Buffer
	if o.OutputFile != "" {
		out = &buf
	}
	switch o.Format {
	case scanFormatJSON:
		err = findings.WriteJSON(out)
	case scanFormatSARIF:
		err = findings.WriteSARIF(out)
	default:
		err = findings.WriteText(out, o.OutputFile == "" && o.colorOn())
	}
	if err == nil && o.OutputFile != "" {
		// A report names where findings are, never their values.
		err = manifest.WriteFileAtomic(o.OutputFile, buf.Bytes(), manifest.ModeOf(o.OutputFile, 0o644))
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
	if o.Staged || o.Since != "" {
		repo, err := gitscan.Open(ctx, o.workDir)
		if err != nil {
			return nil, withHint(err, "--staged and --since read a git repository: run gitseal scan inside one")
		}
		s.repo, s.root, s.start = repo, repo.Root(), repo.Root()
	} else {
		tree, err := scanner.Locate(ctx, o.targets())
		if errors.Is(err, scanner.ErrNotOneTree) {
			return nil, withHint(err, "scan the files of each repository on its own")
		}
		if err != nil {
			return nil, err
		}
		s.tree, s.repo, s.root, s.start = tree, tree.Repo, tree.Root, tree.Start
	}

	keys, err := o.loadKeys(s.root, s.start)
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

// targets are what a scan of files on disk reads: the --build directory,
// or the paths (the working directory when there are none), relative ones
// taken from the working directory.
func (o *ScanOptions) targets() []string {
	paths := o.Paths
	switch {
	case o.Build != "":
		paths = []string{o.Build}
	case len(paths) == 0:
		paths = []string{"."}
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if !filepath.IsAbs(p) {
			out[i] = filepath.Join(o.workDir, p)
		}
	}
	return out
}

// loadKeys reads the key list of .gitseal.yaml: --config, or the file at
// the root, or in the directory scanned (start). Without one, the key
// rules are skipped.
func (o *ScanOptions) loadKeys(root, start string) (*policy.KeySet, error) {
	path := o.Config
	if path == "" {
		for _, dir := range []string{root, start} {
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
// Git: for --staged those in the index, for --since those in HEAD, and
// for files on disk those git add would take (tracked, or not ignored),
// or outside a repository every file under the root.
func (o *ScanOptions) fileExists(ctx context.Context, s *scanSetup) (func(string) bool, error) {
	if s.tree != nil {
		return s.tree.InGit, nil
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
	// Files git ignores never go into a commit.
	sc.Ignored = s.tree.Ignored
	rep, err := sc.ScanPaths(ctx, s.root, s.tree.Paths)
	return rep, "", err
}

// scanBuild renders a kustomization in the sandbox and checks the output.
// The sandbox is rooted at the directory's repository, or outside one at
// the directory itself. Findings name the directory relative to that
// root, with the line in the rendered output.
func (o *ScanOptions) scanBuild(ctx context.Context, s *scanSetup) (*scanner.Report, string, error) {
	dir := s.tree.Paths[0]
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	res, err := render.Build(ctx, s.root, dir, render.Options{MaxFileSize: o.MaxFileSize})
	switch {
	case errors.Is(err, render.ErrRefused):
		return nil, "", withHint(err, "gitseal renders kustomizations without remote bases, plugins or Helm, and only from files under the repository")
	case err != nil:
		return nil, "", err
	}
	label := displayPath(s.root, dir) + " (kustomize build)"
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
	if err := manifest.WriteFileAtomic(s.baseline, buf.Bytes(), manifest.ModeOf(s.baseline, 0o644)); err != nil {
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
