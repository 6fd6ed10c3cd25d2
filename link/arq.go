package link

// The selective-repeat ARQ of one link session. Every method here runs
// with the mux lock held; the mux's reader feeds frames in (onData, onAck)
// and its writer takes frames out (nextFrame).
//
// Sender: data frames carry an 8-bit sequence number; at most winFrames
// frames and cfg.Window payload bytes are unacknowledged. Each
// transmission gets a serial number (lastTx). The receiver reports a
// cumulative ack plus a bitmap of the frames it holds beyond it. A serial
// line does not reorder, so a frame still missing when a frame transmitted
// after it has arrived was lost: it is sent again at once, and counted as
// a failure for the frame sizer. A timer per frame covers lost acks, the
// last frames of a burst and outages.

import (
	"time"
)

const (
	winFrames = 127 // frames in flight; below half the 8-bit sequence space
	bitmapMax = 16  // bytes of selective-ack bitmap: frames cum..cum+127
)

type txSlot struct {
	buf    []byte // payload, allocated on first use
	n      int
	fin    bool
	tries  int
	lastTx uint64    // serial number of the latest transmission
	sentAt time.Time // time of the latest transmission
	sacked bool      // the receiver holds it
	lost   bool      // queued for retransmission
}

type rxSlot struct {
	buf  []byte
	n    int
	fin  bool
	have bool
}

// onData handles a sequenced frame (data or FIN) from the peer.
func (s *session) onData(seq uint8, p []byte, fin bool) {
	s.ackOwed = true
	if seq-s.rnext >= 128 {
		return // a duplicate of a frame already delivered
	}
	sl := &s.rx[seq]
	if sl.have {
		return
	}
	if sl.buf == nil {
		sl.buf = s.buffer()
	}
	sl.n = copy(sl.buf, p)
	sl.fin, sl.have = fin, true
	s.held++
	s.deliver()
}

// deliver moves in-order frames into recvQ while they fit. The cumulative
// ack advances only here, so a reader that does not keep up stops the
// sender without losing frames.
func (s *session) deliver() {
	moved := false
	for s.rx[s.rnext].have {
		sl := &s.rx[s.rnext]
		switch {
		case sl.fin:
			s.peerFin = true
		case s.closed:
			// Closed locally: acknowledge and drop.
		case s.recvQ.free() < sl.n:
			if moved {
				s.ackOwed = true
				signal(s.readSig)
			}
			return
		default:
			s.recvQ.write(sl.buf[:sl.n])
		}
		sl.have = false
		s.spare, sl.buf = append(s.spare, sl.buf), nil
		s.held--
		s.rnext++
		moved = true
	}
	if moved {
		s.progress = time.Now()
		s.ackOwed = true
		signal(s.readSig)
	}
}

// onAck handles a cumulative ack and an optional bitmap: bit i (LSB
// first) set means the receiver holds frame cum+i.
func (s *session) onAck(cum uint8, bitmap []byte, now time.Time) {
	inflight := s.next - s.base
	if cum-s.base > inflight {
		// The line does not reorder and the peer's cumulative ack never
		// goes back: it acknowledges frames never sent, or no longer
		// holds frames it acknowledged (a forged ack).
		s.fail(ErrStalled)
		return
	}
	progress := cum != s.base
	if progress {
		s.ackedAt = now
	}
	for s.base != cum {
		s.release(&s.tx[s.base], now)
		s.base++
	}
	inflight = s.next - s.base
	for i := 0; i < len(bitmap)*8 && uint8(i) < inflight; i++ {
		if bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		sl := &s.tx[cum+uint8(i)]
		if !sl.sacked {
			sl.sacked, progress = true, true
			s.received(sl, now)
		}
		if sl.lost {
			sl.lost = false
			s.nlost--
		}
	}
	if progress {
		s.progress = now
		signal(s.writeSig)
	}
	s.inferLosses()
}

// release frees an acknowledged frame.
func (s *session) release(sl *txSlot, now time.Time) {
	if !sl.sacked {
		s.received(sl, now)
	}
	if sl.lost {
		s.nlost--
	}
	if sl.fin {
		s.finAcked = true
	}
	s.inflightBytes -= sl.n
	s.spare, sl.buf = append(s.spare, sl.buf), nil
	sl.sacked, sl.lost, sl.fin, sl.tries = false, false, false, 0
}

// received accounts for a frame known to have arrived. Only a frame sent
// once says which transmission arrived: a retransmitted one could raise
// ackedTx past frames still on their way.
func (s *session) received(sl *txSlot, now time.Time) {
	clean := sl.tries == 1
	if clean {
		s.ackedTx = max(s.ackedTx, sl.lastTx)
		r := now.Sub(sl.sentAt) - s.m.airtime(sl.n+s.overhead())
		s.sampleRTT(r)
		if pb := float64(r) / float64(sl.n+s.overhead()); s.perByte == 0 {
			s.perByte = pb
		} else {
			s.perByte += (pb - s.perByte) / 8
		}
		s.onSample(r, now)
		s.backoff = 0 // Karn: only a clean sample ends the backoff
	}
	s.size.delivered(sl.n, clean)
	s.stats.FramesSent++
}

// inferLosses marks as lost every frame sent before one that arrived.
func (s *session) inferLosses() {
	for seq := s.base; seq != s.next; seq++ {
		sl := &s.tx[seq]
		if sl.sacked || sl.lost || sl.lastTx >= s.ackedTx {
			continue
		}
		sl.lost = true
		s.nlost++
		s.size.failed(sl.n)
		s.stats.Retransmits++
	}
}

func (s *session) sampleRTT(r time.Duration) {
	r = max(r, 0)
	if s.srtt == 0 {
		s.srtt, s.rttvar = r, r/2
		return
	}
	d := s.srtt - r
	if d < 0 {
		d = -d
	}
	s.rttvar = (3*s.rttvar + d) / 4
	s.srtt = (7*s.srtt + r) / 8
}

// rto is the retransmission timeout of a frame of payload n.
func (s *session) rto(n int) time.Duration {
	cfg := &s.m.cfg
	r := cfg.initRTO
	if s.srtt > 0 {
		// The variance term is at least srtt/2: a process that is not
		// scheduled for a while must not make every frame time out.
		r = max(cfg.minRTO, s.srtt+max(4*s.rttvar, s.srtt/2))
	}
	r = min(r<<s.backoff, cfg.maxRTO)
	if cfg.byteTime == 0 {
		// Unknown rate: a frame's round trip grows with its size.
		return r + time.Duration(s.perByte*float64(n+s.overhead()))
	}
	return r + s.m.airtime(n+s.overhead())
}

// pollSilent: a peer silent for one and a half keepalives is polled
// pollSilent times a keepalive (LINK.md 5.3).
const pollSilent = 4

// checkTimers fails a silent session, marks timed-out frames lost and
// returns when it next needs to look.
func (s *session) checkTimers(now time.Time) time.Time {
	cfg := &s.m.cfg
	wake := now.Add(time.Hour)
	if !(s.closed && s.peerFin) {
		dead := s.lastHeard.Add(cfg.PeerTimeout)
		if !now.Before(dead) {
			s.fail(ErrPeerTimeout)
			return wake
		}
		wake = dead
	}
	fired, allHeld := false, true
	waiting := s.held > 0 && !s.rx[s.rnext].have // a gap in what arrived
	for seq := s.base; seq != s.next; seq++ {
		sl := &s.tx[seq]
		if sl.sacked {
			continue
		}
		oldest := !waiting
		waiting = true
		if sl.lost {
			continue
		}
		allHeld = false
		// As TCP's one timer (RFC 6298 5.3), the oldest frame's restarts
		// when the cumulative ack advances: frames queued behind a
		// stalled line would time out one after the other as they drain.
		at := later(sl.sentAt, s.ackedAt).Add(s.rto(sl.n))
		if now.Before(at) {
			wake = earlier(wake, at)
			continue
		}
		if !oldest {
			// Only the oldest frame not known to have arrived goes
			// again at its timeout. On a line that stopped without
			// losing bytes (a held CTS, a stalled pty) every copy waits
			// in OS buffers and costs its airtime later; on a cut one
			// it is a probe. The ack of the oldest wakes us for the
			// next, and new frames' acks find the others lost.
			continue
		}
		sl.lost = true
		s.nlost++
		s.stats.Timeouts++
		if sl.tries == 1 {
			// Large frames are often found lost by their timer before
			// the next frame's ack: count them too. Later timeouts of
			// the same frame (an outage) do not say more.
			s.size.failed(sl.n)
		}
		fired = true
	}
	if s.base != s.next && allHeld {
		// The receiver holds everything but does not ack: its reader is
		// slow. Ask again now and then.
		at := s.lastSent.Add(s.rto(0))
		if !now.Before(at) {
			s.pollOwed = true
			fired = true
		}
		wake = earlier(wake, at)
	}
	if fired && s.backoff < 8 {
		s.backoff++
	}
	return s.checkProgress(now, waiting, wake)
}

// checkProgress fails a session that makes no progress for
// PeerTimeout + 2*maxRTO while it awaits something: the ack of a frame,
// or a frame missing from what arrived. A very bad line does that, and so
// does an attacker who drops a frame and forges its ack: it can cut the
// session but not hold it open. The 2*maxRTO let a session resume after
// an outage just shorter than PeerTimeout.
func (s *session) checkProgress(now time.Time, waiting bool, wake time.Time) time.Time {
	if !waiting {
		s.progress = now
		return wake
	}
	at := s.progress.Add(s.m.cfg.PeerTimeout + 2*s.m.cfg.maxRTO)
	if !now.Before(at) {
		s.fail(ErrStalled)
	}
	return earlier(wake, at)
}

// nextFrame encodes into b the frame to send now, if any, and returns
// when to look again otherwise.
func (s *session) nextFrame(b []byte, now time.Time) ([]byte, time.Time) {
	cfg := &s.m.cfg
	never := now.Add(time.Hour)
	switch {
	case s.err != nil:
		return nil, never
	case s.state == stSynSent:
		if now.Before(s.nextSyn) {
			return nil, s.nextSyn
		}
		s.nextSyn = now.Add(cfg.synInterval)
		s.lastSyn = now
		return putFrame(b, header{typ: typeSyn}, setupPayload(s.sid, s.m.cfg.setupFlags(false)), 0, false), now
	}
	wake := s.checkTimers(now)
	if s.err != nil {
		return nil, never
	}
	if s.ackOwed && s.held > 0 {
		return s.ackFrame(b, typeAck, now), now
	}
	if s.nlost > 0 {
		for seq := s.base; seq != s.next; seq++ {
			if s.tx[seq].lost {
				return s.sendSlot(b, seq, now), now
			}
		}
		panic("link: internal error: lost frame count out of sync")
	}
	if seq, ok := s.frameNew(); ok {
		return s.sendSlot(b, seq, now), now
	}
	switch {
	case s.pollOwed:
		s.pollOwed = false
		return s.ackFrame(b, typePoll, now), now
	case s.ackOwed:
		return s.ackFrame(b, typeAck, now), now
	case s.closed && s.peerFin:
		return nil, wake
	}
	ka := s.lastSent.Add(cfg.KeepAlive)
	if !now.Before(ka) {
		return s.ackFrame(b, typeAck, now), now
	}
	// A peer silent past its keepalive is polled every pollSilent of
	// keepalive, so that it answers as soon as the line is back.
	if silent := s.lastHeard.Add(cfg.KeepAlive + cfg.KeepAlive/2); !now.Before(silent) {
		poll := s.lastPoll.Add(cfg.KeepAlive / pollSilent)
		if !now.Before(poll) {
			s.lastPoll = now
			return s.ackFrame(b, typePoll, now), now
		}
		ka = earlier(ka, poll)
	} else {
		ka = earlier(ka, silent)
	}
	return nil, earlier(wake, ka)
}

// frameNew moves the next frame's payload from sendQ into the window.
func (s *session) frameNew() (uint8, bool) {
	fin := s.closing && !s.finQueued && s.sendQ.n == 0
	if s.sendQ.n == 0 && !fin {
		return 0, false
	}
	n := min(s.size.size(), s.sendQ.n)
	if s.next-s.base >= winFrames || s.inflightBytes+n > s.m.cfg.Window || s.congested(n) {
		return 0, false
	}
	seq := s.next
	sl := &s.tx[seq]
	if sl.buf == nil {
		sl.buf = s.buffer()
	}
	sl.n = s.sendQ.read(sl.buf[:n])
	sl.fin = fin
	s.finQueued = s.finQueued || fin
	s.inflightBytes += sl.n
	s.next++
	signal(s.writeSig)
	return seq, true
}

// sendSlot encodes a (re)transmission of frame seq.
func (s *session) sendSlot(b []byte, seq uint8, now time.Time) []byte {
	sl := &s.tx[seq]
	if sl.lost {
		sl.lost = false
		s.nlost--
	}
	sl.tries++
	s.txCount++
	sl.lastTx, sl.sentAt = s.txCount, now
	typ := uint8(typeData)
	if sl.fin {
		typ = typeFin
	}
	s.ackOwed = false
	s.lastSent = now
	s.stats.BytesSent += int64(sl.n + s.overhead())
	return putFrame(b, header{typ: typ, seq: seq, ack: s.rnext}, sl.buf[:sl.n], s.txKey, s.fec)
}

// ackFrame encodes an ack (or poll) with the selective-ack bitmap.
func (s *session) ackFrame(b []byte, typ uint8, now time.Time) []byte {
	var bm [bitmapMax]byte
	n := 0
	for i := 0; s.held > 0 && i < bitmapMax*8; i++ {
		if s.rx[s.rnext+uint8(i)].have {
			bm[i/8] |= 1 << (i % 8)
			n = i/8 + 1
		}
	}
	s.ackOwed = false
	s.lastSent = now
	seq := s.next // informative
	if s.fec {
		seq = uint8(s.m.dec.corrected - s.fixBase)
	}
	return putFrame(b, header{typ: typ, seq: seq, ack: s.rnext}, bm[:n], s.txKey, s.fec)
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// signal wakes one waiter of c without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
