package progress

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the master and the slave of a new pseudo-terminal, the
// slave sized to cols columns.
func openPTY(t *testing.T, cols uint16) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	resize(t, slave, cols)
	return master, slave
}

func resize(t *testing.T, f *os.File, cols uint16) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatalf("set window size: %v", err)
	}
}

// readUntil reads the master until what it has read contains want, or
// fails the test after timeout.
func readUntil(t *testing.T, master *os.File, got *bytes.Buffer, want string, timeout time.Duration) {
	t.Helper()
	master.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 4096)
	for !strings.Contains(got.String(), want) {
		n, err := master.Read(buf)
		got.Write(buf[:n])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("no %q within %v; read %q", want, timeout, got)
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	_, slave := openPTY(t, 80)
	if !IsTerminal(slave) {
		t.Error("IsTerminal(pseudo-terminal) = false")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, f := range []*os.File{w, f, nil} {
		if IsTerminal(f) {
			t.Errorf("IsTerminal(%v) = true", f)
		}
	}
}

// TestPTY draws on a real pseudo-terminal: the first line comes at once,
// in the terminal's width, follows a resize, and Finish leaves only the
// summary.
func TestPTY(t *testing.T) {
	master, slave := openPTY(t, 60)
	p := New(slave, Options{Terminal: IsTerminal(slave)})
	start := time.Now()
	p.Start("holiday-2026-photo-of-the-whole-family.jpg", 1<<20, 0)
	var got bytes.Buffer
	readUntil(t, master, &got, "\x1b[K", time.Second)
	if d := time.Since(start); d > 250*time.Millisecond && !testing.Short() { // -short: maybe emulated
		t.Errorf("first line after %v", d)
	}
	first := strings.TrimSuffix(strings.TrimPrefix(got.String(), "\r"), "\x1b[K")
	if n := columns(first); n != 59 {
		t.Errorf("line of %d columns on a terminal of 60: %q", n, first)
	}
	resize(t, slave, 40)
	p.Add(1 << 19)
	got.Reset()
	readUntil(t, master, &got, " 50% ", 2*time.Second)
	readUntil(t, master, &got, "\x1b[K", time.Second)
	lines := strings.Split(got.String(), "\r")
	last := strings.TrimSuffix(lines[len(lines)-1], "\x1b[K")
	if n := columns(last); n > 39 || n < 30 {
		t.Errorf("line of %d columns after a resize to 40: %q", n, last)
	}
	p.Add(1 << 19)
	p.Done(nil)
	summary := p.Finish()
	got.Reset()
	readUntil(t, master, &got, "\n", time.Second)
	if want := "\r\x1b[K" + summary + "\r\n"; !strings.HasSuffix(got.String(), want) {
		t.Errorf("at the end the terminal got %q, want it to end with %q", got.String(), want)
	}
}
