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
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// commandTree returns every command below gitseal's root, root first.
func commandTree() []*cobra.Command {
	root := newCmdRoot(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, "gitseal")
	var all []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		all = append(all, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return all
}

// localFlags are the flags a command defines itself, sorted.
func localFlags(c *cobra.Command) []*pflag.Flag {
	var fs []*pflag.Flag
	c.LocalFlags().VisitAll(func(f *pflag.Flag) { fs = append(fs, f) })
	slices.SortFunc(fs, func(a, b *pflag.Flag) int { return strings.Compare(a.Name, b.Name) })
	return fs
}

// TestGoldenFlags records every command's flags, so that a change to one
// shows in review next to the others (issue 11, item 1).
func TestGoldenFlags(t *testing.T) {
	var b strings.Builder
	for _, c := range commandTree() {
		fmt.Fprintf(&b, "%s\n", c.CommandPath())
		for _, f := range localFlags(c) {
			short := "  "
			if f.Shorthand != "" {
				short = "-" + f.Shorthand
			}
			def := fmt.Sprintf("%q", f.DefValue)
			if c.Name() == "seal" && f.Name == "jobs" {
				def = "GOMAXPROCS" // depends on the machine
			}
			fmt.Fprintf(&b, "  %s --%s %s default=%s", short, f.Name, f.Value.Type(), def)
			if f.Hidden {
				b.WriteString(" hidden")
			}
			b.WriteString("\n")
		}
	}
	matchGolden(t, "flags.txt", b.String())
}

// fileInputFlags are the flags that name a file or directory gitseal
// reads, or (merge-into, baseline) one it updates in place. Any other flag
// that takes a path must be --output-file: a new flag that takes a file
// has to be placed here or renamed.
var fileInputFlags = []string{
	"baseline", "bitnami-key", "build", "cert", "config", "from-file", "identity",
	"kubeconfig", "merge-into", "path", "recipients-file", "secret-file",
	// Hidden kubeseal spellings, refused with a hint.
	"recovery-private-key", "sealed-secret-file",
}

// TestFlagRules checks the rules of issue 11, item 1 on every command:
// -o is --output and a format, --format only spells --output, and only
// --output-file names a file to write.
func TestFlagRules(t *testing.T) {
	for _, c := range commandTree() {
		for _, f := range localFlags(c) {
			where := c.CommandPath() + " --" + f.Name
			varname, _ := pflag.UnquoteUsage(f)
			takesPath := f.Value.Type() != "bool" && (strings.Contains(varname, "FILE") || strings.Contains(varname, "PATH") || strings.Contains(varname, "DIR"))
			switch {
			case f.Shorthand == "o" && f.Name != "output":
				t.Errorf("%s: -o must be --output", where)
			case f.Name == "output" && f.Hidden:
				// keys backup keeps -o only to refuse an old -o FILE.
			case f.Name == "output":
				if f.Shorthand != "o" {
					t.Errorf("%s: --output must have the shorthand -o", where)
				}
				if _, ok := c.GetFlagCompletionFunc("output"); !ok {
					t.Errorf("%s: --output must complete its formats", where)
				}
				if takesPath {
					t.Errorf("%s: --output is a format, never a file", where)
				}
			case f.Name == "format":
				if c.LocalFlags().Lookup("output") == nil {
					t.Errorf("%s: --format only spells --output, which %s lacks", where, c.CommandPath())
				}
				if _, ok := c.GetFlagCompletionFunc("format"); !ok {
					t.Errorf("%s: --format must complete its formats", where)
				}
			case f.Name == outputFileFlag:
				if f.Shorthand != "" {
					t.Errorf("%s: --output-file has no shorthand, so that it is never confused with -o", where)
				}
			case strings.Contains(f.Name, "output") || strings.Contains(f.Name, "out-file"):
				t.Errorf("%s: an output file is named --output-file, a format --output", where)
			case takesPath && !slices.Contains(fileInputFlags, f.Name):
				t.Errorf("%s takes %s: only --output-file names a file to write; if it is read, add it to fileInputFlags", where, varname)
			}
		}
	}
}
