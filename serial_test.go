//go:build linux

package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry/link/linktest"
)

// These tests run the real ferry binary over a serial line: two
// pseudo-terminals joined by linktest's simulated 115200-baud cable, the
// server on one device, the client on the other, as on a USB-serial
// adapter.

const serialBaud = "115200"

// serialLine returns a simulated line and the devices of its two ends:
// the server's and the client's.
func serialLine(t *testing.T, cfg linktest.Config) (line *linktest.Line, server, client string) {
	t.Helper()
	line = linktest.NewLine(cfg)
	t.Cleanup(func() { line.Close() })
	var paths [2]string
	for side := range paths {
		p, err := linktest.OpenPTY()
		if err != nil {
			t.Fatal("pseudo-terminals are needed for the serial tests:", err)
		}
		t.Cleanup(func() { p.Close() })
		p.Attach(line.End(side))
		paths[side] = p.SlavePath
	}
	return line, paths[0], paths[1]
}

// serialSend is a started "ferry send" over a serial device.
type serialSend struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
	start    time.Time
}

func startSerialSend(t *testing.T, dev, state, file string, extra ...string) *serialSend {
	t.Helper()
	args := append([]string{"send", "-serial", dev, "-baud", serialBaud, "-trust-new", "-q", "-state", state}, extra...)
	s := &serialSend{cmd: exec.Command(ferryBin, append(args, file)...)}
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.err
	s.start = time.Now()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// wait returns the exit code and the time since the start.
func (s *serialSend) wait(t *testing.T) (int, time.Duration) {
	t.Helper()
	err := s.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), time.Since(s.start)
	case err != nil:
		t.Fatal(err)
	}
	return 0, time.Since(s.start)
}

// A console banner and shell echo on the line before the session, in both
// directions, are skipped: the handshake and the upload go through.
func TestSerialGarbageBeforeHandshake(t *testing.T) {
	dir := t.TempDir()
	line, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	data := filepath.Join(dir, "srv")
	startServe(t, "-serial", srvDev, "-baud", serialBaud, "-data", data)
	banner := []byte("\r\nBusyBox v1.36.1 built-in shell (ash)\r\n\r\nOpenWrt login: root\r\nPassword: \r\n" +
		"root@OpenWrt:~# ferry serve -serial /dev/ttyS0\r\n\x1b[0m\x00\xff\x9e\x9e\x01garbage")
	line.End(0).Write(banner) // from the device's console to the laptop
	line.End(1).Write(banner) // and the laptop's echo back
	want := writeRandom(t, filepath.Join(dir, "cfg.tar"), 20_000)
	s := startSerialSend(t, cliDev, filepath.Join(dir, "st"), filepath.Join(dir, "cfg.tar"))
	if code, _ := s.wait(t); code != 0 {
		t.Fatalf("send: exit %d\n%s%s", code, s.out.String(), s.err.String())
	}
	if got := storedCopy(t, data, "cfg.tar"); !bytes.Equal(got, want) {
		t.Fatalf("stored copy: %d bytes, differs from the %d sent", len(got), len(want))
	}
}

// The cable is pulled for 30 seconds in the middle of an upload, shorter
// than the default link timeout: the session rides it out and the upload
// completes with an identical file.
func TestSerialOutage30s(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30-second outage")
	}
	t.Parallel() // it mostly waits (outages, timeouts): beside the others
	dir := t.TempDir()
	line, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	data := filepath.Join(dir, "srv")
	startServe(t, "-serial", srvDev, "-baud", serialBaud, "-data", data)
	want := writeRandom(t, filepath.Join(dir, "fw.bin"), 96<<10) // about 9 s of line
	s := startSerialSend(t, cliDev, filepath.Join(dir, "st"), filepath.Join(dir, "fw.bin"))
	time.Sleep(3 * time.Second)
	line.Pause(30 * time.Second)
	code, took := s.wait(t)
	if code != 0 {
		t.Fatalf("send: exit %d after %v\n%s%s", code, took, s.out.String(), s.err.String())
	}
	if took < 30*time.Second {
		t.Fatalf("send finished in %v, during the outage: the pause did not hit the transfer", took)
	}
	if got := storedCopy(t, data, "fw.bin"); !bytes.Equal(got, want) {
		t.Fatalf("stored copy: %d bytes, differs from the %d sent", len(got), len(want))
	}
}

// An outage longer than -link-timeout ends the upload with a clear error
// and exit 1, not a hang; nothing is stored; the server stays up, and
// once the cable is back the same upload goes through.
func TestSerialOutageTooLong(t *testing.T) {
	t.Parallel() // it mostly waits (outages, timeouts): beside the others
	dir := t.TempDir()
	line, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	data := filepath.Join(dir, "srv")
	startServe(t, "-serial", srvDev, "-baud", serialBaud, "-data", data, "-link-timeout", "2s")
	want := writeRandom(t, filepath.Join(dir, "fw.bin"), 64<<10)
	state := filepath.Join(dir, "st")
	s := startSerialSend(t, cliDev, state, filepath.Join(dir, "fw.bin"), "-link-timeout", "2s")
	time.Sleep(2 * time.Second)
	line.Pause(6 * time.Second)
	code, took := s.wait(t)
	if code != exitFailure || !strings.Contains(s.err.String(), "peer silent too long") {
		t.Fatalf("send: exit %d after %v, want %d and the link timeout\n%s", code, took, exitFailure, s.err.String())
	}
	t.Logf("send gave up after %v: %s", took, s.err.String())
	if took > 6*time.Second {
		t.Errorf("took %v to give up with a 2s link timeout", took)
	}
	if got := storedCopy(t, data, "fw.bin"); got != nil {
		t.Fatalf("a broken upload stored %d bytes", len(got))
	}
	time.Sleep(5 * time.Second) // the cable is back
	s = startSerialSend(t, cliDev, state, filepath.Join(dir, "fw.bin"))
	if code, took := s.wait(t); code != 0 {
		t.Fatalf("send after the outage: exit %d after %v\n%s", code, took, s.err.String())
	}
	if got := storedCopy(t, data, "fw.bin"); !bytes.Equal(got, want) {
		t.Fatalf("stored copy: %d bytes, differs from the %d sent", len(got), len(want))
	}
}
