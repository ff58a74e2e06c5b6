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
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestIsPlaceholder(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"", true}, {"   ", true}, {"\n", true},
		{"${DB_PASSWORD}", true}, {"$DB_PASSWORD", true}, {"$(TOKEN)", true}, {"${app.password}", true},
		{"<changeme>", true}, {"<your token here>", true}, {`"<changeme>"`, true},
		{"{{ .Values.password }}", true}, {"${{ secrets.TOKEN }}", true}, {"((vault-password))", true},
		{"<%= ENV['X'] %>", true}, {"%{password}", true},
		{"changeme", true}, {"CHANGE_ME", true}, {"Replace-Me", true}, {"REDACTED", true}, {"TODO", true},
		{"xxxxxx", true}, {"********", true}, {"...", true},
		{"hunter2", false}, {"${DB_PASSWORD:-hunter2}", false}, {"prefix-${VAR}", false},
		{"changeme2024", false}, {"<a>b<c>", false}, {"xx", false}, {"password", false},
	}
	for _, tc := range cases {
		if got := IsPlaceholder(tc.in); got != tc.want {
			t.Errorf("IsPlaceholder(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDataValues(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name  string
		in    string
		empty bool
	}{
		{"empty string holds nothing", "", true},
		{"white space holds nothing", "  \n ", true},
		{"base64 of a placeholder holds nothing", b64("${PASSWORD}"), true},
		{"base64 of white space holds nothing", b64("   "), true},
		{"a placeholder in place of base64 holds nothing", "<base64-encoded-password>", true},
		{"base64 of a value is a secret", b64("hunter2"), false},
		{"base64 with line breaks is a secret", b64("hunter2hunter2hunter2hunter2hunter2hunter2hunter2")[:40] + "\n" + b64("hunter2hunter2hunter2hunter2hunter2hunter2hunter2")[40:], false},
		{"invalid base64 is a secret pasted in plain text", "hunter2", false},
		{"base64 without padding is invalid, so still a secret", strings.TrimRight(b64("hunter2"), "="), false},
		{"binary data is a secret", b64("\x00\x01\x02"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := dataIsEmpty(tc.in); got != tc.empty {
				t.Errorf("dataIsEmpty = %v, want %v", got, tc.empty)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	// Tokens are assembled here so that this file holds none.
	cases := []struct {
		name string
		in   string
		want string // finding name, "" for none
	}{
		{"AWS access key ID", "key=AKIA" + "Z7Q2X4M9KD3PLW8R", "token-aws-access-key-id"},
		{"AWS documentation example is ignored", "AKIA" + "IOSFODNN7EXAMPLE", ""},
		{"GitHub classic token", "gh" + "p_" + strings.Repeat("a1B2", 9), "token-github"},
		{"GitHub fine-grained token", "github_pat_" + strings.Repeat("a1B2c", 16) + "xy", "token-github"},
		{"GitLab token", "glpat-" + "x9Y8w7V6u5T4s3R2q1P0", "token-gitlab"},
		{"Slack bot token", "xox" + "b-1234567890-abcdefghij", "token-slack"},
		{"Slack webhook", "https://hooks.slack.com/services/" + "T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX", "token-slack-webhook"},
		{"Stripe live key", "sk" + "_live_" + strings.Repeat("a1B2", 6), "token-stripe"},
		{"Stripe test key is not a secret format", "sk_test_" + strings.Repeat("a1B2", 6), ""},
		{"Google API key", "AI" + "za" + strings.Repeat("b", 35), "token-google-api-key"},
		{"OpenAI project key", "sk-" + "proj-" + strings.Repeat("Ab3_", 12), "token-openai"},
		{"Anthropic key", "sk-" + "ant-api03-" + strings.Repeat("Ab3-", 22), "token-anthropic"},
		{"npm token", "npm" + "_" + strings.Repeat("a1B2", 9), "token-npm"},
		{"SendGrid key", "SG" + "." + strings.Repeat("a", 22) + "." + strings.Repeat("b", 43), "token-sendgrid"},
		{"Vault token", "hv" + "s." + strings.Repeat("A1b2", 7), "token-vault"},
		{"Azure storage key", "AccountKey=" + strings.Repeat("Ab1+", 21) + "Ab==", "token-azure-storage-key"},
		{"age secret key", "AGE-SECRET-" + "KEY-1" + strings.Repeat("QPZRY9X8GF", 6), "token-age-secret-key"},
		{"age hybrid secret key", "AGE-SECRET-" + "KEY-PQ-1" + strings.Repeat("QPZRY9X8GF", 6), "token-age-secret-key"},
		{"JWT", "ey" + "JhbGciOiJIUzI1NiJ9.ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "token-jwt"},
		{"password in a URL", "postgres://app:" + "s3cr3tpw@db:5432/app", "token-url-password"},
		{"variable in a URL is not a secret", "postgres://app:${DB_PASSWORD}@db/app", ""},
		{"placeholder in a URL is not a secret", "https://user:changeme@example.com", ""},
		{"URL without a password", "https://user@example.com/path", ""},
		{"PEM private key", "-----BEGIN " + "PRIVATE KEY-----\n" + strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 2), "private-key-pem"},
		{"PEM private key in a JSON string", `"-----BEGIN ` + `OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"`, "private-key-pem"},
		{"PEM header alone is documentation", "-----BEGIN PRIVATE KEY-----", ""},
		{"PEM public key is not a secret", "-----BEGIN PUBLIC KEY-----\n" + strings.Repeat("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", 2), ""},
		{"plain prose", "the token is in the vault", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ms := findTokens(tc.in, maskOf(tc.in))
			var got string
			if len(ms) > 0 {
				got = ms[0].name
				if strings.Contains(ms[0].preview, tc.in[len(tc.in)-8:]) {
					t.Errorf("preview %q shows the end of the value", ms[0].preview)
				}
			}
			if got != tc.want {
				t.Errorf("finding = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHighEntropy(t *testing.T) {
	cases := []struct {
		name  string
		value string
		key   string
		want  bool
	}{
		{"random base64 is high entropy", "q8Zr2Xk9LmPw4TnV7bY3cH6jD1fG5sA0", "SESSION", true},
		{"random hex is high entropy", "9f2c4e1a7b3d8f6e0a5c2b9d4e7f1a3c", "CLIENT", true},
		{"a word is not", "production-east-cluster-primary", "ENV", false},
		{"a short value is not", "aB3dE5", "KEY", false},
		{"an image digest is not", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "IMAGE", false},
		{"a commit hash under a SHA name is not", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "GIT_SHA", false},
		{"a Java class name is not", "org.apache.kafka.common.serialization.StringSerializer", "SERIALIZER", false},
		{"a secret name lowers the bar", "Xk9mPw4TnLq2Zr8v", "DB_PASSWORD", true},
		{"a placeholder is not", "${SESSION_SECRET}", "SESSION_SECRET", false},
		{"a random token inside a config file is", "server.port=8080\napi.key=q8Zr2Xk9LmPw4TnV7bY3cH6jD1fG5sA0\n", "app.properties", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, got := highEntropy(tc.value, tc.key)
			if got != tc.want {
				t.Errorf("highEntropy = %v (%s), want %v", got, m.message, tc.want)
			}
		})
	}
}

func TestCheckFileInputs(t *testing.T) {
	secret := "kind: Secret\nstringData: {p: " + canary + "}\n"
	utf16le := func(s string) []byte {
		var b bytes.Buffer
		b.Write([]byte{0xff, 0xfe})
		for _, u := range utf16.Encode([]rune(s)) {
			b.Write([]byte{byte(u), byte(u >> 8)})
		}
		return b.Bytes()
	}
	cases := []struct {
		name string
		in   []byte
		skip Skip
		want []string
	}{
		{"a binary file is skipped", append([]byte("\x89PNG\x00\x00"), secret...), SkipBinary, nil},
		{"UTF-16 with a byte order mark is read", utf16le(secret), "", []string{"GS002:2"}},
		{"a UTF-8 byte order mark is dropped", append([]byte{0xef, 0xbb, 0xbf}, secret...), "", []string{"GS002:2"}},
		{"a file over the limit is GS011 and not read", []byte(secret + "#" + strings.Repeat("x", 2000)), "", []string{"GS011:1"}},
		{"an empty file is clean", nil, "", nil},
		{"invalid UTF-8 is still searched for tokens", append([]byte("x \xfd\xfc "), []byte("gh"+"p_"+strings.Repeat("a1B2", 9))...), "", []string{"GS008:1"}},
	}
	p := New(Options{MaxFileSize: 1024})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := p.CheckFile("f.yaml", tc.in)
			if res.Skipped != tc.skip {
				t.Errorf("skipped = %q, want %q", res.Skipped, tc.skip)
			}
			if got := summarize(res.Findings); !slices.Equal(got, tc.want) {
				t.Errorf("findings = %q, want %q", got, tc.want)
			}
		})
	}
}
