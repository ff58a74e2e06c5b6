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
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/policy"
	"github.com/gitseal/gitseal/internal/render"
)

// buildCanary is in every plaintext value of these tests; it must never be
// printed.
const buildCanary = "CANARYbu1ldV4lue9Xq"

// buildRepo makes a Git working tree (a .git directory is what gitseal
// build looks for) with files, and returns its root.
func buildRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "repo")
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, ".git"), 0o700); err != nil {
		t.Fatal(err)
	}
	return root
}

// buildSealedSecret returns a SealedSecret prod/db whose password is sealed
// for real, and the sealed value.
func buildSealedSecret(t *testing.T) (string, string) {
	t.Helper()
	id, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	b := crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "password"}
	sealed, err := crypto.Seal([]byte(buildCanary), b, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	o, err := crypto.SealObject(map[string][]byte{"token": []byte(buildCanary)}, b, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	// Format 2 (token, its data key) and format 1 (password), and copies of
	// both in annotations.
	return "apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: prod\n  annotations:\n    copy: " + sealed +
		"\n    copy2: " + o.Values["token"] + "\nspec:\n  encryptedData:\n    password: " + sealed + "\n    token: " + o.Values["token"] +
		"\n    legacy: AgBy3i4OJSWK+PiTySYZZA==\n  dataKeys:\n  - " + o.DataKeys[0] + "\n", sealed
}

const buildConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: prod\ndata:\n  mode: fast\n"

// decodeJSONStream decodes gitseal build -o json.
func decodeJSONStream(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decode %q: %v", s, err)
		}
		out = append(out, obj)
	}
}

// TestBuildRendersWhatTheControllerRenders: the objects gitseal build
// prints are render.BuildPath's (the controller's build), in its order,
// with sealed values masked; the working tree is not written to.
func TestBuildRendersWhatTheControllerRenders(t *testing.T) {
	sealedSecret, sealed := buildSealedSecret(t)
	tests := []struct {
		name  string
		files map[string]string
		path  string // under the repository
	}{
		{
			name: "kustomization with a base",
			files: map[string]string{
				"apps/prod/kustomization.yaml": "resources: [../base, db.sealed.yaml]\nnamePrefix: prod-\n",
				"apps/prod/db.sealed.yaml":     sealedSecret,
				"apps/base/kustomization.yaml": "resources: [cm.yaml]\n",
				"apps/base/cm.yaml":            buildConfigMap,
			},
			path: "apps/prod",
		},
		{
			name: "directory of plain manifests",
			files: map[string]string{
				"apps/prod/db.sealed.yaml": sealedSecret,
				"apps/prod/cm/cm.yaml":     buildConfigMap,
				"apps/prod/notes.md":       "not a manifest",
			},
			path: "apps/prod",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := buildRepo(t, tt.files)
			want, err := render.BuildPath(t.Context(), root, tt.path, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := run(t, "", "build", filepath.Join(root, filepath.FromSlash(tt.path)), "-o", "json")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := decodeJSONStream(t, stdout)
			if len(got) != len(want.Objects()) || len(got) != 2 {
				t.Fatalf("printed %d objects, render built %d (want 2)", len(got), len(want.Objects()))
			}
			for i, obj := range want.Objects() {
				if !reflect.DeepEqual(got[i], maskSealed(obj)) {
					t.Errorf("object %d: printed %v, want %v", i, got[i], maskSealed(obj))
				}
			}
			if strings.Contains(stdout, sealed) || strings.Contains(stdout, "gs1:") || strings.Contains(stdout, "gs2") || strings.Contains(stdout, "AgBy3i4O") {
				t.Errorf("a sealed value was printed:\n%s", stdout)
			}
			if _, err := os.Stat(filepath.Join(root, "apps", "prod", "kustomization.yaml")); tt.files["apps/prod/kustomization.yaml"] == "" && err == nil {
				t.Error("gitseal build wrote a kustomization into the working tree")
			}
		})
	}
}

// TestBuildPrintsSealedValuesAsPlaceholders: every encryptedData value and
// a sealed value elsewhere are <sealed>, in YAML as in JSON.
func TestBuildPrintsSealedValuesAsPlaceholders(t *testing.T) {
	sealedSecret, _ := buildSealedSecret(t)
	root := buildRepo(t, map[string]string{"apps/db.yaml": sealedSecret})
	stdout, stderr, code := run(t, "", "build", filepath.Join(root, "apps"))
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := `apiVersion: gitseal.dev/v1alpha1
kind: SealedSecret
metadata:
  annotations:
    copy: <sealed>
    copy2: <sealed>
  name: db
  namespace: prod
spec:
  dataKeys:
  - <sealed>
  encryptedData:
    legacy: <sealed>
    password: <sealed>
    token: <sealed>
`
	if stdout != want {
		t.Errorf("printed\n%s\nwant\n%s", stdout, want)
	}
}

// TestBuildRefusesPlaintextSecrets checks C5 (no leak) and the controller's
// refusal: a plaintext Secret ends gitseal build with exit 1 and the
// controller's message, prints nothing on stdout, and no value anywhere.
func TestBuildRefusesPlaintextSecrets(t *testing.T) {
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringData:\n  password: " + buildCanary + "\n"
	root := buildRepo(t, map[string]string{
		"apps/cm.yaml":     buildConfigMap,
		"apps/secret.yaml": secret,
	})
	out := filepath.Join(t.TempDir(), "out.yaml")
	for _, args := range [][]string{
		{"build", filepath.Join(root, "apps")},
		{"build", filepath.Join(root, "apps"), "-o", "json", "--output-file", out},
	} {
		stdout, stderr, code := run(t, "", args...)
		if code != ExitNo {
			t.Errorf("%v: exit %d, want %d", args, code, ExitNo)
		}
		if stdout != "" {
			t.Errorf("%v: printed %q", args, stdout)
		}
		objs, err := render.BuildPath(t.Context(), root, "apps", render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		msg := policy.New(policy.Options{}).RefusePlaintextSecrets(objs.Objects())
		if msg == "" || stderr != "error: "+msg+"\n" {
			t.Errorf("%v: stderr %q, want the controller's message %q", args, stderr, msg)
		}
		if strings.Contains(stdout+stderr, buildCanary) {
			t.Errorf("%v: the value was printed", args)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--output-file was written: %v", err)
	}
}

// TestBuildRefusesWhatTheSandboxRefuses: a link or a reference out of the
// repository is refused as in the controller's checkout, exit 1, nothing
// on stdout.
func TestBuildRefusesWhatTheSandboxRefuses(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		links map[string]string // in the repository -> target
		path  string
		want  string
	}{
		{
			name:  "link to a manifest outside the repository",
			files: map[string]string{"apps/kustomization.yaml": "resources: [cm.yaml]\n"},
			links: map[string]string{"apps/cm.yaml": "../../outside/cm.yaml"},
			path:  "apps",
			want:  "apps/cm.yaml is a symbolic link out of the root",
		},
		{
			name:  "path that is a link outside the repository",
			links: map[string]string{"apps": "../outside"},
			path:  "apps",
			want:  "apps is a symbolic link out of the root",
		},
		{
			name:  "kustomization naming a file above the repository",
			files: map[string]string{"apps/kustomization.yaml": "resources: [../../outside/cm.yaml]\n"},
			path:  "apps",
			want:  "outside the root",
		},
		{
			name:  "remote base",
			files: map[string]string{"apps/kustomization.yaml": "resources: [https://example.com/base]\n"},
			path:  "apps",
			want:  "remote reference",
		},
		{
			name:  "link in a directory of plain manifests",
			files: map[string]string{"apps/a.yaml": buildConfigMap, "other/b.yaml": buildConfigMap},
			links: map[string]string{"apps/b.yaml": "../other/b.yaml"},
			path:  "apps",
			want:  "apps/b.yaml is a symbolic link",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := buildRepo(t, tt.files)
			outside := filepath.Join(filepath.Dir(root), "outside")
			if err := os.MkdirAll(outside, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "cm.yaml"), []byte(buildConfigMap), 0o600); err != nil {
				t.Fatal(err)
			}
			for link, target := range tt.links {
				p := filepath.Join(root, filepath.FromSlash(link))
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(filepath.FromSlash(target), p); err != nil {
					t.Fatal(err)
				}
			}
			stdout, stderr, code := run(t, "", "build", filepath.Join(root, filepath.FromSlash(tt.path)))
			if code != ExitNo || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, nothing printed, an error with %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

func TestBuildOutputs(t *testing.T) {
	root := buildRepo(t, map[string]string{"apps/a.yaml": buildConfigMap, "apps/b.yaml": strings.Replace(buildConfigMap, "settings", "other", 1)})
	apps := filepath.Join(root, "apps")

	t.Run("yaml is a stream of documents", func(t *testing.T) {
		stdout := mustRun(t, "", "build", apps)
		if n := strings.Count(stdout, "\n---\n"); n != 1 || !strings.HasPrefix(stdout, "apiVersion: v1\n") {
			t.Errorf("printed %q", stdout)
		}
	})
	t.Run("output file gets what stdout would", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out.yaml")
		stdout, stderr, code := run(t, "", "build", apps, "--output-file", out)
		if code != ExitOK || stdout != "" || !strings.Contains(stderr, "wrote 2 object(s) to") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if want := mustRun(t, "", "build", apps); !bytes.Equal(got, []byte(want)) {
			t.Errorf("file\n%s\nstdout\n%s", got, want)
		}
	})
	t.Run("default path is the working directory", func(t *testing.T) {
		t.Chdir(apps)
		if got, want := mustRun(t, "", "build"), mustRun(t, "", "build", apps); got != want {
			t.Errorf("build printed\n%s\nbuild %s printed\n%s", got, apps, want)
		}
	})
	t.Run("unknown format is a usage error", func(t *testing.T) {
		_, stderr, code := run(t, "", "build", apps, "-o", "out.yaml")
		if code != ExitFailure || !strings.Contains(stderr, "--output-file") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("missing path is a usage error", func(t *testing.T) {
		_, stderr, code := run(t, "", "build", filepath.Join(root, "nope"))
		if code != ExitFailure || !strings.Contains(stderr, "nope does not exist") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("empty directory prints nothing and warns", func(t *testing.T) {
		empty := filepath.Join(root, "empty")
		if err := os.Mkdir(empty, 0o700); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := run(t, "", "build", empty)
		if code != ExitOK || stdout != "" || !strings.Contains(stderr, "spec.allowEmpty") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("outside a repository the path is the root", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(buildConfigMap), 0o600); err != nil {
			t.Fatal(err)
		}
		if stdout := mustRun(t, "", "build", dir); !strings.Contains(stdout, "name: settings") {
			t.Errorf("printed %q", stdout)
		}
	})
}
