package link

import "math"

// sizer chooses the payload size of new frames from the failures seen.
//
// It estimates the rate q of frame failures per byte sent (a decayed count
// of failed transmissions over a decayed count of bytes, half-life
// sizerHalfLife) and picks the payload n that maximises the goodput
// n/(n+h) * (1-q)^(n+h), h the overhead of a frame:
//
//	n = (-h + sqrt(h² + 4h/q)) / 2
//
// New sessions start at sizerStart bytes and the size may double after
// every two clean frames of the current ceiling, so a clean line reaches
// MaxPayload within a few KiB while a noisy one never sends a large frame
// that would almost surely fail. The zero value is not ready; use newSizer.
type sizer struct {
	fails, bytes float64 // decayed failures and bytes on the wire
	flips        float64 // decayed bits the peer's parity corrected (sessions with FEC)
	ceil         int     // growth ceiling
	clean        int     // clean payload bytes since the ceiling last grew
	min, max     int
	h            int // frame overhead: Overhead, plus FECSize with parity
}

const (
	sizerHalfLife = 64 << 10 // bytes on the wire
	sizerStart    = 256
	// sizerStartFEC is where a session with FEC starts: a 2 KiB frame
	// with parity fails only on five flipped bits, 2.6% of them at BER
	// 1e-4 (a bad line), and reaches MaxLongPayload within 12 KiB.
	sizerStartFEC = 2 << 10
	sizerMin      = 64
	// sizerGrowAfter is how many ceilings' worth of clean payload let the
	// ceiling double: 7.5 KiB from sizerStart to 4 KiB. Once a frame has
	// failed the optimum caps every size, whatever the ceiling.
	sizerGrowAfter = 2
	// sizerPrior is the clean line the bit error rate estimate starts
	// from (fecOptimum), bytes.
	sizerPrior = 16 << 10
)

func newSizer(max int) sizer {
	return sizer{ceil: min(sizerStart, max), min: min(sizerMin, max), max: max, h: Overhead}
}

func (z *sizer) decay(wire int) {
	f := math.Exp2(-float64(wire) / sizerHalfLife)
	z.fails *= f
	z.bytes *= f
	z.flips *= f
}

// delivered records a transmission of payload n that arrived; clean is
// true when it was the frame's first.
func (z *sizer) delivered(n int, clean bool) {
	z.decay(n + z.h)
	z.bytes += float64(n + z.h)
	if !clean || 2*n < z.ceil {
		return
	}
	z.clean += n
	// Past MaxPayload (long frames, with FEC) only on a line that lost no
	// frame in the last half-life: a lost long frame is often the last in
	// the window, found by a timeout, and is resent whole.
	long := z.ceil >= MaxPayload && z.fails >= 0.5
	if z.clean >= sizerGrowAfter*z.ceil && z.ceil < z.max && !long {
		z.ceil = min(2*z.ceil, z.max)
		z.clean = 0
	}
}

// failed records a transmission of payload n that was lost.
func (z *sizer) failed(n int) {
	z.decay(n + z.h)
	z.bytes += float64(n + z.h)
	z.fails++
	z.ceil = max(z.min, min(z.ceil, z.optimum()))
	z.clean = 0
}

// size returns the payload size for the next new frame.
func (z *sizer) size() int { return max(z.min, min(z.ceil, z.optimum())) }

func (z *sizer) optimum() int {
	best := z.max
	if z.flips > 0 {
		best = z.fecOptimum()
	}
	if z.fails < 1e-3 || z.bytes <= 0 {
		return best
	}
	q := z.fails / z.bytes
	h := float64(z.h)
	n := (-h + math.Sqrt(h*h+4*h/q)) / 2
	if n >= float64(best) {
		return best
	}
	return max(z.min, int(n))
}

// fecOptimum is the payload for the bit error rate the peer's corrections
// show: with parity a frame fails only past fecT errors, so the failure
// rate grows much faster than the frame, and the failures alone, rare at
// the right size, would let the frames grow into sizes that nearly always
// fail (an 8 KiB frame at BER 1e-4: 78%). fecSizes[i] is sent while the
// rate is at most fecRates[i]×1e-7, the rate at which fecSizes[i+1] is as
// good for the goodput n/(n+19) × P(at most fecT flipped bits in the
// frame); TestFECSizes derives the rates and checks that the choice is
// never 2% under the best goodput.
func (z *sizer) fecOptimum() int {
	// flipped bits per 10^7 sent, as if a clean sizerPrior had come
	// first: one bit corrected in the first frames is no rate
	r := z.flips / (z.bytes + sizerPrior) * (1e7 / 8)
	for i, max := range fecRates {
		if r <= float64(max) {
			return min(int(fecSizes[i]), z.max)
		}
	}
	return z.min
}

var (
	fecSizes = [...]uint16{8172, 6144, 4608, 3584, 2816, 2048, 1536, 1152, 896, 640, 512, 384, 288, 224, 160, 128, 96}
	fecRates = [...]uint16{114, 163, 227, 308, 432, 630, 899, 1257, 1795, 2555, 3483, 4955, 6895, 9779, 13741, 18490, 27352}
)

// ring is a fixed-size byte FIFO. Not safe for concurrent use.
type ring struct {
	b    []byte
	r, n int
}

func newRing(size int) ring { return ring{b: make([]byte, size)} }

func (q *ring) free() int { return len(q.b) - q.n }

// write copies as much of p as fits and returns how much.
func (q *ring) write(p []byte) int {
	total := 0
	for len(p) > 0 && q.n < len(q.b) {
		w := (q.r + q.n) % len(q.b)
		end := len(q.b)
		if w < q.r {
			end = q.r
		}
		k := copy(q.b[w:end], p)
		q.n += k
		p = p[k:]
		total += k
	}
	return total
}

// read moves up to len(p) bytes into p.
func (q *ring) read(p []byte) int {
	total := 0
	for len(p) > 0 && q.n > 0 {
		end := min(q.r+q.n, len(q.b))
		k := copy(p, q.b[q.r:end])
		q.r = (q.r + k) % len(q.b)
		q.n -= k
		p = p[k:]
		total += k
	}
	return total
}
