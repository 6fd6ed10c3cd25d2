package main

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// These tests run the binary for issue 17's items on the command line:
// the default port (3), flags after file names and --version (4), and a
// bad file among good ones (5).

// TestSendBadFileAmongGood: "ferry send c.log nope.txt d.log" stores both
// good files, says so in a summary with "1 failed" and exits 1; a send of
// only a missing file fails on it before connecting.
func TestSendBadFileAmongGood(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	addr := startServer(t, data)
	c := writeRandom(t, filepath.Join(dir, "c.log"), 3000)
	d := writeRandom(t, filepath.Join(dir, "d.log"), 4000)
	out, errs, code := ferryIn(t, dir, "send", "-server", addr, "-ca", filepath.Join(data, "ca.pem"), "-state", "st",
		"c.log", "nope.txt", "d.log")
	if code != exitFailure || !strings.Contains(errs, "nope.txt: no such file") {
		t.Fatalf("exit %d, want %d and nope.txt named\n%s%s", code, exitFailure, out, errs)
	}
	if !strings.Contains(out, "stored 2 files") || !strings.Contains(out, "; 1 failed") {
		t.Errorf("summary: %q", out)
	}
	if !bytes.Equal(storedCopy(t, data, "c.log"), c) || !bytes.Equal(storedCopy(t, data, "d.log"), d) {
		t.Fatal("c.log and d.log are not both stored")
	}

	// Nothing to send: the local file fails first, no connection tried.
	_, errs, code = ferryIn(t, dir, "send", "-server", freePort(t), "-state", "st2", "nope.txt")
	if code != exitFailure || !strings.Contains(errs, "nope.txt: no such file") {
		t.Fatalf("nope.txt alone: exit %d %q", code, errs)
	}
	for _, conn := range []string{"nothing listens", "connection refused", "127.0.0.1"} {
		if strings.Contains(errs, conn) {
			t.Errorf("nope.txt alone tried to connect: %q", errs)
		}
	}
}

// TestVersionAndFlagOrder: --version and -version print the version on
// stdout with exit 0; flags after the file names are flags.
func TestVersionAndFlagOrder(t *testing.T) {
	for _, arg := range []string{"--version", "-version", "version"} {
		out, errs, code := ferry(t, arg)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "ferry ") || !strings.Contains(out, "board profile") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, out, errs)
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	addr := startServer(t, data)
	want := writeRandom(t, filepath.Join(dir, "c.log"), 2000)
	out, errs, code := ferry(t, "send", "-server", addr, "-ca", filepath.Join(data, "ca.pem"), "-state", filepath.Join(dir, "st"),
		filepath.Join(dir, "c.log"), "-q", "-as", "kept/x.log")
	if code != 0 || !strings.Contains(out, `as "kept/x.log"`) || strings.Contains(errs, "-q") {
		t.Fatalf("send FILE -q -as X: exit %d\n%s%s", code, out, errs)
	}
	if got := storedCopy(t, data, "kept/x.log"); !bytes.Equal(got, want) {
		t.Fatalf("not stored as kept/x.log: %d bytes", len(got))
	}
}

// TestDefaultPort: "-server 127.0.0.1" means 127.0.0.1:7417. Against
// nothing the message names that address; if 7417 is free, a server
// started there is reached with the bare host.
func TestDefaultPort(t *testing.T) {
	dir := t.TempDir()
	free := false
	if l, err := net.Listen("tcp", "127.0.0.1:"+defaultPort); err == nil {
		l.Close()
		free = true
	}
	_, errs, code := ferry(t, "ls", "-v", "-server", "127.0.0.1", "-state", filepath.Join(dir, "st"), "-timeout", "2s")
	if code != exitFailure || !strings.Contains(errs, "127.0.0.1:7417") {
		t.Fatalf("ls -server 127.0.0.1 (7417 free %v): exit %d %q", free, code, errs)
	}
	if free && !strings.Contains(errs, "nothing listens at 127.0.0.1:7417") {
		t.Errorf("nothing on 7417: %q", errs)
	}
	if !free {
		t.Log("port 7417 is busy here: a server on it is not tried")
		return
	}
	data := filepath.Join(dir, "srv")
	startServe(t, "-listen", "127.0.0.1:"+defaultPort, "-data", data)
	f := filepath.Join(dir, "f.txt")
	want := writeRandom(t, f, 500)
	if _, errs, code := ferry(t, "send", "-q", "-server", "127.0.0.1", "-ca", filepath.Join(data, "ca.pem"), "-state", filepath.Join(dir, "st"), f); code != 0 {
		t.Fatalf("send -server 127.0.0.1 to a server on 7417: exit %d %s", code, errs)
	}
	if !bytes.Equal(storedCopy(t, data, "f.txt"), want) {
		t.Fatal("f.txt not stored")
	}
}
