//go:build linux

package main

import (
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

	"ferry/link/linktest"
)

// These tests run "ferry shell" as a user would: typing into it in a
// pseudo-terminal and reading the screen, and as a batch (-b FILE, or
// commands on stdin) over TCP, a serial line and stdio.

// screen is a ferry shell running in a pseudo-terminal.
type screen struct {
	t    *testing.T
	pty  *linktest.PTY
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  []byte // everything the shell wrote
	seen int    // how far expect has read buf
}

// openTerminal opens a pseudo-terminal, closed at the test's end, and its
// terminal side, to be given to the shell (the caller closes it then).
func openTerminal(t *testing.T) (*linktest.PTY, *os.File) {
	t.Helper()
	p, err := linktest.OpenPTY()
	if err != nil {
		t.Fatal("pseudo-terminals are needed for the shell tests:", err)
	}
	t.Cleanup(func() { p.Close() })
	tty, err := os.OpenFile(p.SlavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p, tty
}

// startScreen runs "ferry shell ARGS..." in dir, on a new pseudo-terminal.
func startScreen(t *testing.T, dir string, args ...string) *screen {
	t.Helper()
	p, tty := openTerminal(t)
	defer tty.Close()
	s := &screen{t: t, pty: p, cmd: exec.Command(ferryBin, append([]string{"shell"}, args...)...)}
	s.cmd.Dir = dir
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = tty, tty, tty
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	go s.pump()
	return s
}

func (s *screen) pump() {
	b := make([]byte, 4096)
	for {
		n, err := s.pty.Master.Read(b)
		s.mu.Lock()
		s.buf = append(s.buf, b[:n]...)
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// typ types keys.
func (s *screen) typ(keys string) {
	s.t.Helper()
	if _, err := s.pty.Master.Write([]byte(keys)); err != nil {
		s.t.Fatal(err)
	}
}

// expect waits until the screen shows want after what was seen, and
// returns what came up to and including it.
func (s *screen) expect(want string, within time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		s.mu.Lock()
		rest := string(s.buf[s.seen:])
		if i := strings.Index(rest, want); i >= 0 {
			s.seen += i + len(want)
			s.mu.Unlock()
			return rest[:i+len(want)]
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen does not show %q after %v; it shows:\n%s", want, within, rest)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// command types a line and waits for the next prompt; it returns what
// the command printed.
func (s *screen) command(line, prompt string) string {
	s.t.Helper()
	s.typ(line + "\r")
	out := s.expect(prompt, 30*time.Second)
	return strings.TrimSuffix(out, prompt)
}

// exit types exit and checks that the shell ends with status 0.
func (s *screen) exit() {
	s.t.Helper()
	s.typ("exit\r")
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Fatalf("shell: %v\n%s", err, s.buf)
		}
	case <-time.After(20 * time.Second):
		s.t.Fatal("the shell did not exit")
	}
}

// TestShellTerminal drives the shell in a pseudo-terminal: put a tree,
// ls, cd, get it back identical, mv, rm, the up arrow recalling a line,
// Tab completing a remote name with a space in it, Ctrl-C at the prompt
// abandoning the line.
func TestShellTerminal(t *testing.T) {
	srv := newTCP(t)
	dir := t.TempDir()
	makeTree(t, filepath.Join(dir, "tree"), 100_000)
	os.Mkdir(filepath.Join(dir, "back"), 0o755)
	s := startScreen(t, dir, "-server", srv.addr, "-ca", filepath.Join(srv.data, "ca.pem"), "-state", srv.state)
	top := "ferry 127.0.0.1:/> "
	in := "ferry 127.0.0.1:/tree> "
	s.expect(top, 10*time.Second)

	if out := s.command("put -r tree", top); !strings.Contains(out, "stored 5 files") {
		t.Fatalf("put -r:\n%s", out)
	}
	if out := s.command("ls", top); !strings.Contains(out, "tree/\r\n") {
		t.Fatalf("ls:\n%s", out)
	}
	s.command("cd tree", in)
	if out := s.command("ls -l bin", in); !strings.Contains(out, "-rwxr-xr-x") || !strings.Contains(out, "verified   tool") {
		t.Fatalf("ls -l bin:\n%s", out)
	}
	s.command("lcd back", in)
	if out := s.command("get -r /tree", in); !strings.Contains(out, "got 5 files") {
		t.Fatalf("get -r:\n%s", out)
	}
	sameTree(t, filepath.Join(dir, "tree"), filepath.Join(dir, "back", "tree"))

	s.command("mv a.txt b.txt", in)
	s.command("rm -r nothing", in)
	out := s.command("ls", in)
	if !strings.Contains(out, "b.txt") || strings.Contains(out, "a.txt") || strings.Contains(out, "nothing/") {
		t.Fatalf("ls after mv and rm:\n%s", out)
	}
	if out := s.command("get a.txt", in); !strings.Contains(out, "ferry: get tree/a.txt: no such file or folder") {
		t.Fatalf("get of a moved file:\n%s", out)
	}

	// the up arrow recalls the last line
	if out := s.command("pwd", in); !strings.Contains(out, "/tree\r\n") {
		t.Fatalf("pwd:\n%s", out)
	}
	if out := s.command("\x1b[A", in); !strings.Contains(out, "pwd") || !strings.Contains(out, "/tree\r\n") {
		t.Fatalf("up arrow, enter:\n%q", out)
	}
	// Tab completes a remote name, quoted
	s.typ("cd sp\t")
	s.expect(`sp\ ace/`, 10*time.Second)
	s.command("", "ferry 127.0.0.1:/tree/sp ace> ")
	s.typ("get ü\t")
	s.expect("ünï.txt ", 10*time.Second)
	if out := s.command("", "ferry 127.0.0.1:/tree/sp ace> "); !strings.Contains(out, "got /tree/sp ace/ünï.txt as ünï.txt: 10 bytes") {
		t.Fatalf("get of the completed name:\n%s", out)
	}
	// Ctrl-C at the prompt abandons the line
	s.typ("rm -r /tree\x03")
	if out := s.command("pwd", "ferry 127.0.0.1:/tree/sp ace> "); !strings.Contains(out, "/tree/sp ace\r\n") {
		t.Fatalf("pwd after Ctrl-C:\n%q", out)
	}
	s.command("help", "ferry 127.0.0.1:/tree/sp ace> ")
	s.exit()
	if got := storedCopy(t, srv.data, filepath.Join("tree", "b.txt")); got == nil {
		t.Fatal("the tree was removed: Ctrl-C did not abandon the line")
	}
}

// TestShellInterrupt: a long download over a serial line draws the
// progress bar; Ctrl-C in it abandons it once part of the file is
// written: no file, partial or temporary, is left at the target; the
// shell reconnects by itself, in the same folder, and goes on.
func TestShellInterrupt(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub")
	os.Mkdir(pub, 0o755)
	writeRandom(t, filepath.Join(pub, "big.bin"), 300_000) // 27 s of line
	small := writeRandom(t, filepath.Join(pub, "small.bin"), 500)
	_, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	startServe(t, "-serial", srvDev, "-baud", serialBaud, "-data", filepath.Join(dir, "srv"), "-publish", pub)
	dl := filepath.Join(dir, "dl")
	os.Mkdir(dl, 0o755)
	// small chunks, so that the download writes as it goes
	s := startScreen(t, dl, "-serial", cliDev, "-baud", serialBaud, "-trust-new", "-state", filepath.Join(dir, "st"), "-chunk", "4096")
	prompt := "ferry " + filepath.Base(cliDev) + ":/pub> "
	s.expect(":/> ", 30*time.Second)
	s.command("cd pub", prompt)
	s.typ("get big.bin\r")
	partial := waitPartial(t, dl, 30*time.Second)
	// the progress bar is drawn: only it shows an ETA
	if bar := s.expect(" ETA ", 10*time.Second); !strings.Contains(bar, "%") || !strings.Contains(bar, "B/s") {
		t.Fatalf("no progress bar during get:\n%q", bar)
	}
	start := time.Now()
	s.typ("\x03")
	out := s.expect(prompt, 60*time.Second)
	t.Logf("Ctrl-C with %d bytes written, back at the prompt in %v", partial, time.Since(start))
	for _, want := range []string{"ferry: get: interrupted; the transfer was abandoned", "reconnected; in /pub"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q after Ctrl-C:\n%s", want, out)
		}
	}
	if left, _ := os.ReadDir(dl); len(left) != 0 {
		t.Fatalf("left at the target after Ctrl-C: %v", left)
	}
	if out := s.command("ls", prompt); !strings.Contains(out, "big.bin") || !strings.Contains(out, "small.bin") {
		t.Fatalf("ls after the interruption:\n%s", out)
	}
	s.command("get small.bin", prompt)
	if got, _ := os.ReadFile(filepath.Join(dl, "small.bin")); !bytes.Equal(got, small) {
		t.Fatal("small.bin differs")
	}
	s.exit()
}

// TestShellOutages: over a serial line, an outage shorter than
// -link-timeout, at the prompt or during a download, is ridden out: the
// same session goes on, without reconnecting, and the download completes
// identical; a longer one during a download loses the session: the shell
// says so and reconnects, in the same folder, and the download, cut off
// rather than cancelled, resumes from what it kept.
//
// "Shorter" needs a margin during a transfer: the peer's silence runs from
// its last whole frame before the cut (a 4 KiB frame is 0.36 s of line)
// to the first after it, which may wait for a keepalive (every second)
// behind a frame cut in half. With -link-timeout 3s a 2 s outage in a
// download often drops the session (2 runs in 3 of the same pause in
// link.transferThroughPause); with 5s it does not.
func TestShellOutages(t *testing.T) {
	t.Parallel() // it mostly waits (outages, timeouts): beside the others
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub")
	os.Mkdir(pub, 0o755)
	want := writeRandom(t, filepath.Join(pub, "big.bin"), 80_000) // resumable: over 64 KiB
	line, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	startServe(t, "-serial", srvDev, "-baud", serialBaud, "-data", filepath.Join(dir, "srv"), "-publish", pub, "-link-timeout", "5s")
	dl := filepath.Join(dir, "dl")
	os.Mkdir(dl, 0o755)
	s := startScreen(t, dl, "-serial", cliDev, "-baud", serialBaud, "-trust-new", "-state", filepath.Join(dir, "st"), "-chunk", "4096", "-link-timeout", "5s")
	prompt := "ferry " + filepath.Base(cliDev) + ":/pub> "
	s.expect(":/> ", 30*time.Second)
	s.command("cd pub", prompt)
	line.Pause(2 * time.Second)
	time.Sleep(2500 * time.Millisecond)
	if out := s.command("ls", prompt); !strings.Contains(out, "big.bin") || strings.Contains(out, "reconnect") {
		t.Fatalf("ls after a short outage:\n%s", out)
	}
	s.typ("get big.bin\r") // some 7 s of line
	waitPartial(t, dl, 30*time.Second)
	line.Pause(2 * time.Second)
	if out := s.expect(prompt, 60*time.Second); strings.Contains(out, "reconnect") || strings.Contains(out, "interrupted") || !strings.Contains(out, "got /pub/big.bin as big.bin") {
		t.Fatalf("get with a short outage during it:\n%s", out)
	}
	if got, _ := os.ReadFile(filepath.Join(dl, "big.bin")); !bytes.Equal(got, want) {
		t.Fatal("big.bin, got with a short outage during it, differs")
	}
	os.Remove(filepath.Join(dl, "big.bin"))
	s.typ("get big.bin\r")
	waitPartial(t, dl, 30*time.Second)
	line.Pause(7 * time.Second)
	out := s.expect(prompt, 60*time.Second)
	t.Logf("the long outage:\n%s", out)
	if !strings.Contains(out, "reconnected; in /pub") || strings.Contains(out, "interrupted") {
		t.Fatalf("after a long outage:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dl, ".ferry-part-big.bin")); err != nil {
		t.Fatalf("a download cut off did not keep its partial file: %v", err)
	}
	if out := s.command("get big.bin", prompt); !strings.Contains(out, "resumed at") {
		t.Fatalf("get again:\n%s", out)
	}
	if got, _ := os.ReadFile(filepath.Join(dl, "big.bin")); !bytes.Equal(got, want) {
		t.Fatal("big.bin differs")
	}
	s.exit()
}

// SIGINT during a batch's download (Ctrl-C where the commands do not
// come from the terminal) abandons it as Ctrl-C does: exit 1 naming the
// line, nothing left at the target.
func TestShellBatchInterrupt(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub")
	os.Mkdir(pub, 0o755)
	writeRandom(t, filepath.Join(pub, "big.bin"), 300_000)
	_, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	startServe(t, "-serial", srvDev, "-baud", serialBaud, "-data", filepath.Join(dir, "srv"), "-publish", pub)
	dl := filepath.Join(dir, "dl")
	os.Mkdir(dl, 0o755)
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("cd pub\nget big.bin\nlcd /\n"), 0o644)
	cmd := exec.Command(ferryBin, "shell", "-serial", cliDev, "-baud", serialBaud, "-trust-new", "-state", filepath.Join(dir, "st"), "-chunk", "4096", "-b", script)
	cmd.Dir = dl
	var errs bytes.Buffer
	cmd.Stderr = &errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitPartial(t, dl, 30*time.Second)
	cmd.Process.Signal(os.Interrupt)
	if code := exitOf(t, cmd.Wait()); code != 1 || !strings.Contains(errs.String(), "ferry: line 2: get: interrupted; the transfer was abandoned\n") {
		t.Fatalf("exit %d, want 1 and the line:\n%s", code, errs.String())
	}
	if left, _ := os.ReadDir(dl); len(left) != 0 {
		t.Fatalf("left at the target after SIGINT: %v", left)
	}
}

// waitPartial waits until a download in dir has written some bytes to its
// temporary or partial file, and returns how many.
func waitPartial(t *testing.T, dir string, within time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			fi, err := e.Info()
			if err == nil && strings.HasPrefix(e.Name(), ".ferry-") && !strings.HasSuffix(e.Name(), ".info") && fi.Size() > 0 {
				return fi.Size()
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no download in progress in %s after %v", dir, within)
	return 0
}

// batchScript is 20 commands: a tree up, listed, back identical, moved
// about and removed; TREE and BACK are replaced by local paths.
const batchScript = `# 20 commands, as ferry shell -b runs them
mkdir -p work/in
cd work
put -r TREE in
ls -r in
ls -l in/tree/bin
pwd
df
get -r in/tree BACK
mkdir out
mv in/tree/a.txt out/
mv -n out/a.txt out/b.txt
ls out
-rm nothere
lcd BACK
lls
get out/b.txt
rm out/b.txt
rm -r in
ls
cd /
`

func batchScenario(t *testing.T, tr transport, stdin bool) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	makeTree(t, tree, 20_000)
	back := filepath.Join(dir, "back")
	os.Mkdir(back, 0o755)
	script := strings.NewReplacer("TREE", tree, "BACK", back).Replace(batchScript)
	if n := strings.Count(script, "\n") - 1; n != 20 {
		t.Fatalf("the script has %d commands", n)
	}
	var out, errs string
	var code int
	if stdin {
		out, errs, code = tr.run(t, []byte(script), "shell")
	} else {
		file := filepath.Join(dir, "script")
		os.WriteFile(file, []byte(script), 0o644)
		out, errs, code = tr.run(t, nil, "shell", "-b", file)
	}
	all := out + errs
	if code != 0 {
		t.Fatalf("batch: exit %d\n%s", code, all)
	}
	sameTree(t, tree, filepath.Join(back, "tree"))
	if got, _ := os.ReadFile(filepath.Join(back, "b.txt")); len(got) != 300 {
		t.Fatalf("b.txt: %d bytes", len(got))
	}
	for _, want := range []string{"stored 5 files", "logs/2026/01/x.log", "/work\n", "free", "ferry: line 14: rm work/nothere: no such file or folder (ignored)", "b.txt\n", "tree/\n"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in the output:\n%s", want, all)
		}
	}
	if ls, _, _ := tr.run(t, nil, "ls", "work"); strings.TrimSpace(ls) != "out/" && ls != "" {
		t.Errorf("ls work after the batch: %q", ls)
	}
}

func TestShellBatchStdio(t *testing.T) { batchScenario(t, newStdio(t), false) }

func TestShellBatchSerial(t *testing.T) { batchScenario(t, newSerial(t), true) }

func TestShellBatchTCP(t *testing.T) { batchScenario(t, newTCP(t), false) }

// A failing command stops the batch with its line number and exit 1;
// the lines after it are not run.
func TestShellBatchFails(t *testing.T) {
	tr := newTCP(t)
	script := "mkdir a\n\n# six: \nls\npwd\n-get maybe\nget x\nmkdir after\n"
	_, errs, code := tr.run(t, []byte(script), "shell")
	if code != 1 || !strings.Contains(errs, "ferry: line 7: get x: no such file or folder\n") {
		t.Fatalf("exit %d, want 1 and the line:\n%s", code, errs)
	}
	if !strings.Contains(errs, "ferry: line 6: get maybe: no such file or folder (ignored)") {
		t.Fatalf("the - line:\n%s", errs)
	}
	ls, _, _ := tr.run(t, nil, "ls")
	if strings.Contains(ls, "after") || !strings.Contains(ls, "a/") {
		t.Fatalf("ls after the batch: %q", ls)
	}
	if _, errs, code := tr.run(t, []byte("ls -z\n"), "shell"); code != 1 || !strings.Contains(errs, "ferry: line 1: ls: no flag -z") {
		t.Fatalf("a bad line: exit %d\n%s", code, errs)
	}
}

// The prompt names a device of the config file by its name.
func TestShellConfigDevice(t *testing.T) {
	tr := newTCP(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte(fmt.Sprintf("device box\n\tserver %s\n\tca %s\n", tr.addr, filepath.Join(tr.data, "ca.pem"))), 0o600)
	cmd := exec.Command(ferryBin, "shell", "-config", cfg, "-server", "box", "-state", tr.state, "-v")
	cmd.Stdin = strings.NewReader("mkdir logs\ncd logs\npwd\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ferry box:/logs> pwd\n/logs\n") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// An idle shell keeps its session: keepalives stop the server's idle
// timeout from dropping it; without them, it is dropped.
func TestShellKeepalive(t *testing.T) {
	t.Parallel() // it mostly waits (outages, timeouts): beside the others
	tr := newTCP(t, "-idle-timeout", "2s")
	for _, tt := range []struct {
		every string
		code  int
	}{{"500ms", 0}, {"1h", 1}} {
		cmd := exec.Command(ferryBin, "shell", "-server", tr.addr, "-ca", filepath.Join(tr.data, "ca.pem"), "-state", tr.state, "-keepalive", tt.every)
		w, _ := cmd.StdinPipe()
		var errs bytes.Buffer
		cmd.Stderr = &errs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "ls\n")
		time.Sleep(4 * time.Second)
		io.WriteString(w, "ls\n")
		w.Close()
		if code := exitOf(t, cmd.Wait()); code != tt.code {
			t.Errorf("-keepalive %s, idle 4s, server idle timeout 2s: exit %d, want %d\n%s", tt.every, code, tt.code, errs.String())
		}
	}
}

// BenchmarkShellSerial: 20 small operations over a serial line at 115200
// baud, in one shell (one handshake) and as 20 one-shot commands (a
// handshake each); it reports both times and the ratio, and fails below
// issue 14's floor: the shell at least 5x faster. make bench-shell runs
// it once.
func BenchmarkShellSerial(b *testing.B) {
	for b.Loop() {
		shell, oneShot := shellVersusOneShot(b)
		ratio := oneShot.Seconds() / shell.Seconds()
		b.ReportMetric(shell.Seconds(), "shell-s")
		b.ReportMetric(oneShot.Seconds(), "one-shot-s")
		b.ReportMetric(ratio, "x-vs-oneshot")
		if ratio < minShellSpeedup {
			b.Errorf("the shell took %v, the one-shot commands %v: %.1fx, want at least %dx", shell, oneShot, ratio, minShellSpeedup)
		}
	}
}

// minShellSpeedup is how many times faster than the one-shot commands
// the shell must run benchOps (issue 14).
const minShellSpeedup = 5

// benchOps are the 20 operations, as shell lines and as one-shot
// commands (F is a local file of 200 bytes).
var benchOps = []struct{ shell, oneShot string }{
	{"mkdir b", "mkdir b"},
	{"put F b/f1", "send -as b/f1 F"},
	{"put F b/f2", "send -as b/f2 F"},
	{"put F b/f3", "send -as b/f3 F"},
	{"ls b", "ls b"},
	{"ls -l b", "ls -l b"},
	{"get b/f1 G1", "get -o G1 b/f1"},
	{"get b/f2 G2", "get -o G2 b/f2"},
	{"mv b/f1 b/g1", "mv b/f1 b/g1"},
	{"mv b/f2 b/g2", "mv b/f2 b/g2"},
	{"mkdir b/c", "mkdir b/c"},
	{"mv b/f3 b/c/f3", "mv b/f3 b/c/f3"},
	{"ls -r b", "ls -r b"},
	{"get b/c/f3 G3", "get -o G3 b/c/f3"},
	{"rm b/g1", "rm b/g1"},
	{"rm b/g2", "rm b/g2"},
	{"rm b/c/f3", "rm b/c/f3"},
	{"rm b/c", "rm b/c"},
	{"ls", "ls"},
	{"rm b", "rm b"},
}

// shellVersusOneShot times benchOps on a new server over a new line: in
// one "ferry shell -b", then one command each.
func shellVersusOneShot(b *testing.B) (shell, oneShot time.Duration) {
	dir := b.TempDir()
	srvDev, cliDev := benchLine(b)
	benchServe(b, "-serial", srvDev, "-baud", serialBaud, "-data", filepath.Join(dir, "srv"))
	os.WriteFile(filepath.Join(dir, "F"), bytes.Repeat([]byte("ferry\n"), 34)[:200], 0o644)
	flags := []string{"-serial", cliDev, "-baud", serialBaud, "-trust-new", "-state", filepath.Join(dir, "st"), "-q"}
	oneShotRun := func(cmd string, args ...string) {
		c := exec.Command(ferryBin, append(append([]string{cmd}, flags...), args...)...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("ferry %s %s: %v\n%s", cmd, strings.Join(args, " "), err, out)
		}
	}
	oneShotRun("ls") // registers and pins the key: not timed
	var script strings.Builder
	for _, op := range benchOps {
		script.WriteString(op.shell + "\n")
	}
	os.WriteFile(filepath.Join(dir, "script"), []byte(script.String()), 0o644)
	start := time.Now()
	oneShotRun("shell", "-b", "script")
	shell = time.Since(start)
	start = time.Now()
	for _, op := range benchOps {
		words := strings.Fields(op.oneShot)
		oneShotRun(words[0], words[1:]...)
	}
	return shell, time.Since(start)
}

// benchLine is serialLine for a benchmark: the devices of the two ends of
// a simulated 115200-baud line.
func benchLine(tb testing.TB) (server, client string) {
	line := linktest.NewLine(linktest.Config{Baud: 115200})
	tb.Cleanup(func() { line.Close() })
	var paths [2]string
	for side := range paths {
		p, err := linktest.OpenPTY()
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { p.Close() })
		p.Attach(line.End(side))
		paths[side] = p.SlavePath
	}
	return paths[0], paths[1]
}

// benchServe runs "ferry serve ARGS..." until the benchmark ends.
func benchServe(tb testing.TB, args ...string) {
	cmd := exec.Command(ferryBin, append([]string{"serve"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	buf := make([]byte, 4096)
	var seen []byte
	for !bytes.Contains(seen, []byte("serving on")) {
		n, err := stderr.Read(buf)
		if err != nil {
			tb.Fatalf("the server did not start:\n%s", seen)
		}
		seen = append(seen, buf[:n]...)
	}
	go io.Copy(io.Discard, stderr)
}

// TestShellStdioInterrupt: over -stdio the shell reads the controlling
// terminal, as README says, and Ctrl-C during a get abandons it, leaves
// nothing at the target, and ends the shell instead of reconnecting: the
// pipe closed with the session.
func TestShellStdioInterrupt(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub")
	os.Mkdir(pub, 0o755)
	writeRandom(t, filepath.Join(pub, "big.bin"), 300_000) // 27 s at 115200
	dl := filepath.Join(dir, "dl")
	os.Mkdir(dl, 0o755)
	p, tty := openTerminal(t)
	defer tty.Close()
	srv := exec.Command(ferryBin, "serve", "-stdio", "-baud", serialBaud, "-data", filepath.Join(dir, "srv"), "-publish", pub)
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	s := &screen{t: t, pty: p, cmd: exec.Command(ferryBin, "shell", "-stdio", "-baud", serialBaud, "-trust-new", "-state", filepath.Join(dir, "st"), "-chunk", "4096")}
	s.cmd.Dir = dl
	c2s, err := srv.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdin, err = srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = c2s, tty
	// the terminal is the shell's controlling one (fd 2 in the child)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 2}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range []*exec.Cmd{s.cmd, srv} {
			if c.ProcessState == nil {
				c.Process.Kill()
				c.Wait()
			}
		}
	})
	go s.pump()
	prompt := "ferry stdio:/pub> "
	s.expect(":/> ", 30*time.Second)
	s.command("cd pub", prompt)
	s.typ("get big.bin\r")
	waitPartial(t, dl, 30*time.Second)
	s.typ("\x03")
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		s.mu.Lock()
		defer s.mu.Unlock()
		t.Fatalf("the -stdio shell did not end after Ctrl-C; the screen shows:\n%s", s.buf)
	}
	// The shell has exited, but its last lines may still be on their way
	// through the terminal to the pump (slow under qemu): wait for them.
	for _, want := range []string{"get: interrupted; the transfer was abandoned", "ferry: the session is over and cannot be opened again (over -stdio its pipe closed with it): the shell ends"} {
		s.expect(want, 10*time.Second)
	}
	s.mu.Lock()
	screen := string(s.buf)
	s.mu.Unlock()
	t.Logf("after Ctrl-C (%v):\n%s", err, screen)
	if err == nil {
		t.Errorf("the shell ended with status 0 after an abandoned get:\n%s", screen)
	}
	if strings.Contains(screen, "reconnect") {
		t.Errorf("the -stdio shell says it reconnected:\n%s", screen)
	}
	if left, _ := os.ReadDir(dl); len(left) != 0 {
		t.Errorf("left at the target after Ctrl-C: %v", left)
	}
	c2s.Close()
	waitServer(t, srv, 10*time.Second, "stdio server did not end with its stdin", &srvErr)
}
