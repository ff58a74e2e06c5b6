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
	"slices"
	"strings"
)

// outputFileFlag is the one flag, on every command, that names a file to
// write. -o/--output is always a format.
const outputFileFlag = "output-file"

// checkFormat returns an error when value, given to -o/--output, is not
// one of formats. A value that looks like a file name gets a hint naming
// --output-file, so that an old `-o FILE` never writes anything.
func checkFormat(value string, formats ...string) error {
	if slices.Contains(formats, value) {
		return nil
	}
	err := fmt.Errorf("unknown output format %q: want %s", value, strings.Join(formats, ", "))
	return withHint(err, "-o/--output is the output format; to write to a file, use --"+outputFileFlag+" FILE")
}

// formatFlag merges -o/--output with its kubeseal spelling --format: the
// one given, def when neither, an error when both disagree. The result is
// checked against formats.
func formatFlag(output, alias, def string, formats ...string) (string, error) {
	switch {
	case output != "" && alias != "" && output != alias:
		return "", fmt.Errorf("--output %q and --format %q disagree; --format is another spelling of --output", output, alias)
	case output == "":
		output = alias
	}
	if output == "" {
		output = def
	}
	return output, checkFormat(output, formats...)
}
