package install

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// console is the laptop's end of the device's console: it types, and it
// reads back what the device prints, echo included. A goroutine reads the
// port all the time, so that the device's echo never waits for the laptop
// (not even while it types a long piece); every wait has a deadline. Not
// safe for concurrent use (the reading goroutine aside).
type console struct {
	w     io.Writer
	buf   []byte // received and not yet consumed
	sent  int64  // bytes typed
	trace io.Writer
	t0    time.Time       // for the transcript
	done  <-chan struct{} // ends every wait (the command's context); nil for none

	mu      sync.Mutex
	pending []byte        // read, not yet in buf
	err     error         // the read error that ended the reading
	stopped bool          // detached
	notify  chan struct{} // a token when pending grows or err is set
}

// maxPending bounds what waits for a match: the echo of a whole piece
// passes through. What is cut is older than any reply being waited for.
const maxPending = 64 << 10

func newConsole(rw io.ReadWriter, trace io.Writer) *console {
	c := &console{w: rw, trace: trace, notify: make(chan struct{}, 1), t0: time.Now()}
	go c.read(rw)
	return c
}

func (c *console) read(r io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		c.mu.Lock()
		if c.stopped {
			c.mu.Unlock()
			return
		}
		c.pending = append(c.pending, b[:n]...)
		if len(c.pending) > 4*maxPending {
			c.pending = c.pending[:copy(c.pending, c.pending[len(c.pending)-maxPending:])]
		}
		if err != nil {
			c.err = err
		}
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// take moves what has been read into buf; it returns the read error once
// everything before it has been taken.
func (c *console) take() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) > 0 {
		c.add(c.pending)
		c.pending = c.pending[:0]
		return nil
	}
	return c.err
}

// detach stops reading: the line belongs to another program from now on
// (ferry serve on the device). The reading goroutine ends after its
// current read.
func (c *console) detach() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
}

// send types s.
func (c *console) send(s string) error {
	if c.trace != nil {
		fmt.Fprintf(c.trace, "%7.3f >> %q\n", time.Since(c.t0).Seconds(), clip(s, 200))
	}
	n, err := io.WriteString(c.w, s)
	c.sent += int64(n)
	if err != nil {
		return fmt.Errorf("install: write to the console: %w", err)
	}
	return nil
}

// drain consumes what has arrived so far.
func (c *console) drain() {
	c.take()
	c.buf = c.buf[:0]
}

func (c *console) add(b []byte) {
	if c.trace != nil {
		fmt.Fprintf(c.trace, "%7.3f << %q\n", time.Since(c.t0).Seconds(), clip(string(b), 300))
	}
	c.buf = append(c.buf, b...)
}

// errCanceled is what a wait returns when the command is canceled (^C).
var errCanceled = fmt.Errorf("install: interrupted (%w)", context.Canceled)

// errTimeout is what a wait returns when its deadline passes.
type errTimeout struct{ what string }

func (e errTimeout) Error() string { return "install: no " + e.what + " from the device in time" }

// waitFor waits until match finds something in what has arrived, and
// consumes up to the end it returns. what names it for the timeout error.
func (c *console) waitFor(deadline time.Time, what string, match func([]byte) (end int, ok bool)) error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		if end, ok := match(c.buf); ok {
			c.buf = c.buf[:copy(c.buf, c.buf[end:])]
			return nil
		}
		if len(c.buf) > maxPending {
			c.buf = c.buf[:copy(c.buf, c.buf[len(c.buf)-maxPending/2:])]
		}
		if n := len(c.buf); c.take() != nil && len(c.buf) == n {
			return c.readErr()
		} else if len(c.buf) > n {
			continue
		}
		select {
		case <-c.notify:
		case <-timer.C:
			return errTimeout{what}
		case <-c.done:
			return errCanceled
		}
	}
}

func (c *console) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Errorf("install: read from the console: %w", c.err)
}

// quiet waits until nothing has arrived for gap, or until max has passed,
// and returns everything that arrived meanwhile (and before, unconsumed).
func (c *console) quiet(gap, max time.Duration) ([]byte, error) {
	end := time.After(max)
	t := time.NewTimer(gap)
	defer t.Stop()
	for {
		n := len(c.buf)
		if err := c.take(); err != nil && len(c.buf) == n {
			return c.buf, c.readErr()
		}
		if len(c.buf) > n {
			t.Reset(gap)
		}
		select {
		case <-c.notify:
		case <-t.C:
			return c.buf, nil
		case <-end:
			return c.buf, nil
		case <-c.done:
			return c.buf, errCanceled
		}
	}
}

// line waits for a line that starts with prefix (anywhere in the output:
// the echo of a command never holds a reply's prefix) and returns the rest
// of it, without the line end.
func (c *console) line(deadline time.Time, prefix string) (string, error) {
	var rest string
	err := c.waitFor(deadline, strings.TrimSpace(prefix), func(b []byte) (int, bool) {
		i := bytes.Index(b, []byte(prefix))
		if i < 0 {
			return 0, false
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return 0, false
		}
		rest = strings.TrimRight(string(b[i+len(prefix):i+j]), "\r")
		return i + j + 1, true
	})
	return rest, err
}

// reply waits for the one-line reply of command n: "FY=n REST".
func (c *console) reply(deadline time.Time, n int) (string, error) {
	return c.line(deadline, "FY="+strconv.Itoa(n)+" ")
}

// block waits for the reply lines of command n up to "FY=n end" and
// returns them without their prefix.
func (c *console) block(deadline time.Time, n int) ([]string, error) {
	var lines []string
	for {
		l, err := c.reply(deadline, n)
		if err != nil {
			return lines, err
		}
		if l == "end" {
			return lines, nil
		}
		lines = append(lines, l)
	}
}

// clip shortens s for a transcript.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n/2] + "..." + s[len(s)-n/2:]
}
