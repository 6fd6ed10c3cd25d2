package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ferry/boards"
	"ferry/client"
	"ferry/crypt"
	"ferry/progress"
	"ferry/xfer"
)

// clientFlags are the flags every client command shares: where the server
// is, how it is trusted, who the client is, and how output looks. They
// are registered once here, so send, get, ls, rm, mv and mkdir take the
// same ones.
type clientFlags struct {
	server, ca, name, state, serverName string
	trustNew, quiet, verbose            bool
	compress, noCompress                bool
	noResume                            bool
	chunk                               int
	timeout                             time.Duration
	transport                           transportFlags
	mem                                 *memLimit
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.server, "server", "127.0.0.1:7417", "server `host[:port]` (TCP; port 7417 if none)")
	fs.StringVar(&f.ca, "ca", "", "trust servers whose certificate this CA `file` (PEM) issued; without it, the server key is pinned in known_hosts")
	fs.BoolVar(&f.trustNew, "trust-new", false, "pin the key of a server seen for the first time (compare the fingerprint with the one the server printed)")
	fs.StringVar(&f.serverName, "server-name", "", "`name` the server certificate must carry (default: the host of -server; none on serial and stdio links)")
	fs.StringVar(&f.name, "name", defaultClientName(), "client `name` to register with on first use")
	fs.StringVar(&f.state, "state", defaultStateDir(), "state `directory`: client IDs, keys and pinned server keys")
	fs.IntVar(&f.chunk, "chunk", boards.Current.ChunkSize, "chunk size in `bytes` to ask for (the server may choose less)")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up when the server is silent this `long`")
	fs.BoolVar(&f.quiet, "q", false, "no progress line")
	fs.BoolVar(&f.verbose, "v", false, "a line per file, and the full error chain")
	fs.BoolVar(&f.noResume, "no-resume", false, "start every transfer from zero (by default an interrupted one goes on from where it stopped)")
	fs.BoolVar(&f.compress, "compress", false, "compress file content (the default on -serial and -stdio)")
	fs.BoolVar(&f.noCompress, "no-compress", false, "do not compress file content (the default over TCP)")
	f.transport.register(fs)
	f.mem = registerMemLimit(fs)
}

// compressLevel is the flate level to offer: on slow links by default,
// over TCP when asked.
func (f *clientFlags) compressLevel() int {
	switch {
	case f.noCompress:
		return 0
	case f.transport.serialOrStdio() && f.transport.stdio && !f.transport.baudSet && !f.compress:
		// stdio without a line rate is a fast pipe (ssh): compress fast
		return xfer.LevelFast
	case f.transport.serialOrStdio():
		return xfer.LevelSlowLink
	case f.compress:
		return xfer.LevelFast
	}
	return 0
}

// defaultPort is the secure protocol's TCP port.
const defaultPort = "7417"

// address adds the default port to a -server without one.
func (f *clientFlags) address() string {
	s := f.server
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") { // [::1]
		return s + ":" + defaultPort
	}
	if !strings.Contains(s, ":") {
		return s + ":" + defaultPort
	}
	return s
}

// session is a connected, authenticated client and where its output goes.
type session struct {
	*client.Client
	out   io.Writer // results: stdout, or stderr when stdout carries -stdio
	meter *meter    // the progress bar on stderr; also where notices go
}

// connect dials, authenticates the server and registers or reconnects.
func (f *clientFlags) connect(stderr io.Writer) (*session, error) {
	f.mem.apply()
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	conn, server, err := f.transport.dial(ctx, f.address())
	cancel()
	if err != nil {
		return nil, err
	}
	verify, err := f.verifier(server, stderr)
	if err != nil {
		conn.Close()
		return nil, err
	}
	s := &session{out: os.Stdout, meter: newMeter(stderr, f.quiet, f.verbose)}
	if f.transport.stdio {
		s.out = stderr // stdout carries the protocol
	}
	c, err := client.Connect(conn, client.Config{
		State: client.State{Dir: f.state}, Server: server, Name: f.name,
		Verify: verify, Chunk: f.chunk, Timeout: f.timeout, Progress: s.meter.update,
		Compress: f.compressLevel(), NoResume: f.noResume, Resumed: s.meter.resumed,
	})
	if err != nil {
		s.meter.finish()
		return nil, err
	}
	s.Client = c
	return s, nil
}

// verifier chooses how the server is authenticated: by CA when -ca is
// given, else by the key pinned for it in STATE/known_hosts.
func (f *clientFlags) verifier(server string, stderr io.Writer) (func([]*x509.Certificate) error, error) {
	if f.ca != "" {
		roots, err := crypt.LoadCertPool(f.ca)
		if err != nil {
			return nil, err
		}
		name := f.serverName
		if name == "" && !f.transport.serialOrStdio() {
			name = hostOf(f.address())
		}
		return crypt.CAVerifier(roots, name), nil
	}
	kh := crypt.KnownHosts{Path: filepath.Join(f.state, "known_hosts")}
	notify := func(msg string) { fmt.Fprintf(stderr, "ferry: %s\n", msg) }
	return crypt.PinVerifier(kh, server, f.trustNew, notify), nil
}

func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

func defaultClientName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "ferry-client"
}

func defaultStateDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "ferry")
	}
	return ".ferry"
}

// remotePaths cleans the remote paths of a command line.
func remotePaths(cmd string, args []string, stderr io.Writer) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		p, err := client.CleanPath(a)
		if err != nil {
			fmt.Fprintf(stderr, "ferry %s: %v\n", cmd, err)
			return nil, errUsage
		}
		out[i] = p
	}
	return out, nil
}

// errSome means some items of a command failed (each was reported).
var errSome = errors.New("some files failed")

// finish ends a session with a goodbye and stops the bar; err, if any,
// wins.
func (s *session) finish(err error) error {
	s.meter.finish()
	cerr := s.Close()
	if err != nil {
		return err
	}
	return cerr
}

// rate is n bytes in d, for result lines.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "instant"
	}
	return progress.FormatRate(float64(n) / d.Seconds())
}
