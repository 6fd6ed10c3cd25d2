//go:build attacks

package attack

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var ferryBin = flag.String("ferry", "", "ferry binary to attack (default: built from this module)")

func TestMain(m *testing.M) {
	flag.Parse()
	if *ferryBin == "" {
		dir, err := os.MkdirTemp("", "ferry-attack-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		*ferryBin = filepath.Join(dir, "ferry")
		if out, err := exec.Command("go", "build", "-o", *ferryBin, "ferry").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building ferry: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// server is a "ferry serve" process under attack.
type server struct {
	t          *testing.T
	cmd        *exec.Cmd
	addr, data string
	mu         sync.Mutex
	log        []string
	exited     chan struct{}
	stopped    bool
}

// startServer runs "ferry serve" on a free loopback port with data in
// data, at most nofile descriptors (prlimit) and extra flags, and waits
// until it serves. At the end of the test it must still run and stop
// cleanly on SIGINT.
func startServer(t *testing.T, nofile int, data string, extra ...string) *server {
	t.Helper()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is missing")
	}
	// port 0, and the address from its log: a port picked here and closed
	// could be another process's by the time the server binds it
	args := append([]string{fmt.Sprintf("--nofile=%d:%d", nofile, nofile), *ferryBin, "serve", "-listen", "127.0.0.1:0", "-data", data}, extra...)
	s := &server{t: t, cmd: exec.Command("prlimit", args...), data: data, exited: make(chan struct{})}
	stderr, _ := s.cmd.StderrPipe()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go s.read(stderr, ready)
	go func() { s.cmd.Wait(); close(s.exited) }()
	select {
	case <-ready:
	case <-s.exited:
		t.Fatalf("server exited before serving:\n%s", s.logText())
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(s.stop)
	return s
}

func (s *server) read(stderr interface{ Read([]byte) (int, error) }, ready chan<- bool) {
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		s.mu.Lock()
		s.log = append(s.log, sc.Text())
		s.mu.Unlock()
		if _, rest, ok := strings.Cut(sc.Text(), "serving on "); ok && s.addr == "" {
			s.addr, _, _ = strings.Cut(rest, ",")
			ready <- true
		}
	}
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, "\n")
}

// logged reports whether a line of the server's log contains sub.
func (s *server) logged(sub string) bool { return strings.Contains(s.logText(), sub) }

// alive fails the test if the server has exited.
func (s *server) alive() {
	s.t.Helper()
	select {
	case <-s.exited:
		s.t.Fatalf("server exited (%v); its log ends:\n%s", s.cmd.ProcessState, tail(s.logText(), 20))
	default:
	}
}

// stop ends the server with SIGINT, once, and fails the test unless it
// exits 0.
func (s *server) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	select {
	case <-s.exited:
		s.t.Errorf("server had exited (%v)", s.cmd.ProcessState)
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			s.t.Errorf("server exit %d on SIGINT", code)
		}
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		s.t.Error("server did not stop on SIGINT")
	}
}

// sockets counts the server's open sockets, the listener included.
func (s *server) sockets() int {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", s.cmd.Process.Pid, fd.Name())); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// rssMiB is the server's resident set.
func (s *server) rssMiB() float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

// send uploads file as an honest client with its own state directory and
// returns how long it took, or what went wrong.
func (s *server) send(state, file string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, *ferryBin, "send", "-q", "-timeout", "30s", "-server", s.addr,
		"-ca", filepath.Join(s.data, "ca.pem"), "-state", state, "-name", "honest-"+filepath.Base(state), file)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return time.Since(start), nil
}

// sendTries is send, tried up to n times; it returns the time of the
// upload that succeeded and which try it was.
func (s *server) sendTries(state, file string, n int) (time.Duration, int, error) {
	var err error
	for i := 1; i <= n; i++ {
		var d time.Duration
		if d, err = s.send(state, file); err == nil {
			return d, i, nil
		}
		s.t.Logf("try %d: %v", i, err)
	}
	return 0, n, err
}

func randomFile(t *testing.T, dir, name string, n int) string {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// raiseLimit lets the test process itself hold the attack's connections.
func raiseLimit(t *testing.T, n uint64) {
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if lim.Cur < n {
		lim.Cur = min(n, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < n {
			t.Skipf("cannot raise the test's descriptor limit to %d", n)
		}
	}
}
