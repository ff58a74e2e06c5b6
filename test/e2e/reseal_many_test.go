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

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/sealer"
)

// A whole repository re-seals and validates through the controller, within
// its rate limit: the rotation workflow of docs/operations.md (issue: about
// 20 objects or more used to fail with HTTP 429).
func TestResealAndValidateAThousandFiles(t *testing.T) {
	r, first := thousandFiles(t)
	second := strings.TrimSpace(r.ok("", "keys", "rotate", "--timeout", "1m").stdout)
	start := time.Now()
	res := r.ok("", "reseal", "-R", "deploy")
	t.Logf("re-sealed %d five-item files through the controller in %v", manyFiles, time.Since(start).Round(time.Millisecond))
	if n := strings.Count(res.stdout, ": re-sealed "); n != manyFiles {
		t.Fatalf("%d files re-sealed, want %d:\n%s", n, manyFiles, res.stderr)
	}
	for i := range manyFiles {
		got := readFile(t, manyFilePath(i))
		if strings.Count(got, "gs2k:"+second+":") != 1 || strings.Contains(got, "gs2k:"+first) {
			t.Fatalf("file %d is not re-sealed to %s:\n%s", i, second, got)
		}
	}
	res = r.ok("", "validate", "-R", "deploy")
	if n := strings.Count(res.stdout, ": valid (opens with key "+second+")"); n != manyFiles {
		t.Fatalf("%d files valid, want %d:\n%s", n, manyFiles, res.stdout)
	}
}

// BenchmarkResealThousandFiles: `gitseal reseal -R` of 1,000 five-item
// files (hybrid key) through the controller's HTTP API after a rotation;
// the goal is under 5 s.
func BenchmarkResealThousandFiles(b *testing.B) {
	r, _ := thousandFiles(b)
	for b.Loop() {
		b.StopTimer()
		r.ok("", "keys", "rotate", "--timeout", "1m")
		b.StartTimer()
		if res := r.ok("", "reseal", "-R", "deploy"); strings.Count(res.stdout, ": re-sealed ") != manyFiles {
			b.Fatalf("not every file was re-sealed:\n%s", res.stderr)
		}
	}
}

const manyFiles = 1000

func manyFilePath(i int) string {
	return filepath.Join("deploy", fmt.Sprintf("d%d", i%10), fmt.Sprintf("s%04d.yaml", i))
}

// thousandFiles starts a controller (hybrid key), changes into a new
// directory and writes manyFiles SealedSecrets of five 64-byte items under
// deploy/, sealed to the active key, whose ID it returns.
func thousandFiles(t testing.TB) (*cliRunner, string) {
	c := startController(t, "")
	r := newRunner(t, c)
	t.Chdir(t.TempDir())
	first, err := c.activeKeyID(t)
	if err != nil {
		t.Fatal(err)
	}
	recipients, err := crypto.ParseRecipients(strings.NewReader(r.ok("", "keys", "fetch").stdout))
	if err != nil || len(recipients) != 1 {
		t.Fatalf("keys fetch: %v %v", recipients, err)
	}
	items := map[string]string{}
	for i := range 5 {
		items[fmt.Sprintf("item%d", i)] = strings.Repeat(fmt.Sprint(i), 64)
	}
	for i := range manyFiles {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: c.apps, Name: fmt.Sprintf("s%04d", i)}, StringData: items}
		ss, err := sealer.Seal(s, crypto.Strict, recipients)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := yaml.Marshal(ss)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, manyFilePath(i), string(raw))
	}
	return r, first
}
