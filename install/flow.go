package install

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The flow of Run (see the package comment); the steps are in the order
// they run.

// session is one run: the console and the command numbers.
type session struct {
	c      *console
	opt    Options
	n      int // last command number
	res    Result
	size   int  // the next piece's size (pieces.go)
	streak int  // good pieces in a row
	lost   bool // the shell stopped answering: no cleanup to try
}

// next returns a new command number.
func (s *session) next() int {
	s.n++
	return s.n
}

func (s *session) logf(format string, args ...any) {
	if s.opt.Logf != nil {
		s.opt.Logf(format, args...)
	}
}

// run is Run once the options are checked.
func run(ctx context.Context, port io.ReadWriter, opt Options) (*Result, error) {
	s := &session{c: newConsole(port, opt.Trace), opt: opt}
	s.c.done = ctx.Done()
	s.logf("looking for a shell on the console")
	if err := s.findShell(time.Now().Add(opt.Timeout)); err != nil {
		return nil, err
	}
	if err := s.bootstrap(); err != nil {
		if !s.lost {
			s.c.send("rm -f " + s.opt.Dest + ".fy.sh\n") // best effort
		}
		return nil, err
	}
	err := s.install(ctx)
	s.res.Typed = s.c.sent
	if err != nil {
		if !s.lost {
			s.cleanup(true)
		}
		return &s.res, err
	}
	return &s.res, nil
}

// bootstrap sends the device-side functions and sources them. The capture
// command is the only long one typed at the prompt (139 bytes for
// /tmp/ferry, far under the 512 of OpenWrt's line editor).
func (s *session) bootstrap() error {
	text := script()
	sum := sha256.Sum256([]byte(text))
	path := s.opt.Dest + ".fy.sh"
	var err error
	for try := 0; try < 4; try++ {
		if try > 0 {
			if err := s.resync(); err != nil {
				return err
			}
		}
		n := s.next()
		cmd := captureCommand(n, path)
		if err = s.c.send(cmd); err != nil {
			return err
		}
		if err = s.ready(n, s.soon(len(cmd))); err != nil {
			continue
		}
		var b []byte
		for _, l := range strings.SplitAfter(text, "\n") {
			if l != "" {
				b = append(append(b, linePrefix), l...)
			}
		}
		if err = s.c.send(string(b) + ending); err != nil {
			return err
		}
		var got string
		if got, err = s.c.reply(s.deadline(len(b)), n); err != nil {
			continue
		}
		if strings.TrimSpace(got) == "sum" {
			return fmt.Errorf("%w: the device has no sha256sum, which checks every piece", ErrDevice)
		}
		if h, _, _ := strings.Cut(strings.TrimPrefix(got, "sum "), " "); h != hex.EncodeToString(sum[:]) {
			err = fmt.Errorf("%w: the device-side functions arrived damaged", ErrDevice)
			continue
		}
		n = s.next()
		if err = s.c.send(fmt.Sprintf(". %s && fyS %d %s -\n", path, n, s.opt.Dest)); err != nil {
			return err
		}
		if got, err = s.c.reply(s.soon(0), n); err == nil && got == "set "+s.opt.Dest+" -" {
			return nil
		}
		err = fmt.Errorf("%w: the device-side functions did not load (%q, %v)", ErrDevice, got, err)
	}
	return err
}

// captureCommand is the command that captures the functions into path:
// like fyP, with the quotes that keep the echo from looking like replies.
func captureCommand(n int, path string) string {
	return fmt.Sprintf("echo F''Y=%d ready; (trap '' INT QUIT TSTP; exec sed -n '/^#E/q;s/^://p') >%s; echo F''Y=%d sum $(sha256sum <%s)\n", n, path, n, path)
}

// ready waits for command n to say that it is reading.
func (s *session) ready(n int, deadline time.Time) error {
	got, err := s.c.reply(deadline, n)
	if err == nil && got != "ready" {
		err = fmt.Errorf("%w: unexpected reply %q", ErrDevice, got)
	}
	return err
}

// deadline is the time a reply may take after the laptop typed size
// bytes: the line time of what may still be in buffers, and the timeout.
func (s *session) deadline(size int) time.Time {
	return time.Now().Add(s.opt.Timeout + s.airtime(size))
}

// soon is the deadline of a reply that comes at once (a shell function
// that starts reading, a piece's check): a lost command is noticed in
// seconds, not in Timeout.
func (s *session) soon(size int) time.Time {
	return time.Now().Add(min(s.opt.Timeout, 5*time.Second) + s.airtime(size))
}

// later is the deadline of a reply block that takes a moment: a program
// run on the device.
func (s *session) later() time.Time {
	return s.soon(0).Add(10 * time.Second)
}

// airtime is the time the line takes to carry size bytes.
func (s *session) airtime(size int) time.Duration {
	if s.opt.Baud <= 0 {
		return 0
	}
	return time.Duration(int64(size) * 10 * int64(time.Second) / int64(s.opt.Baud))
}

// call types "fyX N ARGS..." and returns N. Arguments are numbers, hashes
// and the checked destination: nothing the shell would expand.
func (s *session) call(fn string, args ...string) (int, error) {
	n := s.next()
	s.c.drain()
	return n, s.c.send(fn + " " + strconv.Itoa(n) + " " + strings.Join(args, " ") + "\n")
}

// ask calls fn and returns its reply block, resyncing and asking again if
// the reply does not come within the deadline (line noise can eat a
// command). Only for functions that can be repeated.
func (s *session) ask(deadline func() time.Time, fn string, args ...string) ([]string, error) {
	var err error
	for try := 0; try < 3; try++ {
		if try > 0 {
			if err := s.resync(); err != nil {
				return nil, err
			}
		}
		var n int
		if n, err = s.call(fn, args...); err != nil {
			return nil, err
		}
		var lines []string
		if lines, err = s.c.block(deadline(), n); err == nil {
			return lines, nil
		}
	}
	return nil, err
}

// askAgreed asks until two replies agree: line noise on the way back
// could change one (an "m mips" read as "m mipr").
func (s *session) askAgreed(fn string, args ...string) ([]string, error) {
	var last []string
	for try := 0; try < 4; try++ {
		lines, err := s.ask(s.later, fn, args...)
		if err != nil {
			return nil, err
		}
		if try > 0 && slices.Equal(lines, last) {
			return lines, nil
		}
		last = lines
	}
	return last, nil
}

// info asks the device what it is.
func (s *session) info() (info, error) {
	lines, err := s.askAgreed("fyI", s.opt.elfProbe...)
	return parseInfo(lines), err
}

// install runs steps 3 to 6 of the flow.
func (s *session) install(ctx context.Context) error {
	in, err := s.info()
	if err != nil {
		return err
	}
	s.res.Device = in.String()
	s.logf("the device: %s", in)
	if !in.dirOK {
		return fmt.Errorf("%w: %s is not a writable folder on the device; choose another -dest", ErrDevice, path.Dir(s.opt.Dest))
	}
	bin, err := s.choose(in)
	if err != nil {
		return err
	}
	gz, err := compress(bin)
	if err != nil {
		return err
	}
	binSum, gzSum := sha256.Sum256(bin), sha256.Sum256(gz)
	s.res.Size, s.res.Compressed = int64(len(bin)), int64(len(gz))
	if in.have == hex.EncodeToString(binSum[:]) {
		s.res.Already = true
		s.logf("%s on the device is this binary already (sha256 %x)", s.opt.Dest, binSum[:8])
	} else if err := s.transfer(ctx, gz, hex.EncodeToString(gzSum[:6]), binSum, in); err != nil {
		return err
	}
	return s.finish()
}

// choose returns the binary to install: Options.Bin, or Dist's build of
// Options.Board or of the board that matches the device.
func (s *session) choose(in info) ([]byte, error) {
	file := s.opt.Bin
	if file == "" {
		board := s.opt.Board
		if board == "" {
			var err error
			if board, err = pickBoard(in); err != nil {
				return nil, err
			}
		}
		s.res.Board = board
		file = filepath.Join(s.opt.Dist, "ferry-"+board)
	}
	s.res.File = file
	bin, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) && s.opt.Bin == "" {
		return nil, fmt.Errorf("install: no build %s for the device (%s): run \"make board-%s\" or give -dist DIR", file, in, s.res.Board)
	}
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	return bin, nil
}

func compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// finish runs the installed binary and cleans up or starts the server.
func (s *session) finish() error {
	lines, err := s.askAgreed("fyV", "version")
	if err != nil {
		return err
	}
	out, code := versionOutput(lines)
	s.res.Version = out
	if code != "0" {
		return fmt.Errorf("%w: %s version exited %s: %q (is it the right build for this device?)", ErrDevice, s.opt.Dest, code, out)
	}
	if !s.opt.Serve {
		return s.cleanup(false)
	}
	args := s.serveArgs()
	if lines, err = s.ask(s.later, "fyV", append([]string{"serve"}, args...)...); err != nil {
		return err
	}
	first, _ := versionOutput(lines)
	s.res.ServeOutput = strings.Split(first, "\n")
	n, err := s.call("fyR", args...)
	if err != nil {
		return err
	}
	// Whatever the reply (line noise may change it), the terminal tells.
	if _, err := s.c.reply(s.soon(0), n); err != nil && !isTimeout(err) {
		return err
	}
	err = s.awaitRaw()
	s.c.detach()
	return err
}

func isTimeout(err error) bool {
	_, ok := err.(errTimeout)
	return ok
}

// awaitRaw returns once ferry serve has switched the device's terminal to
// raw mode: until then a control character in a client's first frames
// (a session ID byte 0x03 is ^C) would be a signal that kills it. It types
// a space now and then; the terminal echoes it while it is cooked (so does
// the shell's line editor, should ferry serve have ended), and never once
// raw, while ferry serve skips it as line noise.
func (s *session) awaitRaw() error {
	deadline := time.Now().Add(s.opt.Timeout)
	for time.Now().Before(deadline) {
		s.c.drain()
		if err := s.c.send(" "); err != nil {
			return err
		}
		out, err := s.c.quiet(300*time.Millisecond+2*s.airtime(64), time.Second)
		if err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: ferry serve did not take the console (its log is %s.log on the device)", ErrDevice, s.opt.Dest)
}

// serveArgs are the arguments of ferry serve on the device.
func (s *session) serveArgs() []string {
	args := []string{"-stdio"}
	if s.opt.Baud > 0 {
		args = append(args, "-baud", strconv.Itoa(s.opt.Baud))
	}
	return append(args, s.opt.ServeArgs...)
}

// versionOutput splits fyV's reply into the program's output and its exit code.
func versionOutput(lines []string) (out, code string) {
	var b []string
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "v "); ok {
			b = append(b, v)
		} else if v, ok := strings.CutPrefix(l, "exit "); ok {
			code = v
		}
	}
	return strings.Join(b, "\n"), code
}

// cleanup removes what the install left on the device but the binary
// (and, with keep, the verified pieces, for a resumed install) and gives
// the shell back its prompts. Best effort after a failure.
func (s *session) cleanup(keep bool) error {
	s.c.done = nil // after a ^C too: a last short exchange
	k := "0"
	if keep {
		k = "1"
	}
	n, err := s.call("fyX", k)
	if err != nil {
		return err
	}
	_, err = s.c.block(s.soon(0), n)
	return err
}
