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
