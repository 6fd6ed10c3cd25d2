// Package safe makes text that came from the network or the disk safe to
// print on a terminal or in a log line: certificate names, client and file
// names, reasons sent by a peer, paths found by fsck. Control characters
// (C0, DEL and C1), bidirectional overrides, embeddings and isolates, line
// and paragraph separators and bytes that are not UTF-8 come out as visible
// escapes (\x1b, \u009b, \u202e), so that such text cannot move the cursor,
// recolour the screen, reorder what follows it or forge a log line. A
// backslash is doubled, so the escaped text reads back unambiguously.
//
// It does not quote, truncate or judge anything else: a lookalike letter or
// a lookalike slash stays as it is (refusing those is the job of whoever
// accepts the name, as fsstore.ValidateName does).
package safe

import (
	"strconv"
	"unicode/utf8"
)

// Text returns s with every character that could act on a terminal
// escaped: bytes below 0x20, 0x7f and bytes that are not UTF-8 as \xHH,
// C1 controls, bidi controls and U+2028/U+2029 as \uHHHH, and "\" as "\\".
// Text that needs no escape is returned as it is, without allocating.
func Text(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	b = append(b, s[:i]...)
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		b = appendRune(b, r, n, s[i])
		i += n
	}
	return string(b)
}

// firstUnsafe returns the index of the first byte of s that needs an
// escape, or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '\\' {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || unsafeRune(r) {
			return i
		}
		i += n
	}
	return -1
}

// appendRune appends the rune r, n bytes long in the input and starting
// with byte c, escaped if it needs to be.
func appendRune(b []byte, r rune, n int, c byte) []byte {
	switch {
	case r == '\\':
		return append(b, `\\`...)
	case n == 1 && (c < 0x20 || c == 0x7f || r == utf8.RuneError):
		return appendHex(append(b, `\x`...), uint32(c), 2)
	case unsafeRune(r):
		return appendHex(append(b, `\u`...), uint32(r), 4)
	}
	return utf8.AppendRune(b, r)
}

func appendHex(b []byte, v uint32, digits int) []byte {
	h := strconv.FormatUint(uint64(v), 16)
	for range digits - len(h) {
		b = append(b, '0')
	}
	return append(b, h...)
}

// unsafeRune reports a rune at or above 0x80 that Text escapes: the C1
// controls (U+0080-U+009F, U+009B is a CSI on many terminals), the bidi
// controls (ALM, LRM, RLM, the embeddings and overrides U+202A-U+202E, the
// isolates U+2066-U+2069) and the line and paragraph separators.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Error returns an error whose message is err's, escaped by Text, and that
// unwraps to err, so that errors.Is and errors.As still see what it wraps.
// It returns nil for nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return escaped{err}
}

type escaped struct{ err error }

func (e escaped) Error() string { return Text(e.err.Error()) }
func (e escaped) Unwrap() error { return e.err }
