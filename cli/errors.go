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

// hintError is an error together with what to do about it, for the person
// at the terminal. Hints live here, in the CLI, never in library errors.
type hintError struct {
	err  error
	hint string
}

// withHint attaches a next step to err. An empty hint returns err as is.
func withHint(err error, hint string) error {
	if err == nil || hint == "" {
		return err
	}
	return &hintError{err: err, hint: hint}
}

func (e *hintError) Error() string { return e.err.Error() + "\nhint: " + e.hint }

func (e *hintError) Unwrap() error { return e.err }
