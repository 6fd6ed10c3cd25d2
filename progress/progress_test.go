package progress

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake time for Options.Now.
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)} }
func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// recorder keeps each Write apart, with the fake time it came at.
type recorder struct {
	mu     sync.Mutex
	c      *clock
	writes []string
	at     []time.Time
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(b))
	if r.c != nil {
		r.at = append(r.at, r.c.t)
	}
	return len(b), nil
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.writes, "")
}

// draws returns the bars drawn, without "\r" and the erase sequence, and
// the indexes of the writes they came in.
func (r *recorder) draws() (lines []string, idx []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, w := range r.writes {
		if strings.HasPrefix(w, "\r") && strings.HasSuffix(w, "\x1b[K") && len(w) > len(eraseLine) {
			lines = append(lines, strings.TrimSuffix(w[1:], "\x1b[K"))
			idx = append(idx, i)
		}
	}
	return lines, idx
}

// run advances the fake clock by d in ticks of redrawEvery, calling add
// before each tick with the time since the start.
func run(p *Progress, c *clock, d time.Duration, add func(t time.Duration)) {
	for t := redrawEvery; t <= d; t += redrawEvery {
		c.advance(redrawEvery)
		if add != nil {
			add(t)
		}
		p.tick()
	}
}

func newTest(o Options) (*Progress, *clock, *recorder) {
	c := newClock()
	r := &recorder{c: c}
	o.Now = c.now
	if o.Width == 0 {
		o.Width = 80
	}
	return newProgress(r, o), c, r
}

func TestFirstLineAtStart(t *testing.T) {
	p, _, r := newTest(Options{Terminal: true})
	p.Start("image.bin", 256<<10, 0)
	lines, _ := r.draws()
	if len(lines) != 1 {
		t.Fatalf("Start drew %d lines, want 1: %q", len(lines), r.writes)
	}
	if want := " 0 B/256.0 KiB"; !strings.Contains(lines[0], want) {
		t.Errorf("first line %q does not contain %q", lines[0], want)
	}
}

// TestSlowLine is 115200 baud: a 64 KiB chunk every 6 s. The bar must be
// redrawn at least every second, and once the rate is known its ETA must
// change every second.
func TestSlowLine(t *testing.T) {
	const chunk = 64 << 10
	p, c, r := newTest(Options{Terminal: true})
	p.Start("image.bin", 4*chunk, 0)
	run(p, c, 24*time.Second, func(t time.Duration) {
		if t%(6*time.Second) == 0 {
			p.Add(chunk)
		}
	})
	lines, idx := r.draws()
	last := r.at[0]
	for _, i := range idx {
		if gap := r.at[i].Sub(last); gap > time.Second {
			t.Errorf("no redraw for %v before %v", gap, r.at[i].Sub(r.at[0]))
		}
		last = r.at[i]
	}
	var etas []string
	for i, l := range lines {
		at := r.at[idx[i]].Sub(r.at[0])
		if at < 6*time.Second {
			if !strings.Contains(l, "ETA --:--") || !strings.Contains(l, "-- B/s") {
				t.Errorf("at %v, before any byte: %q, want unknown rate and ETA", at, l)
			}
			continue
		}
		if !strings.Contains(l, "10.7 KiB/s") {
			t.Errorf("at %v: %q, want the rate of 64 KiB in 6 s, 10.7 KiB/s", at, l)
		}
		e := l[strings.Index(l, "ETA ")+4:]
		if at < 24*time.Second && at%time.Second == 0 {
			etas = append(etas, strings.TrimSpace(e))
		}
	}
	// From 6 s to 23 s the ETA counts 18 s down to 1 s, a second a second.
	want := []string{"0:18", "0:17", "0:16", "0:15", "0:14", "0:13", "0:12", "0:11", "0:10", "0:09",
		"0:08", "0:07", "0:06", "0:05", "0:04", "0:03", "0:02", "0:01"}
	if strings.Join(etas, " ") != strings.Join(want, " ") {
		t.Errorf("ETA at each second from 6 s:\n got %q\nwant %q", etas, want)
	}
	if l := lines[len(lines)-1]; !strings.Contains(l, "100%") || !strings.Contains(l, "ETA  0:00") {
		t.Errorf("last line %q, want 100%% and ETA 0:00", l)
	}
}

// TestStalled: with no byte at all, the unchanged bar is still redrawn
// every second, so that a person sees the command alive.
func TestStalled(t *testing.T) {
	p, c, r := newTest(Options{Terminal: true})
	p.Start("image.bin", 1<<20, 0)
	run(p, c, 10*time.Second, nil)
	lines, _ := r.draws()
	if len(lines) != 11 {
		t.Errorf("%d lines in 10 s without bytes, want 11 (at start and every second)", len(lines))
	}
}

// TestFastLine: bytes arriving all the time do not draw; only the ticks
// do, at most 4 times a second.
func TestFastLine(t *testing.T) {
	p, c, r := newTest(Options{Terminal: true})
	p.Start("image.bin", 1<<30, 0)
	for range 10000 {
		c.advance(time.Millisecond)
		p.Add(1000)
	}
	if len(r.writes) != 1 {
		t.Fatalf("%d writes after 10000 Adds, want only the one of Start", len(r.writes))
	}
	run(p, c, 10*time.Second, func(time.Duration) { p.Add(250_000) })
	lines, _ := r.draws()
	if n := len(lines) - 1; n > 10*5 || n < 10*4 {
		t.Errorf("%d redraws in 10 s of steady bytes, want 40 to 50", n)
	}
	if l := lines[len(lines)-1]; !strings.Contains(l, "976.6 KiB/s") {
		t.Errorf("last line %q, want the rate 1 MB/s", l)
	}
}

func TestETAShown(t *testing.T) {
	p, c, r := newTest(Options{Terminal: true})
	p.Start("image.bin", 100<<10, 0)
	run(p, c, 3*time.Second, func(time.Duration) { p.Add(2560) })
	lines, _ := r.draws()
	l := lines[len(lines)-1]
	for _, want := range []string{"image.bin", " 30% ", " 30.0 KiB/100.0 KiB", " 10.0 KiB/s", "ETA  0:07"} {
		if !strings.Contains(l, want) {
			t.Errorf("line %q does not contain %q", l, want)
		}
	}
}

func TestUnknownSize(t *testing.T) {
	p, c, r := newTest(Options{Terminal: true})
	p.Start("-", -1, 0)
	run(p, c, 2*time.Second, func(time.Duration) { p.Add(1 << 18) })
	lines, _ := r.draws()
	l := lines[len(lines)-1]
	if strings.Contains(l, "%") || strings.Contains(l, "ETA") || strings.Contains(l, "[") {
		t.Errorf("line %q for an unknown size has a percent, ETA or gauge", l)
	}
	if !strings.Contains(l, "2.0 MiB") || !strings.Contains(l, "1.0 MiB/s") {
		t.Errorf("line %q, want 2.0 MiB at 1.0 MiB/s", l)
	}
}

func TestResumeShown(t *testing.T) {
	tests := []struct {
		name            string
		o               Options
		size, resumedAt int64
		want            []string
	}{
		{"percent", Options{}, 1000 << 10, 450 << 10, []string{" 45% ", "450.0 KiB/1000.0 KiB", "resumed at 45%"}},
		{"unknown size", Options{}, -1, 3 << 20, []string{"3.0 MiB", "resumed at 3.0 MiB"}},
		{"many files", Options{Files: 100}, 1000, 450, []string{"  1/100 ", "resumed at 45%"}},
		{"whole command", Options{Files: 3, Total: 3 << 20, Width: 100}, 1 << 20, 1 << 19, []string{"1/3 ", " 16% ", "512.0 KiB/3.0 MiB", "resumed at 512.0 KiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Terminal = true
			p, _, r := newTest(tt.o)
			p.Start("image.bin", tt.size, tt.resumedAt)
			lines, _ := r.draws()
			for _, want := range tt.want {
				if !strings.Contains(lines[0], want) {
					t.Errorf("line %q does not contain %q", lines[0], want)
				}
			}
		})
	}
}

func TestManyFiles(t *testing.T) {
	p, c, r := newTest(Options{Terminal: true, Files: 3, Total: 3 << 20})
	for i, name := range []string{"a", "b", "c"} {
		p.Start(name, 1<<20, 0)
		run(p, c, time.Second, func(time.Duration) { p.Add(1 << 18) })
		p.Done(nil)
		lines, _ := r.draws()
		l := lines[len(lines)-1]
		want := []string{"1/3 a ", "2/3 b ", "3/3 c "}[i]
		pct := []string{" 33% ", " 66% ", "100% "}[i]
		if !strings.HasPrefix(l, want) || !strings.Contains(l, pct) {
			t.Errorf("line %q, want it to start with %q and hold %q", l, want, pct)
		}
	}
	if got, want := p.Finish(), "3 files, 3.0 MiB in 3.0 s (1.0 MiB/s)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestSummary(t *testing.T) {
	type file struct {
		size, resumedAt, sent int64
		err                   error
	}
	tests := []struct {
		name  string
		files []file
		took  time.Duration
		want  string
	}{
		{"resumed", append(make([]file, 11), file{size: 2565158, resumedAt: 1258291, sent: 3565158}), 2100 * time.Millisecond,
			"12 files, 3.4 MiB in 2.1 s (1.6 MiB/s); resume saved 1.2 MiB"},
		{"one file", []file{{size: 512, sent: 512}}, 500 * time.Millisecond, "1 file, 512 B in 0.5 s (1.0 KiB/s)"},
		{"failed", []file{{size: 10, sent: 10}, {size: 10, sent: 3, err: errors.New("link: timeout")}}, time.Second,
			"1 file, 1 failed, 13 B in 1.0 s (13 B/s)"},
		{"none", nil, 0, "0 files, 0 B in 0.0 s (-- B/s)"},
		{"long", []file{{size: 16 << 20, sent: 16 << 20}}, 25*time.Minute + 3*time.Second, "1 file, 16.0 MiB in 25:03 (10.9 KiB/s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c, r := newTest(Options{})
			for _, f := range tt.files {
				p.Start("f", f.size, f.resumedAt)
				p.Add(f.sent)
				p.Done(f.err)
			}
			c.advance(tt.took)
			if got := p.Finish(); got != tt.want {
				t.Errorf("Finish() = %q, want %q", got, tt.want)
			}
			if got := r.String(); got != tt.want+"\n" {
				t.Errorf("wrote %q, want %q", got, tt.want+"\n")
			}
		})
	}
}

// transfer runs a command of two files, one resumed and one that fails,
// with ticks between.
func transfer(p *Progress, c *clock) {
	p.Start("a.bin", 1<<20, 0)
	run(p, c, time.Second, func(time.Duration) { p.Add(1 << 18) })
	p.Done(nil)
	p.Start("b.bin", 1<<20, 1<<19)
	run(p, c, time.Second, func(time.Duration) { p.Add(1 << 16) })
	p.Done(errors.New("link: timeout"))
	p.Finish()
}

func TestOutput(t *testing.T) {
	const summary = "1 file, 1 failed, 1.2 MiB in 2.0 s (640.0 KiB/s); resume saved 512.0 KiB\n"
	const fileA = "a.bin: 1.0 MiB in 1.0 s (1.0 MiB/s)\n"
	const fileB = "b.bin: failed: link: timeout\n"
	tests := []struct {
		name string
		o    Options
		want string // on a terminal: what stays on the screen
	}{
		{"not a terminal", Options{}, summary},
		{"not a terminal, verbose", Options{Verbose: true}, fileA + fileB + summary},
		{"not a terminal, no summary", Options{NoSummary: true}, ""},
		{"quiet", Options{Terminal: true, Quiet: true}, summary},
		{"quiet, verbose", Options{Terminal: true, Quiet: true, Verbose: true}, fileA + fileB + summary},
		{"quiet, no summary", Options{Terminal: true, Quiet: true, NoSummary: true}, ""},
		{"terminal", Options{Terminal: true}, summary},
		{"terminal, verbose", Options{Terminal: true, Verbose: true}, fileA + fileB + summary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c, r := newTest(tt.o)
			transfer(p, c)
			got := r.String()
			if !tt.o.Terminal || tt.o.Quiet {
				if got != tt.want {
					t.Errorf("wrote %q, want only %q", got, tt.want)
				}
				return
			}
			if lines, _ := r.draws(); len(lines) < 8 {
				t.Errorf("%d bars drawn, want 8 or more", len(lines))
			}
			if screen := screen(got); screen != tt.want {
				t.Errorf("the screen shows %q, want %q", screen, tt.want)
			}
		})
	}
}

// screen returns what output leaves on a terminal, where every line that
// "\r\x1b[K" erased is gone.
func screen(out string) string {
	var done []string
	cur := ""
	for len(out) > 0 {
		switch {
		case strings.HasPrefix(out, "\r\x1b[K"):
			cur, out = "", out[4:]
		case strings.HasPrefix(out, "\r"):
			cur, out = "", out[1:]
		case strings.HasPrefix(out, "\x1b[K"):
			out = out[3:]
		case out[0] == '\n':
			done, cur, out = append(done, cur+"\n"), "", out[1:]
		default:
			cur, out = cur+out[:1], out[1:]
		}
	}
	return strings.Join(done, "") + cur
}

func TestNotTerminalNoGoroutine(t *testing.T) {
	for _, o := range []Options{{}, {Terminal: true, Quiet: true}} {
		if p := New(&recorder{}, o); p.stop != nil {
			t.Errorf("New(%+v) started the ticker", o)
		}
	}
}

func TestVerboseAboveBar(t *testing.T) {
	p, c, r := newTest(Options{Terminal: true, Verbose: true})
	p.Start("a.bin", 10, 0)
	p.Add(10)
	c.advance(time.Second)
	p.Done(nil)
	p.Write([]byte("ferry: a notice\n"))
	w := r.writes
	if len(w) != 4 || w[1] != "\r\x1b[K" || w[2] != "a.bin: 10 B in 1.0 s (10 B/s)\n" || w[3] != "ferry: a notice\n" {
		t.Errorf("writes %q, want bar, erase, file line, notice", w)
	}
}

func TestAddAllocs(t *testing.T) {
	p, c, _ := newTest(Options{Terminal: true, Files: 10, Total: 1 << 30})
	p.opt.Verbose = false
	p.w = discard{}
	p.Start("image.bin", 1<<20, 1<<10)
	if n := testing.AllocsPerRun(1000, func() { p.Add(4096) }); n != 0 {
		t.Errorf("Add: %v allocations, want 0", n)
	}
	p.tick() // grow the buffers
	if n := testing.AllocsPerRun(100, func() {
		c.advance(redrawEvery)
		p.Add(4096)
		p.tick()
	}); n != 0 {
		t.Errorf("tick: %v allocations, want 0", n)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// TestTicker runs the real goroutine: bars come about 4 times a second,
// from Adds on other goroutines, and none after Finish.
func TestTicker(t *testing.T) {
	r := &recorder{}
	p := New(r, Options{Terminal: true, Width: 80, Files: 2})
	p.Start("a.bin", 1<<30, 0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					p.Add(1)
					time.Sleep(100 * time.Microsecond)
				}
			}
		})
	}
	time.Sleep(1100 * time.Millisecond)
	close(stop)
	wg.Wait()
	p.Finish()
	n := len(r.writes)
	lines, _ := r.draws()
	if len(lines) > 6 || len(lines) < 3 && !testing.Short() { // -short: under emulation, maybe starved
		t.Errorf("%d bars in 1.1 s, want 3 to 6 (4 a second and one at start)", len(lines))
	}
	time.Sleep(2 * redrawEvery)
	if len(r.writes) != n {
		t.Errorf("writes after Finish: %q", r.writes[n:])
	}
	if s := p.Finish(); !strings.HasPrefix(s, "0 files, ") {
		t.Errorf("second Finish() = %q", s)
	}
}
