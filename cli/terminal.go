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
	"errors"
	"fmt"
	"slices"

	"golang.org/x/term"
)

// noteTerminalStdin tells the person at a terminal that the command waits
// for input, when it is about to read standard input from the terminal.
func noteTerminalStdin(streams IOStreams, args []string) {
	if (len(args) == 0 || slices.Contains(args, "-")) && isTerminal(streams.In) {
		fmt.Fprintln(streams.ErrOut, "reading from standard input; end with Ctrl-D (name files as arguments instead)")
	}
}

// isTerminal says whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// errStdoutIsTerminal refuses to print secret material to a terminal.
func errStdoutIsTerminal(what string) error {
	return withHint(errors.New("refusing to print "+what+" to a terminal"), "redirect standard output to a file or a pipe, or use --output-file FILE")
}
