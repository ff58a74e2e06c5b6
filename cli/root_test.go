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
