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
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/resid"

	"github.com/gitseal/gitseal/internal/policy"
	"github.com/gitseal/gitseal/test/fixture"
)

// twoWays is one directory built by BuildPath both ways.
type twoWays struct {
	direct, viaKustomize       *Result
	directErr, viaKustomizeErr error
	// fellBack: buildPlain left the set to kustomize (errNeedsKustomize).
	fellBack bool
}

func buildTwoWays(t testing.TB, ctx context.Context, root, rel string, opts Options) twoWays {
	t.Helper()
	var w twoWays
	w.direct, w.directErr = BuildPath(ctx, root, rel, opts)
	forced := opts
	forced.viaKustomize = true
	w.viaKustomize, w.viaKustomizeErr = BuildPath(ctx, root, rel, forced)
	if s, absDir, plain, err := preparePath(root, filepath.Join(root, filepath.FromSlash(rel)), opts); err == nil && plain != nil {
		_, err := buildPlain(ctx, s, absDir, plain)
		w.fellBack = errors.Is(err, errNeedsKustomize)
	}
	return w
}

// same fails unless both ways gave the same objects, in the same order,
// and the same YAML, or failed alike.
func (w twoWays) same(t testing.TB) {
	t.Helper()
	if w.viaKustomizeErr != nil || w.directErr != nil {
		for _, class := range []error{ErrRefused, ErrBuildFailed, ErrNoPath} {
			if errors.Is(w.directErr, class) != errors.Is(w.viaKustomizeErr, class) {
				t.Fatalf("built directly: %v\nthrough kustomize: %v", w.directErr, w.viaKustomizeErr)
			}
		}
		if (w.directErr == nil) != (w.viaKustomizeErr == nil) {
			t.Fatalf("built directly: %v\nthrough kustomize: %v", w.directErr, w.viaKustomizeErr)
		}
		return
	}
	if !reflect.DeepEqual(w.direct.Objects(), w.viaKustomize.Objects()) {
		t.Errorf("objects differ:\ndirectly:\n%v\nthrough kustomize:\n%v", w.direct.Objects(), w.viaKustomize.Objects())
	}
	if !bytes.Equal(w.direct.YAML(), w.viaKustomize.YAML()) || (w.direct.YAML() == nil) != (w.viaKustomize.YAML() == nil) {
		t.Errorf("YAML differs:\ndirectly:\n%s\nthrough kustomize:\n%s", w.direct.YAML(), w.viaKustomize.YAML())
	}
}

// ids are the objects built, as kind/namespace/name, in their order.
func ids(res *Result) []string {
	var out []string
	for _, u := range res.Unstructured() {
		out = append(out, u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName())
	}
	return out
}

func cmYAML(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  a: b\n"
}

// TestBuildPlainRendersWhatKustomizeRenders builds each directory of
// plain manifests directly and through kustomize and wants the same
// objects, order and YAML, or the same class of error. It checks C1 and
// C7 for the direct build: an input kustomize refuses or fails on is
// refused or failed alike, so no revision that kustomize would have
// stopped reaches an apply or a prune.
func TestBuildPlainRendersWhatKustomizeRenders(t *testing.T) {
	many := map[string]string{}
	for i := range 40 {
		dir := "apps"
		if i%3 == 0 {
			dir = fmt.Sprintf("apps/sub%d", i%2)
		}
		many[fmt.Sprintf("%s/cm-%02d.yaml", dir, i)] = cmYAML(fmt.Sprintf("cm-%02d", i))
	}
	// The bytes kustomize reads for two files: the generated
	// kustomization's and theirs.
	generated, err := listing{resources: []string{"a.yaml", "b.yaml"}}.kustomization()
	if err != nil {
		t.Fatal(err)
	}
	twoFiles := int64(len(generated) + len(cmYAML("a")) + len(cmYAML("b")))

	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		// want is the objects built, as kind/namespace/name in order,
		// when it builds.
		want []string
		// err is the class of the error both ways, when it fails.
		err error
		// fellBack: the set holds what only kustomize renders alike.
		fellBack bool
		// never is a value no error may show (C5).
		never string
	}{
		{
			name: "files and nested plain directories build in the walk's order",
			files: map[string]string{
				"apps/b.yaml": cmYAML("b"), "apps/a.yaml": cmYAML("a"), "apps/sub/c.yaml": cmYAML("c"),
				"apps/sub/deeper/d.yml": cmYAML("d"), "apps/z.json": `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"z"}}`,
				"apps/sub.yaml": cmYAML("e"),
			},
			want: []string{"ConfigMap//a", "ConfigMap//b", "ConfigMap//c", "ConfigMap//d", "ConfigMap//e", "ConfigMap//z"},
		},
		{
			name:  "forty files build alike",
			files: many,
		},
		{
			name: "multi-document file keeps its order and drops empty documents",
			files: map[string]string{"apps/all.yaml": "---\n# a comment only\n---\n" + cmYAML("one") + "---\n---\n" +
				"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc # the service\n  namespace: prod\nspec:\n  ports:\n  - port: 80\n" +
				"...\n---\nnull\n---\n" + cmYAML("two") + "---\n"},
			want: []string{"ConfigMap//one", "Service/prod/svc", "ConfigMap//two"},
		},
		{
			name: "JSON files, one object and a List",
			files: map[string]string{
				"apps/one.json":  `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one", "labels": {"n": "1"}}, "data": {"x": "1", "y": "true"}}`,
				"apps/list.json": `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "in-list"}}]}`,
			},
			want: []string{"ConfigMap//in-list", "ConfigMap//one"},
		},
		{
			name: "List items come after the file's other documents, as kustomize inlines them",
			files: map[string]string{"apps/lists.yaml": "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(cmYAML("item-1")), "\n", "\n  ") +
				"\n- apiVersion: v1\n  kind: ConfigMapList\n  items:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: nested-item}\n" +
				"---\n" + cmYAML("after-list") +
				"---\napiVersion: v1\nkind: SecretList\nitems: null\n" +
				"---\napiVersion: v1\nkind: List\nmetadata:\n  name: not-a-collection\n"},
			want: []string{"ConfigMap//after-list", "List//not-a-collection", "ConfigMap//item-1", "ConfigMap//nested-item"},
		},
		{
			name: "hidden files and directories are left out",
			files: map[string]string{
				"apps/a.yaml": cmYAML("a"), "apps/.b.yaml": cmYAML("hidden-b"), "apps/.git/c.yaml": cmYAML("hidden-c"),
				"apps/.github/workflows/ci.yaml": "on: push\n",
			},
			want: []string{"ConfigMap//a"},
		},
		{
			name: "files that are not manifests are left out",
			files: map[string]string{
				"apps/a.yaml": cmYAML("a"), "apps/values.yaml": "replicas: 3\n", "apps/README.md": "apiVersion and kind",
				"apps/empty.yaml": "", "apps/chart.txt": cmYAML("txt"),
			},
			want: []string{"ConfigMap//a"},
		},
		{
			name:  "a file that names apiVersion and kind in comments only renders nothing",
			files: map[string]string{"apps/a.yaml": cmYAML("a"), "apps/notes.yaml": "# apiVersion: v1\n# kind: ConfigMap\n"},
			want:  []string{"ConfigMap//a"},
		},
		{
			name:  "empty directory renders nothing",
			files: map[string]string{"apps/README.md": "nothing"},
		},
		{
			name: "cluster-scoped and namespaced objects",
			files: map[string]string{
				"apps/ns.yaml":  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n",
				"apps/crd.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions: [{name: v1, served: true, storage: true}]\n",
				"apps/pc.yaml":  "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nvalue: 1000\n",
				"apps/w.yaml":   "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: prod\nspec:\n  size: 3\n",
				"apps/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  ports: [{port: 80}]\n",
			},
			want: []string{"CustomResourceDefinition//widgets.example.com", "Namespace//prod", "PriorityClass//high", "Service/prod/web", "Widget/prod/w"},
		},
		{
			name: "the same name in two namespaces is two objects",
			files: map[string]string{
				"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: one}\n",
				"apps/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: two}\n",
				"apps/c.yaml": "apiVersion: v2\nkind: ConfigMap\nmetadata: {name: cm, namespace: one}\n",
			},
			want: []string{"ConfigMap/one/cm", "ConfigMap/two/cm", "ConfigMap/one/cm"},
		},
		{
			name: "duplicate across files fails",
			files: map[string]string{
				"apps/a.yaml": cmYAML("cm"), "apps/b.yaml": cmYAML("other") + "---\n" + cmYAML("cm"),
			},
			err: ErrBuildFailed,
		},
		{
			name:  "duplicate in one file fails",
			files: map[string]string{"apps/a.yaml": cmYAML("cm") + "---\n" + cmYAML("cm")},
			err:   ErrBuildFailed,
		},
		{
			name: "no namespace and namespace default are one object",
			files: map[string]string{
				"apps/a.yaml": cmYAML("cm"), "apps/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: default}\n",
			},
			err: ErrBuildFailed,
		},
		{
			name: "a cluster-scoped object is one object whatever namespace it names",
			files: map[string]string{
				"apps/a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
				"apps/b.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, namespace: y}\n",
			},
			err: ErrBuildFailed,
		},
		{
			name: "a List's item that duplicates a file's object fails",
			files: map[string]string{
				"apps/a.yaml": cmYAML("cm"),
				"apps/b.yaml": "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm}}\n",
			},
			err: ErrBuildFailed,
		},
		{
			name:  "link under the directory is refused",
			files: map[string]string{"apps/a.yaml": cmYAML("a"), "shared/b.yaml": cmYAML("b"), "apps/b.yaml": "->../shared/b.yaml"},
			err:   ErrRefused,
		},
		{
			name: "Secret with data and stringData builds alike, for the policy to refuse",
			files: map[string]string{
				"apps/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ntype: Opaque\ndata:\n  user: YWRtaW4=\nstringData:\n  password: hunter2-canary\n",
				"apps/list.yaml":   "apiVersion: v1\nkind: SecretList\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: in-list}\n  stringData: {token: t0ken-canary}\n",
			},
			want: []string{"Secret//in-list", "Secret/prod/db"},
		},
		{
			name: "local-config objects are left out, unless the annotation says false",
			files: map[string]string{"apps/a.yaml": cmYAML("kept") +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n" +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-local\n  annotations:\n    config.kubernetes.io/local-config: \"false\"\n" +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local-empty\n  annotations:\n    config.kubernetes.io/local-config: \"\"\n"},
			want: []string{"ConfigMap//kept", "ConfigMap//not-local"},
		},
		{
			name: "origin and transformation annotations are removed, others kept as written",
			files: map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n" +
				"    zeta: \"1\"\n    config.kubernetes.io/origin: |\n      path: x.yaml\n    alpha.config.kubernetes.io/transformations: \"\"\n    alpha: two words\n" +
				"  labels: {b: \"2\", a: \"1\"}\n" +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  annotations: {}\n  labels: {}\n"},
			want: []string{"ConfigMap//a", "ConfigMap//b"},
		},
		{
			name: "comments, anchors, block scalars and scalars of every type",
			files: map[string]string{"apps/a.yaml": "# head comment\napiVersion: v1 # trailing\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: &l\n    app: web\n" +
				"data:\n  script: |\n    #!/bin/sh\n    echo \"hi\"\n  folded: >\n    one\n    two\n  quoted: 'it''s'\n  number: \"0755\"\n  empty: \"\"\n" +
				"---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  labels: {app: web}\nspec:\n  int: 3\n  float: 1.5\n  bool: true\n  nil: null\n  octal: 0o17\n  date: 2026-01-02\n  big: 12345678901234567890\n  list: [1, two, {three: 3}]\n  empty: {}\n  none: []\n"},
			want: []string{"ConfigMap//a", "Widget//w"},
		},
		{
			name: "CRLF line endings and a byte order mark",
			files: map[string]string{
				"apps/a.yaml": strings.ReplaceAll(cmYAML("crlf"), "\n", "\r\n"),
				"apps/b.yaml": "\ufeff" + cmYAML("bom"),
			},
		},
		{
			name:  "object without apiVersion builds",
			files: map[string]string{"apps/a.yaml": "# no apiVersion\nkind: ConfigMap\nmetadata:\n  name: a\n"},
			want:  []string{"ConfigMap//a"},
		},
		{
			name:  "object without a kind fails",
			files: map[string]string{"apps/a.yaml": cmYAML("a") + "---\napiVersion: v1\nmetadata:\n  name: b\n  annotations: {k: kindless-canary}\n"},
			err:   ErrBuildFailed,
			never: "kindless-canary",
		},
		{
			name:  "object without a name fails",
			files: map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  annotations: {k: nameless-canary}\nstringData: {p: nameless-canary}\n"},
			err:   ErrBuildFailed,
			never: "nameless-canary",
		},
		{
			name:  "bad YAML fails",
			files: map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n data: [\n"},
			err:   ErrBuildFailed,
		},
		{
			name:  "tab indentation fails",
			files: map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n"},
			err:   ErrBuildFailed,
		},
		{
			name:  "a duplicate key fails",
			files: map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: one-canary\n  k: two-canary\n"},
			err:   ErrBuildFailed,
		},
		{
			name:  "bad JSON fails",
			files: map[string]string{"apps/a.json": `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}`},
			err:   ErrBuildFailed,
		},
		{
			name:  "a document that is a list fails",
			files: map[string]string{"apps/a.yaml": "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"},
			err:   ErrBuildFailed,
		},
		{
			name:  "a file of values that mentions apiVersion and kind fails",
			files: map[string]string{"apps/values.yaml": "image:\n  apiVersion: x\n  kind: y\n"},
			err:   ErrBuildFailed,
		},
		{
			name:  "a List whose items is not a list fails",
			files: map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: List\nitems: {a: b}\n"},
			err:   ErrBuildFailed,
		},
		{
			name:  "an empty item in a list builds as kustomize builds it",
			files: map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  finalizers:\n  -\n  - x\n"},
			want:  []string{"ConfigMap//a"},
		},
		{
			name:  "file names with spaces and odd characters build",
			files: map[string]string{"apps/ a.yaml": cmYAML("space"), "apps/a.yaml": cmYAML("plain"), "apps/b .yaml": cmYAML("b"), "apps/ü#%?.yaml": cmYAML("odd")},
		},
		{
			name:  "a file holding a Kustomization that is not named as one is read as an object",
			files: map[string]string{"apps/a.yaml": cmYAML("a"), "apps/k.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n"},
			err:   ErrBuildFailed,
		},
		{
			name:     "an error after a Deployment is kustomize's",
			files:    map[string]string{"apps/a.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n", "apps/b.yaml": cmYAML("b") + "---\n" + cmYAML("b")},
			err:      ErrBuildFailed,
			fellBack: true,
		},
		{
			name:  "an error before a Deployment is found without kustomize",
			files: map[string]string{"apps/a.yaml": cmYAML("a") + "---\n" + cmYAML("a"), "apps/b.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"},
			err:   ErrBuildFailed,
		},
		{
			name:  "a name that, trimmed, is a hidden link out of the root is refused, as checkKustomization trims it",
			files: map[string]string{"apps/ .x.yaml": cmYAML("a"), "apps/.x.yaml": "->/etc/hostname"},
			err:   ErrRefused,
		},
		{
			name:  "a file named like a remote reference is refused",
			files: map[string]string{"apps/github.com.yaml": cmYAML("a")},
			err:   ErrRefused,
		},
		{
			name:     "a Deployment is rendered by kustomize, which changes none of its references",
			files:    map[string]string{"apps/cm.yaml": cmYAML("config"), "apps/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      volumes:\n      - name: c\n        configMap: {name: config}\n"},
			want:     []string{"ConfigMap//config", "Deployment//web"},
			fellBack: true,
		},
		{
			name: "a RoleBinding is rendered by kustomize, which changes none of its references",
			files: map[string]string{
				"apps/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: bot, namespace: team}\n",
				"apps/rb.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb, namespace: team}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- kind: ServiceAccount\n  name: bot\n",
			},
			want:     []string{"RoleBinding/team/rb", "ServiceAccount/team/bot"},
			fellBack: true,
		},
		{
			name:     "a RoleBinding whose subject has no name fails, as kustomize's walk of its references fails",
			files:    map[string]string{"apps/rb.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb, namespace: team}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- kind: ServiceAccount\n"},
			err:      ErrBuildFailed,
			fellBack: true,
		},
		{
			name:     "a Deployment whose template is a string fails, as kustomize's walk of its references fails",
			files:    map[string]string{"apps/d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template: x\n"},
			err:      ErrBuildFailed,
			fellBack: true,
		},
		{
			name:  "a ConfigMap of the same shape builds: kustomize walks no references in it",
			files: map[string]string{"apps/c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\nspec:\n  template: x\n"},
			want:  []string{"ConfigMap//web"},
		},
		{
			name:     "an object that asks for a hash suffix is rendered by kustomize",
			files:    map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    internal.config.kubernetes.io/needsHashSuffix: enabled\ndata: {k: v}\n"},
			fellBack: true,
		},
		{
			name:  "a file over the size cap is refused",
			files: map[string]string{"apps/a.yaml": cmYAML("a"), "apps/b.yaml": cmYAML("b") + "#" + strings.Repeat("x", 300) + "\n"},
			opts:  Options{MaxFileSize: 200},
			err:   ErrRefused,
		},
		{
			name:  "more files than the cap, counting the generated kustomization, is refused",
			files: map[string]string{"apps/a.yaml": cmYAML("a"), "apps/b.yaml": cmYAML("b")},
			opts:  Options{MaxFiles: 2},
			err:   ErrRefused,
		},
		{
			name:  "as many files as the cap, counting the generated kustomization, builds",
			files: map[string]string{"apps/a.yaml": cmYAML("a"), "apps/b.yaml": cmYAML("b")},
			opts:  Options{MaxFiles: 3},
			want:  []string{"ConfigMap//a", "ConfigMap//b"},
		},
		{
			name:  "a byte more than the cap, counting the generated kustomization, is refused",
			files: map[string]string{"apps/a.yaml": cmYAML("a"), "apps/b.yaml": cmYAML("b")},
			opts:  Options{MaxTotalBytes: twoFiles - 1},
			err:   ErrRefused,
		},
		{
			name:  "as many bytes as the cap, counting the generated kustomization, builds",
			files: map[string]string{"apps/a.yaml": cmYAML("a"), "apps/b.yaml": cmYAML("b")},
			opts:  Options{MaxTotalBytes: twoFiles},
			want:  []string{"ConfigMap//a", "ConfigMap//b"},
		},
		{
			name:  "more resources than the cap is refused",
			files: map[string]string{"apps/a.yaml": cmYAML("a"), "apps/b.yaml": cmYAML("b")},
			opts:  Options{MaxResources: 1},
			err:   ErrRefused,
		},
		{
			name:  "output over the cap is refused",
			files: map[string]string{"apps/a.yaml": cmYAML("a")},
			opts:  Options{MaxOutput: 20},
			err:   ErrRefused,
		},
		{
			name:  "no YAML asked, the same objects",
			files: map[string]string{"apps/a.yaml": cmYAML("a")},
			opts:  Options{NoYAML: true},
			want:  []string{"ConfigMap//a"},
		},
	}
	laughs := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		laughs += "  " + n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 10), ",") + "]\n"
		prev = n
	}
	tests = append(tests, struct {
		name     string
		files    map[string]string
		opts     Options
		want     []string
		err      error
		fellBack bool
		never    string
	}{name: "alias bomb is refused", files: map[string]string{"apps/a.yaml": laughs}, err: ErrRefused})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := fixture.Tree(t, tt.files)
			w := buildTwoWays(t, t.Context(), root, "apps", tt.opts)
			w.same(t)
			if w.fellBack != tt.fellBack {
				t.Errorf("left to kustomize: %v, want %v", w.fellBack, tt.fellBack)
			}
			if tt.err != nil {
				if !errors.Is(w.directErr, tt.err) {
					t.Fatalf("error %v, want %v", w.directErr, tt.err)
				}
				if tt.never != "" && strings.Contains(w.directErr.Error(), tt.never) {
					t.Errorf("error shows a value: %v", w.directErr)
				}
				return
			}
			if w.directErr != nil {
				t.Fatal(w.directErr)
			}
			if tt.want != nil && !slices.Equal(ids(w.direct), tt.want) {
				t.Errorf("built %v, want %v", ids(w.direct), tt.want)
			}
			// The controller refuses plaintext Secrets after the build:
			// it must see the same either way.
			p := policy.New(policy.Options{})
			if got, want := p.RefusePlaintextSecrets(w.direct.Objects()), p.RefusePlaintextSecrets(w.viaKustomize.Objects()); got != want {
				t.Errorf("policy says %q, through kustomize %q", got, want)
			}
		})
	}
}

// TestBuildPlainRefusesPlaintextSecretsAsBefore: the Secrets a plain
// directory holds reach the plaintext policy as kustomize rendered them,
// so the controller still refuses them (C1, C5: the refusal names fields,
// never the value).
func TestBuildPlainRefusesPlaintextSecretsAsBefore(t *testing.T) {
	root := fixture.Tree(t, map[string]string{
		"apps/a.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-canary\n",
		"apps/b.json": `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api"}, "data": {"token": "dDBrZW4tY2FuYXJ5"}}]}`,
	})
	res, err := BuildPath(t.Context(), root, "apps", Options{NoYAML: true})
	if err != nil {
		t.Fatal(err)
	}
	msg := policy.New(policy.Options{}).RefusePlaintextSecrets(res.Objects())
	for _, want := range []string{"db", "stringData.password", "api", "data.token"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not name %s", msg, want)
		}
	}
	if strings.Contains(msg, "canary") || strings.Contains(msg, "dDBrZW4") {
		t.Errorf("refusal shows a value: %s", msg)
	}
}

func TestBuildPlainNamesBothFilesOfADuplicate(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			name:  "across files, both files and the object are named",
			files: map[string]string{"apps/a.yaml": cmYAML("cm"), "apps/sub/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: default}\n"},
			want:  "apps/a.yaml and apps/sub/b.yaml both define ConfigMap cm in namespace default (v1)",
		},
		{
			name:  "a duplicate within a file is found before one across files, as kustomize finds it",
			files: map[string]string{"apps/a.yaml": cmYAML("x"), "apps/b.yaml": cmYAML("x") + "---\n" + cmYAML("y") + "---\n" + cmYAML("y")},
			want:  "apps/b.yaml defines ConfigMap y in namespace default (v1) twice",
		},
		{
			name:  "in one file, the file is named once",
			files: map[string]string{"apps/a.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: admin}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: admin, namespace: x}\n"},
			want:  "apps/a.yaml defines ClusterRole admin (rbac.authorization.k8s.io/v1) twice",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := fixture.Tree(t, tt.files)
			_, err := BuildPath(t.Context(), root, "apps", Options{})
			if !errors.Is(err, ErrBuildFailed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrBuildFailed with %q", err, tt.want)
			}
		})
	}
}

// TestBuildPlainKeepsTheDeadline: a cancelled build is refused, as
// kustomize's is (C6: a permanent verdict is not the deadline's).
func TestBuildPlainKeepsTheDeadline(t *testing.T) {
	root := fixture.Tree(t, map[string]string{"apps/a.yaml": cmYAML("a")})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	w := buildTwoWays(t, ctx, root, "apps", Options{})
	if !errors.Is(w.directErr, ErrRefused) || !errors.Is(w.viaKustomizeErr, ErrRefused) {
		t.Fatalf("directly: %v; through kustomize: %v; want ErrRefused both", w.directErr, w.viaKustomizeErr)
	}
}

// TestBuildPlainLeavesNestedKustomizationsToKustomize: with a
// kustomization anywhere under the path, BuildPath does not read the
// manifests itself.
func TestBuildPlainLeavesNestedKustomizationsToKustomize(t *testing.T) {
	root := fixture.Tree(t, map[string]string{
		"apps/a.yaml": cmYAML("a"), "apps/base/kustomization.yaml": "resources: [b.yaml]\nnamePrefix: k-\n", "apps/base/b.yaml": cmYAML("b"),
	})
	_, _, plain, err := preparePath(root, filepath.Join(root, "apps"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plain != nil {
		t.Errorf("plain manifests %v, want none: a subdirectory has a kustomization", plain)
	}
	w := buildTwoWays(t, t.Context(), root, "apps", Options{})
	w.same(t)
	if got, want := ids(w.direct), []string{"ConfigMap//a", "ConfigMap//k-b"}; !slices.Equal(got, want) {
		t.Errorf("built %v, want %v", got, want)
	}
}

// TestNameReferrersMatchKustomize reads the nameReference configuration
// of the kustomize in go.mod: its referrers must be nameReferrers, or
// buildPlain would render a referrer without kustomize's rewrites.
func TestNameReferrersMatchKustomize(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command, to find kustomize's sources: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kustomize/api").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "konfig", "builtinpluginconsts", "namereference.go"))
	if err != nil {
		t.Fatal(err)
	}
	_, config, _ := strings.Cut(string(src), "`")
	config, _, _ = strings.Cut(config, "`")
	var parsed struct {
		NameReference []struct {
			FieldSpecs []struct {
				Group   string `yaml:"group"`
				Version string `yaml:"version"`
				Kind    string `yaml:"kind"`
			} `yaml:"fieldSpecs"`
		} `yaml:"nameReference"`
	}
	if err := yaml.Unmarshal([]byte(config), &parsed); err != nil {
		t.Fatal(err)
	}
	var kustomize []resid.Gvk
	for _, ref := range parsed.NameReference {
		for _, fs := range ref.FieldSpecs {
			g := resid.Gvk{Group: fs.Group, Version: fs.Version, Kind: fs.Kind}
			if !slices.Contains(kustomize, g) {
				kustomize = append(kustomize, g)
			}
		}
	}
	if len(kustomize) == 0 {
		t.Fatal("no referrers found in kustomize's nameReference configuration")
	}
	for _, g := range kustomize {
		if !slices.Contains(nameReferrers, g) {
			t.Errorf("kustomize's referrer %+v is missing from nameReferrers", g)
		}
	}
	for _, g := range nameReferrers {
		if !slices.Contains(kustomize, g) {
			t.Errorf("nameReferrers has %+v, which kustomize no longer lists", g)
		}
	}
}

// FuzzBuildPlain builds one file beside a fixed one both ways.
func FuzzBuildPlain(f *testing.F) {
	for _, seed := range []string{
		cmYAML("a"),
		cmYAML("x") + "---\n" + cmYAML("y"),
		"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: i}}\n",
		`{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}`,
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: fixed}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {config.kubernetes.io/local-config: \"true\"}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: &l {x: y}}\ndata: *l\n",
		"kind: ConfigMap\nmetadata: {name: a}\n---\n...\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      serviceAccountName: bot\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {config.kubernetes.io/origin: x, b: \"1\", a: '2'}\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, content string) {
		if !strings.Contains(content, "apiVersion") || !strings.Contains(content, "kind") {
			content = "# apiVersion, kind: listed\n" + content
		}
		root := t.TempDir()
		dir := filepath.Join(root, "apps")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string]string{"a.yaml": content, "b.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: fixed}\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		buildTwoWays(t, context.Background(), root, "apps", Options{}).same(t)
	})
}

// BenchmarkBuildPath1000 builds test/bench's repository, 1,000 five-item
// ConfigMaps one file each and no kustomization, as the controller does
// (NoYAML): directly, and through kustomize for comparison.
func BenchmarkBuildPath1000(b *testing.B) {
	files := make(map[string]string, 1000)
	for i := range 1000 {
		var y strings.Builder
		fmt.Fprintf(&y, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\ndata:\n", i)
		for k := range 5 {
			fmt.Fprintf(&y, "  key-%d: value-%d-%d-%s\n", k, i, k, strings.Repeat("x", 40))
		}
		files[fmt.Sprintf("apps/cm-%04d.yaml", i)] = y.String()
	}
	root := fixture.Tree(b, files)
	for _, way := range []struct {
		name string
		opts Options
	}{
		{"direct", Options{NoYAML: true}},
		{"kustomize", Options{NoYAML: true, viaKustomize: true}},
	} {
		b.Run(way.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := BuildPath(context.Background(), root, "apps", way.opts)
				if err != nil {
					b.Fatal(err)
				}
				if n := len(res.Objects()); n != 1000 {
					b.Fatalf("%d objects, want 1000", n)
				}
			}
		})
	}
}
