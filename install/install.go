// Package install puts ferry onto a bare device through its console: a
// serial line to a router's UART, or any pipe to a shell. The device needs
// only a POSIX shell and the applets of stock OpenWrt's busybox; no base64,
// uudecode, xxd, od, stty or rz.
//
// The flow, in the order of Run:
//
//  1. find the shell: wake the console, skip boot noise and banners, log in
//     if asked, until a probe gets its answer (shell.go);
//  2. bootstrap: type a capture command, send the device-side functions
//     (device.sh and its decoder decode.awk) as text, check their sha256
//     on the device and source them;
//  3. ask the device what it is (uname -m, byte order and word size of its
//     ELF files, CPU features, free space) and pick the build (device.go);
//  4. send the gzipped binary in pieces, each as lines of base-85 text
//     (encode.go) that sed captures, checked with sha256sum on arrival
//     (a bad piece is sent again, alone) and decoded in the background;
//     pieces kept from an interrupted install are checked and reused
//     (pieces.go);
//  5. join the pieces, gunzip, check the sha256 of the whole binary, make
//     it executable, run "ferry version" there;
//  6. clean up, or hand the console to "ferry serve -stdio".
//
// Every command the laptop types is a short call of a device-side function
// with a number; replies are lines "FY=N ..." that neither the echo of the
// commands nor of the data can contain. The package does not open ports,
// read the terminal or print: the caller does (cmd_install.go).
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
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options configure Run. The zero value installs the build for the device
// from ./dist to /tmp/ferry.
type Options struct {
	Dest      string                  // path of ferry on the device; default /tmp/ferry
	Bin       string                  // the binary to install; default: Dist's build for the device
	Board     string                  // install Dist/ferry-<Board> whatever the device says
	Dist      string                  // folder of "make boards" builds; default "dist"
	Login     string                  // user name for a login prompt
	Password  func() (string, error)  // asked only when the console wants a password
	Baud      int                     // the line's rate, for timeouts and piece sizes; 0 = a fast pipe
	Timeout   time.Duration           // for the shell to answer, and for each reply beyond its data's line time; default 30s
	Serve     bool                    // then give the console to "ferry serve -stdio"
	ServeArgs []string                // more arguments for ferry serve there (-data DIR)
	Fresh     bool                    // do not reuse pieces kept from an earlier install
	Progress  func(done, total int64) // compressed bytes on the device, of total: at the start (kept ones) and after each piece
	Logf      func(format string, args ...any)
	Trace     io.Writer // a transcript of the console, for debugging

	elfProbe []string // files whose ELF header tells the byte order; tests change it
}

// Result reports an install.
type Result struct {
	Device      string        // what the device said it is
	Board       string        // the build installed ("" with Options.Bin)
	File        string        // the file installed from
	Size        int64         // bytes of the binary
	Compressed  int64         // bytes of it gzipped
	Kept        int64         // compressed bytes found on the device from an earlier install
	Pieces      int           // pieces sent
	Resent      int           // pieces sent again
	Typed       int64         // bytes typed on the console
	Elapsed     time.Duration // from the start of the transfer to the check of the whole
	Already     bool          // the device had this binary already: nothing sent
	Version     string        // what "ferry version" printed on the device
	ServeOutput []string      // with Serve: what ferry serve printed on its first start (the key fingerprint)
}

// Errors of Run besides ErrNoShell, ErrLogin and ErrUnknownMachine.
var (
	// ErrNoSpace: too little free space in the destination's folder.
	ErrNoSpace = errors.New("install: not enough space on the device")
	// ErrDevice: the device could not do a step (write, gunzip, run).
	ErrDevice = errors.New("install: on the device")
	// ErrVerify: the binary on the device is not the one sent.
	ErrVerify = errors.New("install: verification failed")
)

// session is one run: the console and the command numbers.
type session struct {
	c      *console
	opt    Options
	n      int // last command number
	res    Result
	size   int // the next piece's size (pieces.go)
	streak int // good pieces in a row
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

// Run installs ferry on the device at the other end of port.
func Run(ctx context.Context, port io.ReadWriter, opt Options) (*Result, error) {
	if err := opt.setDefaults(); err != nil {
		return nil, err
	}
	s := &session{c: newConsole(port, opt.Trace), opt: opt}
	s.logf("looking for a shell on the console")
	if err := s.findShell(time.Now().Add(opt.Timeout)); err != nil {
		return nil, err
	}
	if err := s.bootstrap(); err != nil {
		return nil, err
	}
	err := s.install(ctx)
	s.res.Typed = s.c.sent
	if err != nil {
		s.cleanup(true)
		return &s.res, err
	}
	return &s.res, nil
}

func (o *Options) setDefaults() error {
	if o.Dest == "" {
		o.Dest = "/tmp/ferry"
	}
	if o.Dist == "" {
		o.Dist = "dist"
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.elfProbe == nil {
		o.elfProbe = []string{"/bin/busybox", "/bin/sh", "/bin/ls"}
	}
	return checkDest(o.Dest)
}

// checkDest refuses a destination the device's shell would have to quote:
// it is typed in commands.
func checkDest(d string) error {
	if !strings.HasPrefix(d, "/") || strings.HasSuffix(d, "/") || len(d) > 100 || strings.Contains(d, "/./") || strings.Contains(d, "/../") {
		return fmt.Errorf("install: -dest %q: give an absolute file path (at most 100 characters)", d)
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+", r)) {
			return fmt.Errorf("install: -dest %q: only letters, digits and / . _ - + please", d)
		}
	}
	return nil
}

// bootstrap sends the device-side functions and sources them. The capture
// command is the only long one typed at the prompt (about 190 bytes, far
// under the 512 of OpenWrt's line editor).
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
		cmd := fmt.Sprintf("echo F''Y=%d ready; (trap '' INT QUIT TSTP; exec sed -n '/^#E/q;s/^://p') >%s; echo F''Y=%d sum $(sha256sum <%s)\n", n, path, n, path)
		if err = s.c.send(cmd); err != nil {
			return err
		}
		if err = s.ready(n, time.Now().Add(s.opt.Timeout)); err != nil {
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
// the reply does not come (line noise can eat a command). Only for
// functions that can be repeated.
func (s *session) ask(fn string, args ...string) ([]string, error) {
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
		if lines, err = s.c.block(s.deadline(0), n); err == nil {
			return lines, nil
		}
	}
	return nil, err
}

// install runs steps 3 to 6 of the flow.
func (s *session) install(ctx context.Context) error {
	lines, err := s.ask("fyI", s.opt.elfProbe...)
	if err != nil {
		return err
	}
	in := parseInfo(lines)
	s.res.Device = in.String()
	s.logf("the device: %s", in)
	if !in.dirOK {
		return fmt.Errorf("%w: %s is not a writable folder on the device; choose another -dest", ErrDevice, filepath.Dir(s.opt.Dest))
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
	lines, err := s.ask("fyV", "version")
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
	if lines, err = s.ask("fyV", append([]string{"serve"}, args...)...); err != nil {
		return err
	}
	first, _ := versionOutput(lines)
	s.res.ServeOutput = strings.Split(first, "\n")
	n, err := s.call("fyR", args...)
	if err != nil {
		return err
	}
	got, err := s.c.reply(s.soon(0), n)
	if err == nil && got != "serve" {
		err = fmt.Errorf("%w: ferry serve did not start: %q", ErrDevice, got)
	}
	if err == nil {
		err = s.awaitRaw()
	}
	s.c.detach()
	return err
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
