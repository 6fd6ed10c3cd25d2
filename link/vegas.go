package link

import "time"

// When the line rate is unknown (Baud = 0: stdio, a pipe, ssh, a console
// of unknown speed) the sender cannot pace by airtime. It bounds instead
// the bytes of frames sent but not yet known to have arrived by a
// congestion window that follows the queueing delay, as TCP Vegas does:
// with minRTT the smallest round trip seen and srtt the smoothed one, the
// bytes queued in buffers along the way are about cwnd*(1 - minRTT/srtt).
// Once per round trip the window grows by a frame while that is below
// vegasLow and shrinks by half the excess above vegasHigh. It never goes
// below two frames, so a slow line stays busy, nor above cfg.Window.
const (
	vegasLow   = 2 << 10
	vegasHigh  = 4 << 10
	vegasStart = 16 << 10
)

// onSample adjusts the congestion window after a clean RTT sample r.
func (s *session) onSample(r time.Duration, now time.Time) {
	if s.m.cfg.byteTime > 0 {
		return
	}
	if s.minRTT == 0 || r < s.minRTT {
		s.minRTT = max(r, time.Microsecond)
	}
	if now.Before(s.nextAdjust) || s.srtt <= 0 {
		return
	}
	s.nextAdjust = now.Add(s.srtt)
	frame := s.size.size() + s.overhead()
	queued := int(int64(s.cwnd) * int64(s.srtt-s.minRTT) / int64(s.srtt))
	switch {
	case queued < vegasLow:
		s.cwnd += frame
	case queued > vegasHigh:
		s.cwnd -= (queued - vegasHigh) / 2
	}
	s.cwnd = min(max(s.cwnd, 2*frame), s.m.cfg.Window)
}

// congested reports whether a new frame of n bytes must wait for the
// congestion window.
func (s *session) congested(n int) bool {
	if s.m.cfg.byteTime > 0 {
		return false
	}
	out := 0
	for seq := s.base; seq != s.next; seq++ {
		if sl := &s.tx[seq]; !sl.sacked {
			out += sl.n + s.overhead()
		}
	}
	return out > 0 && out+n+s.overhead() > s.cwnd
}
