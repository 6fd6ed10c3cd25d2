//go:build busybox && linux

package install

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry/link/linktest"
)

// The device's decoder, busybox awk and printf as the device runs them,
// gives back every vector, every byte value and random data of every
// length near group and line boundaries.
func TestDecoderBusybox(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	var code strings.Builder
	writeCode(&code, decodeAWK)
	inputs := [][]byte{nil, {0}, {0, 0, 0, 0}, {0xff}, []byte("%s\\n%%"), make([]byte, 256)}
	for i := range inputs[5] {
		inputs[5][i] = byte(i)
	}
	r := &pseudoRandom{x: 7}
	for _, n := range []int{1, 2, 3, 5, 6, 7, lineBytes - 1, lineBytes + 1, 2*lineBytes + 3, maxPiece} {
		b := make([]byte, n)
		r.Read(b)
		inputs = append(inputs, b)
	}
	bb := busybox(t)
	for i, in := range inputs {
		text := filepath.Join(d, "t")
		if err := os.WriteFile(text, captured(encode(nil, in)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bb, "ash", "-c", `printf "$(awk "$FYAWK" "$1")"`, "sh", text)
		cmd.Env = []string{"FYAWK=" + code.String(), "PATH=" + filepath.Dir(bb)}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("input %d (%d bytes): %v", i, len(in), err)
		}
		if string(out) != string(in) {
			t.Fatalf("input %d (%d bytes): decoded %d bytes, differs", i, len(in), len(out))
		}
	}
}

// A stand-in binary installed on busybox ash at 115200 baud: the device's
// copy is the same file, executable, "version" ran there, and nothing else
// is left in its folder.
func TestInstallSmall(t *testing.T) {
	t.Parallel()
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 64<<10, 1)
	res, err := Run(context.Background(), d.laptop(), opt)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, opt.Bin, opt.Dest)
	if fi, err := os.Stat(opt.Dest); err != nil || fi.Mode()&0o100 == 0 {
		t.Fatalf("%s not executable: %v %v", opt.Dest, fi, err)
	}
	if res.Version != "ferry test-1 (stand-in)" {
		t.Errorf("version %q", res.Version)
	}
	checkLeft(t, d, "ferry")
	t.Logf("%d bytes (%d gzipped) in %v: %.3f bytes typed a byte of binary, %.3f a compressed byte; %d pieces",
		res.Size, res.Compressed, res.Elapsed, float64(res.Typed)/float64(res.Size), float64(res.Typed)/float64(res.Compressed), res.Pieces)

	// Again: the device has it, nothing is sent.
	res, err = Run(context.Background(), d.laptop(), opt)
	if err != nil || !res.Already || res.Pieces != 0 {
		t.Fatalf("second install: %+v, %v", res, err)
	}
}

// checkLeft fails unless the device's tmp/ holds exactly names.
func checkLeft(t *testing.T, d *device, names ...string) {
	t.Helper()
	got := d.files(t)
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("left on the device: %v, want %v", got, names)
	}
}

// Boot noise, OpenWrt's "press Enter" and a login with a password (asked
// for only when the console wants it) before the shell.
func TestInstallLogin(t *testing.T) {
	t.Parallel()
	script, _ := filepath.Abs("testdata/console.sh")
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200}, argv: []string{busybox(t), "sh", script, "login"}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 4<<10, 2)
	opt.Login = "root"
	asked := 0
	opt.Password = func() (string, error) { asked++; return "s3cret", nil }
	if _, err := Run(context.Background(), d.laptop(), opt); err != nil {
		t.Fatal(err)
	}
	sameFile(t, opt.Bin, opt.Dest)
	if asked != 1 {
		t.Errorf("password asked %d times", asked)
	}
}

// Without -login, a login prompt is a clear error, in time.
func TestInstallLoginMissing(t *testing.T) {
	t.Parallel()
	script, _ := filepath.Abs("testdata/console.sh")
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200}, argv: []string{busybox(t), "sh", script, "login"}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 4<<10, 2)
	_, err := Run(context.Background(), d.laptop(), opt)
	if !errors.Is(err, ErrLogin) || !strings.Contains(err.Error(), "-login") {
		t.Fatalf("got %v, want ErrLogin naming -login", err)
	}
}

// A wrong password: refused, not tried forever.
func TestInstallLoginRefused(t *testing.T) {
	t.Parallel()
	script, _ := filepath.Abs("testdata/console.sh")
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200}, argv: []string{busybox(t), "sh", script, "login"}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 4<<10, 2)
	opt.Login = "root"
	opt.Password = func() (string, error) { return "wrong", nil }
	start := time.Now()
	_, err := Run(context.Background(), d.laptop(), opt)
	if !errors.Is(err, ErrLogin) {
		t.Fatalf("got %v, want ErrLogin", err)
	}
	if el := time.Since(start); el > opt.Timeout+5*time.Second {
		t.Errorf("took %v", el)
	}
}

// A console where no shell ever answers (noise, then nothing): a clear
// error within the timeout.
func TestInstallNoPrompt(t *testing.T) {
	t.Parallel()
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200},
		argv: []string{busybox(t), "sh", "-c", "while :; do echo '[   12.3] noise'; sleep 1; done"}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 4<<10, 3)
	opt.Timeout = 5 * time.Second
	start := time.Now()
	_, err := Run(context.Background(), d.laptop(), opt)
	if !errors.Is(err, ErrNoShell) {
		t.Fatalf("got %v, want ErrNoShell", err)
	}
	if el := time.Since(start); el > opt.Timeout+4*time.Second {
		t.Errorf("took %v with a %v timeout", el, opt.Timeout)
	}
	t.Log(err)
}

// elfHeader writes the first bytes of an ELF file of that byte order and
// word size ("be32").
func elfHeader(t *testing.T, dir, kind string) string {
	t.Helper()
	h := []byte{0x7f, 'E', 'L', 'F', 1, 1, 1, 0}
	if strings.HasSuffix(kind, "64") {
		h[4] = 2
	}
	if strings.HasPrefix(kind, "be") {
		h[5] = 2
	}
	f := filepath.Join(dir, "elf-"+kind)
	if err := os.WriteFile(f, h, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// The build is picked from uname -m and the byte order of the device's
// ELF files: a big-endian mips gets dist/ferry-ath79, a little-endian one
// dist/ferry-ramips-mt7621; -board overrides.
func TestInstallPicksBoard(t *testing.T) {
	t.Parallel()
	dist := t.TempDir()
	for i, b := range []string{"ath79", "ramips-mt7621", "x86_64"} {
		f := smallFerry(t, dist, 4<<10, byte(10+i))
		if err := os.Rename(f, filepath.Join(dist, "ferry-"+b)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ machine, elf, board, want string }{
		{"mips", "be32", "", "ath79"},
		{"mips", "le32", "", "ramips-mt7621"},
		{"mips", "be32", "x86_64", "x86_64"},
	} {
		t.Run(tc.machine+"-"+tc.elf+"-"+tc.board, func(t *testing.T) {
			d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200},
				fakes: map[string]string{"uname": `[ "$1" = -m ] && echo ` + tc.machine + ` || "$BB" uname "$@"` + "\n"}})
			opt := d.options()
			opt.Dist, opt.Board = dist, tc.board
			opt.elfProbe = []string{elfHeader(t, d.dir, tc.elf)}
			res, err := Run(context.Background(), d.laptop(), opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Board != tc.want {
				t.Errorf("installed %s, want %s", res.Board, tc.want)
			}
			sameFile(t, filepath.Join(dist, "ferry-"+tc.want), opt.Dest)
		})
	}
}

// An unknown machine: a clear error, and nothing written on the device.
func TestInstallUnknownMachine(t *testing.T) {
	t.Parallel()
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200},
		fakes: map[string]string{"uname": `echo sparc64` + "\n"}})
	opt := d.options()
	opt.Dist = t.TempDir()
	start := time.Now()
	_, err := Run(context.Background(), d.laptop(), opt)
	if !errors.Is(err, ErrUnknownMachine) || !strings.Contains(err.Error(), "sparc64") {
		t.Fatalf("got %v, want ErrUnknownMachine naming sparc64", err)
	}
	if el := time.Since(start); el > opt.Timeout+5*time.Second {
		t.Errorf("took %v with a %v timeout", el, opt.Timeout)
	}
	checkLeft(t, d)
}

// Too little free space by df: refused before anything is sent, nothing
// left.
func TestInstallNoSpace(t *testing.T) {
	t.Parallel()
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200},
		fakes: map[string]string{"df": "echo 'Filesystem 1024-blocks Used Available Capacity Mounted on'\necho 'tmpfs 1024 1000 24 98% /tmp'\n"}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 64<<10, 4)
	start := time.Now()
	res, err := Run(context.Background(), d.laptop(), opt)
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("got %v, want ErrNoSpace", err)
	}
	if el := time.Since(start); el > opt.Timeout+5*time.Second {
		t.Errorf("took %v with a %v timeout", el, opt.Timeout)
	}
	if res.Pieces != 0 {
		t.Errorf("%d pieces sent", res.Pieces)
	}
	checkLeft(t, d)
	t.Log(err)
}

// damager changes one byte in the middle of some of the laptop's large
// writes (the pieces): control characters that mean something to the
// device's terminal, a line end, a flipped bit.
type damager struct {
	io.ReadWriter
	mu     sync.Mutex
	writes int
	with   map[int]byte // large write number → the byte put in its middle
	done   int
}

func (d *damager) Write(p []byte) (int, error) {
	d.mu.Lock()
	if len(p) > 2000 {
		d.writes++
		if c, ok := d.with[d.writes]; ok {
			q := append([]byte(nil), p...)
			if c == 0 {
				c = q[len(q)/2] ^ 0x10
			}
			q[len(q)/2] = c
			p = q
			d.done++
		}
	}
	d.mu.Unlock()
	return d.ReadWriter.Write(p)
}

// Damaged pieces (^C, ^Z, ^\, ^D, ^U, ^S, a line end, a flipped bit in
// the middle of a piece) are sent again, alone; the install completes,
// verified.
func TestInstallDamagedPieces(t *testing.T) {
	t.Parallel()
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 160<<10, 5)
	with := map[int]byte{3: 0x03, 5: 0x1a, 7: 0x1c, 9: 0x04, 11: 0x15, 13: 0x13, 15: '\n', 17: 0}
	port := &damager{ReadWriter: d.laptop(), with: with}
	res, err := Run(context.Background(), port, opt)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, opt.Bin, opt.Dest)
	if port.done != len(with) || res.Resent < len(with) {
		t.Errorf("%d pieces damaged, %d resent", port.done, res.Resent)
	}
	checkLeft(t, d, "ferry")
	t.Logf("%d pieces, %d resent, %v", res.Pieces, res.Resent, res.Elapsed)
}

// Line noise at BER 1e-5 in both directions (bits flipped on the data, the
// echo, the commands and the replies): the install completes, verified.
func TestInstallNoise(t *testing.T) {
	t.Parallel()
	seed := uint64(15)
	if s := os.Getenv("INSTALL_NOISE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200, BER: 1e-5, Seed: seed}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 256<<10, 6)
	res, err := Run(context.Background(), d.laptop(), opt)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, opt.Bin, opt.Dest)
	st := d.line.Stats(0)
	t.Logf("%d pieces, %d resent, %v; %d bits flipped towards the device", res.Pieces, res.Resent, res.Elapsed, st.Flipped)
}

// A cable pulled half-way (mid-piece): the install fails within its
// timeout; the verified pieces stay on the device; a second install
// resumes from them and completes, verified.
func TestInstallResume(t *testing.T) {
	t.Parallel()
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 128<<10, 7)
	opt.Timeout = 4 * time.Second
	var once sync.Once
	opt.Progress = func(done, total int64) {
		if done > total/2 {
			once.Do(func() { time.AfterFunc(300*time.Millisecond, func() { d.line.Pause(time.Hour) }) })
		}
	}
	start := time.Now()
	res, err := Run(context.Background(), d.laptop(), opt)
	if err == nil {
		t.Fatal("the first install went through a pulled cable")
	}
	t.Logf("first install: %v after %v, %d pieces", err, time.Since(start), res.Pieces)
	if el := time.Since(start); el > 60*time.Second {
		t.Errorf("the first install took %v to give up", el)
	}
	first := res.Pieces
	d.line.Pause(0) // plugged back
	opt.Progress = nil
	res, err = Run(context.Background(), d.laptop(), opt)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, opt.Bin, opt.Dest)
	if res.Kept == 0 || res.Kept >= res.Compressed || res.Pieces >= first+2 {
		t.Errorf("second install: kept %d of %d bytes, sent %d pieces (first: %d)", res.Kept, res.Compressed, res.Pieces, first)
	}
	checkLeft(t, d, "ferry")
	t.Logf("second install: kept %d of %d bytes, %d pieces", res.Kept, res.Compressed, res.Pieces)
}

// A folder that fills up during the install (df says there is room; a
// small tmpfs says otherwise): a clear error, in time (the line time of
// what was typed before it, plus the timeout), and nothing half-written
// left: only verified pieces.
func TestInstallDiskFull(t *testing.T) {
	t.Parallel()
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200},
		fakes: map[string]string{"df": "echo 'Filesystem 1024-blocks Used Available Capacity Mounted on'\necho 'tmpfs 999999 0 999999 0% /tmp'\n"}})
	tmp := filepath.Join(d.dir, "tmp")
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", tmp).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", tmp).Run() })
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 160<<10, 8)
	start := time.Now()
	res, err := Run(context.Background(), d.laptop(), opt)
	if !errors.Is(err, ErrDevice) {
		t.Fatalf("got %v, want ErrDevice", err)
	}
	line := time.Duration(res.Typed * 10 * int64(time.Second) / int64(opt.Baud))
	if el := time.Since(start); el > line+opt.Timeout+5*time.Second {
		t.Errorf("took %v: %v of line for the %d bytes typed, with a %v timeout", el, line, res.Typed, opt.Timeout)
	}
	t.Logf("%v after %v (%v of line)", err, time.Since(start), line)
	for _, f := range d.files(t) {
		if !strings.HasSuffix(f, ".b") || !strings.HasPrefix(f, "ferry.fy-") {
			t.Errorf("left on the device: %s", f)
		}
	}
}

// pipePort joins a program's stdout and stdin as a port.
type pipePort struct {
	io.Reader
	io.Writer
}

// Through a pipe to a shell that is not interactive (ssh without a
// terminal, -stdio): no echo, no prompt, no terminal; the probes and
// the replies are enough.
func TestInstallPipe(t *testing.T) {
	t.Parallel()
	bb := busybox(t)
	d := &device{dir: t.TempDir()}
	os.Mkdir(filepath.Join(d.dir, "tmp"), 0o755)
	cmd := exec.Command(bb, "sh")
	cmd.Env = []string{"PATH=" + filepath.Dir(bb)}
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
	opt := d.options()
	opt.Baud = 0
	opt.Bin = smallFerry(t, t.TempDir(), 256<<10, 9)
	res, err := Run(context.Background(), pipePort{out, in}, opt)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, opt.Bin, opt.Dest)
	checkLeft(t, d, "ferry")
	t.Logf("%d pieces in %v", res.Pieces, res.Elapsed)
}

// ^C on the laptop half-way: the install stops with the cancellation and
// removes its partial files (only verified pieces stay, the prompt is
// back). The next install with Fresh ignores and removes those pieces
// (TestInstallResume resumes from them).
func TestInstallInterrupted(t *testing.T) {
	t.Parallel()
	d := newDevice(t, deviceConfig{line: linktest.Config{Baud: 115200}})
	opt := d.options()
	opt.Bin = smallFerry(t, t.TempDir(), 128<<10, 11)
	ctx, cancel := context.WithCancel(context.Background())
	opt.Progress = func(done, total int64) {
		if done > total/2 {
			cancel()
		}
	}
	_, err := Run(ctx, d.laptop(), opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	for _, f := range d.files(t) {
		if !strings.HasSuffix(f, ".b") {
			t.Errorf("left on the device: %s", f)
		}
	}
	// The shell prints its own prompt after fyX's end line (and any job
	// notices): give it a moment.
	promptBack := func() (string, bool) {
		out := string(d.output())
		return out, strings.LastIndex(out, "home # ") > strings.LastIndex(out, "fy> ")
	}
	out, back := promptBack()
	for deadline := time.Now().Add(5 * time.Second); !back && time.Now().Before(deadline); out, back = promptBack() {
		time.Sleep(20 * time.Millisecond)
	}
	if !back {
		t.Errorf("the prompt is not back: %q", tail([]byte(out), 200))
	}
	opt.Progress = nil
	opt.Fresh = true
	res, err := Run(context.Background(), d.laptop(), opt)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, opt.Bin, opt.Dest)
	if res.Kept != 0 {
		t.Errorf("-fresh kept %d bytes", res.Kept)
	}
	checkLeft(t, d, "ferry")
}
