package safe

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "ferry server", "ferry server"},
		{"unicode kept", "café ∕ 日本", "café ∕ 日本"},
		{"replacement char kept", "a\uFFFDb", "a\uFFFDb"},
		{"empty", "", ""},
		{"escape sequence", "evil\x1b[31mred", `evil\x1b[31mred`},
		{"newline forges a log line", "a\nferry: ok", `a\x0aferry: ok`},
		{"tab and NUL", "a\tb\x00", `a\x09b\x00`},
		{"DEL", "a\x7f", `a\x7f`},
		{"C1 CSI", "\u009b31m", `\u009b31m`},
		{"C1 NEL", "a\u0085b", `a\u0085b`},
		{"bidi override", "invoice\u202efdp.exe", `invoice\u202efdp.exe`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`},
		{"line separator", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"backslash doubled", `C:\x1b`, `C:\\x1b`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTextNoAlloc(t *testing.T) {
	s := "a plain certificate name, ∕ and all"
	if n := testing.AllocsPerRun(100, func() { Text(s) }); n != 0 {
		t.Fatalf("Text of safe text allocates %v times", n)
	}
}

func TestError(t *testing.T) {
	inner := &fs.PathError{Op: "open", Path: "x\x1b[2J", Err: fs.ErrNotExist}
	err := Error(inner)
	if got, want := err.Error(), `open x\x1b[2J: file does not exist`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) {
		t.Errorf("escaped error does not unwrap to %T", inner)
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}

// FuzzText: the output holds nothing a terminal acts on, and reads back to
// the input.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31m", "\u009b", "a\u202eb", "\xff\\", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q: not UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || unsafeRune(r) {
				t.Fatalf("Text(%q) = %q keeps %U", s, out, r)
			}
		}
		if back := unescape(t, out); back != s {
			t.Fatalf("Text(%q) = %q reads back as %q", s, out, back)
		}
	})
}

// unescape reverses Text.
func unescape(t *testing.T, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '\\':
			b.WriteByte('\\')
			i++
		case 'x':
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				t.Fatalf("bad escape in %q", s)
			}
			b.WriteByte(byte(v))
			i += 3
		case 'u':
			v, err := strconv.ParseUint(s[i+2:i+6], 16, 32)
			if err != nil {
				t.Fatalf("bad escape in %q", s)
			}
			b.WriteRune(rune(v))
			i += 5
		default:
			t.Fatalf("bad escape in %q", s)
		}
	}
	return b.String()
}
