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
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/test/fixture"
)

func TestBuildCapsAndDeadline(t *testing.T) {
	laughs := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		laughs += "  " + n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 10), ",") + "]\n"
		prev = n
	}
	cases := []struct {
		name  string
		files map[string]string
		opts  Options
		ctx   func() context.Context
		want  error
	}{
		{name: "resource file over the file cap is refused", files: map[string]string{
			"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": configMap + "#" + strings.Repeat("x", 2000) + "\n"},
			opts: Options{MaxFileSize: 1000}, want: ErrRefused},
		{name: "too many resources are refused", files: map[string]string{
			"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": configMap + "---\n" + strings.Replace(configMap, "name: cm", "name: cm2", 1)},
			opts: Options{MaxResources: 1}, want: ErrRefused},
		{name: "output over the cap is refused", files: map[string]string{
			"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": configMap},
			opts: Options{MaxOutput: 10}, want: ErrRefused},
		{name: "alias bomb in a resource is refused before kustomize expands it", files: map[string]string{
			"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": laughs}, want: ErrRefused},
		{name: "a cancelled build is refused", files: map[string]string{
			"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": configMap},
			ctx: func() context.Context { ctx, cancel := context.WithCancel(context.Background()); cancel(); return ctx }, want: ErrRefused},
		{name: "a missing resource fails to build", files: map[string]string{
			"app/kustomization.yaml": "resources: [missing.yaml]\n"}, want: ErrBuildFailed},
		{name: "a configMapGenerator file above the kustomization is refused by kustomize's root-only rule", files: map[string]string{
			"app/kustomization.yaml": "configMapGenerator:\n- name: x\n  files: [../other/f.txt]\n", "other/f.txt": "x"}, want: ErrBuildFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := fixture.Tree(t, tc.files)
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			_, err := Build(ctx, root, filepath.Join(root, "app"), tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Build = %v, want %v", err, tc.want)
			}
		})
	}
}
