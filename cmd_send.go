package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ferry/boards"
	"ferry/client"
	"ferry/crypt"
)

type sendFlags struct {
	server, ca, name, state, as, serverName string
	classicDir                              string
	trustNew, quiet                         bool
	chunk                                   int
	timeout                                 time.Duration
	transport                               transportFlags
	classic                                 bool
}

func runSend(args []string, stderr io.Writer) error {
	var f sendFlags
	fs := newFlags("send", "[flags] FILE...", stderr)
	fs.StringVar(&f.server, "server", "127.0.0.1:7417", "server `host:port` (TCP)")
	fs.StringVar(&f.ca, "ca", "", "trust servers whose certificate this CA `file` (PEM) issued; without it, the server key is pinned in known_hosts")
	fs.BoolVar(&f.trustNew, "trust-new", false, "pin the key of a server seen for the first time (compare the fingerprint with the one the server printed)")
	fs.StringVar(&f.serverName, "server-name", "", "`name` the server certificate must carry (default: the host of -server; none on serial and stdio links)")
	fs.StringVar(&f.name, "name", defaultClientName(), "client `name` to register with on first use")
	fs.StringVar(&f.state, "state", defaultStateDir(), "state `directory`: client IDs, keys and pinned server keys")
	fs.StringVar(&f.as, "as", "", "store the file under this `name` (one FILE only; default its base name)")
	fs.IntVar(&f.chunk, "chunk", boards.Current.ChunkSize, "chunk size in `bytes` to ask for (the server may choose less)")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up when the server is silent this `long`")
	fs.BoolVar(&f.quiet, "q", false, "no progress line")
	fs.BoolVar(&f.classic, "classic", false, "speak the classic, UNAUTHENTICATED seed-004 protocol (docs/CLASSIC.md); with no FILE, act as the deployed client: read transfer.info, me.info and priv.key in the working directory")
	fs.StringVar(&f.classicDir, "classic-dir", "", "with -classic and FILEs: `directory` of me.info and priv.key")
	f.transport.register(fs)
	mem := registerMemLimit(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	mem.apply()
	if f.classic {
		if !flagSet(fs, "server") {
			f.server = "127.0.0.1:1357" // the deployed clients' default port
		}
		return sendClassic(&f, fs.Args(), stderr)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "ferry send: no FILE given")
		return errUsage
	}
	if f.as != "" && fs.NArg() > 1 {
		fmt.Fprintln(stderr, "ferry send: -as needs exactly one FILE")
		return errUsage
	}
	return send(&f, fs.Args(), stderr)
}

func send(f *sendFlags, files []string, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	conn, server, err := f.transport.dial(ctx, f.server)
	cancel()
	if err != nil {
		return err
	}
	verify, err := f.verifier(server, stderr)
	if err != nil {
		conn.Close()
		return err
	}
	// With -stdio, stdout carries the protocol: results go to stderr.
	out := io.Writer(os.Stdout)
	if f.transport.stdio {
		out = stderr
	}
	p := newProgress(stderr, f.quiet)
	c, err := client.Connect(conn, client.Config{
		State: client.State{Dir: f.state}, Server: server, Name: f.name,
		Verify: verify, Chunk: f.chunk, Timeout: f.timeout, Progress: p.update,
	})
	if err != nil {
		return err
	}
	for _, path := range files {
		name := f.as
		if name == "" {
			name = filepath.Base(path)
		}
		res, err := c.Upload(path, name)
		p.done()
		if err != nil {
			c.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
		fmt.Fprintf(out, "stored %s as %q: %d bytes, cksum %d, %s\n", path, res.Name, res.Size, res.Cksum, rate(res.Size, res.Duration))
	}
	return c.Close()
}

// verifier chooses how the server is authenticated: by CA when -ca is
// given, else by the key pinned for it in STATE/known_hosts.
func (f *sendFlags) verifier(server string, stderr io.Writer) (func([]*x509.Certificate) error, error) {
	if f.ca != "" {
		roots, err := crypt.LoadCertPool(f.ca)
		if err != nil {
			return nil, err
		}
		name := f.serverName
		if name == "" && !f.transport.serialOrStdio() {
			name = hostOf(f.server)
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

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "instant"
	}
	return fmt.Sprintf("%.1f MB/s", float64(n)/d.Seconds()/1e6)
}

// progress draws a progress line on stderr when it is a terminal.
type progress struct {
	w     io.Writer
	on    bool
	last  time.Time
	start time.Time
	drawn bool
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && !quiet {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(name string, sent, total int64) {
	if !p.on {
		return
	}
	now := time.Now()
	if sent == 0 || p.start.IsZero() {
		p.start = now
	}
	if now.Sub(p.last) < 200*time.Millisecond && sent != total {
		return
	}
	p.last = now
	pct := 100.0
	if total > 0 {
		pct = float64(sent) * 100 / float64(total)
	}
	fmt.Fprintf(p.w, "\r%-30.30s %5.1f%% %10d/%d bytes %s   ", name, pct, sent, total, rate(sent, now.Sub(p.start)))
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	p.start = time.Time{}
}
