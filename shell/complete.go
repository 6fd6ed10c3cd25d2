package shell

import (
	"errors"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"ferry/client"
	"ferry/safe"
)

// Completion, on Tab, of the word before the cursor: a command name
// first, then what the command's argument names (command.kinds): a remote
// name, from the listing of its folder (kept per folder until something
// changes the remote side), or a local one. One candidate completes the
// word (a file's with a space after it); several complete their common
// prefix, and when that adds nothing they are listed. Names are inserted
// quoted as the word began: plain with backslashes, or inside its quote.

// complete is the terminal's AutoCompleteCallback.
func (s *Shell) complete(line string, pos int, key rune) (string, int, bool) {
	if key != '\t' {
		return "", 0, false
	}
	head := line[:pos]
	sc := scanLine(head)
	if sc.esc || sc.rem {
		return "", 0, false
	}
	partial := ""
	if sc.open {
		partial = sc.cur.String()
	}
	cands := s.candidates(sc.words, partial)
	cands = slices.DeleteFunc(cands, func(c string) bool { return safe.Text(c) != c }) // a name that would act on the terminal is not typed in
	if len(cands) == 0 {
		return "", 0, false
	}
	add := commonPrefix(cands)[len(partial):]
	if len(cands) == 1 && !strings.HasSuffix(cands[0], "/") {
		add = quoteIn(sc.quote, add)
		if sc.quote != 0 {
			add += string(sc.quote)
		}
		add += " "
	} else {
		add = quoteIn(sc.quote, add)
	}
	if add == "" && len(cands) > 1 {
		s.listCandidates(cands)
	}
	head += add
	return head + line[pos:], len(head), true
}

// candidates are the values the word being written (partial, after
// words) may take.
func (s *Shell) candidates(words []string, partial string) []string {
	if len(words) == 0 {
		return commandNames(partial)
	}
	cmd := lookup(words[0])
	if cmd == nil {
		return nil
	}
	arg, flagsDone := 0, false
	for _, w := range words[1:] {
		if !flagsDone && len(w) > 1 && w[0] == '-' {
			flagsDone = w == "--"
			continue
		}
		flagsDone = true
		arg++
	}
	if !flagsDone && strings.HasPrefix(partial, "-") {
		return nil
	}
	switch cmd.kind(arg) {
	case 'c':
		return commandNames(partial)
	case 'r':
		return s.remoteNames(partial)
	case 'l':
		return s.localNames(partial)
	}
	return nil
}

func commandNames(prefix string) []string {
	var out []string
	for _, c := range commands {
		if strings.HasPrefix(c.name, prefix) {
			out = append(out, c.name)
		}
	}
	return out
}

// splitName splits a partial path into its folder part (with its slash)
// and the start of the name.
func splitName(partial string) (dir, base string) {
	i := strings.LastIndexByte(partial, '/')
	return partial[:i+1], partial[i+1:]
}

// remoteNames completes a remote path.
func (s *Shell) remoteNames(partial string) []string {
	dir, base := splitName(partial)
	folder, err := client.JoinPath(s.cwd, dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range s.remoteEntries(folder) {
		name := path.Base(e.Path)
		if e.Path == folder || !strings.HasPrefix(name, base) {
			continue
		}
		if e.Dir {
			name += "/"
		}
		out = append(out, dir+name)
	}
	sort.Strings(out)
	return out
}

// remoteEntries is the listing of the remote folder, kept or asked for.
func (s *Shell) remoteEntries(folder string) []client.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ents, ok := s.cache[folder]; ok {
		return ents
	}
	if s.lost != nil {
		return nil
	}
	ents, err := s.listDir(folder)
	if le, ok := errors.AsType[*LostError](err); ok {
		s.lost = le.Err
	}
	return ents
}

// localNames completes a local path.
func (s *Shell) localNames(partial string) []string {
	dir, base := splitName(partial)
	ents, err := os.ReadDir(s.localPath(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, base) {
			continue
		}
		if st, err := os.Stat(s.localPath(dir + name)); err == nil && st.IsDir() {
			name += "/"
		}
		out = append(out, dir+name)
	}
	return out
}

func commonPrefix(list []string) string {
	p := list[0]
	for _, s := range list[1:] {
		n := 0
		for n < len(p) && n < len(s) && p[n] == s[n] {
			n++
		}
		for n < len(p) && n > 0 && !utf8.RuneStart(p[n]) {
			n-- // not inside a character
		}
		p = p[:n]
	}
	return p
}

// listCandidates shows the names a Tab could not choose between.
func (s *Shell) listCandidates(cands []string) {
	var b strings.Builder
	for i, c := range cands {
		if i > 0 {
			b.WriteString("  ")
		}
		_, name := splitName(strings.TrimSuffix(c, "/"))
		if strings.HasSuffix(c, "/") {
			name += "/"
		}
		b.WriteString(safe.Text(name))
	}
	b.WriteByte('\n')
	s.out.Write([]byte(b.String()))
}
