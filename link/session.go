package link

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// Errors of a link session.
var (
	// ErrPeerTimeout means nothing valid came from the peer for
	// PortConfig.PeerTimeout: the cable is out or the peer is gone.
	ErrPeerTimeout = errors.New("link: peer silent too long; check the cable and that ferry runs at the other end")
	// ErrReset means the peer ended the session abruptly, started a new
	// one or no longer knows it (it restarted); start again.
	ErrReset = errors.New("link: session reset by peer; start again")
	// ErrStalled means the peer is heard but the data does not get
	// through: a frame the peer never acknowledges, a gap it never fills,
	// or an ack for data it did not get. A very bad line does that, and so
	// does someone dropping or forging frames on it (the CRCs are no MAC).
	ErrStalled = errors.New("link: no progress although the other side answers (a bad line, or frames dropped or forged on it); start again")
	// ErrBadSetup means a session setup frame had an unknown version.
	ErrBadSetup = errors.New("link: peer speaks another link protocol version")
)

// errClosed is returned by Read and Write on a Conn after Close.
var errClosed = fmt.Errorf("link: use of closed connection: %w", net.ErrClosed)

// Setup payload of SYN and SYNACK frames.
const (
	setupMagic   = "FLNK"
	setupVersion = 1
	setupSize    = 9 // magic 4 + version 1 + session ID 4 (LE); then optional flags 1
)

// Setup flags: what the sender of a SYN offers, and of a SYNACK accepts.
// Peers of 2026-12-02 and before send no flags byte and ignore it.
const (
	// setupFEC: keyed frames carry BCH parity (fec.go) and DATA frames may
	// be long (MaxLongPayload). Bit 0 was a pre-release FEC (3 bits, 4 KiB
	// frames), never released: it is neither sent nor accepted.
	setupFEC = 1 << 1
)

const (
	stSynSent = iota // client: SYN sent, waiting for SYNACK
	stOpen
)

// session is one link session: a Conn. All fields below m are guarded by
// m.mu.
type session struct {
	m      *mux
	sid    uint32
	txKey  uint32 // CRC-32C key state of the frames this side sends
	client bool
	fec    bool // negotiated: keyed frames carry parity both ways

	state   int
	err     error // terminal error
	closing bool  // Close called: send FIN after the queued data
	closed  bool  // Close done: drop what arrives
	rdl     time.Time
	wdl     time.Time

	readSig  chan struct{} // something to read, or state changed
	dead     chan struct{} // closed when err is set
	writeSig chan struct{} // room to write, or state changed

	// send side
	sendQ         ring
	tx            [256]txSlot
	base, next    uint8 // oldest unacked, next new sequence number
	inflightBytes int
	nlost         int
	txCount       uint64 // serial number of the last transmission
	ackedTx       uint64 // highest serial number known to have arrived
	finQueued     bool
	finAcked      bool
	srtt, rttvar  time.Duration
	backoff       uint
	pollOwed      bool
	ackedAt       time.Time // the latest ack of new data (checkTimers)
	size          sizer
	cwnd          int           // congestion window when the rate is unknown (vegas.go)
	minRTT        time.Duration // smallest RTT sample
	perByte       float64       // smoothed RTT sample per frame byte, ns (rate unknown)
	nextAdjust    time.Time     // next cwnd adjustment

	// receive side
	recvQ ring
	rx    [256]rxSlot
	rnext uint8    // next sequence number to deliver; the cumulative ack
	spare [][]byte // slot buffers of frames acked or delivered, for reuse
	// With FEC, ACK and POLL frames carry in seq the bits corrected in
	// the session so far, modulo 256: fixBase is the decoder's count when
	// the session began, peerFixed the peer's count in its latest ack.
	fixBase   int
	peerFixed uint8
	held      int // frames in rx not yet delivered
	peerFin   bool
	ackOwed   bool

	lastHeard time.Time
	progress  time.Time // last progress, or last time nothing was awaited (checkProgress)
	lastSent  time.Time
	lastPoll  time.Time // last POLL sent to a silent peer (pollSilent)
	nextSyn   time.Time
	lastSyn   time.Time
	stats     Stats
}

// Stats counts what a session did, for logs and tests.
type Stats struct {
	BytesSent   int64 // frame bytes written, retransmissions included
	FramesSent  int   // data frames acknowledged
	Retransmits int   // frames found lost by a later frame's ack
	Timeouts    int   // frames retransmitted after a timeout
}

func newSession(m *mux, sid uint32, client bool) *session {
	dir := byte(dirServer)
	if client {
		dir = dirClient
	}
	now := time.Now()
	return &session{
		m: m, sid: sid, client: client, txKey: sessionKey(sid, dir),
		readSig:  make(chan struct{}, 1),
		writeSig: make(chan struct{}, 1),
		dead:     make(chan struct{}),
		sendQ:    newRing(m.cfg.Window),
		recvQ:    newRing(m.cfg.Window),
		size:     newSizer(min(m.cfg.MaxPayload, MaxPayload)),
		cwnd:     vegasStart,
		state:    stOpen, lastHeard: now, lastSent: now, progress: now,
	}
}

// setupPayload returns a SYN/SYNACK payload.
func setupPayload(sid uint32, flags byte) []byte {
	var b [setupSize + 1]byte
	copy(b[:4], setupMagic)
	b[4] = setupVersion
	binary.LittleEndian.PutUint32(b[5:9], sid)
	b[9] = flags
	return b[:]
}

// parseSetup decodes a SYN/SYNACK payload. Bytes after the flags are
// ignored, so that later versions can add fields.
func parseSetup(p []byte) (sid uint32, flags byte, err error) {
	if len(p) < setupSize || string(p[:4]) != setupMagic {
		return 0, 0, errors.New("link: bad setup frame")
	}
	if p[4] != setupVersion {
		return 0, 0, ErrBadSetup
	}
	if len(p) > setupSize {
		flags = p[setupSize]
	}
	return binary.LittleEndian.Uint32(p[5:9]), flags, nil
}

// useFEC sets what the setup negotiated: with FEC, frames carry parity,
// DATA frames may be long and new frames start at sizerStartFEC.
func (s *session) useFEC(on bool) {
	s.fec = on
	s.size.h = s.overhead()
	s.fixBase = s.m.dec.corrected
	if on {
		s.size.max = s.m.cfg.MaxPayload
		s.size.ceil = min(sizerStartFEC, s.size.max)
	}
}

// buffer returns a slot buffer that holds any payload of the session: a
// spare one, or a new one. There are only as many as frames in flight
// and held, not one for each of the 256 sequence numbers. Every buffer
// of a session has its size: the first is made once the setup has
// settled s.fec.
func (s *session) buffer() []byte {
	if n := len(s.spare); n > 0 {
		b := s.spare[n-1]
		s.spare = s.spare[:n-1]
		return b
	}
	if s.fec {
		return make([]byte, MaxLongPayload)
	}
	return make([]byte, MaxPayload)
}

// overhead is what a data frame of the session adds to its payload.
func (s *session) overhead() int {
	if s.fec {
		return Overhead + FECSize
	}
	return Overhead
}

// fail ends the session with err, waking everyone.
func (s *session) fail(err error) {
	if s.err != nil {
		return
	}
	s.err = err
	close(s.dead)
	s.m.kick()
}

// Read reads from the stream. It returns io.EOF after the peer's Close.
func (s *session) Read(p []byte) (int, error) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if s.closed {
			return 0, errClosed
		}
		if s.recvQ.n > 0 {
			if len(p) == 0 {
				return 0, nil
			}
			n := s.recvQ.read(p)
			s.deliver()
			m.kick()
			return n, nil
		}
		switch {
		case s.peerFin:
			return 0, io.EOF
		case s.err != nil:
			return 0, s.err
		case expired(s.rdl):
			return 0, os.ErrDeadlineExceeded
		}
		m.wait(s.readSig, s.dead, s.rdl)
	}
}

// Write queues p for sending. It blocks while the send buffer is full.
func (s *session) Write(p []byte) (int, error) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for {
		switch {
		case s.closing || s.closed:
			return n, errClosed
		case s.err != nil:
			return n, s.err
		case len(p) == 0:
			return n, nil
		case expired(s.wdl):
			return n, os.ErrDeadlineExceeded
		}
		if k := s.sendQ.write(p); k > 0 {
			n += k
			p = p[k:]
			m.kick()
			continue
		}
		m.wait(s.writeSig, s.dead, s.wdl)
	}
}

// Close flushes what was written, sends FIN and waits until the peer
// acknowledged it (or, when the peer closed first, a short while). It
// returns an error if the data may not have arrived. A client's Close
// closes the port too.
func (s *session) Close() error {
	m := s.m
	m.mu.Lock()
	err := s.closeWriteLocked()
	if s.client {
		s.flushAcks()
	}
	if !s.closed {
		s.closed = true
		s.deliver() // drop what is queued in rx
		signal(s.readSig)
	}
	m.mu.Unlock()
	if s.client {
		m.close()
	}
	return err
}

// flushAcks gives the writer a moment to acknowledge the peer's FIN
// before the port closes, so that the peer need not linger.
func (s *session) flushAcks() {
	m := s.m
	dl := time.Now().Add(200*time.Millisecond + m.airtime(2*MaxFrame))
	for (s.ackOwed || m.writing) && s.err == nil && !expired(dl) {
		m.kick()
		m.wait(s.writeSig, s.dead, dl)
	}
}

// CloseWrite is Close for the sending half only: Read goes on until the
// peer closes.
func (s *session) CloseWrite() error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.closeWriteLocked()
}

func (s *session) closeWriteLocked() error {
	m := s.m
	if !s.closing {
		s.closing = true
		m.kick()
	}
	var linger time.Time
	for !s.finAcked && s.err == nil && !expired(s.wdl) {
		if s.peerFin && linger.IsZero() {
			linger = time.Now().Add(min(m.cfg.maxRTO, 2*time.Second))
		}
		if !linger.IsZero() && expired(linger) {
			break
		}
		dl := s.wdl
		if !linger.IsZero() && (dl.IsZero() || linger.Before(dl)) {
			dl = linger
		}
		m.wait(s.writeSig, s.dead, dl)
	}
	switch {
	case s.finAcked || s.peerFin:
		return nil
	case s.err != nil:
		return fmt.Errorf("link: close: %w", s.err)
	}
	return fmt.Errorf("link: close: unacknowledged data: %w", os.ErrDeadlineExceeded)
}

// Peer names the far end for logs: "serial:DEVICE" on a serial device,
// "stdio" on standard input and output, "link" on another port.
func (s *session) Peer() string { return peerName(s.m.port) }

// SetReadDeadline sets the deadline of Read calls, blocked ones included.
func (s *session) SetReadDeadline(t time.Time) error {
	s.m.mu.Lock()
	s.rdl = t
	s.m.mu.Unlock()
	signal(s.readSig)
	return nil
}

// SetWriteDeadline sets the deadline of Write and Close.
func (s *session) SetWriteDeadline(t time.Time) error {
	s.m.mu.Lock()
	s.wdl = t
	s.m.mu.Unlock()
	signal(s.writeSig)
	return nil
}

// Stats returns the session's counters.
func (s *session) Stats() Stats {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.stats
}

func expired(t time.Time) bool { return !t.IsZero() && !time.Now().Before(t) }
