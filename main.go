// Command ferry moves files securely to and from small devices, over TCP, a
// serial line or stdio. Run "ferry help" for the commands. main wires flags
// to the packages and maps errors to exit codes; the protocol lives in
// frame, crypt, link, client, server, classic and fsstore.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"ferry/boards"
	"ferry/client"
	"ferry/crypt"
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
	{"ports", "list serial ports", runPorts},
	{"version", "print the version", runVersion},
}

const helpText = `ferry moves files securely to and from small devices.

Usage:

	ferry <command> [flags] [arguments]

Commands:
%s
Run "ferry <command> -h" for a command's flags.

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
		list += fmt.Sprintf("\t%-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, helpText, list)
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

// errUsage marks command-line errors; the message has been printed.
var errUsage = errors.New("usage")

// exitCode prints err and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	}
	fmt.Fprintf(stderr, "ferry: %v\n", err)
	switch {
	case errors.Is(err, crypt.ErrUntrusted), errors.Is(err, crypt.ErrUnknownHost),
		errors.Is(err, crypt.ErrHostKeyChanged), errors.Is(err, crypt.ErrBadSignature):
		return exitTrust
	case errors.Is(err, client.ErrChecksum):
		return exitChecksum
	case errors.Is(err, errFsckProblems):
		return exitFsck
	}
	return exitFailure
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
