package link

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// mux runs the link over one port: a reader goroutine that decodes frames
// and a writer goroutine that sends them, and at most one current
// session.
type mux struct {
	port   io.ReadWriteCloser
	cfg    PortConfig
	server bool

	mu      sync.Mutex
	cur     *session // current session (server: may be closed, lingering)
	pending *session // server: opened by a SYN, not yet accepted
	err     error    // the port failed or was closed
	ctl     []ctlFrame
	accSig  chan struct{} // a session opened, was established or failed
	kickSig chan struct{} // wakes the writer
	done    chan struct{} // closed by close
	once    sync.Once

	lastNoSession time.Time
	writing       bool // the writer is between taking a frame and writing it

	// owned by the writer
	wbuf     [MaxFrame]byte
	lineFree time.Time // when the line will have sent what was written

	// owned by the reader
	dec decoder
}

// ctlFrame is an unkeyed frame queued by the reader.
type ctlFrame struct {
	typ   uint8
	sid   uint32
	flags byte // SYNACK: the setup flags accepted
}

func newMux(port io.ReadWriteCloser, cfg PortConfig, server bool) *mux {
	return &mux{
		port: port, cfg: cfg.normalize(), server: server,
		accSig:  make(chan struct{}, 1),
		kickSig: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
}

func (m *mux) start() {
	go m.readLoop()
	go m.writeLoop()
}

func (m *mux) kick() { signal(m.kickSig) }

// airtime is the time n bytes take on the line.
func (m *mux) airtime(n int) time.Duration { return time.Duration(n) * m.cfg.byteTime }

// wait releases the lock until c is signalled, dead is closed, the
// deadline passes or the mux closes. Called with m.mu held.
func (m *mux) wait(c, dead chan struct{}, deadline time.Time) {
	m.mu.Unlock()
	defer m.mu.Lock()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-c:
	case <-dead:
	case <-timeout:
	case <-m.done:
	}
}

// close stops the mux and closes the port. Sessions fail with errClosed.
func (m *mux) close() {
	m.once.Do(func() {
		m.mu.Lock()
		// done before the sessions fail, under the lock: an Accept woken by
		// failAll must see the listener closed, not the sessions' error.
		close(m.done)
		m.failAll(errClosed)
		m.mu.Unlock()
		m.port.Close()
	})
}

// failAll records a port error and fails every session. Called with m.mu held.
func (m *mux) failAll(err error) {
	if m.err == nil {
		m.err = err
	}
	if m.cur != nil {
		m.cur.fail(err)
	}
	if m.pending != nil && m.pending != m.cur {
		m.pending.fail(err)
	}
	signal(m.accSig)
}

// readLoop decodes frames from the port until it fails.
func (m *mux) readLoop() {
	for {
		n, err := m.port.Read(m.dec.space())
		if n > 0 {
			m.dec.w += n
			m.handleFrames()
		}
		if err != nil {
			m.mu.Lock()
			m.failAll(fmt.Errorf("link: read port: %w", err))
			m.mu.Unlock()
			m.kick()
			return
		}
		// n == 0 && err == nil: a serial read timeout; read again.
	}
}

func (m *mux) handleFrames() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for {
		orphans := m.dec.orphans
		h, p, ok := m.dec.next()
		if m.dec.orphans != orphans {
			m.onOrphan(now)
		}
		if !ok {
			return
		}
		m.handle(h, p, now)
	}
}

// handle processes one good frame. Called with m.mu held.
func (m *mux) handle(h header, p []byte, now time.Time) {
	switch h.typ {
	case typeSyn:
		if m.server {
			m.onSyn(p)
		}
		return
	case typeSynAck:
		if !m.server {
			m.onSynAck(p, now)
		}
		return
	case typeNoSession:
		if s := m.cur; !m.server && s != nil && s.state == stOpen {
			s.fail(ErrReset)
		}
		return
	}
	s := m.cur
	if s == nil || s.err != nil || s.state != stOpen {
		return
	}
	s.lastHeard = now
	if s.fec && (h.typ == typeAck || h.typ == typePoll) {
		s.size.flips += float64(h.seq - s.peerFixed) // bits the peer corrected since its last ack
		s.peerFixed = h.seq
	}
	switch h.typ {
	case typeData, typeFin:
		s.onData(h.seq, p, h.typ == typeFin)
	case typeRst:
		s.fail(ErrReset)
		return
	case typePoll:
		s.ackOwed = true
	case typeAck:
		if len(p) > bitmapMax {
			p = p[:bitmapMax]
		}
		s.onAck(h.ack, p, now)
		m.kick()
		return
	}
	s.onAck(h.ack, nil, now)
	m.kick()
}

// onSyn opens a session, or answers again for the current one.
func (m *mux) onSyn(p []byte) {
	sid, flags, err := parseSetup(p)
	if err != nil {
		return
	}
	if m.cur == nil || m.cur.sid != sid {
		if m.cur != nil {
			m.cur.fail(ErrReset)
		}
		if m.pending != nil && m.pending != m.cur {
			m.pending.fail(ErrReset)
		}
		s := newSession(m, sid, false)
		s.useFEC(flags&m.cfg.setupFlags(true)&setupFEC != 0)
		m.cur, m.pending = s, s
		m.dec.setKey(sessionKey(sid, dirClient), s.fec)
		signal(m.accSig)
	}
	// What the session uses, so that a repeated SYN gets the first answer.
	flags = 0
	if m.cur.fec {
		flags = setupFEC
	}
	m.queueCtl(ctlFrame{typ: typeSynAck, sid: sid, flags: flags})
}

// onSynAck establishes the client's session.
func (m *mux) onSynAck(p []byte, now time.Time) {
	sid, flags, err := parseSetup(p)
	s := m.cur
	if s == nil || s.state != stSynSent {
		return
	}
	if errors.Is(err, ErrBadSetup) {
		s.fail(err)
		return
	}
	if err != nil || sid != s.sid {
		return
	}
	s.state = stOpen
	s.useFEC(flags&setupFEC != 0 && m.cfg.setupFlags(false)&setupFEC != 0)
	m.dec.fec = s.fec
	s.lastHeard, s.lastSent = now, now
	s.sampleRTT(now.Sub(s.lastSyn)) // a first estimate, from the latest SYN
	signal(m.accSig)
	m.kick()
}

// onOrphan answers a keyed frame that belongs to no session of this
// (server) side: the client's session died with a server restart.
func (m *mux) onOrphan(now time.Time) {
	if !m.server || m.cur != nil || now.Sub(m.lastNoSession) < time.Second {
		return
	}
	m.lastNoSession = now
	m.queueCtl(ctlFrame{typ: typeNoSession})
}

func (m *mux) queueCtl(c ctlFrame) {
	if len(m.ctl) < 8 {
		m.ctl = append(m.ctl, c)
	}
	m.kick()
}

// writeLoop sends frames until the mux closes or the port fails.
func (m *mux) writeLoop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if !m.pace() {
			return
		}
		m.mu.Lock()
		if m.err != nil {
			m.mu.Unlock()
			return
		}
		now := time.Now()
		b, wake := m.nextFrame(now)
		m.writing = b != nil
		m.mu.Unlock()
		if b == nil {
			timer.Reset(max(wake.Sub(now), time.Millisecond))
			select {
			case <-m.kickSig:
			case <-timer.C:
			case <-m.done:
				return
			}
			timer.Stop()
			continue
		}
		err := writeFull(m.port, b)
		m.mu.Lock()
		m.writing = false
		if err != nil {
			m.failAll(fmt.Errorf("link: write port: %w", err))
		}
		m.mu.Unlock()
		if cur := m.current(); cur != nil {
			signal(cur.writeSig)
		}
		if err != nil {
			return
		}
		if m.cfg.byteTime > 0 {
			m.lineFree = later(m.lineFree, now).Add(m.airtime(len(b)))
		}
	}
}

// pace sleeps while the line is more than pacingLead behind the writes.
func (m *mux) pace() bool {
	if m.cfg.byteTime == 0 {
		return true
	}
	at := m.lineFree.Add(-pacingLead)
	if !time.Now().Before(at) {
		return true
	}
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-m.done:
		return false
	}
}

// nextFrame picks the next frame to send. Called with m.mu held.
func (m *mux) nextFrame(now time.Time) ([]byte, time.Time) {
	if len(m.ctl) > 0 {
		c := m.ctl[0]
		m.ctl = append(m.ctl[:0], m.ctl[1:]...)
		var p []byte
		if c.typ == typeSynAck {
			p = setupPayload(c.sid, c.flags)
		}
		return putFrame(m.wbuf[:], header{typ: c.typ}, p, 0, false), now
	}
	if m.cur == nil {
		return nil, now.Add(time.Hour)
	}
	return m.cur.nextFrame(m.wbuf[:], now)
}

func (m *mux) current() *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
