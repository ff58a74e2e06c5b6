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

package testenv

import (
	"runtime"
	"strings"
	"testing"
)

// recordingTB stands in for a test that calls Shared.Get: it records a
// skip or a failure, and ends the goroutine as the real ones do.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = format
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = format
	for _, a := range args {
		if err, ok := a.(error); ok {
			r.failed += " " + err.Error()
		}
	}
	runtime.Goexit()
}

// get calls s.Get as a test of its own would, in a goroutine of its own.
func get(s *Shared) (*Env, *recordingTB) {
	tb := &recordingTB{}
	var env *Env
	done := make(chan struct{})
	go func() {
		defer close(done)
		env = s.Get(tb)
	}()
	<-done
	return env, tb
}

func TestSharedGetUnderMakeUnitSkipsWithoutStarting(t *testing.T) {
	t.Setenv(UnitEnv, "1")
	unsetenv(t, "CI")
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir()) // holds no binaries: a start would fail
	var s Shared
	env, tb := get(&s)
	if env != nil || tb.skipped == "" || tb.failed != "" {
		t.Fatalf("Get = %v, skipped %q, failed %q; want a skip", env, tb.skipped, tb.failed)
	}
	if s.env != nil || s.err != nil {
		t.Errorf("a skipped Get started the control plane: env %v, err %v", s.env, s.err)
	}
	if err := s.stop(); err != nil {
		t.Errorf("stop after no start: %v", err)
	}
}

func TestSharedGetUnderMakeUnitFailsInCIWithoutStarting(t *testing.T) {
	t.Setenv(UnitEnv, "1")
	t.Setenv("CI", "true")
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	var s Shared
	env, tb := get(&s)
	if env != nil || tb.skipped != "" || !strings.Contains(tb.failed, "CI never skips") {
		t.Fatalf("Get = %v, skipped %q, failed %q; want a failure, because CI never skips", env, tb.skipped, tb.failed)
	}
	if s.env != nil || s.err != nil {
		t.Errorf("a refused Get started the control plane: env %v, err %v", s.env, s.err)
	}
}

func TestSharedGetFailsEveryCallerWhenTheControlPlaneCannotStart(t *testing.T) {
	t.Setenv(UnitEnv, "")
	for _, key := range []string{"KUBEBUILDER_ASSETS", "TEST_ASSET_KUBE_APISERVER", "TEST_ASSET_ETCD", "TEST_ASSET_KUBECTL"} {
		unsetenv(t, key)
	}
	var s Shared
	for i := range 2 {
		env, tb := get(&s)
		if env != nil || tb.skipped != "" || !strings.Contains(tb.failed, "binaries missing") {
			t.Errorf("call %d: Get = %v, skipped %q, failed %q; want a failure naming the missing binaries", i+1, env, tb.skipped, tb.failed)
		}
	}
	if err := s.stop(); err != nil {
		t.Errorf("stop after a failed start: %v", err)
	}
}
