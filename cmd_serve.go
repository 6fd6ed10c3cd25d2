package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"ferry/boards"
	"ferry/crypt"
	"ferry/fsstore"
	"ferry/server"
	"ferry/xfer"
)

// serveChunk is the default of serve -chunk: 256 KiB, or the board's chunk
// size when it is smaller, so that a router keeps its small frames when a
// laptop asks for 1 MiB. A 512 MiB get over loopback took a fifth less CPU
// with 256 KiB frames than with 64 KiB ones (a quarter as many reads,
// frames and seals), and 1 MiB frames took as much as 64 KiB ones (a frame
// no longer stays in the core's cache between the steps). The cost is
// memory: a session receiving a file outside the pipelined rings holds one
// frame. The protocol allows up to 1 MiB; a client gets min(what it asks,
// this).
var serveChunk = min(boards.Current.ChunkSize, 256<<10)

type serveFlags struct {
	listen, data, cert, key string
	publish                 string
	logFormat               string
	partialAge              time.Duration
	partialTotal            int64
	caKeyOut                string
	hostnames               multiFlag
	chunk                   int
	maxFile                 int64
	maxSessions             int
	maxHandshakes           int
	idle                    time.Duration
	transport               transportFlags
	classic                 string
	classicBare             bool // "-classic" without "=ADDR"
	classicAckResend        bool
}

func runServe(args []string, stderr io.Writer) error {
	f, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	return serve(f, stderr)
}

// parseServe parses the flags of "ferry serve" and applies -memlimit.
func parseServe(args []string, stderr io.Writer) (*serveFlags, error) {
	var f serveFlags
	fs := newFlags("serve", "[flags]", stderr)
	fs.StringVar(&f.listen, "listen", ":7417", "TCP `address` to listen on")
	fs.StringVar(&f.data, "data", defaultDataDir(), "data `directory`: tables, stored files, CA and server keys")
	fs.Var(&f.hostnames, "hostname", "a `name` or address for the server certificate made on first start (repeatable; default localhost, 127.0.0.1, ::1 and the host name)")
	fs.StringVar(&f.cert, "cert", "", "server certificate chain `file` (PEM) to use instead of the generated one")
	fs.StringVar(&f.key, "key", "", "private key `file` (PEM) of -cert")
	fs.StringVar(&f.logFormat, "log", "text", "log `format`: text, or json (one JSON object a line, for machines)")
	fs.StringVar(&f.publish, "publish", "", "offer this `folder` read-only to every authenticated client, as pub/ (ferry ls pub, ferry get pub/FILE)")
	fs.StringVar(&f.caKeyOut, "ca-key-out", "", "on first start, write the new CA's private key to this `file`, to issue certificates later with \"ferry cert\"; keep it offline (default: the CA key is not kept, the server does not need it)")
	fs.DurationVar(&f.partialAge, "partial-max-age", 7*24*time.Hour, "drop an interrupted upload kept for resume after this `long` without news")
	fs.Int64Var(&f.partialTotal, "partial-max-total", 4<<30, "keep at most this many `bytes` of interrupted uploads for resume, the oldest dropped first")
	fs.IntVar(&f.chunk, "chunk", serveChunk, "largest chunk in `bytes` a client may send or get")
	fs.Int64Var(&f.maxFile, "max-file", 1<<40, "largest file in `bytes` accepted")
	fs.DurationVar(&f.idle, "idle-timeout", 2*time.Minute, "drop a client silent for this `long`")
	fs.IntVar(&f.maxSessions, "max-sessions", server.DefaultMaxSessions, "serve at most this many `sessions` at once (each holds 1-2 file descriptors); a connection over it is closed at once")
	fs.IntVar(&f.maxHandshakes, "max-handshakes", server.DefaultMaxHandshakes, "at most this many `sessions` still in the handshake, which anyone can open; a connection over it replaces the oldest")
	fs.Var(classicAddr{&f}, "classic", "also serve the classic, UNAUTHENTICATED seed-004 protocol on this TCP `address`; -classic alone: "+defaultClassicAddr)
	fs.BoolVar(&f.classicAckResend, "classic-ack-resend", false, "answer a classic 1030 with 2104, for clients built on the course template that wait for it (the spec says: no answer)")
	f.transport.register(fs)
	mem := registerMemLimit(fs)
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	// "-classic ADDR": a boolean-like flag leaves ADDR to the arguments.
	if f.classicBare && fs.NArg() > 0 && strings.Contains(fs.Arg(0), ":") {
		f.classic = fs.Arg(0)
		if err := parse(fs, fs.Args()[1:]); err != nil {
			return nil, err
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ferry serve: unexpected argument %q\n", fs.Arg(0))
		return nil, errUsage
	}
	if f.maxSessions < 1 || f.maxHandshakes < 1 || f.maxHandshakes > f.maxSessions {
		fmt.Fprintf(stderr, "ferry serve: -max-sessions %d, -max-handshakes %d: both must be at least 1, and -max-handshakes at most -max-sessions\n",
			f.maxSessions, f.maxHandshakes)
		return nil, errUsage
	}
	mem.apply()
	return &f, nil
}

// compressLevel is the flate level of downloads for clients that ask for
// compression: the better ratio on a serial line (or stdio at a line
// rate), the fast level otherwise.
func (f *serveFlags) compressLevel() int {
	if f.transport.serial != "" || (f.transport.stdio && f.transport.baudSet) {
		return xfer.LevelSlowLink
	}
	return xfer.LevelFast
}

// defaultClassicAddr is where "-classic" alone serves the classic
// protocol: the deployed servers' port, on loopback only, since the
// protocol does not authenticate the server (docs/CLASSIC.md).
const defaultClassicAddr = "127.0.0.1:1357"

// classicAddr is -classic: "-classic" alone, "-classic=ADDR" or
// "-classic ADDR" (taken from the arguments by parseServe).
type classicAddr struct{ f *serveFlags }

func (c classicAddr) String() string {
	if c.f == nil {
		return ""
	}
	return c.f.classic
}

func (c classicAddr) Set(s string) error {
	c.f.classicBare = s == "true"
	switch s {
	case "true":
		s = defaultClassicAddr
	case "false":
		s = ""
	}
	c.f.classic = s
	return nil
}

func (classicAddr) IsBoolFlag() bool { return true }

func serve(f *serveFlags, stderr io.Writer) error {
	logger, events, err := newServerLog(f.logFormat, stderr)
	if err != nil {
		return err
	}
	stderr = logger.Writer() // notices too: JSON lines with -log json
	store, err := fsstore.Open(f.data, fsstore.Options{Logf: logger.Printf})
	if err != nil {
		return err
	}
	defer store.Close()
	id, err := serverIdentity(f, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	warnDescriptors(f.maxSessions, stderr)
	srv := server.New(server.Config{
		Identity: id, Store: store, MaxChunk: f.chunk, MaxFileSize: f.maxFile,
		IdleTimeout: f.idle, MaxSessions: f.maxSessions, MaxHandshakes: f.maxHandshakes,
		Logf: logger.Printf, Event: events, CompressLevel: f.compressLevel(),
		PartialMaxAge: f.partialAge, PartialMaxTotal: f.partialTotal, SlowLink: f.transport.slow(),
	})
	if f.publish != "" {
		if err := srv.Publish(f.publish); err != nil {
			return err
		}
	}
	l, err := f.transport.listen(f.listen)
	if err != nil {
		return err
	}
	if f.classic != "" {
		if err := startClassic(ctx, f, store, logger); err != nil {
			l.Close()
			return err
		}
	}
	logger.Printf("serving on %s, data in %s", l.Addr(), f.data)
	return srv.Serve(ctx, l)
}

// serverIdentity loads -cert/-key, or the identity in the data directory,
// making a CA and a server certificate on first start.
func serverIdentity(f *serveFlags, stderr io.Writer) (*crypt.Identity, error) {
	if f.cert != "" || f.key != "" {
		if f.cert == "" || f.key == "" {
			return nil, errors.New("-cert and -key go together")
		}
		warnKeyMode(f.key, stderr)
		return crypt.LoadIdentity(f.cert, f.key)
	}
	certFile, keyFile := filepath.Join(f.data, "server.pem"), filepath.Join(f.data, "server.key")
	caFile := filepath.Join(f.data, "ca.pem")
	if _, err := os.Stat(certFile); errors.Is(err, os.ErrNotExist) {
		hosts := f.hostnames
		if len(hosts) == 0 {
			hosts = defaultHostnames()
		}
		if err := firstStart(f.data, hosts, f.caKeyOut, stderr); err != nil {
			return nil, fmt.Errorf("first start: %w", err)
		}
	}
	warnKeyMode(keyFile, stderr)
	warnOnlineCAKey(f.data, stderr)
	id, err := crypt.LoadIdentity(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if ca, err := crypt.LoadCertPool(caFile); err == nil && ca != nil && f.cert == "" {
		fmt.Fprintf(stderr, "ferry: clients trust this server with: -ca %s\n", caFile)
	}
	fmt.Fprintf(stderr, "ferry: server key fingerprint %s (for clients that pin it: -trust-new)\n", crypt.Fingerprint(id.Leaf))
	return id, nil
}

// firstStart makes the CA (unless one is there) and the server
// certificate. The data directory keeps only what the server needs at run
// time: its key and certificate, and the CA certificate for clients. A new
// CA's key goes to caKeyOut, or nowhere. ca.pem is written before the
// server's files, and server.pem last: its absence means a first start.
func firstStart(dir string, hosts []string, caKeyOut string, stderr io.Writer) error {
	caFile := filepath.Join(dir, "ca.pem")
	var ca *crypt.CA
	var err error
	if _, statErr := os.Stat(caFile); statErr == nil {
		ca, err = existingCA(dir)
	} else {
		ca, err = newCA(dir, caKeyOut, stderr)
	}
	if err != nil {
		return err
	}
	id, err := ca.Issue(hosts, time.Now())
	if err != nil {
		return err
	}
	return writeKeyPair(filepath.Join(dir, "server"), id.Chain, id.Key)
}

// newCA makes a CA, writes its certificate into the data directory and
// its key to keyOut, if set, and says where the key went.
func newCA(dir, keyOut string, stderr io.Writer) (*crypt.CA, error) {
	ca, err := crypt.NewCA("ferry CA", time.Now())
	if err != nil {
		return nil, err
	}
	if keyOut != "" {
		if err := writeKey(keyOut, ca.Key); err != nil {
			return nil, fmt.Errorf("write the CA key: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(dir, "ca.pem"), crypt.CertPEM(ca.Cert.Raw), 0o644); err != nil {
		return nil, err
	}
	if keyOut != "" {
		fmt.Fprintf(stderr, "ferry: the CA's private key is in %s: move it offline; the server never reads it, \"ferry cert -ca-key\" does\n", keyOut)
	} else {
		fmt.Fprintf(stderr, "ferry: the CA's private key was not kept (the server does not need it): to issue certificates from this CA later, start with -ca-key-out FILE on first start, or make your own with \"ferry ca\"\n")
	}
	return ca, nil
}

// existingCA loads the CA of a data directory for a new server
// certificate. Its key is there only if an older ferry left it.
func existingCA(dir string) (*crypt.CA, error) {
	caFile, caKey := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	if _, err := os.Stat(caKey); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has a CA certificate but no server certificate, and the CA's key is not kept there; "+
			"issue one from the CA key you kept: rm -f %s; ferry cert -ca-cert %s -ca-key YOUR-CA-KEY -hostname NAME -out %s; "+
			"or make a new CA (clients then need the new ca.pem): rm -f %s %s",
			dir, filepath.Join(dir, "server.key"), caFile, filepath.Join(dir, "server"), caFile, filepath.Join(dir, "server.key"))
	}
	return crypt.LoadCA(caFile, caKey)
}

// warnOnlineCAKey warns about a CA key that an older ferry left in the
// data directory, beside the server's key.
func warnOnlineCAKey(dir string, stderr io.Writer) {
	caKey := filepath.Join(dir, "ca.key")
	if _, err := os.Stat(caKey); err == nil {
		fmt.Fprintf(stderr, "ferry: warning: %s is the CA's private key, online beside the server's; "+
			"the server does not need it: move it offline (\"ferry cert -ca-key FILE\" uses it from there)\n", caKey)
	}
}

func defaultHostnames() []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		hosts = append(hosts, h)
	}
	return hosts
}

// defaultDataDir is systemd's StateDirectory when set, else a directory in
// the user's data home.
func defaultDataDir() string {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "ferry-server")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "ferry-server")
	}
	return "ferry-data"
}

// newServerLog makes the server's logger for -log: text lines prefixed
// "ferry: " with the time, or one JSON object a line (free-text lines as
// {"time", "msg"}, sessions and operations with their fields).
func newServerLog(format string, w io.Writer) (*log.Logger, func(server.Event), error) {
	switch format {
	case "text":
		return log.New(w, "ferry: ", log.LstdFlags), nil, nil
	case "json":
		jw := &jsonLines{w: w}
		return log.New(jw, "", 0), func(e server.Event) { jw.line(server.FormatJSON(&e)) }, nil
	}
	return nil, nil, fmt.Errorf("-log %q: text or json", format)
}

// jsonLines writes log lines as JSON objects, one a line.
type jsonLines struct {
	mu sync.Mutex
	w  io.Writer
}

func (j *jsonLines) Write(p []byte) (int, error) {
	msg := strings.TrimPrefix(strings.TrimSuffix(string(p), "\n"), "ferry: ")
	j.line(server.JSONMessage(time.Now(), msg))
	return len(p), nil
}

func (j *jsonLines) line(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	io.WriteString(j.w, s+"\n")
}
