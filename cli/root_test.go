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
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestEveryCommandHasExamples(t *testing.T) {
	root := newCmdRoot(IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, "gitseal")
	root.InitDefaultCompletionCmd()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		builtin := c.Name() == "help" || c.Name() == "completion" || (c.HasParent() && c.Parent().Name() == "completion")
		if !builtin && strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no examples", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestPluginNameChangesHelpOnly(t *testing.T) {
	tests := []struct {
		name, executable, want string
	}{
		{"gitseal speaks of gitseal", "gitseal", "  gitseal seal"},
		{"kubectl-gitseal speaks of kubectl gitseal", PluginName, "  kubectl gitseal seal"},
		{"a Windows plugin binary is recognised", PluginName + ".exe", "  kubectl gitseal seal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			root := newCmdRoot(IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}, tt.executable)
			root.SetArgs([]string{"seal", "--help"})
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("help does not contain %q:\n%s", tt.want, out.String())
			}
		})
	}
}
