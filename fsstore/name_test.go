package fsstore

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"plain", "report.txt", true},
		{"utf8", "Ünïcödé-файл.log", true},
		{"spaces", "my file (1).tar.gz", true},
		{"hidden", ".profile", true},
		{"max length", strings.Repeat("a", 255), true},
		{"empty", "", false},
		{"dot", ".", false},
		{"dotdot", "..", false},
		{"parent path", "../etc/passwd", false},
		{"absolute", "/etc/passwd", false},
		{"slash inside", "a/b", false},
		{"trailing slash", "a/", false},
		{"backslash", `..\windows`, false},
		{"NUL", "a\x00b", false},
		{"newline", "a\nb", false},
		{"escape", "\x1b[31mred", false},
		{"DEL", "a\x7f", false},
		{"too long", strings.Repeat("a", 256), false},
		{"invalid utf8", "a\xffb", false},
		{"overlong utf8 slash", "a\xc0\xafb", false},
		{"temp prefix", ".ferry-tmp-123", false},
		{"reserved prefix upper", ".FERRY-x", false},
		{"C1 CSI", "\u009b31m", false},
		{"C1 first", "a\u0080", false},
		{"C1 last", "a\u009f", false},
		{"NBSP after C1", "a\u00a0b", true},
		{"RLO", "invoice\u202efdp.exe", false},
		{"LRM", "a\u200eb", false},
		{"RLM", "a\u200fb", false},
		{"ALM", "a\u061cb", false},
		{"LRE to RLO", "\u202a\u202b\u202c\u202d", false},
		{"isolates", "\u2066x\u2069", false},
		{"division slash", "a\u2215b", false},
		{"fraction slash", "a\u2044b", false},
		{"big solidus", "a\u29f8b", false},
		{"fullwidth solidus", "a\uff0fb", false},
		{"fullwidth reverse solidus", "a\uff3cb", false},
		{"set minus", "a\u2216b", false},
		{"big reverse solidus", "a\u29f9b", false},
		{"small reverse solidus", "a\ufe68b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.in)
			if tc.ok && err != nil {
				t.Fatalf("ValidateName(%q) = %v, want nil", tc.in, err)
			}
			if !tc.ok && !errors.Is(err, ErrBadName) {
				t.Fatalf("ValidateName(%q) = %v, want ErrBadName", tc.in, err)
			}
		})
	}
}
