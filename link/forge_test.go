package link

import (
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"ferry/link/linktest"
)

// forger sits on the client's end of a line, as an attacker on the cable
// can: the CRCs are no MAC and the session ID travels in the clear in SYN.
// It drops the first transmission of DATA frame drop and forges the
// server's ACK of it. With every set it then also cuts the server's frames
// and answers every frame the client sends with a forged ACK, so that the
// client believes everything arrived and hears a live peer. With stubborn
// set it replaces every transmission of frame drop with the client's ACK,
// so that the server keeps hearing the client but never gets the frame.
type forger struct {
	io.ReadWriteCloser // the client's end of the line
	drop               uint8
	every, stubborn    bool

	pr      *io.PipeReader // what the client reads: the line's bytes and forged frames
	pw      *io.PipeWriter
	dropped atomic.Bool
	sid     uint32 // owned by Write (the mux's writer)
	cum     uint8  // the ack to forge
	buf     [MaxFrame]byte
}

func newForger(end io.ReadWriteCloser, drop uint8, every, stubborn bool) *forger {
	f := &forger{ReadWriteCloser: end, drop: drop, every: every, stubborn: stubborn}
	f.pr, f.pw = io.Pipe()
	go func() {
		b := make([]byte, MaxFrame)
		for {
			n, err := end.Read(b)
			if n > 0 && !(f.every && f.dropped.Load()) {
				f.pw.Write(b[:n])
			}
			if err != nil {
				f.pw.CloseWithError(err)
				return
			}
		}
	}()
	return f
}

func (f *forger) Read(p []byte) (int, error) { return f.pr.Read(p) }

// Write sees whole frames: the mux writes one frame a call.
func (f *forger) Write(b []byte) (int, error) {
	h, ok := parseHeader(b, true)
	if ok && h.typ == typeSyn {
		f.sid, _, _ = parseSetup(b[HeaderSize:])
	}
	if !ok || !keyed(h.typ) {
		return f.ReadWriteCloser.Write(b)
	}
	seq := h.typ == typeData || h.typ == typeFin
	if seq {
		f.cum = h.seq + 1
	}
	drop := seq && h.seq == f.drop && (f.stubborn || !f.dropped.Load())
	if !f.stubborn && (drop || f.every && f.dropped.Load()) {
		f.dropped.Store(true)
		f.pw.Write(putFrame(f.buf[:], header{typ: typeAck, ack: f.cum}, nil, sessionKey(f.sid, dirServer), true))
	}
	if drop && f.stubborn {
		b = putFrame(f.buf[:], header{typ: typeAck, ack: h.ack}, nil, sessionKey(f.sid, dirClient), true)
	} else if drop {
		return len(b), nil
	}
	return f.ReadWriteCloser.Write(b)
}

func (f *forger) Close() error {
	f.pw.Close()
	return f.ReadWriteCloser.Close()
}

// An attacker on a -stdio line who drops a DATA frame and forges its ACK
// can cut the session but not make it hang: both sides fail within about
// the peer timeout, though each keeps hearing valid frames. So does a
// line that never lets the last frame through (frames 0-3 carry 256 bytes
// each: the sizer starts there). No deadline is set: the link alone must
// end the session.
func TestForgedAck(t *testing.T) {
	const peerTimeout = 2 * time.Second
	for _, tc := range []struct {
		name            string
		every, stubborn bool // see forger
		size            int
	}{{"one", false, false, 256 << 10}, {"every", true, false, 256 << 10}, {"stubborn", false, true, 1 << 10}} {
		t.Run(tc.name, func(t *testing.T) {
			line := linktest.NewLine(linktest.Config{}) // a pipe, as -stdio
			defer line.Close()
			f := newForger(line.End(0), 3, tc.every, tc.stubborn)
			c, s, l := pair(t, f, line.End(1), PortConfig{PeerTimeout: peerTimeout})
			defer l.Close()
			defer c.Close()
			cerr, serr := make(chan error, 1), make(chan error, 1)
			go func() {
				_, err := c.Write(random(tc.size))
				if err == nil && !tc.every {
					_, err = c.Read(make([]byte, 1))
				}
				cerr <- err
			}()
			go func() { _, err := io.Copy(io.Discard, s); serr <- err }()
			// The stall limit (PeerTimeout + 4 s), the other side's peer
			// timeout after that, and slack for a loaded machine.
			bound := 2*peerTimeout + 8*time.Second
			hang := time.After(bound)
			for _, side := range []struct {
				name string
				err  chan error
			}{{"server", serr}, {"client", cerr}} {
				if tc.every && side.name == "client" {
					break // it believes the data arrived; its peer's answer never comes
				}
				select {
				case err := <-side.err:
					t.Logf("%s: %v", side.name, err)
					if !errors.Is(err, ErrStalled) && !errors.Is(err, ErrPeerTimeout) {
						t.Errorf("%s: %v, want ErrStalled or ErrPeerTimeout", side.name, err)
					}
				case <-hang:
					line.Close() // unblocks the deferred Close
					t.Fatalf("%s still blocked after %v, peer timeout %v", side.name, bound, peerTimeout)
				}
			}
		})
	}
}
