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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gitseal/gitseal/crypto"
)

// canary is in every secret value of these tests. It must never appear in
// a finding.
const canary = "CANARYc4n4ry7f3a9Zq"

var canaryB64 = base64.StdEncoding.EncodeToString([]byte(canary))

// summarize turns findings into "RULE:line" strings, with ":allowed" for
// allowed ones, in order.
func summarize(fs []Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		s := fmt.Sprintf("%s:%d", f.Rule, f.Line)
		if f.Allowed != nil {
			s += ":allowed-by-" + f.Allowed.By
		}
		out = append(out, s)
	}
	return out
}

func assertNoCanary(t *testing.T, fs []Finding) {
	t.Helper()
	b, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{canary, canaryB64, canary[:12]} {
		if strings.Contains(string(b), c) {
			t.Fatalf("a finding contains the secret value: %s", b)
		}
	}
}

func TestCheckFile(t *testing.T) {
	cases := []struct {
		name string
		file string // default x.yaml
		in   string
		want []string
	}{
		// Secrets.
		{name: "secret data value is GS001", in: `
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: prod}
data:
  password: ` + canaryB64 + `
`, want: []string{"GS001:6"}},
		{name: "secret stringData value is GS002", in: `
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData:
  password: ` + canary + `
`, want: []string{"GS002:6"}},
		{name: "JSON secret with any extension is GS001", file: "db.txt", in: `{
  "apiVersion": "v1", "kind": "Secret",
  "metadata": {"name": "db"},
  "data": {"password": "` + canaryB64 + `"}
}`, want: []string{"GS001:4"}},
		{name: "JSON indented with tabs is read", file: "db.json", in: "{\n\t\"kind\": \"Secret\",\n\t\"stringData\": {\n\t\t\"password\": \"" + canary + "\"\n\t}\n}\n",
			want: []string{"GS002:4"}},
		{name: "secret in the second document is found", in: `
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: b}
stringData: {token: ` + canary + `}
`, want: []string{"GS002:10"}},
		{name: "secrets in a YAML List are found", in: `
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: a}
  stringData: {a: ` + canary + `}
- apiVersion: v1
  kind: Secret
  metadata: {name: b}
  data: {b: ` + canaryB64 + `}
`, want: []string{"GS002:8", "GS001:12"}},
		{name: "secret in a JSON SecretList is found", file: "list.json", in: `{"apiVersion":"v1","kind":"SecretList","items":[
{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"},"data":{"a":"` + canaryB64 + `"}}]}`,
			want: []string{"GS001:2"}},
		{name: "quoted keys are read as their value", in: `
"apiVersion": "v1"
'kind': "Secret"
"stringData":
  'password': "` + canary + `"
`, want: []string{"GS002:5"}},
		{name: "escaped key is read as the key it spells", in: `
kind: Secret
"str\x69ngData":
  password: ` + canary + `
`, want: []string{"GS002:4"}},
		{name: "kind and field names in another letter case are a Secret", in: `
apiVersion: v1
Kind: SECRET
StringData:
  password: ` + canary + `
`, want: []string{"GS002:5"}},
		{name: "alias brings a value into stringData", in: `
apiVersion: v1
kind: Secret
metadata:
  annotations: {note: &pw ` + canary + `}
stringData:
  password: *pw
`, want: []string{"GS002:7"}},
		{name: "merge key brings values into stringData", in: `
apiVersion: v1
kind: Secret
metadata:
  labels: &common {password: ` + canary + `}
stringData:
  <<: *common
`, want: []string{"GS002:5"}},
		{name: "JSON uppercase extension and multi-line is read", file: "A.JSON", in: `[{"kind":"Secret","data":{"a":"` + canaryB64 + `"}}]`,
			want: []string{"GS001:1"}},

		// Duplicate keys.
		{name: "duplicate stringData fields are GS010 and both values are checked", in: `
kind: Secret
stringData:
  a: ` + canary + `
stringData:
  b: ` + canary + `
`, want: []string{"GS002:4", "GS010:5", "GS002:6"}},
		{name: "duplicate data key is GS010 and both values are GS001", in: `
kind: Secret
data:
  a: ` + canaryB64 + `
  a: ` + canaryB64 + `
`, want: []string{"GS001:4", "GS001:5", "GS010:5"}},
		{name: "a second kind: Secret makes it a Secret", in: `
kind: ConfigMap
data:
  a: ` + canaryB64 + `
kind: Secret
`, want: []string{"GS001:4", "GS010:5"}},
		{name: "keys differing only in case are duplicates at the top", in: `
kind: Secret
data: {}
Data: {a: ` + canaryB64 + `}
`, want: []string{"GS010:4", "GS001:4"}},
		{name: "allow annotation does not apply to an object with duplicate keys", in: `
kind: Secret
metadata:
  annotations:
    gitseal.dev/allow-plaintext: test fixture
  annotations:
    other: x
stringData: {a: ` + canary + `}
`, want: []string{"GS010:6", "GS002:8"}},
		{name: "duplicate keys outside objects are not findings", in: "a: 1\na: 2\n", want: nil},

		// Values that are not secrets.
		{name: "empty data and stringData maps are not findings", in: "kind: Secret\ndata: {}\nstringData: {}\n"},
		{name: "empty, null and whitespace values are not findings", in: `
kind: Secret
data: {a: "", b: ~, c: "   ", d: null}
stringData: {e: "", f:, g: " "}
`},
		{name: "invalid base64 in data is GS001", in: "kind: Secret\ndata:\n  a: not*base64-" + canary + "\n", want: []string{"GS001:3"}},
		{name: "placeholders are not findings", in: `
kind: Secret
stringData:
  a: ${DB_PASSWORD}
  b: <changeme>
  c: "{{ .Values.password }}"
  d: changeme
  e: $(TOKEN)
  f: xxxxxxxx
  g: REDACTED
  h: "((vault-password))"
data:
  i: ` + base64.StdEncoding.EncodeToString([]byte("changeme")) + `
  j: ${PASSWORD_B64}
`},

		// kustomize.
		{name: "secretGenerator literal is GS003", file: "app/kustomization.yaml", in: `
secretGenerator:
- name: db
  literals:
  - password=` + canary + `
  - user=${DB_USER}
`, want: []string{"GS003:5"}},
		{name: "secretGenerator files and envs are GS003", file: "app/kustomization.yaml", in: `
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
secretGenerator:
- name: tls
  files: [tls.key, ca=certs/ca.key]
  envs: [db.env]
`, want: []string{"GS003:6", "GS003:6", "GS003:7"}},
		{name: "secretGenerator allowed in its options", file: "kustomization.yml", in: `
secretGenerator:
- name: fixture
  options:
    annotations:
      gitseal.dev/allow-plaintext: test fixture only
  literals: [password=` + canary + `]
`, want: []string{"GS003:7:allowed-by-annotation"}},
		{name: "inline Secret patch in a kustomization is GS002", file: "kustomization.yaml", in: `
resources: [base]
patches:
- patch: |
    apiVersion: v1
    kind: Secret
    metadata: {name: db}
    stringData:
      password: ` + canary + `
`, want: []string{"GS002:9"}},
		{name: "last-applied-configuration with Secret data is GS001", in: `
apiVersion: v1
kind: Secret
metadata:
  name: db
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"v1","kind":"Secret","data":{"p":"` + canaryB64 + `"}}'
type: Opaque
`, want: []string{"GS001:7"}},

		// Allowlists.
		{name: "inline allow comment allows the finding", in: `
kind: Secret
stringData:
  a: ` + canary + ` # gitseal:allow test fixture
`, want: []string{"GS002:4:allowed-by-comment"}},
		{name: "allow comment on the line above allows the finding", in: `
kind: Secret
stringData:
  # gitseal:allow test fixture
  a: ` + canary + `
`, want: []string{"GS002:5:allowed-by-comment"}},
		{name: "allow comment without a reason allows nothing", in: `
kind: Secret
stringData:
  a: ` + canary + ` # gitseal:allow
`, want: []string{"GS002:4"}},
		{name: "allow annotation allows the Secret", in: `
kind: Secret
metadata:
  annotations: {gitseal.dev/allow-plaintext: "kind e2e fixture"}
stringData: {a: ` + canary + `}
`, want: []string{"GS002:5:allowed-by-annotation"}},
		{name: "allow annotation false allows nothing", in: `
kind: Secret
metadata:
  annotations: {gitseal.dev/allow-plaintext: "false"}
stringData: {a: ` + canary + `}
`, want: []string{"GS002:5"}},

		// Generic rules.
		{name: "PEM private key in a ConfigMap is GS007", in: `
apiVersion: v1
kind: ConfigMap
data:
  key.pem: |
    -----BEGIN RSA PRIVATE KEY-----
    MIIEowIBAAKCAQEA` + canary + `abcdefghijklmnopqrstuvwxyz0123
    -----END RSA PRIVATE KEY-----
`, want: []string{"GS007:6"}},
		{name: "PEM header without a body is not a finding", file: "README.md", in: "Keys start with -----BEGIN PRIVATE KEY----- and end...\n"},
		{name: "GitHub token in a shell script is GS008", file: "deploy.sh", in: "#!/bin/sh\nexport GH=ghp_" + canary + "abcdefghijklmnopq\n", want: []string{"GS008:2"}},
		{name: "AWS documentation example key is not a finding", file: "a.md", in: "AKIAIOSFODNN7EXAMPLE\n"},
		{name: "age secret key is GS008", file: "key.txt", in: "AGE-SECRET-KEY-" + "1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGP\n", want: []string{"GS008:1"}},
		{name: "password in a URL is GS008, a variable is not", in: `
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - env:
        - {name: DB, value: "postgres://app:` + canary + `@db:5432/app"}
        - {name: DB2, value: "postgres://app:${PASSWORD}@db:5432/app"}
`, want: []string{"GS008:9"}},
		{name: "token in a comment inside an object is GS008", in: `
apiVersion: v1
kind: ConfigMap
data:
  a: b # old: ghp_` + canary + `abcdefghijklmnopq
`, want: []string{"GS008:5"}},
		{name: "high-entropy env value is GS009", in: `
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: app
    env:
    - name: API_KEY
      value: "q8Zr2` + canary + `Xk9LmPw4Tn"
    - name: LOG_LEVEL
      value: debug
    - name: IMAGE_DIGEST
      value: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
`, want: []string{"GS009:9"}},
		{name: "high-entropy ConfigMap value is GS009", in: `
apiVersion: v1
kind: ConfigMap
data:
  client: "Zt8q2Lm` + canary + `PwX4Rn7Vb"
  plain: "this is a sentence of ordinary words"
`, want: []string{"GS009:5"}},
		{name: "entropy is not checked outside env and ConfigMaps", in: `
apiVersion: v1
kind: Service
metadata:
  annotations: {x: "Zt8q2Lm` + canary + `PwX4Rn7Vb"}
`},
		{name: "Helm template with a literal value is found line by line", file: "templates/secret.yaml", in: `
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}
stringData:
  {{- if .Values.x }}
  password: ` + canary + `
  {{- end }}
  user: {{ .Values.user | quote }}
`, want: []string{"GS002:8"}},
		{name: "manifest in a shell here-document is found line by line", file: "deploy.sh", in: `#!/bin/sh
kubectl apply -f - <<END
apiVersion: v1
kind: Secret
stringData:
  password: ` + canary + `
END
`, want: []string{"GS002:6"}},
		{name: "manifest in a Go test string is an example, not a finding", file: "x_test.go",
			in: "package x\n\nconst doc = `\nkind: Secret\nstringData:\n  password: ` + v + `\n`\n"},
	}
	p := New(Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "x.yaml"
			}
			res := p.CheckFile(file, []byte(tc.in))
			got := summarize(res.Findings)
			if !slices.Equal(got, tc.want) {
				for _, f := range res.Findings {
					t.Logf("%s:%d %s %s %s (%s)", f.File, f.Line, f.Rule, f.Object, f.Message, f.Preview)
				}
				t.Errorf("findings = %q, want %q", got, tc.want)
			}
			assertNoCanary(t, res.Findings)
		})
	}
}

func TestBombsAreRefusedQuickly(t *testing.T) {
	laughs := "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ",") + "]\n"
		prev = n
	}
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"billion laughs in a Secret is GS012", "kind: Secret\n" + laughs + "stringData:\n  x: *i\n", []string{"GS012:1"}},
		{"billion laughs outside any object is never expanded and not a finding", laughs, nil},
		{"300-deep nesting in an object is GS012", "kind: ConfigMap\ndata: " + deep(300) + "\n", []string{"GS012:1"}},
		{"20,000-deep nesting does not parse and is GS012", "kind: ConfigMap\ndata: " + deep(20000) + "\n", []string{"GS012:1"}},
	}
	p := New(Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res := p.CheckFile("bomb.yaml", []byte(tc.in))
			if d := time.Since(start); d > 10*time.Second { // a blow-up would take far longer; this is no performance goal
				t.Errorf("took %v", d)
			}
			if got := summarize(res.Findings); !slices.Equal(got, tc.want) {
				t.Errorf("findings = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAliasesDoNotMultiplyFindings(t *testing.T) {
	doc := "apiVersion: v1\nkind: ConfigMap\nx: &t \"gh" + "p_" + canary + "0123456789abcdefgh\"\n"
	prev := "t"
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		doc += n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 10), ",") + "]\n"
		prev = n
	}
	start := time.Now()
	res := New(Options{}).CheckFile("x.yaml", []byte(doc))
	if got := summarize(res.Findings); !slices.Equal(got, []string{"GS008:3"}) {
		t.Errorf("a token used 100,000 times through aliases: findings = %d, want it once", len(got))
	}
	if d := time.Since(start); d > 10*time.Second { // a blow-up would take far longer; this is no performance goal
		t.Errorf("took %v", d)
	}
}

func TestFindingsOfOneFileAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("kind: Secret\nstringData:\n")
	for i := range maxFindings + 5 {
		fmt.Fprintf(&b, "  k%d: v%d-%s\n", i, i, canary)
	}
	fs := New(Options{}).CheckFile("x.yaml", []byte(b.String())).Findings
	if len(fs) != maxFindings+1 || fs[len(fs)-1].Rule != RuleTooComplex {
		t.Errorf("%d findings, the last %s; want %d and GS012", len(fs), fs[len(fs)-1].Rule, maxFindings+1)
	}
}

func TestCheckObjectAgreesWithCheckFile(t *testing.T) {
	docs := []string{
		"apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: b}\nstringData: {p: " + canary + "}\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {p: " + canaryB64 + ", q: '', r: '${X}'}\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  annotations: {gitseal.dev/allow-plaintext: fixture}\nstringData: {p: " + canary + "}\n",
		"apiVersion: v1\nkind: List\nitems:\n- {kind: Secret, metadata: {name: x}, data: {a: " + canaryB64 + "}}\n",
		"apiVersion: v1\nkind: ConfigMap\ndata: {k: \"Zt8q2Lm" + canary + "PwX4Rn7Vb\"}\n",
		"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: a}\nspec:\n  encryptedData: {p: " + canary + "}\n",
		"apiVersion: v1\nkind: Secret\nmetadata:\n  annotations: {x: &v " + canary + "}\nstringData: {p: *v}\n",
	}
	p := New(Options{})
	for i, doc := range docs {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		fromObject := p.CheckObject(obj)
		fromFile := p.CheckFile("x.yaml", []byte(doc)).Findings
		if a, b := verdict(fromObject), verdict(fromFile); !slices.Equal(a, b) {
			t.Errorf("doc %d: CheckObject = %q, CheckFile = %q", i, a, b)
		}
		assertNoCanary(t, fromObject)
	}
}

// verdict is what both entry points must agree on: rule, object, allowance.
func verdict(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		s := string(f.Rule) + " " + f.Object.String()
		if f.Allowed != nil {
			s += " allowed"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func TestSealedSecrets(t *testing.T) {
	known, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	retired, _ := crypto.GenerateIdentity(crypto.X25519)
	other, _ := crypto.GenerateIdentity(crypto.X25519)
	b := crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "password"}
	seal := func(id *crypto.Identity) string {
		s, err := crypto.Seal([]byte(canary), b, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	doc := func(v string) string {
		return "apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: prod}\nspec:\n  encryptedData:\n    password: " + v + "\n"
	}
	seal2 := func(id *crypto.Identity) *crypto.Object {
		o, err := crypto.SealObject(map[string][]byte{"password": []byte(canary)}, b, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	// doc2 writes a format-2 object whose value refers to data key index.
	doc2 := func(o *crypto.Object, index int) string {
		v := o.Values["password"] // under data key 0, so without an index
		if index != 0 {
			v = "gs2:" + strconv.Itoa(index) + ":" + strings.TrimPrefix(v, "gs2:")
		}
		return doc(v) + "  dataKeys:\n  - " + strings.Join(o.DataKeys, "\n  - ") + "\n"
	}
	keys := NewKeySet([]crypto.KeyID{known.ID(), retired.ID()}, []crypto.KeyID{retired.ID()})
	cases := []struct {
		name string
		keys *KeySet
		in   string
		want []string
	}{
		{"value sealed to a known key is clean", keys, doc(seal(known)), nil},
		{"value sealed to a retired key is GS006", keys, doc(seal(retired)), []string{"GS006:6"}},
		{"value sealed to an unknown key is GS005", keys, doc(seal(other)), []string{"GS005:6"}},
		{"without .gitseal.yaml any well-formed value is clean", nil, doc(seal(other)), nil},
		{"plaintext where a sealed value belongs is GS004", nil, doc(canary), []string{"GS004:6"}},
		{"truncated sealed value is GS004", nil, doc(seal(known)[:60]), []string{"GS004:6"}},
		{"empty sealed value is GS004", nil, doc(`""`), []string{"GS004:6"}},
		// Format 2: the keys are found through the value's data key,
		// without a private key.
		{"format-2 value on a known key is clean", keys, doc2(seal2(known), 0), nil},
		{"format-2 value whose data key is on a retired key is GS006", keys, doc2(seal2(retired), 0), []string{"GS006:6"}},
		{"format-2 value whose data key is on an unknown key is GS005", keys, doc2(seal2(other), 0), []string{"GS005:6"}},
		{"format-2 value past the end of dataKeys is GS004", nil, doc2(seal2(known), 1), []string{"GS004:6"}},
		{"format-2 object without dataKeys is GS004", nil, doc(seal2(known).Values["password"]), []string{"GS004:6"}},
		{"malformed data key is GS004 where it is", nil, doc2(&crypto.Object{DataKeys: []string{"gs2k:0123456789abcdef:" + canary}, Values: seal2(known).Values}, 0), []string{"GS004:8"}},
		{"format-2 value that is not base64 is GS004", nil, doc2(&crypto.Object{DataKeys: seal2(known).DataKeys, Values: map[string]string{"password": "gs2:0:" + canary + "!"}}, 0), []string{"GS004:6"}},
		{"Bitnami SealedSecret is not checked as gitseal's", nil,
			"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n    password: AgBy8hCi" + canary + "\n", nil},
		{"plaintext in a SealedSecret template is GS002", nil,
			"apiVersion: gitseal.dev/v1alpha1\nkind: SealedSecret\nspec:\n  template:\n    stringData: {p: " + canary + "}\n", []string{"GS002:5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := New(Options{Keys: tc.keys}).CheckFile("s.yaml", []byte(tc.in))
			if got := summarize(res.Findings); !slices.Equal(got, tc.want) {
				for _, f := range res.Findings {
					t.Logf("%s %s %s", f.Rule, f.Object, f.Message)
				}
				t.Errorf("findings = %q, want %q", got, tc.want)
			}
			assertNoCanary(t, res.Findings)
		})
	}
}
