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

package gitsource

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // G505: OpenSSH hashes known_hosts names with HMAC-SHA1.
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHosts is a parsed known_hosts file, kept in memory. It follows
// OpenSSH and golang.org/x/crypto/ssh/knownhosts: a host on port 22 is
// written "host", on any other port "[host]:port".
type knownHosts []knownHost

type knownHost struct {
	revoked  bool
	patterns []string // as written: plain, wildcard, !negated or |1|hashed
	key      ssh.PublicKey
}

// errHostKey is the host key check's failure, found again by errors.Is in
// the ssh handshake's error.
var errHostKey = errors.New("host key verification failed")

func parseKnownHosts(data []byte) (knownHosts, error) {
	var db knownHosts
	for entry := 1; ; entry++ {
		marker, hosts, key, _, rest, err := ssh.ParseKnownHosts(data)
		if errors.Is(err, io.EOF) {
			return db, nil
		}
		if err != nil {
			return nil, fmt.Errorf("entry %d cannot be parsed", entry)
		}
		data = rest
		switch marker {
		case "":
		case "revoked":
			db = append(db, knownHost{revoked: true, patterns: hosts, key: key})
			continue
		default: // cert-authority: host certificates are not supported
			continue
		}
		db = append(db, knownHost{patterns: hosts, key: key})
	}
}

// keys returns the host keys that known_hosts accepts for addr (host:port).
func (db knownHosts) keys(addr string) []ssh.PublicKey {
	host := knownhosts.Normalize(addr)
	var keys []ssh.PublicKey
	for _, h := range db {
		if !h.revoked && matchHost(h.patterns, host) {
			keys = append(keys, h.key)
		}
	}
	return keys
}

// callback accepts the server's host key only if it is one of keys and not
// revoked.
func (db knownHosts) callback(keys []ssh.PublicKey) ssh.HostKeyCallback {
	return func(_ string, _ net.Addr, key ssh.PublicKey) error {
		blob := key.Marshal()
		for _, h := range db {
			if h.revoked && bytes.Equal(h.key.Marshal(), blob) {
				return fmt.Errorf("%w: the server's %s host key is revoked", errHostKey, key.Type())
			}
		}
		for _, k := range keys {
			if bytes.Equal(k.Marshal(), blob) {
				return nil
			}
		}
		return fmt.Errorf("%w: the server's %s host key is not in known_hosts", errHostKey, key.Type())
	}
}

// hostKeyAlgorithms lists the algorithms to ask the server for, so that it
// presents a key that known_hosts has rather than its favourite one.
func hostKeyAlgorithms(keys []ssh.PublicKey) []string {
	var algos []string
	seen := map[string]bool{}
	for _, k := range keys {
		names := []string{k.Type()}
		if k.Type() == ssh.KeyAlgoRSA {
			names = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				algos = append(algos, n)
			}
		}
	}
	return algos
}

// matchHost reports whether host matches a line's patterns: one positive
// match and no negated one.
func matchHost(patterns []string, host string) bool {
	matched := false
	for _, p := range patterns {
		negated := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		var ok bool
		if strings.HasPrefix(p, "|1|") {
			ok = matchHashed(p, host)
		} else {
			ok = wildcardMatch(strings.ToLower(p), strings.ToLower(host))
		}
		if ok && negated {
			return false
		}
		matched = matched || ok
	}
	return matched
}

// matchHashed checks host against |1|base64(salt)|base64(HMAC-SHA1(salt, host)).
func matchHashed(pattern, host string) bool {
	parts := strings.Split(pattern, "|")
	if len(parts) != 4 {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	want, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(host))
	return hmac.Equal(mac.Sum(nil), want)
}

// wildcardMatch matches s against a pattern in which * stands for any run
// of characters and ? for one, backtracking only to the last star.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
