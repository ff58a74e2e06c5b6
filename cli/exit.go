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

	"github.com/spf13/cobra"
)

// Exit codes of every gitseal command, documented in docs/cli.md.
const (
	// ExitOK: the command did what was asked, and any question it answers
	// has the answer "yes" (valid, no changes, no findings).
	ExitOK = 0
	// ExitNo is a negative answer, like diff(1): validate found an invalid
	// SealedSecret, diff found changes, scan found plaintext.
	ExitNo = 1
	// ExitFailure is a usage error or a failure to do what was asked.
	ExitFailure = 2
)

// ExitError ends a command with Code. With a nil Err nothing more is
// printed: the command has already said what it found.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps a command's error to the process's exit code: ExitOK for
// nil, the Code of an *ExitError, else ExitFailure.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if ee, ok := errors.AsType[*ExitError](err); ok {
		return ee.Code
	}
	return ExitFailure
}

// Execute runs cmd, prints its error to errOut, and returns the exit code.
func Execute(ctx context.Context, cmd *cobra.Command, errOut io.Writer) int {
	err := cmd.ExecuteContext(ctx)
	if ee, ok := errors.AsType[*ExitError](err); !ok || ee.Err != nil {
		if err != nil {
			fmt.Fprintln(errOut, "error:", err)
		}
	}
	return ExitCode(err)
}
