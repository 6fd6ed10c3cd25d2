//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests kill the real binaries in the middle of a transfer, as a
// user's Ctrl-C, a crash or a power cut would, and run the same command
// again: it goes on from what the receiver holds, sends only the rest
// (counted from the receiver's bytes), and the result is identical.

const resumeSize = 96 << 20 // large enough to catch the transfer half-way on loopback

// bigFile writes size random-ish bytes quickly.
func bigFile(t *testing.T, path string, size int) {
	t.Helper()
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i*7 + i>>9)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < size>>20; i++ {
		block[0], block[1] = byte(i), byte(i>>8)
		f.Write(block)
	}
	f.Close()
}

// killWhen starts cmd and SIGKILLs it once grown reports more than at
// bytes; it reports whether it killed the command before it finished.
func killWhen(t *testing.T, cmd *exec.Cmd, grown func() int64, at int64) bool {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case <-done:
			return false
		case <-time.After(time.Millisecond):
		}
		if grown() > at {
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return true
		}
	}
}

func fileSize(glob string) func() int64 {
	return func() int64 {
		m, _ := filepath.Glob(glob)
		var n int64
		for _, p := range m {
			if st, err := os.Stat(p); err == nil {
				n += st.Size()
			}
		}
		return n
	}
}

var resumedRE = regexp.MustCompile(`resumed at (\d+) bytes`)

// resumedAt reads how much the second run did not send again.
func resumedAt(t *testing.T, out string) int64 {
	t.Helper()
	m := resumedRE.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, _ := os.ReadFile(a)
	y, err := os.ReadFile(b)
	if err != nil || !bytes.Equal(x, y) {
		t.Fatalf("%s and %s differ (%v)", a, b, err)
	}
}

// TestResumeAfterKill: kill -9 of the client during an upload and during
// a download, and of the server during an upload; each time the same
// command again completes, identical, sending at most the remainder and a
// chunk. A source changed between the two runs is sent whole.
func TestResumeAfterKill(t *testing.T) {
	outer := t
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	src := filepath.Join(dir, "big.img")
	bigFile(t, src, resumeSize)
	addr := freePort(t)
	server := startKillableServer(t, addr, data)
	flags := []string{"-server", addr, "-ca", filepath.Join(data, "ca.pem"), "-state", filepath.Join(dir, "st"), "-q"}
	const slack = 1 << 20 // a chunk and the bytes in flight

	t.Run("client killed during send", func(t *testing.T) {
		held := fileSize(filepath.Join(data, "partial", "*.part"))
		if !killWhen(t, exec.Command(ferryBin, append(append([]string{"send"}, flags...), src)...), held, resumeSize/4) {
			t.Fatal("the upload finished before it could be killed")
		}
		before := held()
		out, errs, code := ferry(t, append(append([]string{"send"}, flags...), src)...)
		if code != 0 {
			t.Fatalf("second send: exit %d %s", code, errs)
		}
		if at := resumedAt(t, out); at < before-slack || at == 0 {
			t.Fatalf("resumed at %d, the server held %d: %s", at, before, out)
		}
		sameFile(t, src, storedPath(t, data, "big.img"))
	})

	t.Run("server killed during send", func(t *testing.T) {
		held := fileSize(filepath.Join(data, "partial", "*.part"))
		cmd := exec.Command(ferryBin, append(append([]string{"send", "-as", "again.img"}, flags...), src)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for held() < resumeSize/4 {
			time.Sleep(time.Millisecond)
		}
		server.kill()
		cmd.Wait()
		before := held()
		server = startKillableServer(outer, addr, data) // outlives this subtest
		out, errs, code := ferry(t, append(append([]string{"send", "-as", "again.img"}, flags...), src)...)
		if code != 0 {
			t.Fatalf("send after the server's restart: exit %d %s", code, errs)
		}
		if at := resumedAt(t, out); at < before-slack || at == 0 {
			t.Fatalf("resumed at %d, the server held %d", at, before)
		}
		sameFile(t, src, storedPath(t, data, "again.img"))
	})

	t.Run("client killed during get", func(t *testing.T) {
		to := filepath.Join(dir, "down")
		os.Mkdir(to, 0o755)
		held := fileSize(filepath.Join(to, ".ferry-part-big.img"))
		if !killWhen(t, exec.Command(ferryBin, append(append([]string{"get", "-to", to}, flags...), "big.img")...), held, resumeSize/4) {
			t.Fatal("the download finished before it could be killed")
		}
		if _, err := os.Stat(filepath.Join(to, "big.img")); err == nil {
			t.Fatal("a killed download is at its final name")
		}
		before := held()
		out, errs, code := ferry(t, append(append([]string{"get", "-to", to}, flags...), "big.img")...)
		if code != 0 {
			t.Fatalf("second get: exit %d %s", code, errs)
		}
		if at := resumedAt(t, out); at < before-slack || at == 0 {
			t.Fatalf("resumed at %d, the client held %d", at, before)
		}
		sameFile(t, src, filepath.Join(to, "big.img"))
	})

	t.Run("source changed between the runs", func(t *testing.T) {
		held := fileSize(filepath.Join(data, "partial", "*.part"))
		killWhen(t, exec.Command(ferryBin, append(append([]string{"send", "-as", "changed.img"}, flags...), src)...), held, resumeSize/4)
		f, _ := os.OpenFile(src, os.O_WRONLY, 0)
		f.WriteAt([]byte("changed"), 100)
		f.Close()
		out, errs, code := ferry(t, append(append([]string{"send", "-as", "changed.img"}, flags...), src)...)
		if code != 0 || resumedAt(t, out) != 0 {
			t.Fatalf("changed source: exit %d, %s %s (want it sent whole)", code, out, errs)
		}
		sameFile(t, src, storedPath(t, data, "changed.img"))
	})
	if out, _, code := ferry(t, "fsck", "-data", data); code != 0 {
		t.Fatalf("fsck after the kills: exit %d\n%s", code, out)
	}
}

// storedPath finds a stored file by name.
func storedPath(t *testing.T, data, name string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(data, "files", "*", name))
	if len(m) != 1 {
		t.Fatalf("stored copies of %s: %v", name, m)
	}
	return m[0]
}

// killable is a server the test may kill -9.
type killable struct{ cmd *exec.Cmd }

func (k *killable) kill() {
	k.cmd.Process.Signal(syscall.SIGKILL)
	k.cmd.Wait()
}

func startKillableServer(t *testing.T, addr, data string) *killable {
	t.Helper()
	cmd := exec.Command(ferryBin, "serve", "-listen", addr, "-data", data)
	errb := &lockedBuffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if strings.Contains(errb.String(), "serving on") {
			k := &killable{cmd: cmd}
			t.Cleanup(func() { cmd.Process.Signal(syscall.SIGKILL); cmd.Wait() })
			return k
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("server did not start: %s", errb.String())
	return nil
}

// lockedBuffer is a bytes.Buffer a command writes to while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
