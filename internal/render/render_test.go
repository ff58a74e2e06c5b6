package render

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitseal/gitseal/test/fixture"
)

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n"

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
