// Package progress tells a person how a transfer is going: a one-line bar
// on a terminal, redrawn by time, and one summary line per command.
//
// What goes to the writer, and when:
//   - Terminal and not Quiet: a bar, redrawn in place ("\r", the line, then
//     erase to the end of the line) about 4 times a second by a goroutine
//     of its own, however often or seldom Add is called, and when a file
//     starts unless it was drawn less than that ago. It is never wider than
//     the terminal less one column, so that it never wraps.
//   - Verbose: a line per file, written by Done (above the bar, if any).
//   - Finish: the bar is erased and the summary line written, unless
//     NoSummary.
//   - Not a terminal: never a bar nor an escape sequence; logs and scripts
//     see only the per-file lines (Verbose) and the summary.
//
// The calls follow the transfer: New, then for each file Start, Add as
// bytes go, Done; then Finish. The package does not decide whether the
// writer is a terminal (the caller does, with IsTerminal), parse flags or
// count bytes on its own.
package progress

import (
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Options say what to show. The zero value draws nothing but the summary.
type Options struct {
	Terminal  bool // the writer is a terminal (see IsTerminal): the bar may be drawn
	Quiet     bool // no bar even on a terminal (-q); the summary stays unless NoSummary
	NoSummary bool // Finish writes no summary (it still returns it)
	Verbose   bool // Done writes a line per file
	Files     int  // files the command will transfer; above 1 the bar shows "3/100"

	// Total, if above 0, is the size of all files together, bytes the
	// receiver already holds included. The bar's percent, bytes and ETA
	// are then those of the whole command rather than of the current file.
	Total int64

	// Width is the terminal's columns. With 0 it is asked of the writer
	// at every redraw when that is an *os.File, so that a resized window
	// is followed, and is 80 when the writer does not say.
	Width int

	Now func() time.Time // the clock, for tests; nil is time.Now
}

const (
	redrawEvery = 250 * time.Millisecond // the bar's pace
	redrawIdle  = time.Second            // an unchanged bar is drawn again after this anyway
)

// Progress shows the progress of one command; make it with New. It is safe
// for concurrent use: Add is lock-free and never allocates, so that it can
// be called for every chunk, from any goroutine; the other methods take a
// lock, held while they write (a terminal stopped with Ctrl-S holds up
// Start and Done, not Add).
type Progress struct {
	sent atomic.Int64 // bytes added since New; the only field Add touches

	w    io.Writer
	opt  Options
	fd   int // of w, to ask its width; -1 when not asked
	t0   time.Time
	stop chan struct{} // closed by Finish; nil when there is no bar
	quit chan struct{} // closed when the ticker goroutine has returned
	once sync.Once     // of finish

	mu       sync.Mutex // guards all below
	finished bool
	summary  string
	cur      file
	started  int   // Start calls: the number of the current file
	base     int64 // bytes towards Options.Total of the files before cur
	ok       int   // files done
	failed   int   // files done with an error
	saved    int64 // bytes that resumed files did not send
	rate     meter
	bar      bar
}

// file is the file between Start and Done.
type file struct {
	_         [0]func() // not comparable: spares the binary an equality function
	name      string
	size      int64 // -1 when unknown
	resumedAt int64 // bytes the receiver held at Start
	sentAt    int64 // Progress.sent at Start
	start     time.Duration
	open      bool // between Start and Done
}

// New returns a Progress that writes to w; on a terminal it starts the
// goroutine that draws the bar, which Finish stops.
func New(w io.Writer, o Options) *Progress {
	p := newProgress(w, o)
	if p.bar.on {
		p.stop, p.quit = make(chan struct{}), make(chan struct{})
		go p.run()
	}
	return p
}

// newProgress returns a Progress without the ticker goroutine; tests call
// tick themselves.
func newProgress(w io.Writer, o Options) *Progress {
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &Progress{w: w, opt: o, t0: o.Now(), fd: -1}
	p.bar.on = o.Terminal && !o.Quiet
	if f, ok := w.(*os.File); ok && p.bar.on && o.Width <= 0 {
		p.fd = int(f.Fd())
	}
	p.bar.last = -time.Hour // the first Start draws at once
	return p
}

// run redraws the bar every redrawEvery until Finish.
func (p *Progress) run() {
	defer close(p.quit)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.tick()
		}
	}
}

// tick takes a rate sample and redraws the bar if it changed or has not
// been drawn for redrawIdle.
func (p *Progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	now := p.since()
	p.rate.record(now, p.sent.Load())
	p.redraw(now)
}

func (p *Progress) since() time.Duration { return p.opt.Now().Sub(p.t0) }

// Start begins a file of size bytes (-1 when unknown, as for a stream from
// stdin), of which the receiver already holds resumedAt: the bar shows
// where it resumed, and the summary counts those bytes as saved. A file
// still open is ended as Done(nil) would, without its verbose line. After
// Finish, Start does nothing.
func (p *Progress) Start(name string, size, resumedAt int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	if p.cur.open {
		p.end(nil)
	}
	now := p.since()
	p.started++
	p.saved += resumedAt
	p.cur = file{name: name, size: size, resumedAt: resumedAt, sentAt: p.sent.Load(), start: now, open: true}
	if now-p.bar.last >= redrawEvery {
		p.redraw(now)
	}
}

// Add counts n more bytes sent (or received) of the current file. n is not
// negative.
func (p *Progress) Add(n int64) { p.sent.Add(n) }

// Done ends the file begun by the last Start, with the error that ended
// its transfer, if any; with Verbose it writes the file's line. Done
// without an open file, or after Finish, does nothing.
func (p *Progress) Done(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cur.open || p.finished {
		return
	}
	p.end(err)
	if p.opt.Verbose {
		p.bar.erase(p.w)
		p.w.Write(p.fileLine(err))
	}
}

// end closes the current file and counts it.
func (p *Progress) end(err error) {
	c := &p.cur
	pos := p.position()
	c.open = false
	if err == nil {
		p.ok++
		p.base += pos
		return
	}
	p.failed++
	if c.size >= 0 {
		pos = c.size // the rest of it is not coming: skip it in the ETA
	}
	p.base += pos
}

// position returns how far into the current file the transfer is.
func (p *Progress) position() int64 {
	return p.cur.resumedAt + p.sent.Load() - p.cur.sentAt
}

// fileLine formats the verbose line of the current file:
// "name: 2.6 MiB in 1.2 s (2.1 MiB/s), resumed at 45%".
func (p *Progress) fileLine(err error) []byte {
	c := &p.cur
	b := appendClean(nil, c.name)
	if err != nil {
		b = append(b, ": failed: "...)
		b = append(b, err.Error()...)
		return append(b, '\n')
	}
	b = append(b, ": "...)
	b = appendAmount(b, p.position()-c.resumedAt, p.since()-c.start)
	if c.resumedAt > 0 {
		b = append(b, ", "...)
		b = p.appendResumed(b, true)
	}
	return append(b, '\n')
}

// appendAmount appends "3.4 MiB in 2.1 s (1.6 MiB/s)".
func appendAmount(b []byte, n int64, d time.Duration) []byte {
	b = appendBytes(b, n)
	b = append(b, " in "...)
	b = appendElapsed(b, d)
	b = append(b, " ("...)
	r := -1.0
	if d > 0 {
		r = float64(n) / d.Seconds()
	}
	b = appendRate(b, r)
	return append(b, ')')
}

// appendResumed appends "resumed at 45%" of the current file, or
// "resumed at 1.2 MiB" when its size is unknown or not asPercent.
func (p *Progress) appendResumed(b []byte, asPercent bool) []byte {
	b = append(b, "resumed at "...)
	if asPercent && p.cur.size > 0 {
		return appendPercent(b, p.cur.resumedAt, p.cur.size)
	}
	return appendBytes(b, p.cur.resumedAt)
}

// Write writes b, which should end with a newline, to the writer: on a
// terminal the bar is erased first and drawn again below at the next
// tick, so that a command's notices do not run into the bar.
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.erase(p.w)
	return p.w.Write(b)
}

// Finish stops the bar, erases it and writes the summary line, unless
// NoSummary; it returns the summary without its newline:
// "12 files, 3.4 MiB in 2.1 s (1.6 MiB/s); resume saved 1.2 MiB". A file
// still open is not counted. Later calls only return the summary.
func (p *Progress) Finish() string {
	p.once.Do(p.finish)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.summary
}

func (p *Progress) finish() {
	p.mu.Lock()
	p.finished = true
	p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		<-p.quit // the goroutine may be waiting for mu: not held here
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.erase(p.w)
	b := p.appendSummary(nil)
	p.summary = string(b)
	if !p.opt.NoSummary {
		p.w.Write(append(b, '\n'))
	}
}

// appendSummary appends the summary line.
func (p *Progress) appendSummary(b []byte) []byte {
	b = strconv.AppendInt(b, int64(p.ok), 10)
	b = append(b, " file"...)
	if p.ok != 1 {
		b = append(b, 's')
	}
	if p.failed > 0 {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(p.failed), 10)
		b = append(b, " failed"...)
	}
	b = append(b, ", "...)
	b = appendAmount(b, p.sent.Load(), p.since())
	if p.saved > 0 {
		b = append(b, "; resume saved "...)
		b = appendBytes(b, p.saved)
	}
	return b
}
