// Package server is the server side of ferry's secure protocol (version 4):
// it accepts sessions from a link.Listener, runs the handshake, registers
// and authenticates clients, receives uploads chunk by chunk into the store
// and confirms them with the client's checksum verdict. Memory per session
// is bounded whatever the file size: a few batches of chunks for the
// uploads pipelined on a goroutine of their own (one per CPU at a time),
// one chunk for the others. The classic protocol (version 3) lives in
// package classic.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ferry/crypt"
	"ferry/fsstore"
	"ferry/link"
	"ferry/xfer"
)

// Config configures a Server. Zero durations and sizes take the defaults.
type Config struct {
	Identity *crypt.Identity
	Store    *fsstore.Store
	Suites   []crypt.Suite // nil: any
	MaxChunk int           // largest chunk accepted; default 64 KiB
	// MaxFileSize bounds one upload; default 1 TiB.
	MaxFileSize int64
	// HandshakeTimeout bounds the handshake; default 30 s.
	HandshakeTimeout time.Duration
	// IdleTimeout bounds the wait for each frame after it; default 2 min.
	IdleTimeout time.Duration
	// MaxResends is how many 1030s one upload may have; default 3.
	MaxResends int
	// ResumeMin is the smallest upload kept when cut off, for resume;
	// default 64 KiB.
	ResumeMin int64
	// PartialMaxAge drops a partial upload not written for this long;
	// default 7 days. PartialMaxTotal bounds the bytes of all partial
	// uploads, oldest dropped first; default 4 GiB.
	PartialMaxAge   time.Duration
	PartialMaxTotal int64
	// SlowLink says the server serves a serial line (or stdio at a line
	// rate): uploads are written a chunk at a time as they arrive, not in
	// batches, so that a server killed in the middle keeps all but the
	// last chunk for resume (on a slow line the CPU has time to spare).
	SlowLink bool
	// CompressLevel is the flate level of the downloads it compresses for
	// clients that asked (feature compress); default xfer.LevelFast.
	CompressLevel int
	// FirstRelease makes the server speak as the first release did (no
	// features), to test that clients still work with it.
	FirstRelease bool
	// MaxSessions bounds the sessions served at once, and so the
	// descriptors and memory they hold; default 256. Serve closes a
	// connection over it at once, unless it can take the place of a
	// handshake (MaxHandshakes).
	MaxSessions int
	// MaxHandshakes bounds the sessions still in the handshake, which
	// anyone can open; default 64, at most MaxSessions. A connection over
	// it takes the place of the one that has waited longest for its
	// handshake, silent ones first (past a 10 ms grace), which Serve
	// closes: idle connections cannot lock honest clients out, who send
	// their hello at once.
	MaxHandshakes int
	// Event, if not nil, receives a line per session and per operation
	// (events.go); nil writes them as text through Logf.
	Event func(Event)
	// Logf reports sessions and errors; nil discards.
	Logf func(format string, args ...any)
	// corrupt, when set by tests, alters the checksum sent in 2103.
	corrupt func(sum uint32) uint32
}

func (c *Config) setDefaults() {
	if c.MaxChunk == 0 {
		c.MaxChunk = crypt.DefaultChunk
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = 1 << 40
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = 30 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.MaxResends == 0 {
		c.MaxResends = 3
	}
	if c.ResumeMin == 0 {
		c.ResumeMin = 64 << 10
	}
	if c.PartialMaxAge == 0 {
		c.PartialMaxAge = 7 * 24 * time.Hour
	}
	if c.PartialMaxTotal == 0 {
		c.PartialMaxTotal = 4 << 30
	}
	if c.CompressLevel == 0 {
		c.CompressLevel = xfer.LevelFast
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxHandshakes <= 0 {
		c.MaxHandshakes = min(DefaultMaxHandshakes, c.MaxSessions)
	}
	c.MaxHandshakes = min(c.MaxHandshakes, c.MaxSessions)
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Session caps: defaults of Config.MaxSessions and Config.MaxHandshakes.
const (
	DefaultMaxSessions   = 256
	DefaultMaxHandshakes = 64
)

// Server serves ferry clients. Create it with New.
type Server struct {
	cfg Config
	wg  sync.WaitGroup

	mu       sync.Mutex
	active   map[*watched]struct{} // sessions being served
	shaking  map[*watched]struct{} // those in the handshake
	overload overload
	pool     *xfer.Pool // rings of the receptions pipelined at once, one per CPU
	pub      *published // the -publish folder, or nil
}

// overload counts what the caps turned away since the server reached one,
// for the log.
type overload struct {
	since, last      time.Time // the first and the latest connection turned away; zero while under the caps
	refused, dropped int
}

// New returns a Server; cfg.Identity and cfg.Store must be set.
func New(cfg Config) *Server {
	if cfg.Identity == nil || cfg.Store == nil {
		panic("server: internal error: Config without Identity or Store")
	}
	cfg.setDefaults()
	return &Server{cfg: cfg, active: map[*watched]struct{}{}, shaking: map[*watched]struct{}{},
		pool: xfer.NewPool(max(runtime.GOMAXPROCS(0), 2))}
}

// Publish offers the folder dir, read-only, to every authenticated client
// as pub/. Call it before Serve.
func (s *Server) Publish(dir string) error {
	p, err := openPublished(dir)
	if err != nil {
		return err
	}
	s.pub = p
	return nil
}

// Serve accepts sessions from l, each in its own goroutine, until ctx is
// done or l fails for good. Temporary Accept errors, such as running out of
// file descriptors (EMFILE), are retried after a pause. On return it has
// closed l and waited for the sessions: those mid-upload get grace to
// finish, then their links are closed.
func (s *Server) Serve(ctx context.Context, l link.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	ectx, cancel := context.WithCancel(ctx)
	expired := make(chan struct{})
	go func() { defer close(expired); s.expirePartials(ectx) }()
	defer func() { cancel(); <-expired }()
	err := s.acceptLoop(ctx, l)
	l.Close()
	if ctx.Err() != nil {
		s.mu.Lock()
		n := len(s.active)
		s.mu.Unlock()
		s.cfg.Logf("stopping: %d sessions in progress get up to 10 s to finish; interrupted uploads are kept for resume or removed", n)
	}
	s.drain(10 * time.Second)
	// A closed listener, or a serial line or stdin that reached its end,
	// is a normal end of service.
	if ctx.Err() != nil || errors.Is(err, link.ErrClosed) || errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("server: accept on %s: %w", l.Addr(), err)
}

// Accept backoff after a temporary error, as net/http does.
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

// acceptLoop accepts and admits sessions until Accept fails with an error
// that is not temporary, or ctx is done. After a temporary error it waits
// 5 ms, doubling up to 1 s while the errors go on: sessions ending free
// the descriptors, and the connections waiting in the backlog are served.
// Out of descriptors, it first drops a handshake (see victim) to make
// room for the connection waiting.
func (s *Server) acceptLoop(ctx context.Context, l link.Listener) error {
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if !temporary(err) || ctx.Err() != nil {
				return err
			}
			wait := minAcceptDelay
			if !outOfDescriptors(err) || !s.makeRoom() {
				delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
				wait = delay
				s.cfg.Logf("accept on %s: %v; retrying in %v", l.Addr(), err, delay)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		delay = 0
		w := watch(c)
		if !s.admit(w) {
			c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(w)
		}()
	}
}

// temporary reports an error worth retrying, as net/http decides it: the
// net package marks EMFILE, ENFILE, ECONNABORTED, ECONNRESET and timeouts
// from accept so.
func temporary(err error) bool {
	t, ok := errors.AsType[interface {
		error
		Temporary() bool
	}](err)
	return ok && t.Temporary()
}

func outOfDescriptors(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// admit decides whether w is served. Under both caps it is. At a cap, w
// takes the place of a session still in its handshake (see victim), if
// one can go; otherwise w is refused.
func (s *Server) admit(w *watched) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.active) < s.cfg.MaxSessions && len(s.shaking) < s.cfg.MaxHandshakes {
		s.underCaps()
		s.track(w)
		return true
	}
	s.overCap("at a cap")
	if !s.dropVictim() {
		s.overload.refused++
		return false
	}
	s.track(w)
	return true
}

// makeRoom drops a handshake when Accept has run out of file descriptors,
// to free one for the connection waiting; false if none can go.
func (s *Server) makeRoom() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overCap("out of file descriptors")
	return s.dropVictim()
}

// dropVictim ends the victim's session at once: its crypt.Server fails on
// the closed link. false if there is no victim. Called with s.mu held.
func (s *Server) dropVictim() bool {
	v := s.victim()
	if v == nil {
		return false
	}
	s.overload.dropped++
	delete(s.active, v)
	delete(s.shaking, v)
	v.Close()
	return true
}

// victim chooses the handshake to drop for a newer connection: the one
// that has waited longest among those on which the client has sent
// nothing, else among the others; none while that one is in its grace.
// Honest clients send their hello at once, so a flood of silent
// connections replaces only its own. Called with s.mu held; it looks at
// MaxHandshakes sessions at most, and only at a cap.
func (s *Server) victim() *watched {
	var silent, spoke *watched
	for w := range s.shaking {
		if !w.heard.Load() {
			if silent == nil || w.since.Before(silent.since) {
				silent = w
			}
		} else if spoke == nil || w.since.Before(spoke.since) {
			spoke = w
		}
	}
	v := silent
	if v == nil {
		v = spoke
	}
	if v == nil || time.Since(v.since) < handshakeGrace {
		return nil
	}
	return v
}

// handshakeGrace is how long a new session is safe from being dropped for
// a newer one: long enough for its goroutine to run and read the hello,
// which a client sends with the last packet of the TCP handshake. Without
// it, a burst of connections waiting in the backlog, accepted within
// microseconds, could replace an honest one before it was read.
const handshakeGrace = 10 * time.Millisecond

// track counts w as a session in the handshake. Called with s.mu held.
func (s *Server) track(w *watched) {
	s.active[w] = struct{}{}
	s.shaking[w] = struct{}{}
}

// watched is a session's link, noting whether the client has sent
// anything yet, for the choice of victim.
type watched struct {
	link.Conn
	since time.Time // admitted
	heard atomic.Bool
}

func watch(c link.Conn) *watched { return &watched{Conn: c, since: time.Now()} }

func (w *watched) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if n > 0 && !w.heard.Load() {
		w.heard.Store(true)
	}
	return n, err
}

// overCap and underCaps log when the server reaches a cap (or runs out
// of descriptors) and when it has been back under them for a second, with
// what it turned away in between, rather than one line per connection.
// Called with s.mu held.
func (s *Server) overCap(why string) {
	s.overload.last = time.Now()
	if !s.overload.since.IsZero() {
		return
	}
	s.overload.since = s.overload.last
	s.cfg.Logf("%s: %d sessions (cap %d), %d of them in the handshake (cap %d); "+
		"new connections replace the oldest handshakes, or are closed",
		why, len(s.active), s.cfg.MaxSessions, len(s.shaking), s.cfg.MaxHandshakes)
}

func (s *Server) underCaps() {
	if s.overload.since.IsZero() || time.Since(s.overload.last) < time.Second {
		return
	}
	o := s.overload
	s.overload = overload{}
	s.cfg.Logf("under the caps again: %d connections closed at once and %d handshakes dropped in %v",
		o.refused, o.dropped, o.last.Sub(o.since).Round(time.Millisecond))
}

// load returns the sessions served and, of them, those in the handshake.
func (s *Server) load() (sessions, handshakes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.active), len(s.shaking)
}

// drain waits for active sessions, closing their links after grace.
func (s *Server) drain(grace time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	s.mu.Lock()
	for c := range s.active {
		c.Close()
	}
	s.mu.Unlock()
	<-done
}

// expirePartials drops old partial uploads at start and every hour, until
// ctx is done.
func (s *Server) expirePartials(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n := s.cfg.Store.ExpirePartials(s.cfg.PartialMaxAge, s.cfg.PartialMaxTotal, time.Now()); n > 0 {
			s.cfg.Logf("dropped %d partial uploads (older than %v, or over %d bytes in all)", n, s.cfg.PartialMaxAge, s.cfg.PartialMaxTotal)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ServeConn runs one session on c and closes c. The error says why the
// session ended; nil for a client that said goodbye. The session counts
// against the caps, but ServeConn does not refuse it.
func (s *Server) ServeConn(c link.Conn) error {
	w := watch(c)
	s.mu.Lock()
	s.track(w)
	s.mu.Unlock()
	return s.serve(w)
}

// serve runs the session of an admitted w and closes it.
func (s *Server) serve(w *watched) error {
	defer func() {
		s.mu.Lock()
		delete(s.active, w)
		delete(s.shaking, w)
		s.mu.Unlock()
		w.Close()
	}()
	w.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	features := crypt.AllFeatures
	if !xfer.Codec {
		features &^= crypt.FeatureCompress
	}
	if s.cfg.FirstRelease {
		features = 0
	}
	sess, err := crypt.Server(w, &crypt.ServerConfig{Identity: s.cfg.Identity, Suites: s.cfg.Suites, MaxChunk: s.cfg.MaxChunk, Features: features})
	s.mu.Lock()
	_, kept := s.shaking[w]
	delete(s.shaking, w)
	s.mu.Unlock()
	if err != nil {
		if kept { // the dropped ones are counted in the overload summary
			s.emit(Event{Kind: "session", Peer: peerOf(w), Duration: time.Since(w.since), Result: "handshake failed: " + err.Error()})
		}
		return err
	}
	h := &session{srv: s, Session: sess, peer: peerOf(w)}
	sess.WriteTimeout = s.cfg.IdleTimeout
	err = h.run()
	h.sessionEnded(w.since, err)
	return err
}
