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

package logging

import (
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
)

func TestSafeDropsBodiesAndHighVerbosity(t *testing.T) {
	var out strings.Builder
	base := funcr.New(func(prefix, args string) { out.WriteString(prefix + args + "\n") }, funcr.Options{Verbosity: 10})
	l := Safe(base).WithName("client").WithValues("k", "v")

	l.V(1).Info("kept")
	l.V(5).Info("kept at the cap")
	l.V(6).Info("dropped above the cap")
	l.V(8).Info("Request Body", "body", "canary-body")
	l.Info("Response Body", "body", "canary-body")
	if l.V(8).Enabled() {
		t.Error("V(8) must not be enabled")
	}
	got := out.String()
	if strings.Contains(got, "canary-body") || strings.Contains(got, "dropped") {
		t.Errorf("leaked:\n%s", got)
	}
	if !strings.Contains(got, "kept at the cap") || !strings.Contains(got, `"k"="v"`) {
		t.Errorf("lost wanted lines:\n%s", got)
	}
}
