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

package scanner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gitseal/gitseal/test/fixture"

	"github.com/gitseal/gitseal/internal/policy"
)

const secretYAML = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: CANARYc4n4ry7f3a9Zq\n"

func locations(fs []policy.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Rule))
	}
	return out
}

func TestScanPaths(t *testing.T) {
	root := fixture.Tree(t, map[string]string{
		"apps/prod/db.yaml":     secretYAML,
		"apps/prod/DB.YML":      secretYAML,
		"apps/prod/ok.yaml":     "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n",
		".git/config.yaml":      secretYAML,
		"vendor/x/secret.yaml":  secretYAML,
		"image.png":             "\x89PNG\r\n\x1a\n\x00\x00\x00",
		"link.yaml":             "->apps/prod/db.yaml",
		"outside-link/s.yaml":   "->/etc/hostname",
		"notes/readme.md":       "nothing here\n",
		"apps/staging/sec.json": `{"kind":"Secret","data":{"a":"Q0FOQVJZYzRuNHJ5N2YzYTlacQ=="}}`,
	})
	s := &Scanner{Policy: policy.New(policy.Options{}), Workers: 3, Exclude: []string{"vendor/**"}}
	rep, err := s.ScanPaths(context.Background(), root, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apps/prod/DB.YML:5 GS002", "apps/prod/db.yaml:5 GS002", "apps/staging/sec.json:1 GS001"}
	if got := locations(rep.Findings); !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
	if rep.Files != 5 || rep.Binary != 1 || rep.Excluded != 1 {
		t.Errorf("files, binary, excluded = %d, %d, %d; want 5, 1, 1", rep.Files, rep.Binary, rep.Excluded)
	}
}

func TestA50MBFileIsReportedWithoutBeingRead(t *testing.T) {
	root := t.TempDir()
	f, err := os.Create(filepath.Join(root, "huge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(50 << 20); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	f.Close()
	s := &Scanner{Policy: policy.New(policy.Options{})}
	rep, err := s.ScanPaths(context.Background(), root, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	// GS011 is decided from the size alone: a file that had been read would
	// have been parsed instead.
	if got := locations(rep.Findings); !slices.Equal(got, []string{"huge.yaml:1 GS011"}) {
		t.Errorf("findings = %q, want the file-too-large finding", got)
	}
}

func TestScanPathsFailsOnUnreadableFiles(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	root := fixture.Tree(t, map[string]string{"a.yaml": secretYAML})
	if err := os.Chmod(filepath.Join(root, "a.yaml"), 0); err != nil {
		t.Fatal(err)
	}
	s := &Scanner{Policy: policy.New(policy.Options{})}
	if _, err := s.ScanPaths(context.Background(), root, []string{root}); err == nil {
		t.Error("scan of an unreadable file succeeded")
	}
}

func TestScanPathsMissingPathIsAnError(t *testing.T) {
	s := &Scanner{Policy: policy.New(policy.Options{})}
	if _, err := s.ScanPaths(context.Background(), ".", []string{filepath.Join(t.TempDir(), "nope")}); err == nil {
		t.Error("scan of a missing path succeeded")
	}
}

func TestScanPathsStopsWhenCancelled(t *testing.T) {
	root := fixture.Tree(t, map[string]string{"a.yaml": secretYAML})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &Scanner{Policy: policy.New(policy.Options{})}
	if _, err := s.ScanPaths(ctx, root, []string{root}); err == nil {
		t.Error("cancelled scan succeeded")
	}
}
