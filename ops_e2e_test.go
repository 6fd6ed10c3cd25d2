//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"ferry/link/linktest"
)

// These tests run the two-way operations through the real binary, as a
// user would, over each transport: TCP, a serial line (pseudo-terminals
// joined by a simulated 115200-baud cable) and stdio (a pipe pair).

// transport runs client commands against one server over one transport.
type transport interface {
	// run runs "ferry CMD FLAGS... ARGS..." with the transport's flags,
	// stdin from in, and returns stdout, stderr and the exit code.
	run(t *testing.T, in []byte, cmd string, args ...string) (string, string, int)
}

// tcpServer is a server on loopback, trusted through its CA.
type tcpServer struct{ addr, data, state string }

func newTCP(t *testing.T, extra ...string) *tcpServer {
	dir := t.TempDir()
	s := &tcpServer{data: filepath.Join(dir, "srv"), state: filepath.Join(dir, "st")}
	s.addr = startServer(t, s.data, extra...)
	return s
}

func (s *tcpServer) run(t *testing.T, in []byte, cmd string, args ...string) (string, string, int) {
	t.Helper()
	flags := []string{cmd, "-server", s.addr, "-ca", filepath.Join(s.data, "ca.pem"), "-state", s.state, "-q"}
	return ferryStdin(t, in, append(flags, args...)...)
}

// serialServer is a server on one end of a simulated serial line.
type serialServer struct{ dev, state string }

func newSerial(t *testing.T) *serialServer {
	dir := t.TempDir()
	_, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	startServe(t, "-serial", srvDev, "-baud", serialBaud, "-data", filepath.Join(dir, "srv"))
	return &serialServer{dev: cliDev, state: filepath.Join(dir, "st")}
}

func (s *serialServer) run(t *testing.T, in []byte, cmd string, args ...string) (string, string, int) {
	t.Helper()
	flags := []string{cmd, "-serial", s.dev, "-baud", serialBaud, "-trust-new", "-state", s.state, "-q"}
	return ferryStdin(t, in, append(flags, args...)...)
}

// stdioServer starts a "ferry serve -stdio" for each command, its stdin
// and stdout joined to the client's by pipes, as ssh would.
type stdioServer struct{ data, state string }

func newStdio(t *testing.T) *stdioServer {
	dir := t.TempDir()
	return &stdioServer{data: filepath.Join(dir, "srv"), state: filepath.Join(dir, "st")}
}

func (s *stdioServer) run(t *testing.T, in []byte, cmd string, args ...string) (string, string, int) {
	t.Helper()
	srv := exec.Command(ferryBin, "serve", "-stdio", "-data", s.data)
	cli := exec.Command(ferryBin, append([]string{cmd, "-stdio", "-trust-new", "-state", s.state, "-q"}, args...)...)
	c2s, _ := srv.StdinPipe()
	s2c, _ := srv.StdoutPipe()
	var srvErr, cliErr bytes.Buffer
	srv.Stderr, cli.Stderr = &srvErr, &cliErr
	cli.Stdin, cli.Stdout = s2c, c2s
	if in != nil {
		t.Fatal("stdio: the client's stdin carries the protocol")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	err := cli.Run()
	c2s.Close()
	waitServer(t, srv, 10*time.Second, "stdio server did not end with its stdin", &srvErr)
	code := exitOf(t, err)
	if code != 0 {
		t.Log("server: ", srvErr.String())
	}
	return "", cliErr.String(), code
}

// waitServer waits up to d for a stdio server to end (its input closed),
// else kills it and reports what with its stderr.
func waitServer(t *testing.T, srv *exec.Cmd, d time.Duration, what string, stderr *bytes.Buffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		srv.Process.Kill()
		t.Errorf("%s\n%s", what, stderr.String())
	}
}

func exitOf(t *testing.T, err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// ferryStdin runs the binary with stdin from in.
func ferryStdin(t *testing.T, in []byte, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(ferryBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if in != nil {
		cmd.Stdin = bytes.NewReader(in)
	}
	err := cmd.Run()
	return out.String(), errb.String(), exitOf(t, err)
}

// makeTree writes a tree with nested folders, an empty folder, an empty
// file, a 0755 file and old mtimes.
func makeTree(t *testing.T, dir string, big int) {
	t.Helper()
	old := time.Date(2003, 4, 5, 6, 7, 8, 0, time.UTC)
	files := []struct {
		p    string
		n    int
		mode os.FileMode
	}{
		{"a.txt", 300, 0o644}, {"bin/tool", 2000, 0o755}, {"logs/2026/01/x.log", big, 0o600},
		{"logs/empty", 0, 0o644}, {"sp ace/ünï.txt", 10, 0o640},
	}
	for i, f := range files {
		full := filepath.Join(dir, f.p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		writeRandom(t, full, f.n)
		os.Chmod(full, f.mode)
		mt := old.Add(time.Duration(i) * time.Hour)
		os.Chtimes(full, mt, mt)
	}
	os.MkdirAll(filepath.Join(dir, "nothing", "inside"), 0o755)
}

// sameTree compares two trees: the same files with the same content, mode
// and mtime, and the same folders.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	list := func(root string) []string {
		var out []string
		filepath.Walk(root, func(p string, st os.FileInfo, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(root, p)
			line := rel + " dir"
			if !st.IsDir() {
				data, _ := os.ReadFile(p)
				line = fmt.Sprintf("%s %v %d %x", rel, st.Mode().Perm(), st.ModTime().Unix(), data)
			}
			out = append(out, line)
			return nil
		})
		sort.Strings(out)
		return out
	}
	la, lb := list(a), list(b)
	if strings.Join(la, "\n") != strings.Join(lb, "\n") {
		for i := range max(len(la), len(lb)) {
			x, y := "", ""
			if i < len(la) {
				x = la[i]
			}
			if i < len(lb) {
				y = lb[i]
			}
			if x != y {
				t.Fatalf("trees differ:\n %.120s\n %.120s", x, y)
			}
		}
	}
}

// opsScenario is what a user does with the operations, on any transport.
func opsScenario(t *testing.T, tr transport, big int, stdio bool) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	makeTree(t, tree, big)
	must := func(out, errs string, code int) string {
		t.Helper()
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		return out + errs
	}
	must(tr.run(t, nil, "send", "-r", tree))
	ls := must(tr.run(t, nil, "ls", "-r", "tree"))
	for _, want := range []string{"a.txt", "bin/tool", "logs/2026/01/x.log", "logs/empty", "sp ace/ünï.txt", "nothing/inside/"} {
		if !strings.Contains(ls, want) {
			t.Fatalf("ls -r does not show %s:\n%s", want, ls)
		}
	}
	long := must(tr.run(t, nil, "ls", "-l", "tree/bin"))
	if !strings.Contains(long, "-rwxr-xr-x") || !strings.Contains(long, "verified") {
		t.Fatalf("ls -l: %s", long)
	}
	back := filepath.Join(dir, "back")
	os.Mkdir(back, 0o755)
	must(tr.run(t, nil, "get", "-r", "-to", back, "tree"))
	sameTree(t, tree, filepath.Join(back, "tree"))

	must(tr.run(t, nil, "mv", "tree/a.txt", "tree/b.txt"))
	if _, errs, code := tr.run(t, nil, "get", "-to", back, "tree/a.txt"); code != 1 || !strings.Contains(errs, "no such file") {
		t.Fatalf("get of a moved file: exit %d %s", code, errs)
	}
	// no clobber, both sides
	if _, errs, code := tr.run(t, nil, "send", "-n", "-to", "tree/bin", filepath.Join(tree, "bin", "tool")); code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("send -n over a file: exit %d %s", code, errs)
	}
	if _, errs, code := tr.run(t, nil, "get", "-n", "-to", filepath.Join(back, "tree"), "tree/b.txt"); code != 0 {
		t.Fatalf("get -n of a new name: exit %d %s", code, errs)
	}
	if _, errs, code := tr.run(t, nil, "get", "-n", "-to", filepath.Join(back, "tree"), "tree/b.txt"); code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("get -n over a local file: exit %d %s", code, errs)
	}
	// streams
	if !stdio {
		data := make([]byte, 70000)
		for i := range data {
			data[i] = byte(i * 7)
		}
		must(tr.run(t, data, "send", "-as", "streams/s.bin", "-"))
		out, errs, code := tr.run(t, nil, "get", "-o", "-", "streams/s.bin")
		if code != 0 || out != string(data) {
			t.Fatalf("get -o -: exit %d, %d bytes (want %d)\n%s", code, len(out), len(data), errs)
		}
	}
	must(tr.run(t, nil, "rm", "-r", "tree"))
	if _, errs, code := tr.run(t, nil, "ls", "tree"); code != 1 || !strings.Contains(errs, "no such file") {
		t.Fatalf("ls after rm -r: exit %d %s", code, errs)
	}
}

func TestOpsTCP(t *testing.T) { opsScenario(t, newTCP(t), 200_000, false) }

func TestOpsSerial(t *testing.T) { opsScenario(t, newSerial(t), 3000, false) }

func TestOpsStdio(t *testing.T) { opsScenario(t, newStdio(t), 50_000, true) }

// TestPublishCLI: ferry serve -publish offers a folder read-only.
func TestPublishCLI(t *testing.T) {
	pub := t.TempDir()
	want := writeRandom(t, filepath.Join(pub, "fw.bin"), 100_000)
	tr := newTCP(t, "-publish", pub)
	out, errs, code := tr.run(t, nil, "ls", "pub")
	if code != 0 || strings.TrimSpace(out) != "fw.bin" {
		t.Fatalf("ls pub: exit %d %q %s", code, out, errs)
	}
	dir := t.TempDir()
	if _, errs, code := tr.run(t, nil, "get", "-to", dir, "pub/fw.bin"); code != 0 {
		t.Fatalf("get pub/fw.bin: exit %d %s", code, errs)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "fw.bin")); !bytes.Equal(got, want) {
		t.Fatal("published file differs")
	}
	if _, errs, code := tr.run(t, nil, "rm", "pub/fw.bin"); code != 1 || !strings.Contains(errs, "read-only") {
		t.Fatalf("rm pub/fw.bin: exit %d %s", code, errs)
	}
}
