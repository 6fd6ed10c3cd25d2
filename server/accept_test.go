package server

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ferry/link"
)

// flakyListener fails Accept with EMFILE, as a process out of descriptors
// does: while fails is positive, and, if failNext is set, when the next
// connection arrives, which the following Accept then returns (it waited
// in the backlog).
type flakyListener struct {
	link.Listener
	fails    atomic.Int32
	failNext atomic.Bool
	backlog  link.Conn // used by the accepting goroutine only
}

var errEMFILE = &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}

func (l *flakyListener) Accept() (link.Conn, error) {
	if c := l.backlog; c != nil {
		l.backlog = nil
		return c, nil
	}
	if l.fails.Add(-1) >= 0 {
		return nil, errEMFILE
	}
	c, err := l.Listener.Accept()
	if err == nil && l.failNext.Swap(false) {
		l.backlog = c
		return nil, errEMFILE
	}
	return c, err
}

// serveOn serves f's store and identity with cfg on l until the test ends,
// and points f's clients at l.
func (f *fixture) serveOn(cfg Config, l link.Listener) (*Server, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := New(cfg)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	f.t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			f.t.Error("Serve did not return")
		}
	})
	f.addr = l.Addr()
	return srv, done
}

// TestAcceptErrorsRetried: Accept failing with EMFILE (too many open
// files) is retried with a growing pause, not the end of the server; a
// client that comes once descriptors are free again is served.
func TestAcceptErrorsRetried(t *testing.T) {
	f := newFixture(t, nil)
	inner, err := link.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: inner}
	fl.fails.Store(6) // 5+10+20+40+80+160 ms of pauses
	_, done := f.serveOn(f.cfg, fl)
	start := time.Now()
	c, err := f.connect(t.TempDir(), "after-emfile")
	if err != nil {
		select {
		case err := <-done:
			t.Fatalf("Serve ended on EMFILE: %v", err)
		default:
		}
		t.Fatalf("connect after EMFILE: %v", err)
	}
	defer c.Close()
	path, _ := randomFile(t, 10000)
	if _, err := c.Upload(path, "f"); err != nil {
		t.Fatalf("upload after EMFILE: %v", err)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond || waited > 5*time.Second {
		t.Errorf("served after %v, want the backoff's 315 ms or a little more", waited)
	}
}

// TestOutOfDescriptorsDropsOldest: out of descriptors, the server closes
// the oldest handshake to make room for the connection waiting, even under
// its caps (set above the process's descriptor limit).
func TestOutOfDescriptorsDropsOldest(t *testing.T) {
	f := newFixture(t, nil)
	inner, err := link.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: inner}
	srv, _ := f.serveOn(f.cfg, fl)
	idle := idleConns(t, f.addr, 3)
	waitLoad(t, srv, 3, 3)
	time.Sleep(handshakeGrace)
	fl.failNext.Store(true)
	c, err := f.connect(t.TempDir(), "honest")
	if err != nil {
		t.Fatalf("connect out of descriptors: %v", err)
	}
	c.Close()
	if !closedSoon(idle[0], 2*time.Second) {
		t.Error("oldest handshake kept out of descriptors")
	}
	if closedSoon(idle[1], 200*time.Millisecond) {
		t.Error("more than the oldest handshake dropped")
	}
}
