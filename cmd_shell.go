//go:build !ferry_noshell

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"ferry/client"
	"ferry/progress"
	"ferry/shell"
)

// ferry shell: the client flags, where the commands come from (the
// terminal, -b FILE, or stdin when it is not a terminal), and the
// sessions package shell runs on, opened by connect as for every client
// command.

type shellFlags struct {
	clientFlags
	batch     string
	keepalive time.Duration
}

func runShell(args []string, stderr io.Writer) error {
	var f shellFlags
	fs := newFlags("shell", "[flags]", stderr)
	f.clientFlags.register(fs)
	fs.StringVar(&f.batch, "b", "", "run the commands of this `file` (- for stdin) and stop at the first that fails (as sftp -b; a line starting with - may fail)")
	fs.DurationVar(&f.keepalive, "keepalive", client.KeepaliveEvery, "while idle, tell the server the session is alive this `often`")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		fmt.Fprintln(stderr, "ferry shell: no arguments: the commands come from the terminal, -b FILE or stdin")
		return errUsage
	}
	in, tty, err := f.input(stderr)
	if err != nil {
		return err
	}
	defer in.Close()
	asked := f.server // a config file's device, maybe
	g := &shellSessions{f: &f.clientFlags, stderr: stderr}
	c, err := g.dial(stderr)
	if err != nil {
		return err
	}
	if !g.cur.Ops() {
		g.cur.Close()
		return client.ErrNoOps
	}
	sh := shell.New(shell.Config{
		Dial: g.dial, Abort: g.abort, Server: f.label(asked), Meter: g, Format: formatEntry,
		Verbose: f.verbose, KeepaliveEvery: f.keepalive, Out: g.cur.out, Err: stderr,
		Once:    f.transport.stdio,
		Explain: func(err error) string { msg, _ := userMessage(err); return msg },
	}, c)
	if tty != nil {
		return sh.Interactive(in, tty)
	}
	err = sh.Batch(in)
	if le, ok := errors.AsType[*shell.LineError](err); ok {
		// told with its line, as the shell explains it; exit 1 whatever
		// the cause, as sftp -b
		return errors.New(le.Error())
	}
	return err
}

// input opens where the commands come from; tty is where the terminal's
// output goes when the shell is interactive, nil for a batch.
func (f *shellFlags) input(stderr io.Writer) (in, tty *os.File, err error) {
	switch {
	case f.batch == "-" && f.transport.stdio:
		fmt.Fprintln(stderr, "ferry shell: -b - with -stdio: stdin carries the protocol")
		return nil, nil, errUsage
	case f.batch == "-":
		return os.Stdin, nil, nil
	case f.batch != "":
		in, err := os.Open(f.batch)
		return in, nil, err
	case f.transport.stdio:
		// stdin and stdout carry the protocol: the terminal is the
		// controlling one, as ssh asks for a password there
		t, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			fmt.Fprintln(stderr, "ferry shell: with -stdio, stdin carries the protocol and there is no terminal: give the commands with -b FILE")
			return nil, nil, errUsage
		}
		return t, t, nil
	case term.IsTerminal(int(os.Stdin.Fd())):
		return os.Stdin, os.Stdout, nil
	}
	return os.Stdin, nil, nil
}

// label names the server in the prompt: the config file's device that
// -server named, else the host, the serial device, or stdio.
func (f *clientFlags) label(asked string) string {
	if cfg, err := loadConfig(f.config, flagSet(f.fs, "config")); err == nil && cfg.devices[asked] != nil {
		return asked
	}
	switch {
	case f.transport.stdio:
		return "stdio"
	case f.transport.serial != "":
		return filepath.Base(f.transport.serial)
	}
	return hostOf(f.address())
}

// shellSessions opens the shell's sessions and shows their transfers
// (shell.Meter) on the current one's meter, whose update the client calls.
type shellSessions struct {
	f      *clientFlags
	stderr io.Writer
	cur    *session
}

var _ shell.Meter = (*shellSessions)(nil)

// errStdioOnce: a -stdio session ends with its pipe.
var errStdioOnce = errors.New("over -stdio the session cannot be opened again: its pipe closed with it")

// dial connects with the command's flags (shell.Config.Dial).
func (g *shellSessions) dial(w io.Writer) (shell.Client, error) {
	if g.cur != nil && g.f.transport.stdio {
		return nil, errStdioOnce
	}
	s, err := g.f.connect(w)
	if err != nil {
		return nil, err
	}
	g.cur = s
	return s.Client, nil
}

// abortGrace bounds how long closing an abandoned session waits to flush
// (a serial link sends its FIN and waits for the acknowledgement).
const abortGrace = time.Second

// abort closes a session's link at once (shell.Config.Abort).
func (g *shellSessions) abort(c shell.Client) {
	cl, ok := c.(*client.Client)
	if !ok {
		return
	}
	l := cl.Session().Link()
	l.SetWriteDeadline(time.Now().Add(abortGrace))
	l.Close()
}

// Start gives the session a new bar: on the shell's terminal, or where a
// one-shot command's goes (stderr, when it is a terminal).
func (g *shellSessions) Start(tty io.Writer, width int) {
	g.cur.meter.finish()
	m := newMeter(g.stderr, g.f.quiet, g.f.verbose)
	if tty != nil {
		m.finish()
		m = &meter{p: progress.New(tty, progress.Options{Terminal: true, Quiet: g.f.quiet, NoSummary: true, Width: width}), w: tty}
	}
	*g.cur.meter = *m
}

func (g *shellSessions) Done(err error)              { g.cur.meter.done(err) }
func (g *shellSessions) Finish()                     { g.cur.meter.finish() }
func (g *shellSessions) Write(b []byte) (int, error) { return g.cur.meter.Write(b) }
