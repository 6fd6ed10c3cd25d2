package link

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// PortConfig configures the link over a serial port, stdio or a pipe.
// The zero value suits a pipe; set Baud for a serial line.
type PortConfig struct {
	Baud   int  // line rate, for timers and pacing; 0 = unknown or fast (a pipe): no pacing
	RTSCTS bool // use hardware flow control (OpenSerial only)

	MaxPayload  int           // largest frame payload sent; 0 = the most a session allows (MaxPayload, MaxLongPayload with FEC)
	Window      int           // payload bytes in flight and buffered each way; 0 = one second of line, 16..256 KiB
	KeepAlive   time.Duration // idle time before a keepalive frame; 0 = 1s
	PeerTimeout time.Duration // silence after which the session fails; 0 = 60s
	NoFEC       bool          // neither offer nor accept parity (docs/LINK.md 1.1); a client offers it only with a Baud

	// derived by normalize
	byteTime    time.Duration // time of one byte on the line (10 bits), 0 if unpaced
	minRTO      time.Duration
	initRTO     time.Duration
	maxRTO      time.Duration
	synInterval time.Duration
}

// writeFull writes all of b. A serial port may take only part of a frame
// and report no error: go.bug.st/serial makes one write(2), and a tty
// write interrupted by a signal (the Go runtime preempts with SIGURG)
// returns what it has copied so far, 2048 bytes on Linux. The rest of the
// frame would be lost and the frame resent after a timeout.
func writeFull(w io.Writer, b []byte) error {
	for stalls := 0; len(b) > 0; {
		n, err := w.Write(b)
		if err != nil {
			return err
		}
		if n == 0 {
			if stalls++; stalls == maxWriteStalls {
				return io.ErrShortWrite
			}
		} else {
			stalls = 0
		}
		b = b[n:]
	}
	return nil
}

// maxWriteStalls is how many writes in a row may take no bytes before the
// port counts as broken.
const maxWriteStalls = 100

// pacingLead is how far ahead of the line the writer may be. It bounds the
// latency an ack suffers behind queued frames.
const pacingLead = 50 * time.Millisecond

// setupFlags returns the setup flags a client offers or a server
// accepts. A client offers parity on a line with a rate (a serial line, a
// console behind stdio): a pipe does not flip bits. A server accepts it
// whenever it is offered.
func (c PortConfig) setupFlags(server bool) byte {
	if c.NoFEC || (!server && c.Baud <= 0) {
		return 0
	}
	return setupFEC
}

func (c PortConfig) normalize() PortConfig {
	if c.MaxPayload <= 0 || c.MaxPayload > MaxLongPayload {
		c.MaxPayload = MaxLongPayload
	}
	c.MaxPayload = max(c.MaxPayload, sizerMin)
	if c.Baud > 0 {
		c.byteTime = time.Duration(int64(10*time.Second) / int64(c.Baud))
	}
	if c.Window <= 0 {
		c.Window = 256 << 10
		if c.Baud > 0 {
			c.Window = min(max(c.Baud/10, 16<<10), 256<<10)
		}
	}
	c.Window = max(c.Window, 2*c.MaxPayload)
	if c.KeepAlive <= 0 {
		c.KeepAlive = time.Second
	}
	if c.PeerTimeout <= 0 {
		c.PeerTimeout = 60 * time.Second
	}
	// Timers: the retransmission timeout of a frame is its time on the
	// line plus max(minRTO, srtt+4*rttvar), doubled on every timeout up
	// to maxRTO. minRTO absorbs scheduling jitter; losses are normally
	// found by the selective acks long before.
	c.minRTO = 200 * time.Millisecond
	c.initRTO = 300 * time.Millisecond
	c.maxRTO = 2 * time.Second
	c.synInterval = 300 * time.Millisecond
	return c
}

// DialPort starts a link session as the client on port and returns it as
// a reliable stream. It sends SYN frames until the server answers, ctx
// ends or, if ctx has no deadline, cfg.PeerTimeout passes; bytes before
// the answer (a login banner, a shell's echo) are skipped. DialPort takes
// ownership of port: the returned Conn's Close closes it, and so does a
// failed DialPort.
func DialPort(ctx context.Context, port io.ReadWriteCloser, cfg PortConfig) (Conn, error) {
	m := newMux(port, cfg, false)
	s := newSession(m, randomSID(), true)
	s.state = stSynSent
	m.cur = s
	m.dec.setKey(sessionKey(s.sid, dirServer), false) // parity once the SYNACK says so
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.cfg.PeerTimeout)
		defer cancel()
	}
	m.start()
	m.mu.Lock()
	for s.state == stSynSent && s.err == nil {
		if ctx.Err() != nil {
			s.fail(fmt.Errorf("link: no answer from the other end (is ferry serving there?): %w", ctx.Err()))
			break
		}
		m.mu.Unlock()
		select {
		case <-m.accSig:
		case <-ctx.Done():
		case <-s.dead:
		}
		m.mu.Lock()
	}
	err := s.err
	m.mu.Unlock()
	if err != nil {
		m.close()
		return nil, err
	}
	return s, nil
}

func randomSID() uint32 {
	var b [4]byte
	for {
		rand.Read(b[:])
		if sid := binary.LittleEndian.Uint32(b[:]); sid != 0 {
			return sid
		}
	}
}

// ListenPort serves link sessions on port: Accept yields one Conn per
// session, one after another; a client that starts a new session ends the
// previous one. The listener owns port; Close closes it.
func ListenPort(port io.ReadWriteCloser, cfg PortConfig) (Listener, error) {
	m := newMux(port, cfg, true)
	m.start()
	return &portListener{m: m, name: portName(port)}, nil
}

type portListener struct {
	m    *mux
	name string
}

// Accept waits for a client's SYN and returns its session.
func (l *portListener) Accept() (Conn, error) {
	m := l.m
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if s := m.pending; s != nil {
			m.pending = nil
			if s.err == nil {
				return s, nil
			}
			continue
		}
		select {
		case <-m.done:
			return nil, ErrClosed
		default:
		}
		if m.err != nil {
			return nil, m.err
		}
		m.mu.Unlock()
		select {
		case <-m.accSig:
		case <-m.done:
		}
		m.mu.Lock()
	}
}

func (l *portListener) Close() error { l.m.close(); return nil }
func (l *portListener) Addr() string { return l.name }

// peerName is portName with the transport said: "serial:/dev/ttyS0".
func peerName(port io.ReadWriteCloser) string {
	if p, ok := port.(*serialPort); ok {
		return "serial:" + p.name
	}
	return portName(port)
}

func portName(port io.ReadWriteCloser) string {
	if n, ok := port.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "link"
}
