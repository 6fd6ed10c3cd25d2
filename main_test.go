package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests run the real ferry binary, as a user would.

var ferryBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ferry-e2e-")
	if err != nil {
		panic(err)
	}
	ferryBin = filepath.Join(dir, "ferry")
	out, err := exec.Command("go", "build", "-o", ferryBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building ferry: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort returns an address on 127.0.0.1 where nothing listens, for a
// server the test starts next.
//
// The port is below Linux's ephemeral range (32768-60999): a port the
// kernel hands out for ":0" is one that any process's next outgoing
// connection may take before the server binds it, as one did under qemu
// in CI ("bind: address already in use").
func freePort(t *testing.T) string {
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+mrand.IntN(12000))
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no free TCP port in 20000-31999")
	return ""
}

// startServer runs "ferry serve" on a free TCP port and waits until it
// listens.
func startServer(t *testing.T, data string, extra ...string) string {
	t.Helper()
	addr := freePort(t)
	startServe(t, append([]string{"-listen", addr, "-data", data}, extra...)...)
	return addr
}

// startServe runs "ferry serve ARGS...", waits until it serves, and stops
// it with SIGINT when the test ends, failing the test unless it exits 0.
func startServe(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(ferryBin, append([]string{"serve"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool)
	go func() {
		sc := bufio.NewScanner(stderr)
		ok := false
		for sc.Scan() {
			t.Log("server: ", sc.Text())
			if !ok && strings.Contains(sc.Text(), "serving on") {
				ok = true
				ready <- true
			}
		}
		if !ok {
			close(ready)
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("server exited before listening")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server exit on SIGINT: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("server did not stop on SIGINT")
		}
	})
}

// ferry runs the binary and returns its stdout, stderr and exit code.
func ferry(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(ferryBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func writeRandom(t *testing.T, path string, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSendWithCA(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	addr := startServer(t, data)
	want := writeRandom(t, filepath.Join(dir, "photo.jpg"), 300_000)
	out, errs, code := ferry(t, "send", "-server", addr, "-ca", filepath.Join(data, "ca.pem"),
		"-state", filepath.Join(dir, "state"), "-name", "cam", filepath.Join(dir, "photo.jpg"))
	if code != 0 || !strings.Contains(out, `as "photo.jpg": 300000 bytes`) {
		t.Fatalf("send: exit %d\n%s%s", code, out, errs)
	}
	matches, _ := filepath.Glob(filepath.Join(data, "files", "*", "photo.jpg"))
	if len(matches) != 1 {
		t.Fatalf("stored copies: %v", matches)
	}
	got, _ := os.ReadFile(matches[0])
	if !bytes.Equal(got, want) {
		t.Fatal("stored copy differs")
	}
	if _, errs, code := ferry(t, "fsck", "-data", data); code != 0 {
		t.Fatalf("fsck: exit %d: %s", code, errs)
	}
}

func TestUntrustedServerExit3(t *testing.T) {
	dir := t.TempDir()
	addr := startServer(t, filepath.Join(dir, "srv"))
	if _, errs, code := ferry(t, "ca", "-out", filepath.Join(dir, "other")); code != 0 {
		t.Fatal(errs)
	}
	writeRandom(t, filepath.Join(dir, "f"), 10)
	_, errs, code := ferry(t, "send", "-server", addr, "-ca", filepath.Join(dir, "other", "ca.pem"),
		"-state", filepath.Join(dir, "st"), filepath.Join(dir, "f"))
	if code != exitTrust || !strings.Contains(errs, "not trusted") {
		t.Fatalf("exit %d, want %d: %s", code, exitTrust, errs)
	}
}

func TestTrustOnFirstUse(t *testing.T) {
	dir := t.TempDir()
	addr := startServer(t, filepath.Join(dir, "srv"))
	writeRandom(t, filepath.Join(dir, "f"), 1000)
	args := []string{"send", "-server", addr, "-state", filepath.Join(dir, "st"), filepath.Join(dir, "f")}
	_, errs, code := ferry(t, args...)
	if code != exitTrust || !strings.Contains(errs, "-trust-new") || !strings.Contains(errs, "SHA256:") {
		t.Fatalf("first use without -trust-new: exit %d: %s", code, errs)
	}
	if _, errs, code = ferry(t, append([]string{"send", "-trust-new"}, args[1:]...)...); code != 0 {
		t.Fatalf("with -trust-new: exit %d: %s", code, errs)
	}
	if _, errs, code = ferry(t, args...); code != 0 {
		t.Fatalf("pinned: exit %d: %s", code, errs)
	}
}

func TestOwnCAWithCertCommand(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	if _, errs, code := ferry(t, "ca", "-out", pki); code != 0 {
		t.Fatal(errs)
	}
	if _, errs, code := ferry(t, "cert", "-ca-cert", filepath.Join(pki, "ca.pem"), "-ca-key", filepath.Join(pki, "ca.key"),
		"-hostname", "127.0.0.1", "-out", filepath.Join(pki, "server")); code != 0 {
		t.Fatal(errs)
	}
	addr := startServer(t, filepath.Join(dir, "srv"), "-cert", filepath.Join(pki, "server.pem"), "-key", filepath.Join(pki, "server.key"))
	writeRandom(t, filepath.Join(dir, "f"), 5000)
	if _, errs, code := ferry(t, "send", "-server", addr, "-ca", filepath.Join(pki, "ca.pem"), "-state", filepath.Join(dir, "st"), filepath.Join(dir, "f")); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	// A usage error writes nothing to stdout (a pipe reading it gets no
	// help text), says why on stderr, and the usage where one applies.
	for _, tc := range []struct {
		args  []string
		usage bool
	}{{nil, true}, {[]string{"nonsense"}, false}, {[]string{"send"}, false}, {[]string{"send", "-bogus"}, true},
		{[]string{"get", "-bogus"}, true}, {[]string{"serve", "extra"}, false}, {[]string{"help", "nonsense"}, false}} {
		out, errs, code := ferry(t, tc.args...)
		if code != exitUsage || out != "" || errs == "" {
			t.Errorf("ferry %v: exit %d, stdout %q, stderr %q; want %d, nothing on stdout", tc.args, code, out, errs, exitUsage)
		}
		if tc.usage && !strings.Contains(errs, "usage: ferry") && !strings.Contains(errs, "Usage:") {
			t.Errorf("ferry %v: no usage on stderr: %q", tc.args, errs)
		}
	}
	if out, _, code := ferry(t, "help"); code != 0 || !strings.Contains(out, "Exit codes") {
		t.Errorf("help: exit %d", code)
	}
}

// ferryIn runs the binary in dir and returns its stdout, stderr and exit code.
func ferryIn(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(ferryBin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// storedCopy returns the stored file of that name, or nil if there is none.
func storedCopy(t *testing.T, data, name string) []byte {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(data, "files", "*", name))
	if len(matches) > 1 {
		t.Fatalf("stored copies: %v", matches)
	}
	if len(matches) == 0 {
		return nil
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestClassicCLI: "ferry serve -classic" beside the secure listener, and
// "ferry send -classic" both ways: as the deployed client (transfer.info in
// the working directory, me.info and priv.key written there, a reconnection
// the second time) and with FILE arguments. Both warn on stderr.
func TestClassicCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	classicAddr := freePort(t)
	startServer(t, data, "-classic", classicAddr)

	cl := filepath.Join(dir, "deployed")
	os.MkdirAll(cl, 0o700)
	want := writeRandom(t, filepath.Join(cl, "log.bin"), 70_001)
	info := fmt.Sprintf("%s\nrouter-7\nlog.bin\n", classicAddr)
	if err := os.WriteFile(filepath.Join(cl, "transfer.info"), []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := ferryIn(t, cl, "send", "-classic")
	if code != 0 || !strings.Contains(out, "stored log.bin (classic): 70001 bytes") {
		t.Fatalf("send -classic: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(errs, "WARNING: the classic (version 3) protocol is on") {
		t.Errorf("no warning on stderr: %q", errs)
	}
	if got := storedCopy(t, data, "log.bin"); !bytes.Equal(got, want) {
		t.Fatal("stored copy differs")
	}
	me, err := os.ReadFile(filepath.Join(cl, "me.info"))
	if err != nil || !strings.HasPrefix(string(me), "router-7\n") {
		t.Fatalf("me.info: %q, %v", me, err)
	}
	if _, err := os.Stat(filepath.Join(cl, "priv.key")); err != nil {
		t.Fatal(err)
	}
	id := strings.Split(string(me), "\n")[1]

	// Again: a reconnection under the same ID, me.info unchanged.
	out, errs, code = ferryIn(t, cl, "send", "-classic")
	if code != 0 || !strings.Contains(out, "client "+strings.ToLower(id)) && !strings.Contains(out, "client "+id) {
		t.Fatalf("second send -classic: exit %d\n%s%s", code, out, errs)
	}
	if again, _ := os.ReadFile(filepath.Join(cl, "me.info")); !bytes.Equal(again, me) {
		t.Fatal("me.info changed on reconnection")
	}

	// FILE arguments with -classic-dir.
	want2 := writeRandom(t, filepath.Join(dir, "b.dat"), 5)
	out, errs, code = ferry(t, "send", "-classic", "-server", classicAddr, "-name", "laptop",
		"-classic-dir", filepath.Join(dir, "keys"), filepath.Join(dir, "b.dat"))
	if code != 0 || !strings.Contains(out, "stored b.dat (classic): 5 bytes") {
		t.Fatalf("send -classic FILE: exit %d\n%s%s", code, out, errs)
	}
	if got := storedCopy(t, data, "b.dat"); !bytes.Equal(got, want2) {
		t.Fatal("stored copy differs")
	}
	if _, errs, code := ferry(t, "fsck", "-data", data); code != 0 {
		t.Fatalf("fsck after classic uploads: exit %d: %s", code, errs)
	}

	// Without -classic-dir, FILE arguments are a usage error, said clearly.
	if _, errs, code := ferry(t, "send", "-classic", "-server", classicAddr, filepath.Join(dir, "b.dat")); code == 0 || !strings.Contains(errs, "-classic-dir") {
		t.Fatalf("send -classic FILE without -classic-dir: exit %d: %s", code, errs)
	}
}
