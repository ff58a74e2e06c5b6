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
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// update rewrites golden files and testscript expectations instead of
// comparing: go test ./cli -update.
var update = flag.Bool("update", false, "rewrite golden files")

// TestMain registers gitseal, and gitseal under its kubectl plugin and
// plugin completion names, as in-process commands for the testscript scenarios.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gitseal":            runGitseal,
		PluginName:           runGitseal,
		PluginCompletionName: runGitseal,
	})
}

func runGitseal() {
	streams := IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(Execute(context.Background(), NewCmdRoot(streams), os.Stderr))
}

// TestScripts runs the end-to-end scenarios in testdata/script, offline.
// Each starts in an empty $WORK with the test keys in $WORK/keys, no
// kubeconfig and a HOME of its own.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"replace": replaceCmd},
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("KUBECONFIG", filepath.Join(env.WorkDir, "no-kubeconfig"))
			if err := copyDir("testdata/keys", filepath.Join(env.WorkDir, "keys")); err != nil {
				return err
			}
			return expandKeys(env.WorkDir)
		},
	})
}

// replaceCmd is "replace OLD NEW FILE": it replaces every OLD in FILE.
func replaceCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace OLD NEW FILE")
	}
	file := ts.MkAbs(args[2])
	data, err := os.ReadFile(file)
	ts.Check(err)
	ts.Check(os.WriteFile(file, bytes.ReplaceAll(data, []byte(args[0]), []byte(args[1])), 0o644))
}

// expandKeys replaces @<name>.pub@ in the scenario's files with the
// public key in testdata/keys/<name>.pub, since the archive cannot name
// a file's content.
func expandKeys(dir string) error {
	pubs := map[string]string{}
	entries, err := os.ReadDir("testdata/keys")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".pub" {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata/keys", e.Name()))
		if err != nil {
			return err
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		pubs["@"+e.Name()+"@"] = lines[len(lines)-1]
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(data, []byte("@")) {
			return err
		}
		s := string(data)
		for token, key := range pubs {
			s = strings.ReplaceAll(s, token, key)
		}
		return os.WriteFile(p, []byte(s), 0o644)
	})
}

func copyDir(from, to string) error {
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
