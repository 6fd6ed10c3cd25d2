//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry/link/linktest"
)

// TestProgressOnTerminal runs a send over a 115200-baud serial line with
// stderr on a pseudo-terminal, as a person at a terminal would, and reads
// the screen: a bar with percent, rate and ETA appears within a second of
// the transfer's start and is redrawn at least every second to the end;
// then the same send with stderr on a pipe writes no bar, no escape
// sequence, only the result.
func TestProgressOnTerminal(t *testing.T) {
	t.Parallel() // it mostly waits on the line: beside the others
	dir := t.TempDir()
	_, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	startServe(t, "-serial", srvDev, "-baud", serialBaud, "-data", filepath.Join(dir, "srv"))
	src := filepath.Join(dir, "fw.bin")
	writeRandom(t, src, 48<<10) // about 4.5 s of line
	tty, err := linktest.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	slave, err := os.OpenFile(tty.SlavePath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	type draw struct {
		at   time.Time
		line string
	}
	var draws []draw
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Master.Read(buf)
			if n > 0 {
				mu.Lock()
				for _, part := range strings.Split(string(buf[:n]), "\r") {
					if strings.Contains(part, "%") {
						draws = append(draws, draw{time.Now(), part})
					}
				}
				mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	state := filepath.Join(dir, "st")
	cmd := exec.Command(ferryBin, "send", "-serial", cliDev, "-baud", serialBaud, "-trust-new", "-state", state, "-no-compress", src)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, slave
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("send: %v\n%s", err, out.String())
	}
	slave.Close()
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(draws) < 4 {
		t.Fatalf("%d bar lines in %v", len(draws), time.Since(start))
	}
	last := draws[0]
	for _, d := range draws[1:] {
		if strings.Contains(last.line, "100%") {
			break // all sent: the bar waits for the server's answer
		}
		if gap := d.at.Sub(last.at); gap > 1200*time.Millisecond {
			t.Fatalf("the bar was not redrawn for %v (after %q)", gap, last.line)
		}
		last = d
	}
	mid := draws[len(draws)/2].line
	for _, want := range []string{"%", "KiB", "/s", "ETA"} {
		if !strings.Contains(mid, want) {
			t.Fatalf("bar %q has no %q", mid, want)
		}
	}
	if !strings.Contains(out.String(), "stored") {
		t.Fatalf("no result line: %q", out.String())
	}

	// not a terminal: nothing but the result
	var errb bytes.Buffer
	cmd = exec.Command(ferryBin, "send", "-serial", cliDev, "-baud", serialBaud, "-trust-new", "-state", state, "-as", "again.bin", src)
	out.Reset()
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("send: %v %s", err, errb.String())
	}
	if errb.Len() != 0 || strings.ContainsAny(out.String(), "\r\x1b") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("not on a terminal: stdout %q stderr %q", out.String(), errb.String())
	}
}
