package shell

import (
	"errors"
	"strings"
)

// A line is split into words as sh does, for the part of sh that names
// files need: blanks (space, tab) separate words; a backslash makes the
// next character plain; '...' keeps everything plain; "..." keeps
// everything plain but \" and \\; an unquoted # at the start of a word
// begins a comment. There are no variables, globs or redirections: every
// other character is itself.

// Errors of Split.
var (
	ErrOpenQuote = errors.New("shell: a quote is not closed")
	ErrBackslash = errors.New("shell: a backslash ends the line")
)

// scan is the state of a line split so far, which completion needs too.
type scan struct {
	words []string
	cur   strings.Builder
	open  bool // a word is being written (the line does not end between words)
	start int  // byte offset in the line where the open word starts
	quote byte // the quote open at the end: 0, '\'' or '"'
	esc   bool // the line ends with a backslash that escapes nothing yet
	rem   bool // the line ends in a comment
}

// scanLine splits line as far as it goes, leaving the state at its end.
func scanLine(line string) *scan {
	s := &scan{}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case s.esc:
			s.esc = false
			if s.quote == '"' && c != '"' && c != '\\' {
				s.cur.WriteByte('\\')
			}
			s.cur.WriteByte(c)
		case s.quote != 0 && c == s.quote:
			s.quote = 0
		case s.quote == '\'':
			s.cur.WriteByte(c)
		case c == '\\':
			s.begin(i)
			s.esc = true
		case s.quote == '"':
			s.cur.WriteByte(c)
		case c == ' ' || c == '\t':
			s.end()
		case c == '#' && !s.open:
			s.rem = true // a comment: the rest of the line is not read
			return s
		case c == '\'' || c == '"':
			s.begin(i)
			s.quote = c
		default:
			s.begin(i)
			s.cur.WriteByte(c)
		}
	}
	return s
}

// begin opens a word at offset i unless one is open.
func (s *scan) begin(i int) {
	if !s.open {
		s.open, s.start = true, i
	}
}

// end closes the open word, if any.
func (s *scan) end() {
	if s.open {
		s.words = append(s.words, s.cur.String())
		s.cur.Reset()
		s.open = false
	}
}

// Split splits a command line into words, as sh would for names: see the
// comment at the top of this file. An unclosed quote and a backslash at
// the end of the line are errors.
func Split(line string) ([]string, error) {
	s := scanLine(line)
	switch {
	case s.quote != 0:
		return nil, ErrOpenQuote
	case s.esc:
		return nil, ErrBackslash
	}
	s.end()
	return s.words, nil
}

// special are the characters that Quote escapes outside quotes.
const special = " \t'\"\\#"

// Quote returns s written so that Split gives it back as one word: plain
// when it can be, else with a backslash before each special character,
// as completion inserts names ("sp\ ace.txt").
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if !strings.ContainsAny(s, special) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(special, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// quoteIn writes s for the inside of an open quote q (0: none), so that a
// completion continues the word as the user began it.
func quoteIn(q byte, s string) string {
	switch q {
	case '\'':
		return strings.ReplaceAll(s, "'", `'\''`)
	case '"':
		return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
	}
	if s == "" {
		return ""
	}
	return Quote(s)
}
