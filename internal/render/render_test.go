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

package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/test/fixture"
)

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n"

// deepAliases is a chain of n anchors, each a list holding the one before:
// aliases expanded, the last nests n deep, in n nodes.
func deepAliases(n int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 1\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d]\n", i, i, i-1)
	}
	return b.String()
}

func TestBuildRefusesWhatTheSandboxForbids(t *testing.T) {
	laughs := "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		laughs += n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 10), ",") + "]\n"
		prev = n
	}
	cases := []struct {
		name  string
		files map[string]string
		dir   string
		want  error
		never string // must not be in the error
		says  string // must be in the error
	}{
		{name: "remote base on GitHub is refused", files: map[string]string{
			"app/kustomization.yaml": "resources:\n- github.com/example/repo//base?ref=v1\n"}, dir: "app", want: ErrRefused},
		{name: "https resource with credentials is refused without echoing them", files: map[string]string{
			"app/kustomization.yaml": "resources:\n- https://user:" + "s3cr3tT0ken@git.example.com/repo.git\n"}, dir: "app", want: ErrRefused, never: "s3cr3tT0ken"},
		{name: "SCP-style git base is refused", files: map[string]string{
			"app/kustomization.yaml": "bases:\n- git@github.com:example/repo.git\n"}, dir: "app", want: ErrRefused},
		{name: "remote patch URL is refused", files: map[string]string{
			"app/kustomization.yaml": "patches:\n- path: https://example.com/p.yaml\n"}, dir: "app", want: ErrRefused},
		{name: "path out of the root is refused", files: map[string]string{
			"app/kustomization.yaml": "resources:\n- ../../../etc/passwd\n"}, dir: "app", want: ErrRefused},
		{name: "absolute path is refused", files: map[string]string{
			"app/kustomization.yaml": "resources:\n- /etc/passwd\n"}, dir: "app", want: ErrRefused},
		{name: "symbolic link out of the root is refused", files: map[string]string{
			"app/kustomization.yaml": "resources:\n- host\n", "app/host": "->/etc"}, dir: "app", want: ErrRefused},
		{name: "base that is a link out of the root is refused", files: map[string]string{
			"app/kustomization.yaml": "resources:\n- ../base\n", "base": "->/tmp"}, dir: "app", want: ErrRefused},
		{name: "Helm chart is refused", files: map[string]string{
			"app/kustomization.yaml": "helmCharts:\n- name: x\n  repo: https://charts.example.com\n"}, dir: "app", want: ErrRefused},
		{name: "exec plugin is refused", files: map[string]string{
			"app/kustomization.yaml": "transformers: [plugin.yaml]\n",
			"app/plugin.yaml":        "apiVersion: example.com/v1\nkind: RunAnything\nmetadata: {name: x}\n"}, dir: "app", want: ErrRefused},
		{name: "KRM function is refused even with a builtin kind", files: map[string]string{
			"app/kustomization.yaml": "generators: [fn.yaml]\n",
			"app/fn.yaml": "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: x\n  annotations:\n" +
				"    config.kubernetes.io/function: |\n      exec: {path: /bin/sh}\n"}, dir: "app", want: ErrRefused},
		{name: "alias bomb in a kustomization is refused", files: map[string]string{
			"app/kustomization.yaml": laughs + "resources: [cm.yaml]\n", "app/cm.yaml": configMap}, dir: "app", want: ErrRefused},
		{name: "values nested 5,000 deep are refused before kustomize parses them for seconds", files: map[string]string{
			"app/kustomization.yaml": "resources: [cm.yaml]\n",
			"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nx: " + strings.Repeat("{a: ", 5000) + "1" + strings.Repeat("}", 5000) + "\n"}, dir: "app", want: ErrRefused, says: "nest more than"},
		{name: "values nested deep through aliases are refused", files: map[string]string{
			"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" + deepAliases(300)}, dir: "app", want: ErrRefused, says: "nest more than"},
		{name: "oversized kustomization is refused", files: map[string]string{
			"app/kustomization.yaml": "resources: [cm.yaml]\n#" + strings.Repeat("x", DefaultMaxFileSize) + "\n"}, dir: "app", want: ErrRefused},
		{name: "directory outside the root is refused", files: map[string]string{"kustomization.yaml": "resources: []\n"}, dir: "..", want: ErrRefused},
		{name: "directory without a kustomization fails to build", files: map[string]string{"app/cm.yaml": configMap}, dir: "app", want: ErrBuildFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := fixture.Tree(t, tc.files)
			_, err := Build(context.Background(), root, filepath.Join(root, tc.dir), Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Build = %v, want %v", err, tc.want)
			}
			if tc.never != "" && strings.Contains(err.Error(), tc.never) {
				t.Errorf("error shows %q: %v", tc.never, err)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error does not say %q: %v", tc.says, err)
			}
		})
	}
}

func TestBuildOfAPlainKustomization(t *testing.T) {
	root := fixture.Tree(t, map[string]string{
		"base/kustomization.yaml": "resources: [cm.yaml]\n",
		"base/cm.yaml":            configMap,
		"app/kustomization.yaml":  "resources: [../base]\nnamespace: prod\nsecretGenerator:\n- name: db\n  literals: [password=hunter2]\n",
	})
	res, err := Build(context.Background(), root, filepath.Join(root, "app"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Objects()); n != 2 {
		t.Fatalf("%d objects, want 2:\n%s", n, res.YAML())
	}
	if !strings.Contains(string(res.YAML()), "kind: Secret") || !strings.Contains(string(res.YAML()), "namespace: prod") {
		t.Errorf("output lacks the generated Secret:\n%s", res.YAML())
	}
}

// TestBuildWithoutYAMLRendersTheSameObjects: Options.NoYAML, which the
// controller builds with, changes nothing but the YAML it leaves out.
func TestBuildWithoutYAMLRendersTheSameObjects(t *testing.T) {
	root := fixture.Tree(t, map[string]string{
		"base/kustomization.yaml": "resources: [cm.yaml]\n",
		"base/cm.yaml":            configMap,
		"app/kustomization.yaml":  "resources: [../base]\nnamespace: prod\n",
	})
	with, err := BuildPath(context.Background(), root, "app", Options{})
	if err != nil {
		t.Fatal(err)
	}
	without, err := BuildPath(context.Background(), root, "app", Options{NoYAML: true})
	if err != nil {
		t.Fatal(err)
	}
	if without.YAML() != nil || len(with.YAML()) == 0 {
		t.Errorf("YAML %q with NoYAML, %q without", without.YAML(), with.YAML())
	}
	if !reflect.DeepEqual(with.Objects(), without.Objects()) {
		t.Errorf("objects differ: %v, %v", with.Objects(), without.Objects())
	}
	// The output cap counts alike either way.
	for _, noYAML := range []bool{false, true} {
		if _, err := BuildPath(context.Background(), root, "app", Options{NoYAML: noYAML, MaxOutput: 50}); !errors.Is(err, ErrRefused) {
			t.Errorf("NoYAML %v, output over the cap: %v, want ErrRefused", noYAML, err)
		}
	}
}

// TestOutputSizeIsAboutTheJSONLength: the measure MaxOutput applies
// stays within a few percent of the JSON encoding it stands for.
func TestOutputSizeIsAboutTheJSONLength(t *testing.T) {
	tests := []struct {
		name string
		obj  any
	}{
		{"a ConfigMap", map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "cm", "labels": map[string]any{"app": "x"}},
			"data":     map[string]any{"a": strings.Repeat("x", 100), "b": "y"}}},
		{"lists and numbers", map[string]any{"spec": map[string]any{"replicas": int64(3), "ports": []any{
			map[string]any{"port": int64(80), "name": "http"}, map[string]any{"port": int64(443), "name": "https"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.obj)
			if err != nil {
				t.Fatal(err)
			}
			got, want := outputSize(tt.obj), int64(len(data))
			if got < want*9/10 || got > want*13/10 {
				t.Errorf("outputSize = %d, JSON is %d bytes", got, want)
			}
		})
	}
	if outputSize(map[any]any{1: "x"}) == 0 {
		t.Error("a map with keys that are not strings counts nothing")
	}
}
