package progress

// The bar, in the order a redraw makes it: a rate sample taken at each
// tick, the rate and ETA estimated from the samples, the line laid out in
// the terminal's width, and the line written unless it is the one on the
// screen already. A line looks like this (the gauge only when there is
// room for it):
//
//	3/100 photo.jpg  [=====>    ]  45%    1.2 MiB/2.6 MiB   110.3 KiB/s  ETA  0:13  resumed at 40%

import (
	"io"
	"strconv"
	"time"
)

const (
	rateWindow = 5 * time.Second // the rate is measured over about this
	ringSize   = 32              // samples kept; more than rateWindow/redrawEvery
	minName    = 8               // columns the name keeps before the resume note is dropped
	nameCols   = 30              // columns the name keeps before a gauge is drawn
	minGauge   = 12              // narrowest gauge drawn, brackets included
	maxGauge   = 42              // widest
)

// sample is the count of bytes sent at a time since New.
type sample struct {
	t time.Duration
	n int64
}

// meter estimates the rate from samples taken when the count changed. The
// zero value is ready to use: it holds the sample {0, 0} of New.
type meter struct {
	ring [ringSize]sample
	head int // index of the newest sample, modulo ringSize
}

// record adds a sample of n bytes at t, unless n has not changed since the
// last one: the samples mark when bytes arrived, which on a slow line is
// seconds apart.
func (m *meter) record(t time.Duration, n int64) {
	if n == m.ring[m.head%ringSize].n {
		return
	}
	m.head++
	m.ring[m.head%ringSize] = sample{t, n}
}

// perSecond returns the rate at now in bytes per second, or -1 when no
// bytes have arrived yet, and the span it was measured over. The span runs
// from the newest sample back to the newest one at least rateWindow older,
// so it covers the last few seconds of a fast transfer and the time
// between two chunks of a slow line, which are further apart than that.
// When nothing has arrived for longer than the span, the rate falls as the
// silence grows.
func (m *meter) perSecond(now time.Duration) (float64, time.Duration) {
	last := m.ring[m.head%ringSize]
	n := min(m.head+1, ringSize)
	ref := m.ring[(m.head-n+1)%ringSize] // the oldest kept
	for i := 1; i < n; i++ {
		if s := m.ring[(m.head-i)%ringSize]; s.t <= last.t-rateWindow {
			ref = s
			break
		}
	}
	span := last.t - ref.t
	if span <= 0 || last.n <= ref.n {
		return -1, 0
	}
	d := max(span, now-last.t)
	return float64(last.n-ref.n) / d.Seconds(), span
}

// eta returns the time the remaining bytes will take at the current rate,
// or -1 when the rate is unknown. Between two samples it counts down as if
// bytes kept arriving at that rate, for at most one span, so that on a line
// that delivers a chunk every few seconds the ETA moves every second.
func (m *meter) eta(now time.Duration, remaining int64) time.Duration {
	r, span := m.perSecond(now)
	if r <= 0 {
		return -1
	}
	ahead := min(now-m.ring[m.head%ringSize].t, span)
	left := float64(max(remaining, 0))/r - ahead.Seconds()
	// Not min and max: on float64 they are calls that handle NaN and -0,
	// code the routers' flash pays for and r > 0 rules out.
	if left < 0 {
		left = 0
	} else if left > 1e7 { // past what FormatETA shows
		left = 1e7
	}
	return time.Duration(left * float64(time.Second))
}

// bar is the state of the line on the terminal.
type bar struct {
	on    bool          // draw at all
	drawn bool          // the line is on the screen
	last  time.Duration // when it was drawn
	line  []byte        // the line being made
	prev  []byte        // the line on the screen
	right []byte        // the fields after the name
	ends  []int         // where each field of right ends, to drop whole fields
}

var eraseLine = []byte("\r\x1b[K")

// erase removes the line from the screen, if it is there.
func (b *bar) erase(w io.Writer) {
	if b.drawn {
		w.Write(eraseLine)
		b.drawn = false
	}
}

// redraw writes the bar unless it is the one on the screen, drawn less
// than redrawIdle ago.
func (p *Progress) redraw(now time.Duration) {
	b := &p.bar
	if !b.on || !p.cur.open || p.finished {
		return
	}
	line := p.layout(now, p.width())
	if b.drawn && string(line) == string(b.prev) && now-b.last < redrawIdle {
		return
	}
	p.w.Write(line)
	b.drawn, b.last = true, now
	b.line, b.prev = b.prev, line
}

// width returns the columns of the terminal.
func (p *Progress) width() int {
	if p.opt.Width > 0 {
		return p.opt.Width
	}
	if p.fd >= 0 {
		if w := termWidth(p.fd); w > 0 {
			return w
		}
	}
	return defaultWidth
}

// layout makes the line for a terminal of cols columns, as written:
// "\r", the line in at most cols-1 columns, erase to the end of the line.
func (p *Progress) layout(now time.Duration, cols int) []byte {
	done, total := p.position(), p.cur.size
	if p.opt.Total > 0 {
		done, total = p.base+done, p.opt.Total
	}
	right := p.appendFields(p.bar.right[:0], now, done, total)
	line := append(p.bar.line[:0], '\r')
	line = p.appendCount(line)
	avail := cols - 1 - (len(line) - 1) - 1 - len(right) // the last column stays free, one space after the name
	if p.cur.resumedAt > 0 {
		n := len(right)
		right = append(right, "  "...)
		right = p.appendResumed(right, p.opt.Total <= 0) // a file's percent would read as the bar's
		if avail-(len(right)-n) < minName {
			right = right[:n]
		} else {
			avail -= len(right) - n
		}
	}
	p.bar.right = right
	if avail > 0 {
		line = p.appendNameGauge(line, avail, done, total)
		line = append(line, ' ')
	} else { // no room for a name: drop the last fields until the rest fits
		room := cols - 1 - (len(line) - 1)
		n := 0
		for _, end := range p.bar.ends {
			if end <= room {
				n = end
			}
		}
		right = right[:n]
	}
	line = append(line, right...)
	if limit := max(cols, 1); avail <= 0 && len(line) > limit { // no name, all ASCII: a byte a column
		line = line[:limit]
	}
	return append(line, eraseLine[1:]...)
}

// appendFields appends "45%    1.2 MiB/2.6 MiB   110.3 KiB/s  ETA  0:13",
// or for an unknown total (below 0) "   1.2 MiB   110.3 KiB/s". Fields
// are padded to their usual widths so that they do not shift as they change.
func (p *Progress) appendFields(b []byte, now time.Duration, done, total int64) []byte {
	known := total >= 0
	ends := p.bar.ends[:0]
	from := len(b)
	if known {
		b = appendPercent(b, done, total)
		b = padLeft(b, from, 4)
		ends = append(ends, len(b))
		b = append(b, ' ')
		from = len(b)
	}
	b = appendBytes(b, done)
	b = padLeft(b, from, 10)
	if known {
		b = append(b, '/')
		b = appendBytes(b, total)
	}
	ends = append(ends, len(b))
	b = append(b, "  "...)
	from = len(b)
	r, _ := p.rate.perSecond(now)
	b = appendRate(b, r)
	b = padLeft(b, from, 11)
	ends = append(ends, len(b))
	if known {
		b = append(b, "  ETA "...)
		from = len(b)
		b = appendETA(b, p.rate.eta(now, total-done))
		b = padLeft(b, from, 5)
		ends = append(ends, len(b))
	}
	p.bar.ends = ends
	return b
}

// appendCount appends "3/100 " when the command has several files.
func (p *Progress) appendCount(b []byte) []byte {
	if p.opt.Files <= 1 {
		return b
	}
	digits := 1
	for n := p.opt.Files; n >= 10; n /= 10 {
		digits++
	}
	from := len(b)
	b = strconv.AppendInt(b, int64(p.started), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(p.opt.Files), 10)
	b = padLeft(b, from, 2*digits+1)
	return append(b, ' ')
}

// appendNameGauge appends the name and, when the total is known and the
// name keeps nameCols columns, a gauge, in exactly cols columns. How the
// columns are split depends on cols only, so that the gauge and the fields
// stay in place from one file to the next.
func (p *Progress) appendNameGauge(b []byte, cols int, done, total int64) []byte {
	nameCol := max(nameCols, cols-1-maxGauge)
	g := cols - nameCol - 1
	if total < 0 || g < minGauge {
		nameCol, g = cols, 0
	}
	b, used := appendName(b, p.cur.name, nameCol)
	b = spaces(b, nameCol-used)
	if g == 0 {
		return b
	}
	b = append(b, ' ')
	return appendGauge(b, g, done, total)
}

// appendGauge appends "[=====>    ]" in g columns.
func appendGauge(b []byte, g int, done, total int64) []byte {
	inner := g - 2
	fill := inner
	if total > 0 {
		fill = int(float64(min(max(done, 0), total)) * float64(inner) / float64(total))
	}
	b = append(b, '[')
	for i := range inner {
		switch {
		case i < fill:
			b = append(b, '=')
		case i == fill:
			b = append(b, '>')
		default:
			b = append(b, ' ')
		}
	}
	return append(b, ']')
}
