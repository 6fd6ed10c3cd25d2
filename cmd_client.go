package main

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ferry/boards"
	"ferry/client"
	"ferry/crypt"
	"ferry/progress"
	"ferry/safe"
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
	chunkSet                            bool // -chunk given
	timeout                             time.Duration
	transport                           transportFlags
	mem                                 *memLimit
	alias                               string // -alias: the name the server's key is pinned under
	config                              string // -config: the config file naming devices
	fs                                  *flag.FlagSet
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.server, "server", "127.0.0.1:7417", "server `host[:port]` (TCP; port 7417 if none), or a device named in the config file")
	fs.StringVar(&f.ca, "ca", "", "trust servers whose certificate this CA `file` (PEM) issued; without it, the server key is pinned in known_hosts")
	fs.BoolVar(&f.trustNew, "trust-new", false, "pin the key of a server seen for the first time (compare the fingerprint with the one the server printed)")
	fs.StringVar(&f.serverName, "server-name", "", "`name` the server certificate must carry (default: the host of -server; none on serial and stdio links)")
	fs.StringVar(&f.name, "name", defaultClientName(), "client `name` to register with on first use")
	fs.StringVar(&f.state, "state", defaultStateDir(), "state `directory`: client IDs, keys and pinned server keys")
	f.chunk = boards.Current.ChunkSize
	fs.Func("chunk", fmt.Sprintf("chunk size in `bytes` to ask for (the server may choose less; default %d, on a serial line %d)", boards.Current.ChunkSize, slowChunk), func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("not a positive number")
		}
		f.chunk, f.chunkSet = n, true
		return nil
	})
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up when the server is silent this `long`")
	fs.BoolVar(&f.quiet, "q", false, "no progress line")
	fs.BoolVar(&f.verbose, "v", false, "a line per file, and the full error chain")
	fs.BoolVar(&f.noResume, "no-resume", false, "start every transfer from zero (by default an interrupted one goes on from where it stopped)")
	fs.BoolVar(&f.compress, "compress", false, "compress file content (the default on -serial and -stdio)")
	fs.BoolVar(&f.noCompress, "no-compress", false, "do not compress file content (the default over TCP)")
	fs.StringVar(&f.alias, "alias", "", "pin the server's key under this `name` rather than its address, like ssh's HostKeyAlias (serial and stdio links have no address: without it, any pinned key is trusted there)")
	fs.StringVar(&f.config, "config", defaultConfigFile(), "config `file` naming devices (ferry help config); -server DEVICE takes a device's transport and trust from it")
	f.transport.register(fs)
	f.mem = registerMemLimit(fs)
	f.fs = fs
}

// applyDevice applies the config file's device that -server names, if
// any; flags given on the command line win over it.
func (f *clientFlags) applyDevice() error {
	cfg, err := loadConfig(f.config, flagSet(f.fs, "config"))
	if err != nil {
		return err
	}
	if d := cfg.devices[f.server]; d != nil {
		return d.apply(f.fs)
	}
	return nil
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

// slowChunk is the chunk a slow link asks for unless -chunk says: a chunk
// is the unit of progress on the receiving side, of a resend and of what a
// resumed upload keeps (a cut loses the chunk it fell in), and 12 KiB is
// 1.07 s at 115200 baud. Its cost: with compact requests (feature short)
// a 12 KiB chunk adds 23 bytes, fewer per byte of file than the 39 of a
// 16 KiB chunk before them. Over cmd/linesim (docs/BENCHMARKS.md, "Slow
// links", alternating with 16 KiB, 2026-12-03): a 256 KiB upload cut at half and resumed took
// 1.073-1.079x one uninterrupted run, against 1.107-1.111x; the clean
// 128 KiB and 256 KiB uploads took as long (11.60-11.65 s against
// 11.62-11.65 s; 22.99-23.11 s against 23.02-23.05 s).
const slowChunk = 12 << 10

// askChunk is the chunk to ask the server for.
func (f *clientFlags) askChunk() int {
	if f.transport.slow() && !f.chunkSet {
		return slowChunk
	}
	return f.chunk
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
	out     io.Writer // results: stdout, or stderr when stdout carries -stdio
	meter   *meter    // the progress bar on stderr; also where notices go
	verbose bool      // -v
}

// connect dials, authenticates the server and registers or reconnects.
// Nothing is written to the state directory before the server is
// authenticated.
func (f *clientFlags) connect(stderr io.Writer) (*session, error) {
	f.mem.apply()
	showChain = f.verbose
	if err := f.applyDevice(); err != nil {
		return nil, err
	}
	if err := checkAlias(f.alias); err != nil {
		return nil, err
	}
	tr, err := f.trust(stderr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	conn, link, err := f.transport.dial(ctx, f.address())
	cancel()
	if err != nil {
		return nil, err
	}
	s := &session{out: os.Stdout, meter: newMeter(stderr, f.quiet, f.verbose)}
	if f.transport.stdio {
		s.out = stderr // stdout carries the protocol
	}
	c, err := client.Connect(conn, client.Config{
		State: tr.state, Name: f.name, Verify: tr.verifier(link), Identify: tr.identifier(link),
		Chunk: f.askChunk(), Timeout: f.timeout, Progress: s.meter.update,
		Compress: f.compressLevel(), NoResume: f.noResume, Resumed: s.meter.resumed,
		SlowLink: f.transport.slow(), Link: cmp.Or(f.alias, link),
	})
	if err != nil {
		s.meter.finish()
		return nil, err
	}
	s.Client = c
	return s, nil
}

// showChain is -v of the client command running: exitCode prints the
// whole error chain after the one-line message.
var showChain bool

// trust is how a session authenticates the server, by CA or by a pinned
// key, and names it in the state directory: by its key, or by its CA and
// certificate name, whatever link it was reached over (client.KeyID,
// client.CAID).
type trust struct {
	state client.State
	roots *x509.CertPool   // -ca; nil: pinned keys
	name  string           // CA: the name the certificate must carry ("": none checked)
	pins  crypt.KnownHosts // pinned keys
	pin   crypt.Pin        // the name the key is pinned under, -trust-new
}

// trust reads what the flags say about trusting the server.
func (f *clientFlags) trust(stderr io.Writer) (*trust, error) {
	t := &trust{state: client.State{Dir: f.state}}
	if f.ca != "" {
		roots, err := crypt.LoadCertPool(f.ca)
		if err != nil {
			return nil, err
		}
		t.roots, t.name = roots, f.serverName
		if t.name == "" && !f.transport.serialOrStdio() {
			t.name = hostOf(f.address())
		}
		return t, nil
	}
	t.pins = crypt.KnownHosts{Path: filepath.Join(f.state, "known_hosts")}
	t.pin = crypt.Pin{Name: f.alias, AcceptNew: f.trustNew,
		Notify: func(msg string) { fmt.Fprintf(stderr, "ferry: %s\n", safe.Text(msg)) }}
	if t.pin.Name == "" && !f.transport.serialOrStdio() {
		t.pin.Name = f.address()
	}
	return t, nil
}

// verifier checks the server's chain: by CA when -ca is given, else by
// the key pinned for it in STATE/known_hosts. link is the transport's name
// for the link ("host:port", "serial:DEV", "stdio").
func (t *trust) verifier(link string) func([]*x509.Certificate) error {
	if t.roots != nil {
		return crypt.CAVerifier(t.roots, t.name)
	}
	p := t.pin
	p.Link = link
	return crypt.PinVerifier(t.pins, p)
}

// identifier names the authenticated server in the state directory. A
// server first pinned by its key keeps that registration when trusted
// through its CA. The first release kept a server's identity under the
// link's name; such a file is adopted by the first server authenticated on
// that link that the first release would have accepted there too: any, by
// CA; by pinned key, the one pinned under the link's name, if any is.
func (t *trust) identifier(link string) func([]*x509.Certificate) (string, error) {
	return func(chain []*x509.Certificate) (string, error) {
		id := client.KeyID(chain[0])
		if t.roots != nil {
			root, err := t.root(chain)
			if err != nil {
				return "", err
			}
			id = client.CAID(root, chain[0])
			if _, err := t.state.Share(client.KeyID(chain[0]), id); err != nil {
				return "", err
			}
		} else if old, err := t.pins.Lookup(link); err != nil || old != "" && old != crypt.Fingerprint(chain[0]) {
			return id, err
		}
		_, err := t.state.Adopt(link, id)
		return id, err
	}
}

// root returns the CA certificate a verified chain leads to.
func (t *trust) root(chain []*x509.Certificate) (*x509.Certificate, error) {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{Roots: t.roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", crypt.ErrUntrusted, safe.Error(err))
	}
	c := chains[0]
	return c[len(c)-1], nil
}

// checkAlias refuses an alias that could be taken for an address or a
// link in known_hosts, or would break its lines.
func checkAlias(alias string) error {
	for _, r := range alias {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("-alias %q: use letters, digits, '.', '-' and '_' only", alias)
		}
	}
	if alias == "stdio" {
		return errors.New(`-alias "stdio" is the name the first release pinned stdio links under; choose another`)
	}
	return nil
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
