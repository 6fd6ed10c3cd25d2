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
	// CompressLevel is the flate level of the downloads it compresses for
	// clients that asked (feature compress); default xfer.LevelFast.
	CompressLevel int
	// FirstRelease makes the server speak as the first release did (no
	// features), to test that clients still work with it.
	FirstRelease bool
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
	if c.CompressLevel == 0 {
		c.CompressLevel = xfer.LevelFast
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Server serves ferry clients. Create it with New.
type Server struct {
	cfg    Config
	wg     sync.WaitGroup
	mu     sync.Mutex
	active map[link.Conn]struct{}
	pool   *xfer.Pool // rings of the receptions pipelined at once, one per CPU
	pub    *published // the -publish folder, or nil
}

// New returns a Server; cfg.Identity and cfg.Store must be set.
func New(cfg Config) *Server {
	if cfg.Identity == nil || cfg.Store == nil {
		panic("server: internal error: Config without Identity or Store")
	}
	cfg.setDefaults()
	return &Server{cfg: cfg, active: map[link.Conn]struct{}{}, pool: xfer.NewPool(max(runtime.GOMAXPROCS(0), 2))}
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
// done or l fails. On return it has closed l and waited for the sessions:
// those mid-upload get grace to finish, then their links are closed.
func (s *Server) Serve(ctx context.Context, l link.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var err error
	for {
		var c link.Conn
		c, err = l.Accept()
		if err != nil {
			break
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.ServeConn(c)
		}()
	}
	l.Close()
	s.drain(10 * time.Second)
	// A closed listener, or a serial line or stdin that reached its end,
	// is a normal end of service.
	if ctx.Err() != nil || errors.Is(err, link.ErrClosed) || errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("server: accept on %s: %w", l.Addr(), err)
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

// ServeConn runs one session on c and closes c. The error says why the
// session ended; nil for a client that said goodbye.
func (s *Server) ServeConn(c link.Conn) error {
	s.mu.Lock()
	s.active[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.active, c)
		s.mu.Unlock()
		c.Close()
	}()
	c.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	features := crypt.AllFeatures
	if s.cfg.FirstRelease {
		features = 0
	}
	sess, err := crypt.Server(c, &crypt.ServerConfig{Identity: s.cfg.Identity, Suites: s.cfg.Suites, MaxChunk: s.cfg.MaxChunk, Features: features})
	if err != nil {
		s.cfg.Logf("handshake failed: %v", err)
		return err
	}
	h := &session{srv: s, Session: sess}
	err = h.run()
	if err != nil {
		s.cfg.Logf("session %s ended: %v", h.who(), err)
	}
	return err
}
