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
	"sort"
	"strings"
)

// lineIndex is what the raw text scan knows about the lines of the text.
type lineIndex struct {
	// starts are the byte offsets of the lines, computed on first use.
	starts []int
	// comments are the lines with a trailing YAML comment.
	comments map[int]bool
	// ranges are the line ranges of the documents that are objects, whose
	// scalars the object walk checks.
	ranges []objRange
}

type objRange struct {
	start, end int // inclusive; end 0 means to the end of the file
	oc         *objCtx
}

// scanRaw checks the text line by line for private keys and tokens, except
// inside objects, whose scalars the object walk has checked; their trailing
// comments are checked here.
func (c *checker) scanRaw() {
	mask := c.masks.mask
	if c.masks.all {
		mask = maskOf(c.text)
	}
	for _, m := range findTokens(c.text, mask) {
		line, col := c.position(m.offset)
		oc, inObject := c.objectAt(line)
		if inObject && !c.commentLine(line) {
			continue
		}
		c.add(Finding{Rule: m.rule, Name: m.name, Line: line, Column: col, Object: oc.at("", ""),
			Message: m.message, Preview: m.preview}, m.value, oc)
	}
}

func (c *checker) objectAt(line int) (*objCtx, bool) {
	for _, r := range c.lines.ranges {
		if line >= r.start && (r.end == 0 || line <= r.end) {
			return r.oc, true
		}
	}
	return nil, false
}

// commentLine reports whether a line is a comment or ends in one.
func (c *checker) commentLine(line int) bool {
	if c.lines.comments[line] {
		return true
	}
	start, end := c.lineBounds(line)
	return strings.HasPrefix(strings.TrimLeft(c.text[start:end], " \t"), "#")
}

func (c *checker) ensureLines() {
	if c.lines.starts != nil {
		return
	}
	c.lines.starts = append(make([]int, 0, strings.Count(c.text, "\n")+1), 0)
	for i := 0; i < len(c.text); i++ {
		if c.text[i] == '\n' {
			c.lines.starts = append(c.lines.starts, i+1)
		}
	}
}

// position turns a byte offset into a 1-based line and column.
func (c *checker) position(off int) (int, int) {
	c.ensureLines()
	i := sort.Search(len(c.lines.starts), func(i int) bool { return c.lines.starts[i] > off }) - 1
	return i + 1, off - c.lines.starts[i] + 1
}

func (c *checker) lineBounds(line int) (int, int) {
	c.ensureLines()
	if line < 1 || line > len(c.lines.starts) {
		return 0, 0
	}
	start := c.lines.starts[line-1]
	end := len(c.text)
	if line < len(c.lines.starts) {
		end = c.lines.starts[line] - 1
	}
	return start, end
}
