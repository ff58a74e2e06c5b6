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

// Package hint attaches to an error what the person at the terminal can
// do about it. Hints belong to the CLI, never to library errors.
package hint

// Error is an error together with the next step to take.
type Error struct {
	Err  error
	Hint string
}

// With attaches a next step to err. A nil err or an empty hint returns
// err as it is.
func With(err error, hint string) error {
	if err == nil || hint == "" {
		return err
	}
	return &Error{Err: err, Hint: hint}
}

func (e *Error) Error() string { return e.Err.Error() + "\nhint: " + e.Hint }

func (e *Error) Unwrap() error { return e.Err }
