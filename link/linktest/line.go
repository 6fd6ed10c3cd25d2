// Package linktest simulates a serial line for tests and benchmarks: two
// endpoints joined by a full-duplex line that paces bytes at a baud rate
// (10 bits a byte, 8N1) through a small transmit FIFO, and that flips
// bits, drops bytes, injects bursts of noise and can be pulled out for a
// while. It does not simulate framing errors of the start and stop bits,
// flow control or a receive FIFO that overruns.
package linktest

import (
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Config describes a line. Both directions get the same faults, drawn
// independently. The zero value is a clean, unpaced line.
type Config struct {
	Baud       int           // line rate; 0 = as fast as possible
	BER        float64       // probability that a data bit is flipped
	Drop       float64       // probability that a byte is lost
	BurstEvery time.Duration // mean time between noise bursts; 0 = none
	BurstLen   time.Duration // length of a burst: bytes replaced by noise
	FIFO       int           // bytes a writer may queue ahead of the line; 0 = 1024 or 10ms of line
	Seed       uint64        // 0 = random
}

// Line is a simulated cable with two ends.
type Line struct {
	cfg   Config
	dirs  [2]*direction // dirs[i] carries bytes written at end i
	mu    sync.Mutex
	ends  [2]*End
	pause time.Time // bytes sent before this time are lost
	stall time.Time // the line carries nothing before this time
	start time.Time
}

// NewLine returns a line; take its ends with End.
func NewLine(cfg Config) *Line {
	if cfg.FIFO <= 0 {
		cfg.FIFO = max(1024, cfg.Baud/1000)
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	l := &Line{cfg: cfg, start: time.Now()}
	for i := range l.dirs {
		l.dirs[i] = newDirection(l, cfg, cfg.Seed+uint64(i)*0x9E3779B97F4A7C15)
	}
	for i := range l.ends {
		l.ends[i] = &End{line: l, side: i}
	}
	for _, d := range l.dirs {
		go d.pump()
	}
	return l
}

// Pipe returns the two ends of a new line.
func Pipe(cfg Config) (a, b *End) {
	l := NewLine(cfg)
	return l.End(0), l.End(1)
}

// End returns the current end of side 0 or 1.
func (l *Line) End(side int) *End {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ends[side]
}

// Replug closes the current end of side and returns a new one that sees
// only bytes arriving from now on: a restarted program on the same cable.
func (l *Line) Replug(side int) *End {
	l.mu.Lock()
	old := l.ends[side]
	e := &End{line: l, side: side}
	l.ends[side] = e
	l.mu.Unlock()
	old.closeRead()
	in := l.dirs[1-side]
	in.mu.Lock()
	in.rx = in.rx[:0]
	in.cond.Broadcast()
	in.mu.Unlock()
	return e
}

// Pause pulls the cable out for d from now: every byte on the line in
// either direction meanwhile is lost.
func (l *Line) Pause(d time.Duration) {
	l.mu.Lock()
	l.pause = time.Now().Add(d)
	l.mu.Unlock()
}

// Stall stops the line for d from now without losing a byte: what is
// written waits in the FIFO, and writers block once it is full. So does a
// UART whose peer holds CTS, or a pseudo-terminal whose simulator is not
// scheduled (a pty buffers some 64 KiB: set FIFO).
func (l *Line) Stall(d time.Duration) {
	l.mu.Lock()
	l.stall = time.Now().Add(d)
	l.mu.Unlock()
}

func (l *Line) stalled() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Until(l.stall)
}

func (l *Line) paused(t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return t.Before(l.pause)
}

// Close stops the line: every end reads EOF and fails to write.
func (l *Line) Close() error {
	for _, d := range l.dirs {
		d.closeWrite()
	}
	for i := range l.ends {
		l.End(i).closeRead()
	}
	return nil
}

// Stats returns bytes carried and faults injected in the direction away
// from side.
func (l *Line) Stats(side int) Stats {
	d := l.dirs[side]
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Stats counts what a direction of the line did.
type Stats struct {
	Bytes, Flipped, Dropped, Noise, Lost int64
}

// End is one end of a line: an io.ReadWriteCloser like a serial port.
type End struct {
	line   *Line
	side   int
	mu     sync.Mutex
	closed bool
}

// Read reads bytes that arrived at this end.
func (e *End) Read(p []byte) (int, error) {
	d := e.line.dirs[1-e.side]
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.rx) == 0 {
		if e.isClosed() {
			return 0, io.ErrClosedPipe
		}
		if d.eof {
			return 0, io.EOF
		}
		d.cond.Wait()
	}
	if e.isClosed() {
		return 0, io.ErrClosedPipe
	}
	n := copy(p, d.rx)
	d.rx = d.rx[:copy(d.rx, d.rx[n:])]
	return n, nil
}

// Write queues p for the line, blocking while the FIFO is full.
func (e *End) Write(p []byte) (int, error) {
	d := e.line.dirs[e.side]
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for len(p) > 0 {
		if e.isClosed() || d.closed {
			return n, io.ErrClosedPipe
		}
		k := min(len(p), d.cfg.FIFO-len(d.fifo))
		if d.cfg.Baud == 0 {
			k = len(p)
		}
		if k == 0 {
			d.cond.Wait()
			continue
		}
		d.fifo = append(d.fifo, p[:k]...)
		p = p[k:]
		n += k
		d.cond.Broadcast()
	}
	return n, nil
}

// CloseWrite ends the stream away from this end: once the line has
// carried what is queued, the other end reads EOF.
func (e *End) CloseWrite() error {
	e.line.dirs[e.side].closeWrite()
	return nil
}

// Close closes this end: its reads and writes fail. Like a program that
// exits on a serial line, it does not end the stream to the other end;
// CloseWrite does.
func (e *End) Close() error {
	e.closeRead()
	return nil
}

func (e *End) closeRead() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	for _, d := range e.line.dirs {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	}
}

func (e *End) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Name names the end for logs.
func (e *End) Name() string { return [2]string{"linktest:A", "linktest:B"}[e.side] }

// direction carries bytes one way.
type direction struct {
	line *Line
	cfg  Config
	rnd  *rand.Rand

	mu     sync.Mutex
	cond   *sync.Cond
	fifo   []byte // written, not yet on the line
	rx     []byte // arrived, not yet read
	closed bool   // no more writes
	eof    bool   // closed and drained: readers get EOF
	stats  Stats

	// owned by pump
	bit      int64 // data bits sent
	nextFlip int64 // bit index of the next flipped bit
	byteN    int64
	nextDrop int64
	burstAt  time.Time // start of the next burst
}

func newDirection(l *Line, cfg Config, seed uint64) *direction {
	d := &direction{line: l, cfg: cfg, rnd: rand.New(rand.NewPCG(seed, seed^0x5851F42D4C957F2D))}
	d.cond = sync.NewCond(&d.mu)
	d.nextFlip = d.geometric(cfg.BER)
	d.nextDrop = d.geometric(cfg.Drop)
	d.burstAt = l.start.Add(d.exponential(cfg.BurstEvery))
	return d
}

// geometric draws the number of trials before the next success.
func (d *direction) geometric(p float64) int64 {
	if p <= 0 {
		return math.MaxInt64
	}
	if p >= 1 {
		return 0
	}
	g := math.Floor(math.Log(1-d.rnd.Float64()) / math.Log1p(-p))
	if g > 1e18 {
		return math.MaxInt64
	}
	return int64(g)
}

func (d *direction) exponential(mean time.Duration) time.Duration {
	if mean <= 0 {
		return 1 << 62
	}
	return time.Duration(d.rnd.ExpFloat64() * float64(mean))
}

func (d *direction) closeWrite() {
	d.mu.Lock()
	d.closed = true
	d.cond.Broadcast()
	d.mu.Unlock()
}

// pump moves bytes from the FIFO over the line, paced, and injects faults.
// Timers are coarse on some systems (a 300µs sleep can take 2ms), so at
// each wake-up the pump delivers every byte the line would have finished
// by then: the rate is exact on average, the delivery a little bursty.
func (d *direction) pump() {
	var byteTime time.Duration
	if d.cfg.Baud > 0 {
		byteTime = time.Duration(int64(10*time.Second) / int64(d.cfg.Baud))
	}
	var buf []byte
	var t time.Time // when the line has finished the bytes taken so far
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if w := d.line.stalled(); w > 0 {
			timer.Reset(w)
			<-timer.C
			t = time.Time{} // the line starts again now
			continue
		}
		d.mu.Lock()
		for len(d.fifo) == 0 && !d.closed {
			// The line is idle: the bytes that come next start on it
			// when they come, with no credit for the time it was idle
			// (else a message after a wait arrived at once).
			t = time.Time{}
			d.cond.Wait()
		}
		if len(d.fifo) == 0 && d.closed {
			d.eof = true
			d.cond.Broadcast()
			d.mu.Unlock()
			return
		}
		now := time.Now()
		k := len(d.fifo)
		if byteTime > 0 {
			if t.IsZero() {
				t = now // the first byte is on the line byteTime from now
			}
			k = min(k, int(now.Sub(t)/byteTime))
		}
		if k <= 0 {
			d.mu.Unlock()
			timer.Reset(t.Add(byteTime).Sub(now))
			<-timer.C
			continue
		}
		buf = append(buf[:0], d.fifo[:k]...)
		d.fifo = d.fifo[:copy(d.fifo, d.fifo[k:])]
		t = t.Add(time.Duration(k) * byteTime)
		d.cond.Broadcast()
		d.mu.Unlock()

		out := d.corrupt(buf, t)
		d.mu.Lock()
		d.stats.Bytes += int64(k)
		if len(d.rx) < 1<<20 {
			d.rx = append(d.rx, out...)
		}
		d.cond.Broadcast()
		d.mu.Unlock()
	}
}

// corrupt applies the faults to bytes that left the line at t.
func (d *direction) corrupt(b []byte, t time.Time) []byte {
	if d.line.paused(t) {
		d.addStat(&d.stats.Lost, len(b))
		return b[:0]
	}
	out := b[:0]
	for _, c := range b {
		byteN := d.byteN
		d.byteN++
		for d.nextFlip < d.bit+8 {
			c ^= 1 << (d.nextFlip - d.bit)
			d.addStat(&d.stats.Flipped, 1)
			d.nextFlip += 1 + d.geometric(d.cfg.BER)
		}
		d.bit += 8
		if d.nextDrop == byteN {
			d.nextDrop += 1 + d.geometric(d.cfg.Drop)
			d.addStat(&d.stats.Dropped, 1)
			continue
		}
		if d.cfg.BurstEvery > 0 && !t.Before(d.burstAt) {
			if t.Before(d.burstAt.Add(d.cfg.BurstLen)) {
				c = byte(d.rnd.Uint32())
				d.addStat(&d.stats.Noise, 1)
			} else {
				d.burstAt = t.Add(d.exponential(d.cfg.BurstEvery))
			}
		}
		out = append(out, c)
	}
	return out
}

func (d *direction) addStat(p *int64, n int) {
	d.mu.Lock()
	*p += int64(n)
	d.mu.Unlock()
}
