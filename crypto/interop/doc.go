// Package interop holds only a test: a second implementation of the
// format-2 opener, written from docs/format.md with nothing but age and the
// Go standard library, that opens crypto/testdata/format2.txt. It shares no
// code with package crypto, so that the spec, not the code, is what agrees.
package interop
