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

package policy

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestRefusePlaintextSecrets(t *testing.T) {
	obj := func(y string) map[string]any {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(y), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	secret := func(ns, name, body string) map[string]any {
		return obj(fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\n%s", name, ns, body))
	}
	many := make([]map[string]any, 12)
	for i := range many {
		many[i] = secret("prod", fmt.Sprintf("s%02d", i), "stringData: {password: "+canary+"}\n")
	}
	tests := []struct {
		name string
		objs []map[string]any
		want string // "" when nothing is refused, else the whole message
	}{
		{
			name: "no objects are accepted",
		},
		{
			name: "ConfigMap and SealedSecret are accepted",
			objs: []map[string]any{
				obj("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n"),
				obj("apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: s, namespace: prod}\nspec: {encryptedData: {}}\n"),
			},
		},
		{
			name: "Secret without data is accepted",
			objs: []map[string]any{secret("prod", "empty", "type: Opaque\n")},
		},
		{
			name: "Secret with data and stringData is refused naming fields and keys",
			objs: []map[string]any{secret("prod", "db", "data: {password: "+canaryB64+"}\nstringData: {user: "+canary+"}\n")},
			want: "refused to apply plaintext Secrets from Git: Secret prod/db (data.password, stringData.user); seal them with `gitseal seal` and commit the SealedSecret instead",
		},
		{
			name: "Secret allowed by annotation is still refused",
			objs: []map[string]any{obj("apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod, annotations: {gitseal.dev/allow-plaintext: fixture}}\nstringData: {password: " + canary + "}\n")},
			want: "Secret prod/db (stringData.password)",
		},
		{
			name: "more than ten Secrets are counted, not named",
			objs: many,
			want: "Secret prod/s09 (stringData.password) and 2 more;",
		},
	}
	p := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.RefusePlaintextSecrets(tt.objs)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("refused: %s", got)
			case !strings.Contains(got, tt.want):
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
			if strings.Contains(got, canary) || strings.Contains(got, canaryB64) {
				t.Errorf("the message holds the value: %s", got)
			}
		})
	}
}
