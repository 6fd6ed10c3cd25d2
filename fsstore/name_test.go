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
