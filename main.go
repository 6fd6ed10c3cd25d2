// Command ferry moves files securely to and from small devices, over TCP, a
// serial line or stdio. Run "ferry help" for the commands. main wires flags
// to the packages and maps errors to exit codes; the protocol lives in
// frame, crypt, link, client, server, classic and fsstore.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"ferry/boards"
	"ferry/client"
	"ferry/crypt"
	"ferry/frame"
	"ferry/fsstore"
	"ferry/link"
	"ferry/safe"
)

// version is stamped by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes, documented in "ferry help".
const (
	exitOK       = 0 // success
	exitFailure  = 1 // the operation failed: I/O, network, refused by the server
	exitUsage    = 2 // bad command line
	exitTrust    = 3 // the server could not be authenticated
	exitChecksum = 4 // the checksum never matched; nothing stored
	exitFsck     = 5 // fsck found problems (and did not repair them all)
)

type command struct {
	name, summary string
	run           func(args []string, stderr io.Writer) error
}

var commands = []command{
	{"serve", "run a server", runServe},
	{"send", "upload files and folders to a server", runSend},
	{"get", "download files and folders from a server", runGet},
	{"ls", "list files on a server", runLs},
	{"rm", "remove files on a server", runRm},
	{"mv", "rename a file or folder on a server", runMv},
	{"mkdir", "make a folder on a server", runMkdir},
	{"shell", "one session, many commands: ls, cd, get, put, ... (-b FILE: a batch)", runShell},
	{"ca", "create a certificate authority for servers", runCA},
	{"cert", "issue a server certificate from a CA", runCert},
	{"fsck", "check (and repair) a server's data directory", runFsck},
	{"clients", "list a server's clients; disable or remove one", runClients},
	{"completion", "print a bash or zsh completion script", runCompletion},
	{"install", "put ferry onto a device through its console", runInstall},
	{"ports", "list serial ports", runPorts},
	{"version", "print the version", runVersion},
}

const helpText = `ferry moves files securely to and from small devices.

Usage:

	ferry <command> [flags] [arguments]

Commands:
%s
Run "ferry <command> -h" for a command's flags, and "ferry help TOPIC" for:
%s
A first session on loopback:

	ferry serve -listen 127.0.0.1:7417 -data ./srv     # prints the CA path
	ferry send -server 127.0.0.1 -ca ./srv/ca.pem FILE
	ferry ls -server 127.0.0.1 -ca ./srv/ca.pem -l
	ferry get -server 127.0.0.1 -ca ./srv/ca.pem FILE

Exit codes:
	0  success
	1  the operation failed (I/O, network, refused by the server)
	2  bad command line
	3  the server could not be authenticated (untrusted certificate,
	   unknown or changed key)
	4  the checksum never matched after 3 resends; the file was not stored
	5  fsck found problems
`

func usage(w io.Writer) {
	var list string
	for _, c := range commands {
		list += fmt.Sprintf("\t%-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, helpText, list, topicList())
}

func main() {
	applyMemLimit()
	os.Exit(run(os.Args[1:], os.Stderr))
}

// applyMemLimit sets the board's soft memory limit unless GOMEMLIMIT is set.
func applyMemLimit() {
	if os.Getenv("GOMEMLIMIT") == "" && boards.Current.MemLimit > 0 {
		debug.SetMemoryLimit(boards.Current.MemLimit)
	}
}

func run(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-version", "--version":
		return exitCode(runVersion(nil, stderr), stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && showTopic(args[1], os.Stdout) {
			return exitOK
		}
		if len(args) > 1 {
			return run([]string{args[1], "-h"}, stderr)
		}
		usage(os.Stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return exitCode(c.run(args[1:], stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "ferry: unknown command %q; run \"ferry help\"\n", args[0])
	return exitUsage
}

// errFsckProblems means fsck found problems it did not (or was not asked
// to) repair.
var errFsckProblems = errors.New("fsck found problems; run with -repair to fix them (stop the server first)")

// errUsage marks command-line errors; the message has been printed.
var errUsage = errors.New("usage")

// exitCode prints err and maps it to an exit code. What is printed is one
// line that says what happened and what to do (userMessage); with -v the
// whole chain follows on a second line. Both are escaped: they may carry
// text from the network (a server's reason, a certificate's name).
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	}
	msg, code := userMessage(err)
	fmt.Fprintf(stderr, "ferry: %s\n", safe.Text(msg))
	if chain := err.Error(); showChain && chain != msg {
		fmt.Fprintf(stderr, "ferry: detail: %s\n", safe.Text(chain))
	}
	return code
}

// userMessages map the errors callers branch on to what a user is told
// and the exit code; the first that err matches wins. An empty msg keeps
// the error's own text (without the package prefix), where it already
// says what to do: the trust errors carry the fingerprints and the file
// to edit, the client's errors the flag to change.
var userMessages = []struct {
	err  error
	code int
	msg  string
}{
	{crypt.ErrHostKeyChanged, exitTrust, ""},
	{crypt.ErrUnknownHost, exitTrust, ""},
	{crypt.ErrUntrusted, exitTrust, ""},
	{crypt.ErrBadSignature, exitTrust, "the server's signature over the handshake does not verify: someone may be in the middle; do not use this link"},
	{frame.ErrVersion, exitFailure, "the server speaks an older protocol version (the classic protocol, version 3): give the port of its secure listener (7417), or send with -classic"},
	{link.ErrBadSetup, exitFailure, "the other side speaks another link protocol version: run the same ferry release at both ends"},
	{link.ErrPeerTimeout, exitFailure, "the other side went silent (peer silent too long): check the cable and that ferry runs at the other end, then run again"},
	{link.ErrReset, exitFailure, "the other side reset the session: run again"},
	{crypt.ErrNoSuite, exitFailure, "the server and this client have no cipher suite in common: upgrade the older of the two"},
	{crypt.ErrHandshake, exitFailure, "the other side does not speak ferry's handshake: check -server and the port"},
	{crypt.ErrOpen, exitFailure, "a frame failed authentication (corrupted on the way, or tampered with): run again, and check the link if it repeats"},
	{crypt.ErrClosedByPeer, exitFailure, "the server closed the connection: its log says why"},
	{crypt.ErrTruncated, exitFailure, "the server closed the connection in the middle of a frame: its log says why"},
	{client.ErrChecksum, exitChecksum, ""},
	{client.ErrNameTaken, exitFailure, ""},
	{client.ErrDenied, exitFailure, ""},
	{client.ErrServer, exitFailure, ""},
	{client.ErrNoOps, exitFailure, ""},
	{fsstore.ErrLocked, exitFailure, ""},
	{errConfig, exitUsage, ""},
	{errFsckProblems, exitFsck, ""},
	{os.ErrDeadlineExceeded, exitFailure, "the server did not answer in time: check that it runs, or give a longer -timeout"},
	{context.DeadlineExceeded, exitFailure, "the server did not answer in time: check that it runs, or give a longer -timeout"},
}

// userMessage is the line exitCode prints for err, and its exit code.
func userMessage(err error) (string, int) {
	for _, m := range userMessages {
		if !errors.Is(err, m.err) {
			continue
		}
		if m.msg == "" {
			return trimPrefix(err.Error()), m.code
		}
		return m.msg, m.code
	}
	if msg := netMessage(err); msg != "" {
		return msg, exitFailure
	}
	return trimPrefix(err.Error()), exitFailure
}

// netMessage says what a failed dial means, or "".
func netMessage(err error) string {
	addr := "the server"
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Addr != nil {
		addr = op.Addr.String()
	}
	dns, isDNS := errors.AsType[*net.DNSError](err)
	switch {
	case isDNS:
		return fmt.Sprintf("cannot find the host %s: check -server, or name a device in the config file (ferry help config)", dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing listens at %s (connection refused): start the server (ferry serve), or check -server and the port", addr)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("cannot reach %s (no route): check the network and -server", addr)
	}
	return ""
}

// trimPrefix drops the package names an error's text starts with
// ("crypt: ", "client: "): the user did not call a package.
func trimPrefix(msg string) string {
	for {
		pkg, rest, ok := strings.Cut(msg, ": ")
		switch pkg {
		case "crypt", "client", "link", "frame", "fsstore", "xfer", "server", "classic":
			if ok {
				msg = rest
				continue
			}
		}
		return msg
	}
}

// newFlags returns a FlagSet that reports errors as errUsage. Help asked
// for (-h) goes to stdout; after a usage error it goes to stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed by parse, where it knows which stream
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: ferry %s %s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	usages.Store(fs, usage)
	return fs
}

// usages holds each FlagSet's help printer (func(io.Writer)).
var usages sync.Map

// parse parses args, mapping errors to errUsage; arguments after the
// flags are an error for commands that take none.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError(fs, err)
	}
	return nil
}

func usageError(fs *flag.FlagSet, err error) error {
	usage, _ := usages.Load(fs)
	if errors.Is(err, flag.ErrHelp) {
		usage.(func(io.Writer))(os.Stdout)
		return err
	}
	usage.(func(io.Writer))(fs.Output())
	return errUsage
}

// parseArgs parses flags anywhere among the arguments, as users expect
// ("ferry send a.log -q" is quiet), and returns the arguments that are not
// flags; "--" ends the flags, and "-" is an argument (stdin or stdout).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError(fs, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func runVersion(args []string, stderr io.Writer) error {
	fmt.Printf("ferry %s (board profile %s)\n", version, boards.Current.Name)
	return nil
}

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
