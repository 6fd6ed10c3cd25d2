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
	summary string
	flags   string // one-letter flags, as in "-rn"
	min     int    // arguments at least
	max     int    // at most; -1 no limit
	// kinds says what each argument names, for completion: r remote, l
	// local, c a command; the last letter goes for the arguments after.
	kinds  string
	remote bool // runs on the session: holds it, and Ctrl-C abandons it
	run    func(s *Shell, c *call) error
}

// commands is the table, in the order help lists it.
var commands []*command

func init() {
	commands = []*command{
		{name: "ls", args: "[-l] [-r] [PATH]", summary: "list a remote folder (-l details, -r the whole tree)", flags: "lr", max: 1, kinds: "r", remote: true, run: (*Shell).ls},
		{name: "cd", args: "[PATH]", summary: "change the remote folder (none: the top)", max: 1, kinds: "r", remote: true, run: (*Shell).cd},
		{name: "pwd", summary: "print the remote folder", run: (*Shell).pwd},
		{name: "get", args: "[-r] [-n] REMOTE [LOCAL]", summary: "download a file (-r a folder) into the local folder or to LOCAL; -n never replaces a local file", flags: "rn", min: 1, max: 2, kinds: "rl", remote: true, run: (*Shell).get},
		{name: "put", args: "[-r] [-n] LOCAL [REMOTE]", summary: "upload a file (-r a folder) into the remote folder or to REMOTE; -n never replaces a remote file", flags: "rn", min: 1, max: 2, kinds: "lr", remote: true, run: (*Shell).put},
		{name: "rm", args: "[-r] PATH...", summary: "remove remote files or empty folders (-r folders with everything in them)", flags: "r", min: 1, max: -1, kinds: "r", remote: true, run: (*Shell).rm},
		{name: "mv", args: "[-n] OLD NEW", summary: "rename a remote file or folder (NEW ending in / : into that folder); -n never replaces a file", flags: "n", min: 2, max: 2, kinds: "r", remote: true, run: (*Shell).mv},
		{name: "mkdir", args: "[-p] PATH...", summary: "make remote folders (-p with their parents, and no error if they exist)", flags: "p", min: 1, max: -1, kinds: "r", remote: true, run: (*Shell).mkdir},
		{name: "df", summary: "what you store on the server, its free space and the largest file it takes", remote: true, run: (*Shell).df},
		{name: "lcd", args: "[PATH]", summary: "change the local folder (none: your home)", max: 1, kinds: "l", run: (*Shell).lcd},
		{name: "lls", args: "[-l] [PATH]", summary: "list a local folder", flags: "l", max: 1, kinds: "l", run: (*Shell).lls},
		{name: "lpwd", summary: "print the local folder", run: (*Shell).lpwd},
		{name: "help", args: "[COMMAND]", summary: "list the commands, or say what one does", max: 1, kinds: "c", run: (*Shell).help},
		{name: "exit", summary: "end the session (also quit, or Ctrl-D)", run: (*Shell).exit},
		{name: "quit", summary: "end the session", run: (*Shell).exit},
	}
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
		list = []*command{cmd}
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
