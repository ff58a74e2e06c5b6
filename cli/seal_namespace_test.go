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
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSealReportsTheContextNamespace: a namespace taken from the kube
// context is said on stderr (issue 11, item 2).
func TestSealReportsTheContextNamespace(t *testing.T) {
	url := fakeController(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: dev, context: {cluster: c, user: u, namespace: team-a}}]
current-context: dev
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	seal := func(secret string, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		cmd := newCmdRoot(IOStreams{In: strings.NewReader(secret), Out: &out, ErrOut: &errOut}, "gitseal")
		cmd.SetArgs(append([]string{"seal", "--controller-url", url}, args...))
		code := Execute(context.Background(), cmd, &errOut)
		return out.String(), errOut.String(), code
	}
	const noNamespace = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n"
	stdout, stderr, code := seal(noNamespace)
	if code != 0 || !strings.Contains(stdout, "namespace: team-a") || !strings.Contains(stderr, "using namespace team-a from the kube context") {
		t.Fatalf("exit %d\n--- stdout\n%s\n--- stderr\n%s", code, stdout, stderr)
	}
	// A Secret that names its namespace needs no note.
	_, stderr, code = seal(strings.Replace(noNamespace, "{name: db}", "{name: db, namespace: prod}", 1))
	if code != 0 || strings.Contains(stderr, "kube context") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	// --raw too.
	_, stderr, code = seal("s3cret", "--raw", "--name", "db", "--key", "password")
	if code != 0 || !strings.Contains(stderr, "using namespace team-a from the kube context") {
		t.Fatalf("raw: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestGoldenKeysFetchJSON(t *testing.T) {
	url := fakeController(t)
	matchGolden(t, "keys-fetch.json", mustRun(t, "", "keys", "fetch", "-o", "json", "--all", "--controller-url", url))
}
