//go:build busybox && linux

package install

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ferry/link/linktest"
)

// The tests of the real ferry binary: "ferry install" as a user runs it,
// over a pseudo-terminal of its own (as a USB-serial adapter), the device's
// busybox ash at the other end of the simulated line.

// buildFerry builds the ferry command for this machine.
func buildFerry(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ferry")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=install-test", "-o", bin, "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// laptopDevice returns a serial device for the laptop's side of d's line:
// a pseudo-terminal in raw mode, as linktest makes them.
func (d *device) laptopDevice(t *testing.T) string {
	t.Helper()
	p, err := linktest.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.Attach(d.line.Replug(0))
	return p.SlavePath
}

// runCmd runs bin with args, and env added to the test's environment;
// it returns stdout and stderr together.
func runCmd(t *testing.T, timeout time.Duration, env []string, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// "ferry install" as issue 15 asks for it: at 115200 baud onto a console
// with boot noise, OpenWrt's "press Enter", a login prompt and a banner
// before the shell (testdata/console.sh), logged in with -login root and
// the password in FERRY_PASSWORD, it puts this machine's ferry build
// (amd64 in CI, 2.7 MB gzipped: about five minutes) on the device; the
// device's sha256 and "ferry version" check it, and with -then serve
// "ferry send -serial" stores a file over the same cable right after.
func TestInstallBinaryThenServe(t *testing.T) {
	t.Parallel()
	const baud = 115200
	ferry := buildFerry(t)
	script, _ := filepath.Abs("testdata/console.sh")
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: baud}, argv: []string{busybox(t), "sh", script, "login"}})
	dev := d.laptopDevice(t)
	dest := filepath.Join(d.dir, "tmp", "ferry")
	data := filepath.Join(d.dir, "srv")
	trace := filepath.Join(t.TempDir(), "trace")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(trace)
			t.Logf("ferry install -trace (last 4000 bytes):\n%s", tail(b, 4000))
			os.WriteFile("/tmp/e2e-trace.txt", b, 0o644)
		}
	})
	start := time.Now()
	out, err := runCmd(t, 10*time.Minute, []string{"FERRY_PASSWORD=s3cret"}, ferry, "install", "-serial", dev, "-baud", strconv.Itoa(baud),
		"-login", "root", "-bin", ferry, "-dest", dest, "-then", "serve", "-data", data, "-q", "-trace", trace)
	total := time.Since(start)
	t.Logf("ferry install:\n%s", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ferry: installed ") { // one line, for make test-install's summary
			t.Logf("at %d baud, %.1f s in all: %s", baud, total.Seconds(), l)
		}
	}
	sameFile(t, ferry, dest)
	if seen := d.output(); !bytes.Contains(seen, []byte("OpenWrt login: ")) || !bytes.Contains(seen, []byte("built-in shell (ash)")) {
		t.Errorf("the console showed no login prompt and banner: %q", tail(seen, 500))
	}
	for _, want := range []string{"sha256 checked", "version: ferry install-test", "server key fingerprint", "ferry send -serial " + dev} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q", want)
		}
	}

	file := filepath.Join(t.TempDir(), "hello.txt")
	os.WriteFile(file, []byte("hello over the console\n"), 0o644)
	dev = d.laptopDevice(t)
	out, err = runCmd(t, time.Minute, nil, ferry, "send", "-serial", dev, "-baud", strconv.Itoa(baud), "-trust-new", "-q",
		"-state", t.TempDir(), file)
	t.Logf("ferry send:\n%s", out)
	if err != nil {
		log, _ := os.ReadFile(dest + ".log")
		t.Fatalf("%v; the device's ferry serve log:\n%s", err, log)
	}
	stored, _ := filepath.Glob(filepath.Join(data, "files", "*", "hello.txt"))
	if len(stored) != 1 {
		t.Fatalf("stored: %v", stored)
	}
	sameFile(t, file, stored[0])
}

// The big-endian router build (dist/ferry-ath79, "make board-ath79") at
// INSTALL_ROUTER_BAUD (115200 by default, 921600 in make test-install) on
// a device that says it is a big-endian mips: the build is picked, pushed
// and verified by sha256 there; it runs where qemu-mips is registered
// with binfmt_misc (else the device cannot run it: the install says so
// after the check). The bytes typed must fit 4 minutes at 115200,
// the whole install a minute at 921600 (issue 15).
func TestInstallRouterBuild(t *testing.T) {
	dist, _ := filepath.Abs("../dist")
	build := filepath.Join(dist, "ferry-ath79")
	if _, err := os.Stat(build); err != nil {
		t.Skipf("no %s: make board-ath79 first", build)
	}
	baud := 115200
	if s := os.Getenv("INSTALL_ROUTER_BAUD"); s != "" {
		baud, _ = strconv.Atoi(s)
	}
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: baud},
		fakes: map[string]string{"uname": `[ "$1" = -m ] && echo mips || "$BB" uname "$@"` + "\n"}})
	opt := d.options()
	// At 921600 the device decodes behind the line: on a loaded machine a
	// piece's check can come late, so the wait beyond line time is long.
	opt.Baud, opt.Dist, opt.Timeout = baud, dist, 2*time.Minute
	opt.elfProbe = []string{elfHeader(t, d.dir, "be32")}
	start := time.Now()
	res, err := Run(context.Background(), d.laptop(), opt)
	total := time.Since(start)
	_, registered := os.Stat("/proc/sys/fs/binfmt_misc/qemu-mips")
	switch {
	case err == nil:
	case registered != nil && errors.Is(err, ErrDevice) && strings.Contains(err.Error(), "version exited"):
		t.Logf("no qemu-mips in binfmt_misc: the device cannot run the build (%v)", err)
	default:
		t.Fatal(err)
	}
	if res.Board != "ath79" {
		t.Errorf("picked %q", res.Board)
	}
	sameFile(t, build, opt.Dest)
	if r := float64(res.Typed) / float64(res.Compressed); r > 1.3 {
		t.Errorf("%.3f bytes typed a gzipped byte", r)
	}
	// Issue 15's speed goal. At 115200 the time is the line time of what
	// is typed (99 % of it, docs/INSTALL.md), so that is asserted at any
	// test baud; the whole install is timed only at 921600.
	if lt := float64(res.Typed) * 10 / 115200; lt > 240 {
		t.Errorf("%d bytes typed: %.1f s of line at 115200, over the 4 minutes of issue 15", res.Typed, lt)
	}
	if baud == 921600 && total > time.Minute {
		t.Errorf("the whole install took %v at 921600, over the minute of issue 15", total)
	}
	if q, err := exec.LookPath("qemu-mips-static"); err == nil && registered != nil {
		out, err := exec.Command(q, opt.Dest, "version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ferry ") {
			t.Errorf("the installed build under %s: %v %q", q, err, out)
		}
		t.Logf("the installed build under qemu-mips: %s", bytes.TrimSpace(out))
	}
	t.Logf("ath79 build at %d baud: %d bytes, %d gzipped, transfer %.1f s, whole install %.1f s; typed %d bytes: %.3f a byte of binary, %.3f a gzipped byte; %d pieces, %d resent; version %q",
		baud, res.Size, res.Compressed, res.Elapsed.Seconds(), total.Seconds(), res.Typed,
		float64(res.Typed)/float64(res.Size), float64(res.Typed)/float64(res.Compressed), res.Pieces, res.Resent, res.Version)
}
