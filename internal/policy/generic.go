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
	"regexp"
	"strings"
	"sync"
)

// tokenRule is one well-known token format of RuleToken. Keywords are
// fixed strings that every match contains, so most text skips the regular
// expression entirely.
type tokenRule struct {
	name     string // the finding's name is "token-" + name
	title    string // for messages
	keywords []string
	re       func() *regexp.Regexp
	// prefix is the public, format-defining start shown in the preview.
	prefix func(match string) string
	// ignore drops documented examples and placeholders.
	ignore func(match string) bool
}

func fixedPrefix(n int) func(string) string {
	return func(m string) string { return m[:min(n, len(m))] }
}

func untilByte(c byte, max int) func(string) string {
	return func(m string) string {
		if i := strings.IndexByte(m, c); i >= 0 && i < max {
			return m[:i+1]
		}
		return m[:min(max, len(m))]
	}
}

// tokenRules are the formats GS008 knows. Each is specific enough to be
// reported anywhere, in any text file.
var tokenRules = []tokenRule{
	{name: "aws-access-key-id", title: "AWS access key ID", keywords: []string{"AKIA", "ASIA", "ABIA", "ACCA"},
		re:     lazyRegexp(`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`),
		prefix: fixedPrefix(4), ignore: func(m string) bool { return strings.HasSuffix(m, "EXAMPLE") }},
	{name: "github", title: "GitHub token", keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
		re:     lazyRegexp(`\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{82})\b`),
		prefix: untilByte('_', 11)},
	{name: "gitlab", title: "GitLab token", keywords: []string{"glpat-", "gldt-", "glrt-", "glptt-"},
		re:     lazyRegexp(`\bgl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,}`),
		prefix: untilByte('-', 6)},
	{name: "slack", title: "Slack token", keywords: []string{"xox"},
		re:     lazyRegexp(`\bxox[abposre]-[A-Za-z0-9-]{10,}`),
		prefix: fixedPrefix(5)},
	{name: "slack-webhook", title: "Slack webhook URL", keywords: []string{"hooks.slack.com"},
		re:     lazyRegexp(`https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/]{20,}`),
		prefix: func(string) string { return "https://hooks.slack.com/" }},
	{name: "stripe", title: "Stripe secret key", keywords: []string{"_live_"},
		re:     lazyRegexp(`\b[rs]k_live_[A-Za-z0-9]{20,}\b`),
		prefix: fixedPrefix(8)},
	{name: "google-api-key", title: "Google API key", keywords: []string{"AIza"},
		re:     lazyRegexp(`\bAIza[0-9A-Za-z_-]{35}\b`),
		prefix: fixedPrefix(4)},
	{name: "openai", title: "OpenAI API key", keywords: []string{"sk-proj-", "sk-svcacct-", "sk-admin-", "T3BlbkFJ"},
		re:     lazyRegexp(`\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})`),
		prefix: func(m string) string { return untilByte('-', 12)(m[3:]) }},
	{name: "anthropic", title: "Anthropic API key", keywords: []string{"sk-ant-"},
		re:     lazyRegexp(`\bsk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}`),
		prefix: fixedPrefix(7)},
	{name: "npm", title: "npm access token", keywords: []string{"npm_"},
		re:     lazyRegexp(`\bnpm_[A-Za-z0-9]{36}\b`),
		prefix: fixedPrefix(4)},
	{name: "sendgrid", title: "SendGrid API key", keywords: []string{"SG."},
		re:     lazyRegexp(`\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b`),
		prefix: fixedPrefix(3)},
	{name: "vault", title: "HashiCorp Vault token", keywords: []string{"hvs.", "hvb."},
		re:     lazyRegexp(`\bhv[sb]\.[A-Za-z0-9_-]{24,}`),
		prefix: fixedPrefix(4)},
	{name: "azure-storage-key", title: "Azure storage account key", keywords: []string{"AccountKey="},
		re:     lazyRegexp(`AccountKey=[A-Za-z0-9+/]{86}==`),
		prefix: fixedPrefix(11)},
	{name: "age-secret-key", title: "age secret key", keywords: []string{"AGE-SECRET-KEY-"},
		re:     lazyRegexp(`AGE-SECRET-KEY-(?:PQ-)?1[02-9AC-HJ-NP-Z]{50,}`),
		prefix: func(m string) string { return untilByte('1', 19)(m) }},
	{name: "jwt", title: "JSON Web Token", keywords: []string{"eyJ"},
		re:     lazyRegexp(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`),
		prefix: fixedPrefix(3)},
	{name: "url-password", title: "password in a URL", keywords: []string{"://"},
		re:     lazyRegexp(`\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s/:@'"]{1,256}:([^\s/@'"]{1,256})@[^\s/'"]`),
		prefix: func(m string) string { s, _, _ := strings.Cut(m, "://"); return s + "://…:" },
		ignore: func(m string) bool {
			sub := urlPassword().FindStringSubmatch(m)
			return len(sub) < 2 || IsPlaceholder(sub[1]) || strings.HasPrefix(sub[1], "$")
		}},
}

var urlPassword = lazyRegexp(`://[^\s/:@'"]{1,256}:([^\s/@'"]{1,256})@`)

// pemPrivateKey matches a PEM private key header followed by base64 body
// text, so documentation that shows only the header line is not a finding.
// The body may follow a literal "\n", as in a JSON string.
var pemPrivateKey = lazyRegexp(`-----BEGIN ((?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED )?PRIVATE KEY(?: BLOCK)?)-----(?:\\[rn]|\s)*(?:[A-Za-z-]+: [^\n]*(?:\\[rn]|\s)+)*[A-Za-z0-9+/=]{32,}`)

// textMatch is a generic finding inside a string, before it is placed.
type textMatch struct {
	rule    RuleID
	name    string
	message string
	preview string
	offset  int
	value   string // the matched text: folded into the fingerprint only
}

// keywordMask records which token rules can match some text: bit i is set
// when a keyword of tokenRules[i] occurs. Bit len(tokenRules) is for PEM.
type keywordMask uint64

func maskOf(s string) keywordMask {
	var m keywordMask
	for i, r := range tokenRules {
		for _, k := range r.keywords {
			if strings.Contains(s, k) {
				m |= 1 << i
				break
			}
		}
	}
	if strings.Contains(s, "PRIVATE KEY") {
		m |= 1 << len(tokenRules)
	}
	return m
}

// findTokens reports the private keys and well-known tokens in s. Only the
// rules whose bit is set in mask are tried.
func findTokens(s string, mask keywordMask) []textMatch {
	if mask == 0 {
		return nil
	}
	var out []textMatch
	if mask&(1<<len(tokenRules)) != 0 {
		for _, loc := range pemPrivateKey().FindAllStringSubmatchIndex(s, -1) {
			out = append(out, textMatch{
				rule: RulePrivateKey, name: ruleName(RulePrivateKey),
				message: fmt.Sprintf("%s in PEM form", strings.ToLower(s[loc[2]:loc[3]])),
				preview: "-----BEGIN " + s[loc[2]:loc[3]] + "----- …",
				offset:  loc[0], value: s[loc[0]:loc[1]],
			})
		}
	}
	for i, r := range tokenRules {
		if mask&(1<<i) == 0 {
			continue
		}
		for _, loc := range r.re().FindAllStringIndex(s, -1) {
			m := s[loc[0]:loc[1]]
			if r.ignore != nil && r.ignore(m) {
				continue
			}
			out = append(out, textMatch{
				rule: RuleToken, name: "token-" + r.name,
				message: r.title, preview: previewPrefixed(r.prefix(m), m),
				offset: loc[0], value: m,
			})
		}
	}
	return out
}

// Entropy thresholds, in bits per character, after detect-secrets: 4.5 for
// base64-like strings and 3.0 for hex. Strings shorter than 20 characters
// (hex: 32) are never reported; a name that says the value is a secret
// (password, token, api key...) lowers the bar a little.
const (
	minEntropyLen        = 20
	minHexEntropyLen     = 32
	base64Entropy        = 4.5
	hexEntropy           = 3.0
	hintedMinEntropyLen  = 16
	hintedBase64Entropy  = 3.5
	maxEntropyCandidates = 64 << 10 // values longer than this are config files: only their tokens are checked
)

var (
	secretishName    = lazyRegexp(`(?i)pass(?:word|wd|phrase)?|pwd|secret|token|api[-_.]?key|credential|private[-_.]?key|auth|signing|salt|cookie`)
	notSecretishName = lazyRegexp(`(?i)(?:sha|digest|hash|checksum|commit|revision|etag|version|uuid|image|url|uri|path|file|name)$`)
)

// highEntropy looks for a token in value that is random enough to be a
// secret. name is the env var or ConfigMap key, used as a hint.
func highEntropy(value, name string) (textMatch, bool) {
	if len(value) > maxEntropyCandidates || IsPlaceholder(value) {
		return textMatch{}, false
	}
	if notSecretishName().MatchString(name) {
		return textMatch{}, false
	}
	hinted := secretishName().MatchString(name)
	for off, tok := range tokens(value) {
		if isDigestContext(value, off) {
			continue
		}
		hex := isHex(tok)
		var minLen int
		var threshold float64
		switch {
		case hex:
			minLen, threshold = minHexEntropyLen, hexEntropy
		case hinted:
			minLen, threshold = hintedMinEntropyLen, hintedBase64Entropy
		default:
			minLen, threshold = minEntropyLen, base64Entropy
		}
		if len(tok) < minLen || !isBase64ish(tok) || !hex && classes(tok) < 2 {
			continue
		}
		if h := shannon(tok); h >= threshold {
			return textMatch{
				rule: RuleHighEntropy, name: ruleName(RuleHighEntropy),
				message: fmt.Sprintf("high-entropy string (%.1f bits per character)", h),
				preview: previewString(tok), offset: off, value: tok,
			}, true
		}
	}
	return textMatch{}, false
}

// tokens yields the candidate words of s and their offsets: runs of
// characters that are not white space, quotes or punctuation used as
// separators in config files.
func tokens(s string) func(yield func(int, string) bool) {
	return func(yield func(int, string) bool) {
		start := -1
		for i := 0; i <= len(s); i++ {
			sep := i == len(s) || strings.IndexByte(" \t\r\n\"'`,;=:()[]{}<>|&@\\", s[i]) >= 0
			switch {
			case sep && start >= 0:
				if !yield(start, s[start:i]) {
					return
				}
				start = -1
			case !sep && start < 0:
				start = i
			}
		}
	}
}

func isDigestContext(s string, off int) bool {
	before := strings.ToLower(s[max(0, off-8):off])
	return strings.HasSuffix(before, "sha256:") || strings.HasSuffix(before, "sha512:") ||
		strings.HasSuffix(before, "sha1:") || strings.HasSuffix(before, "sha384:")
}

func isHex(s string) bool {
	return strings.Trim(s, "0123456789abcdefABCDEF") == ""
}

func isBase64ish(s string) bool {
	return strings.Trim(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/=_-.~") == ""
}

// classes counts the character classes (lower, upper, digit) in s.
func classes(s string) int {
	var lower, upper, digit int
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z':
			lower = 1
		case 'A' <= c && c <= 'Z':
			upper = 1
		case '0' <= c && c <= '9':
			digit = 1
		}
	}
	return lower + upper + digit
}

// lazyRegexp compiles pattern on first use, so that the patterns cost
// nothing to a process that never scans (every gitseal command links them).
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
