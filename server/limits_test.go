package server

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"ferry/link"
)

// idleConns opens n TCP connections to addr that never send a byte.
func idleConns(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var cs []net.Conn
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	t.Cleanup(func() {
		for _, c := range cs {
			c.Close()
		}
	})
	return cs
}

// stillOpen returns the indexes of the connections that the server has
// not closed within d, checked together.
func stillOpen(cs []net.Conn, d time.Duration) []int {
	closed := make([]bool, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { closed[i] = closedSoon(c, d) })
	}
	wg.Wait()
	var open []int
	for i, c := range closed {
		if !c {
			open = append(open, i)
		}
	}
	return open
}

// waitLoad waits until srv holds sessions and handshakes as wanted.
func waitLoad(t *testing.T, srv *Server, sessions, handshakes int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, h := srv.load()
		if s == sessions && h == handshakes {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d sessions, %d in the handshake; want %d and %d", s, h, sessions, handshakes)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// closedSoon reports whether the server closed c within d.
func closedSoon(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF
}

func (f *fixture) listen() link.Listener {
	l, err := link.Listen("127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

// TestHandshakeCap: connections that never finish their handshake hold at
// most MaxHandshakes descriptors. A burst of new ones over the cap is
// closed at once (the first ones are in their grace); a connection that
// comes later takes the place of the one that has waited longest, so an
// honest client is served during the flood, not after the handshake
// timeout.
func TestHandshakeCap(t *testing.T) {
	f := newFixture(t, nil)
	cfg := f.cfg
	cfg.MaxSessions, cfg.MaxHandshakes = 16, 4
	srv, _ := f.serveOn(cfg, f.listen())
	begin := time.Now()
	idle := idleConns(t, f.addr, 20)
	burst := time.Since(begin)
	waitLoad(t, srv, 4, 4)
	kept := stillOpen(idle, 2*time.Second)
	if len(kept) != 4 {
		t.Fatalf("idle connections %v of 20 still open with a cap of 4", kept)
	}
	// A burst slower than the grace (under emulation) lets its later
	// connections replace the first ones: any 4 may stay then.
	if burst < handshakeGrace/2 && kept[3] != 3 {
		t.Fatalf("a burst of 20 in %v kept idle connections %v: the first ones, in their grace, were dropped for newer ones", burst, kept)
	}
	t.Logf("a burst of 20 in %v: connections %v kept", burst, kept)
	time.Sleep(handshakeGrace)
	start := time.Now()
	c, err := f.connect(t.TempDir(), "honest")
	if err != nil {
		t.Fatalf("honest client during the flood: %v", err)
	}
	path, _ := randomFile(t, 64<<10)
	if _, err := c.Upload(path, "f"); err != nil {
		t.Fatalf("upload during the flood: %v", err)
	}
	t.Logf("honest connect and 64 KiB upload during the flood: %v", time.Since(start))
	c.Close()
	if !closedSoon(idle[kept[0]], 2*time.Second) {
		t.Error("the oldest idle connection kept; the honest one took whose place?")
	}
	waitLoad(t, srv, 3, 3)
}

// TestSessionCap: with every session past its handshake, a connection
// over MaxSessions is closed at once; once a session ends, the next client
// is served.
func TestSessionCap(t *testing.T) {
	f := newFixture(t, nil)
	cfg := f.cfg
	cfg.MaxSessions, cfg.MaxHandshakes = 2, 2
	srv, _ := f.serveOn(cfg, f.listen())
	a, err := f.connect(t.TempDir(), "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.connect(t.TempDir(), "b")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	waitLoad(t, srv, 2, 0)
	over := idleConns(t, f.addr, 1)[0]
	if !closedSoon(over, 2*time.Second) {
		t.Fatal("connection over MaxSessions not closed at once")
	}
	if _, err := f.connect(t.TempDir(), "c"); err == nil {
		t.Fatal("client over MaxSessions served")
	}
	a.Close()
	waitLoad(t, srv, 1, 0)
	c, err := f.connect(t.TempDir(), "c")
	if err != nil {
		t.Fatalf("client once below the cap: %v", err)
	}
	c.Close()
}

// TestCapDefaults: the caps default to 256 sessions and 64 handshakes, and
// the handshake cap never exceeds the session cap.
func TestCapDefaults(t *testing.T) {
	for _, tc := range []struct{ sessions, handshakes, wantS, wantH int }{
		{0, 0, 256, 64},
		{10, 0, 10, 10},
		{0, 500, 256, 256},
		{100, 20, 100, 20},
	} {
		c := Config{MaxSessions: tc.sessions, MaxHandshakes: tc.handshakes}
		c.setDefaults()
		if c.MaxSessions != tc.wantS || c.MaxHandshakes != tc.wantH {
			t.Errorf("%d/%d: got %d/%d, want %d/%d", tc.sessions, tc.handshakes, c.MaxSessions, c.MaxHandshakes, tc.wantS, tc.wantH)
		}
	}
}

// TestSilentDroppedFirst: at the cap, a connection on which the client has
// sent nothing goes before one that has spoken, even a younger one: a
// flood of silent connections replaces only its own.
func TestSilentDroppedFirst(t *testing.T) {
	f := newFixture(t, nil)
	cfg := f.cfg
	cfg.MaxSessions, cfg.MaxHandshakes = 16, 2
	srv, _ := f.serveOn(cfg, f.listen())
	spoke := idleConns(t, f.addr, 1)[0]
	spoke.Write([]byte{0}) // the first byte of a hello, then nothing
	waitLoad(t, srv, 1, 1)
	silent := idleConns(t, f.addr, 1)[0]
	waitLoad(t, srv, 2, 2)
	time.Sleep(handshakeGrace)
	idleConns(t, f.addr, 1)
	if !closedSoon(silent, 2*time.Second) {
		t.Fatal("the silent connection was kept")
	}
	if closedSoon(spoke, 100*time.Millisecond) {
		t.Fatal("the connection that spoke was dropped before the silent one")
	}
}
