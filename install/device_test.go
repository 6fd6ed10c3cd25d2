//go:build busybox && linux

package install

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ferry/link/linktest"
)

// The busybox tests (go test -tags busybox, make test-install): a real
// busybox shell, interactive on a pseudo-terminal in its default (cooked)
// mode as on a serial console, with a PATH of only the applets of stock
// OpenWrt (testdata/openwrt-applets.txt), behind linktest's simulated line.
// They need Debian's busybox package.

// device is a simulated device: a program on a console.
type device struct {
	dir   string // its folder: bin/ (the PATH), tmp/ (for -dest), home/
	bin   string
	line  *linktest.Line
	cmd   *exec.Cmd
	pty   *os.File
	mu    sync.Mutex
	out   bytes.Buffer // what the device printed, for failures
	trace bytes.Buffer // the laptop's transcript
}

// deviceConfig describes it.
type deviceConfig struct {
	line    linktest.Config
	argv    []string          // the program on the console; default an interactive busybox ash
	fakes   map[string]string // scripts put first in the PATH (uname, df)
	applets []string          // applets besides OpenWrt's
}

func busybox(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal("these tests need busybox (apt-get install busybox):", err)
	}
	return p
}

// newDevice starts the device's program on the console of a pty joined to
// side 1 of a new line; the laptop takes side 0.
func newDevice(t *testing.T, cfg deviceConfig) *device {
	t.Helper()
	bb := busybox(t)
	d := &device{dir: t.TempDir()}
	d.bin = filepath.Join(d.dir, "bin")
	for _, sub := range []string{"bin", "tmp", "home"} {
		if err := os.Mkdir(filepath.Join(d.dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	list, err := os.ReadFile("testdata/openwrt-applets.txt")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	out, _ := exec.Command(bb, "--list").Output()
	for _, a := range strings.Fields(string(out)) {
		have[a] = true
	}
	names := append(strings.Fields(string(list)), cfg.applets...)
	for _, a := range names {
		if strings.HasPrefix(a, "#") || !have[a] || strings.ContainsAny(a, "#") {
			continue
		}
		if err := os.Symlink(bb, filepath.Join(d.bin, a)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	for name, body := range cfg.fakes {
		f := filepath.Join(d.bin, name)
		os.Remove(f)
		if err := os.WriteFile(f, []byte("#!"+bb+" sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	argv := cfg.argv
	if argv == nil {
		argv = []string{bb, "ash"}
	}
	d.start(t, argv, cfg.line)
	return d
}

func (d *device) start(t *testing.T, argv []string, lc linktest.Config) {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	d.pty = master
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Env = []string{"PATH=" + d.bin, "HOME=" + filepath.Join(d.dir, "home"), "TERM=vt102", "BB=" + busybox(t)}
	d.cmd.Dir = filepath.Join(d.dir, "home")
	d.cmd.Stdin, d.cmd.Stdout, d.cmd.Stderr = slave, slave, slave
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	d.line = linktest.NewLine(lc)
	end := d.line.End(1)
	go func() { // the device's output onto the line
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			if n > 0 {
				d.mu.Lock()
				d.out.Write(b[:n])
				d.mu.Unlock()
				if _, werr := end.Write(b[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go io.Copy(master, end)
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		d.cmd.Wait()
		d.line.Close()
		master.Close()
		if t.Failed() {
			d.mu.Lock()
			t.Logf("device output (last 3000 bytes):\n%s", tail(d.out.Bytes(), 3000))
			d.mu.Unlock()
			t.Logf("laptop transcript (last 6000 bytes):\n%s", tail(d.trace.Bytes(), 6000))
		}
		if f := os.Getenv("INSTALL_TRACE"); f != "" { // the whole transcript of the last test
			d.mu.Lock()
			os.WriteFile(f, d.trace.Bytes(), 0o644)
			os.WriteFile(f+".device", d.out.Bytes(), 0o644)
			d.mu.Unlock()
		}
	})
}

// output returns what the device printed so far.
func (d *device) output() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]byte(nil), d.out.Bytes()...)
}

// laptop returns the laptop's end of the line: a replugged end after a
// first program used it.
func (d *device) laptop() io.ReadWriter { return d.line.Replug(0) }

// options are Options for this device: the destination in its tmp/.
func (d *device) options() Options {
	return Options{
		Dest:    filepath.Join(d.dir, "tmp", "ferry"),
		Baud:    115200,
		Timeout: 10 * time.Second,
		Trace:   &lockedWriter{w: &d.trace, mu: &d.mu},
	}
}

// files lists the files in the device's tmp/.
func (d *device) files(t *testing.T) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(d.dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// openPTY returns a new pseudo-terminal in the kernel's default (cooked)
// mode, like a console: echo, canonical input, signals, CR to NL.
func openPTY() (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// smallFerry writes a stand-in for ferry: a script that answers "version"
// and carries size random bytes after its exit, so that it compresses like
// a binary.
func smallFerry(t *testing.T, dir string, size int, seed byte) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("#!/bin/sh\ncase $1 in version) echo \"ferry test-" + fmt.Sprint(seed) + " (stand-in)\" ;; serve) echo 'ferry: server key fingerprint SHA256:stand-in' >&2 ;; esac\nexit 0\n")
	r := bufio.NewReader(&pseudoRandom{x: uint64(seed) + 1})
	io.CopyN(&b, r, int64(size))
	f := filepath.Join(dir, fmt.Sprintf("ferry-%d", seed))
	if err := os.WriteFile(f, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

type pseudoRandom struct{ x uint64 }

func (p *pseudoRandom) Read(b []byte) (int, error) {
	for i := range b {
		p.x ^= p.x << 13
		p.x ^= p.x >> 7
		p.x ^= p.x << 17
		b[i] = byte(p.x)
	}
	return len(b), nil
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s (%d bytes) differs from %s (%d bytes)", a, len(x), b, len(y))
	}
}
