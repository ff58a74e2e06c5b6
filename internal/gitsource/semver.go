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
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// maxRangeLength bounds a SemVer ref, as the CRD does.
const maxRangeLength = 255

// parseRange reads a SemVer ref. Its errors name the range.
func parseRange(r string) (*semver.Constraints, error) {
	if len(r) > maxRangeLength {
		return nil, fmt.Errorf("semver range is longer than %d characters", maxRangeLength)
	}
	c, err := semver.NewConstraint(r)
	if err != nil {
		return nil, fmt.Errorf("semver range %q: %w", r, err)
	}
	return c, nil
}

// tagVersion reads a tag name as a version: strict semver after an
// optional leading "v", as Flux does, so "v1.2.0" and "1.2.0" are versions
// and "v1.2", "1.2.0.1" and "latest" are not.
func tagVersion(tag string) (*semver.Version, bool) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(tag, "v"))
	return v, err == nil
}

// newestTag returns the tag, among tags, whose name is the highest version
// (by semver precedence, not by name) that satisfies the range c. Names
// that are no version are skipped. A pre-release satisfies c only when c
// names a pre-release itself (">=2.0.0-0"), as Masterminds' Check decides.
// Of two names for equal versions ("v1.0.0" and "1.0.0", or build metadata
// that differs) the one first by name wins, so the choice never depends on
// the order of tags. It reports false when no tag satisfies c.
func newestTag(c *semver.Constraints, tags []string) (string, bool) {
	var (
		best    string
		bestVer *semver.Version
	)
	for _, tag := range tags {
		v, ok := tagVersion(tag)
		if !ok || !c.Check(v) {
			continue
		}
		if bestVer != nil {
			if d := v.Compare(bestVer); d < 0 || (d == 0 && tag >= best) {
				continue
			}
		}
		best, bestVer = tag, v
	}
	return best, bestVer != nil
}
