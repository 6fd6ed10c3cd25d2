package shell

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// command is one line of the command table: how it is called, what it
// does in one line (help), the flags it takes and how many arguments, and
// what completion offers for each argument.
type command struct {
	name    string
	args    string // synopsis after the name
	summary string // one line of help
	more    string // what help COMMAND adds
	flags   string // one-letter flags, as in "-rn"
	min     int    // arguments at least
	max     int    // at most; -1 no limit
	// kinds says what each argument names, for completion: r remote, l
	// local, c a command; the last letter goes for the arguments after.
	kinds  string
	remote bool // runs on the session: holds it, and Ctrl-C abandons it
	run    func(s *Shell, c *call) error
}

// commands is the table, in the order help lists it. It is set from
// table by init: help reads the table, which holds help, and Go refuses
// that cycle in a variable's initialisation; table itself is static data,
// where building it in init would be code run at start.
var commands []*command

func init() { commands = table }

var table = []*command{
	{name: "ls", args: "[-l] [-r] [PATH]", summary: "list a remote folder (-l long, -r the tree)", flags: "lr", max: 1, kinds: "r", remote: true, run: (*Shell).ls,
		more: "PATH is relative to the remote folder, or from the top when it starts with /; a file lists itself. -l shows the mode, size, mtime, cksum and whether the server verified it."},
	{name: "cd", args: "[PATH]", summary: "change the remote folder (none: the top)", max: 1, kinds: "r", remote: true, run: (*Shell).cd},
	{name: "pwd", summary: "print the remote folder", run: (*Shell).pwd},
	{name: "get", args: "[-r] [-n] REMOTE [LOCAL]", summary: "download (-r folders, -n never replace a file)", flags: "rn", min: 1, max: 2, kinds: "rl", remote: true, run: (*Shell).get,
		more: "The file goes into the local folder under its name, or into LOCAL when it is a folder, or else to the name LOCAL; with -r a folder and everything in it. Every file is checked end to end and appears only once complete."},
	{name: "put", args: "[-r] [-n] LOCAL [REMOTE]", summary: "upload (-r folders, -n never replace a file)", flags: "rn", min: 1, max: 2, kinds: "lr", remote: true, run: (*Shell).put,
		more: "The file goes into the remote folder under its name, or into REMOTE when it is a folder (or ends in /), or else to the name REMOTE; with -r a folder and everything in it, empty folders included."},
	{name: "rm", args: "[-r] PATH...", summary: "remove files, empty folders (-r full ones)", flags: "r", min: 1, max: -1, kinds: "r", remote: true, run: (*Shell).rm},
	{name: "mv", args: "[-n] OLD NEW", summary: "rename (-n never replace a file)", flags: "n", min: 2, max: 2, kinds: "r", remote: true, run: (*Shell).mv,
		more: "A NEW that ends in / is a folder to move OLD into, under its name."},
	{name: "mkdir", args: "[-p] PATH...", summary: "make folders (-p with parents, if not there)", flags: "p", min: 1, max: -1, kinds: "r", remote: true, run: (*Shell).mkdir},
	{name: "df", summary: "your files and bytes, the server's room", remote: true, run: (*Shell).df,
		more: "What you store on the server (files, bytes), the free space on its disk and the largest file it takes."},
	{name: "lcd", args: "[PATH]", summary: "change the local folder (none: your home)", max: 1, kinds: "l", run: (*Shell).lcd},
	{name: "lls", args: "[-l] [PATH]", summary: "list a local folder (-l long)", flags: "l", max: 1, kinds: "l", run: (*Shell).lls},
	{name: "lpwd", summary: "print the local folder", run: (*Shell).lpwd},
	{name: "help", args: "[COMMAND]", summary: "list the commands, or say more of one", max: 1, kinds: "c", run: (*Shell).help},
	{name: "exit", summary: "end the session (also quit, or Ctrl-D)", run: (*Shell).exit},
	{name: "quit", summary: "end the session", run: (*Shell).exit},
}

// lookup finds a command by name.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// kind is what argument i of the command names, for completion.
func (c *command) kind(i int) byte {
	if c.kinds == "" || (c.max >= 0 && i >= c.max) {
		return 0
	}
	return c.kinds[min(i, len(c.kinds)-1)]
}

func (c *command) usage() string {
	if c.args == "" {
		return c.name
	}
	return c.name + " " + c.args
}

// call is a command line parsed: the command, its flags and arguments.
type call struct {
	cmd   *command
	flags string // the flags given, each once
	args  []string
}

func (c *call) has(flag byte) bool { return strings.IndexByte(c.flags, flag) >= 0 }

// arg is argument i, or "" when there are fewer.
func (c *call) arg(i int) string {
	if i < len(c.args) {
		return c.args[i]
	}
	return ""
}

// UsageError is a command line the shell cannot run: an unknown command
// or flag, or the wrong number of arguments. The session is not touched.
type UsageError struct{ Text string }

func (e *UsageError) Error() string { return e.Text }

func usageErr(format string, a ...any) error { return &UsageError{fmt.Sprintf(format, a...)} }

// parseCall parses the words of a line: the command, then its flags (one
// letter each, alone or together: -rn; -- ends them), then its arguments.
func parseCall(words []string) (*call, error) {
	cmd := lookup(words[0])
	if cmd == nil {
		return nil, usageErr("%s: no such command; help lists them", words[0])
	}
	c := &call{cmd: cmd}
	rest := words[1:]
	for len(rest) > 0 && len(rest[0]) > 1 && rest[0][0] == '-' {
		w := rest[0]
		rest = rest[1:]
		if w == "--" {
			break
		}
		for i := 1; i < len(w); i++ {
			if strings.IndexByte(cmd.flags, w[i]) < 0 {
				return nil, usageErr("%s: no flag -%c; usage: %s", cmd.name, w[i], cmd.usage())
			}
			if !c.has(w[i]) {
				c.flags += w[i : i+1]
			}
		}
	}
	if len(rest) < cmd.min || (cmd.max >= 0 && len(rest) > cmd.max) {
		return nil, usageErr("usage: %s", cmd.usage())
	}
	c.args = rest
	return c, nil
}

// errExit ends the shell: exit, quit.
var errExit = errors.New("shell: exit")

func (s *Shell) exit(*call) error { return errExit }

// help lists every command, one line each, or the one named.
func (s *Shell) help(c *call) error {
	list := commands
	if len(c.args) == 1 {
		cmd := lookup(c.args[0])
		if cmd == nil {
			return usageErr("%s: no such command", c.args[0])
		}
		writeHelp(s.out, []*command{cmd})
		if cmd.more != "" {
			fmt.Fprintln(s.out, wrap(cmd.more, 72))
		}
		return nil
	}
	writeHelp(s.out, list)
	return nil
}

func writeHelp(w io.Writer, list []*command) {
	width := 0
	for _, c := range list {
		width = max(width, len(c.usage()))
	}
	var b strings.Builder
	for _, c := range list {
		fmt.Fprintf(&b, "%-*s  %s\n", width, c.usage(), c.summary)
	}
	io.WriteString(w, b.String())
}

// wrap breaks text into lines of at most width columns, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(text) {
		if col > 0 && col+1+len(w) > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
