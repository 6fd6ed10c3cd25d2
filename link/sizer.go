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
	ceil         int     // growth ceiling
	clean        int     // clean payload bytes since the ceiling last grew
	min, max     int
	h            int // frame overhead: Overhead, plus FECSize with parity
}

const (
	sizerHalfLife = 64 << 10 // bytes on the wire
	sizerStart    = 256
	sizerMin      = 64
	// sizerGrowAfter is how many ceilings' worth of clean payload let the
	// ceiling double: 7.5 KiB from sizerStart to 4 KiB. Once a frame has
	// failed the optimum caps every size, whatever the ceiling.
	sizerGrowAfter = 2
)

func newSizer(max int) sizer {
	return sizer{ceil: min(sizerStart, max), min: min(sizerMin, max), max: max, h: Overhead}
}

func (z *sizer) decay(wire int) {
	f := math.Exp2(-float64(wire) / sizerHalfLife)
	z.fails *= f
	z.bytes *= f
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
	if z.clean >= sizerGrowAfter*z.ceil && z.ceil < z.max {
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
	if z.fails < 1e-3 || z.bytes <= 0 {
		return z.max
	}
	q := z.fails / z.bytes
	h := float64(z.h)
	n := (-h + math.Sqrt(h*h+4*h/q)) / 2
	if n >= float64(z.max) {
		return z.max
	}
	return max(z.min, int(n))
}

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
