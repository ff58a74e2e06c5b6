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

package v1alpha1

import "strings"

// List returns the inventory's entries, sorted by ID. A line that does
// not parse is left out; a nil inventory lists nothing.
func (in *Inventory) List() []InventoryEntry {
	if in == nil || in.Objects == "" {
		return nil
	}
	out := make([]InventoryEntry, 0, strings.Count(in.Objects, "\n")+1)
	for line := range strings.SplitSeq(in.Objects, "\n") {
		f := strings.Fields(line)
		switch len(f) {
		case 2:
			out = append(out, InventoryEntry{ID: f[0], Version: f[1]})
		case 3:
			out = append(out, InventoryEntry{ID: f[0], Version: f[1], Hash: f[2]})
		}
	}
	return out
}

// Len returns how many objects the inventory lists.
func (in *Inventory) Len() int { return len(in.List()) }

// Set writes entries into Objects, in their order (a controller writes
// them sorted by ID). IDs, versions and hashes hold no white space.
func (in *Inventory) Set(entries []InventoryEntry) {
	var b strings.Builder
	b.Grow(len(entries) * 64)
	for i, e := range entries {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.ID + " " + e.Version)
		if e.Hash != "" {
			b.WriteString(" " + e.Hash)
		}
	}
	in.Objects = b.String()
}
