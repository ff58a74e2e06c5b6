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

// Package backup reads and writes gitseal's offline key backup files: age
// identity files whose comments say when each key was made and whether it
// was retired.
package backup

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gitseal/gitseal/crypto"
	"github.com/gitseal/gitseal/internal/keys"
)

// The key backup file is an age identity file: one private key per line,
// each behind a comment with what the cluster knows about it,
//
//	# id: 3f2a9c1b2d3e4f5a created: 2026-11-26T10:00:00Z retired: false
//	AGE-SECRET-KEY-PQ-1…
//
// so that crypto.ParseIdentities, age -i and gitseal unseal --identity read
// it, and gitseal keys restore recreates the key Secrets as they were.

// Key is one key of a backup file.
type Key struct {
	Identity *crypto.Identity
	Created  time.Time
	Retired  bool
	// Known says whether the comment gave the creation time and state.
	Known bool
}

// Write formats keys, newest first, as a backup file.
func Write(ks []*keys.Key, cluster, namespace string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# gitseal key backup of cluster %q, namespace %s: %d key(s).\n", cluster, namespace, len(ks))
	b.WriteString("# PRIVATE KEYS: whoever holds this file can open every value sealed to them.\n")
	b.WriteString("# Keep it offline and encrypted. Restore: gitseal keys restore FILE.\n")
	b.WriteString("# Open values offline: gitseal unseal --identity FILE.\n")
	for _, k := range ks {
		// Nanoseconds, as the controller stores them: keys made in the
		// same second keep their order through a restore.
		fmt.Fprintf(&b, "# id: %s created: %s retired: %t\n", k.ID(), k.Created.UTC().Format(time.RFC3339Nano), k.Retired)
		b.WriteString(k.Identity.SecretKey())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Parse reads a backup file, or any age identity file. A key line
// takes the creation time and state from the nearest "# id: …" comment
// above it, if that comment names the key's ID. Errors name lines, never their text.
func Parse(data []byte) ([]Key, error) {
	var out []Key
	var meta map[string]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "#"):
			// Other comments, such as allowlist markers, may sit between
			// a key's metadata and the key.
			if m := parseKeyComment(line); m["id"] != "" {
				meta = m
			}
			continue
		}
		id, err := crypto.ParseIdentity(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		k := Key{Identity: id}
		if meta["id"] == string(id.ID()) {
			created, cerr := time.Parse(time.RFC3339, meta["created"])
			retired, rerr := strconv.ParseBool(meta["retired"])
			if cerr == nil && rerr == nil {
				k.Created, k.Retired, k.Known = created, retired, true
			}
		}
		out = append(out, k)
		meta = nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no private keys found", crypto.ErrMalformedKey)
	}
	return out, nil
}

// parseKeyComment reads "# id: X created: T retired: B" into a map.
func parseKeyComment(line string) map[string]string {
	fields := strings.Fields(strings.TrimPrefix(line, "#"))
	out := map[string]string{}
	for i := 0; i+1 < len(fields); i += 2 {
		if key, ok := strings.CutSuffix(fields[i], ":"); ok {
			out[key] = fields[i+1]
		}
	}
	return out
}
