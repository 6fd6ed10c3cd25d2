package shell

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name, line string
		want       []string
		err        error
	}{
		{"empty", "", nil, nil},
		{"blanks", " \t ", nil, nil},
		{"words", "get -r logs  back", []string{"get", "-r", "logs", "back"}, nil},
		{"tabs", "ls\t-l\tx", []string{"ls", "-l", "x"}, nil},
		{"backslash space", `get sp\ ace.txt`, []string{"get", "sp ace.txt"}, nil},
		{"backslash backslash", `get a\\b`, []string{"get", `a\b`}, nil},
		{"single quotes", `get 'sp ace "x" \n'`, []string{"get", `sp ace "x" \n`}, nil},
		{"double quotes", `get "sp ace \"x\" \\ \n"`, []string{"get", `sp ace "x" \ \n`}, nil},
		{"quotes inside a word", `get a'b c'd"e f"`, []string{"get", "ab cde f"}, nil},
		{"empty quotes", `mv '' ""`, []string{"mv", "", ""}, nil},
		{"comment", "ls # what is there", []string{"ls"}, nil},
		{"comment line", "# only a comment", nil, nil},
		{"hash in a word", "get a#b", []string{"get", "a#b"}, nil},
		{"quoted hash", `get '#x' \#y`, []string{"get", "#x", "#y"}, nil},
		{"unicode", "get ünï.txt", []string{"get", "ünï.txt"}, nil},
		{"open single", "get 'x", nil, ErrOpenQuote},
		{"open double", `get "x`, nil, ErrOpenQuote},
		{"trailing backslash", `get x\`, nil, ErrBackslash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.line)
			if err != tt.err || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Split(%q) = %q, %v; want %q, %v", tt.line, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain.txt", "plain.txt"},
		{"sp ace", `sp\ ace`},
		{`it's "x"`, `it\'s\ \"x\"`},
		{"#x", `\#x`},
		{`a\b`, `a\\b`},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got, err := Split(Quote(tt.in)); err != nil || len(got) != 1 || got[0] != tt.in {
			t.Errorf("Split(Quote(%q)) = %q, %v", tt.in, got, err)
		}
	}
}

// FuzzSplit: no line panics, and the words of a line, quoted and joined,
// split back into the same words.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"get -r 'a b' c\\ d", `"x\"y" # z`, "'", `\`, "a#b '#'", "ünï \t x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := Split(line)
		if err != nil {
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = Quote(w)
		}
		again, err := Split(strings.Join(quoted, " "))
		if err != nil || !reflect.DeepEqual(again, words) {
			t.Fatalf("%q: words %q, quoted %q, split again %q, %v", line, words, quoted, again, err)
		}
		for _, q := range []byte{0, '\'', '"'} {
			for _, w := range words {
				in := string(q) + quoteIn(q, w) + string(q)
				if q == 0 {
					in = Quote(w)
				}
				if got, err := Split(in); err != nil || len(got) != 1 || got[0] != w {
					t.Fatalf("quoteIn(%q, %q): %q splits into %q, %v", q, w, in, got, err)
				}
			}
		}
	})
}

func TestParseCall(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		flags string
		args  []string
		err   string
	}{
		{"no flags", "get x", "", []string{"x"}, ""},
		{"flags apart", "get -r -n x y", "rn", []string{"x", "y"}, ""},
		{"flags together", "get -nr x", "nr", []string{"x"}, ""},
		{"flag twice", "rm -r -r x", "r", []string{"x"}, ""},
		{"double dash", "rm -- -x", "", []string{"-x"}, ""},
		{"dash alone is an argument", "rm -", "", []string{"-"}, ""},
		{"unknown flag", "ls -z", "", nil, "ls: no flag -z; usage: ls [-l] [-r] [PATH]"},
		{"too few", "mv a", "", nil, "usage: mv [-n] OLD NEW"},
		{"too many", "cd a b", "", nil, "usage: cd [PATH]"},
		{"none wanted", "pwd x", "", nil, "usage: pwd"},
		{"many", "rm a b c", "", []string{"a", "b", "c"}, ""},
		{"unknown command", "frobnicate", "", nil, "frobnicate: no such command; help lists them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			words, _ := Split(tt.line)
			c, err := parseCall(words)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				if _, ok := err.(*UsageError); !ok {
					t.Fatalf("error %T, want *UsageError", err)
				}
				return
			}
			if err != nil || c.flags != tt.flags || !reflect.DeepEqual(c.args, tt.args) {
				t.Fatalf("flags %q args %q err %v; want %q %q", c.flags, c.args, err, tt.flags, tt.args)
			}
		})
	}
}

// The command table: every command has a summary and a runner, its kinds
// fit its arguments, and help lists every one on a line of its own.
func TestCommandTable(t *testing.T) {
	var b strings.Builder
	writeHelp(&b, commands)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(commands) {
		t.Fatalf("help has %d lines for %d commands:\n%s", len(lines), len(commands), b.String())
	}
	want := []string{"ls", "cd", "pwd", "get", "put", "rm", "mv", "mkdir", "df", "lcd", "lls", "lpwd", "help", "exit", "quit"}
	for i, c := range commands {
		if c.name != want[i] || c.summary == "" || c.run == nil {
			t.Errorf("command %d: %q (summary %q)", i, c.name, c.summary)
		}
		if n := utf8.RuneCountInString(lines[i]); n > 79 {
			t.Errorf("help line of %d columns: %s", n, lines[i])
		}
		if !strings.HasPrefix(lines[i], c.usage()+" ") {
			t.Errorf("help line %q does not start with %q", lines[i], c.usage())
		}
		if (c.max != 0) != (c.kinds != "") {
			t.Errorf("%s takes %d arguments, completion kinds %q", c.name, c.max, c.kinds)
		}
		for _, f := range c.flags {
			if !strings.Contains(c.args, "-"+string(f)) {
				t.Errorf("%s: flag -%c is not in its synopsis %q", c.name, f, c.args)
			}
		}
	}
	if lookup("get").kind(0) != 'r' || lookup("get").kind(1) != 'l' || lookup("get").kind(2) != 0 ||
		lookup("put").kind(0) != 'l' || lookup("put").kind(1) != 'r' || lookup("rm").kind(5) != 'r' {
		t.Error("argument kinds")
	}
}

func TestHelpCommand(t *testing.T) {
	s, _, out := testShell(t)
	run(t, s, "help get")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "get [-r] [-n] REMOTE [LOCAL]  download") {
		t.Fatalf("help get:\n%s", out.String())
	}
	for _, l := range lines {
		if len(l) > 79 {
			t.Errorf("a line of %d columns: %s", len(l), l)
		}
	}
	if err := s.Exec("help nosuch"); err == nil {
		t.Error("help of no command")
	}
}
