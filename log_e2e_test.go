//go:build linux

package main

import (
	"encoding/json"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServerLogJSON: with -log json every line of the server's log is a
// JSON object; sessions and operations carry peer, client, operation,
// path, bytes, duration, rate and result; a rejected peer and the shutdown are
// logged too.
func TestServerLogJSON(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	addr := freePort(t)
	cmd := exec.Command(ferryBin, "serve", "-listen", addr, "-data", data, "-log", "json")
	errb := &lockedBuffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(errb.String(), "serving on") {
		time.Sleep(20 * time.Millisecond)
	}
	src := filepath.Join(dir, "a.txt")
	writeRandom(t, src, 12345)
	flags := []string{"-server", addr, "-ca", filepath.Join(data, "ca.pem"), "-state", filepath.Join(dir, "st"), "-name", "logger-pi"}
	if _, errs, code := ferry(t, append(append([]string{"send"}, flags...), src)...); code != 0 {
		t.Fatalf("send: %s", errs)
	}
	ferry(t, append(append([]string{"get", "-to", dir}, flags...), "missing")...)
	if c, err := net.Dial("tcp", addr); err == nil { // a peer that is not ferry
		c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		c.Close()
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v", err)
	}
	var put, failed, session, rejected, stopping bool
	for _, line := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		if _, ok := m["time"].(string); !ok {
			t.Fatalf("no time: %q", line)
		}
		switch {
		case m["op"] == "put" && m["path"] == "a.txt" && m["bytes"] == 12345.0 && m["client"] == "logger-pi" && m["result"] == "ok":
			put = put || (strings.HasPrefix(m["peer"].(string), "127.0.0.1:") && rateAgrees(m))
		case m["op"] == "get" && strings.HasPrefix(m["result"].(string), "refused: no such file"):
			failed = true
		case m["kind"] == "session" && m["client"] == "logger-pi" && m["result"] == "ok":
			session = session || (m["bytes"] == 12345.0 && m["files"] == 1.0 && rateAgrees(m))
		case m["kind"] == "session" && m["client"] == nil && strings.Contains(m["result"].(string), "handshake"):
			rejected = true
		case strings.Contains(m["msg"].(string)+"", "stopping"):
			stopping = true
		}
	}
	if !put || !failed || !session || !rejected || !stopping {
		t.Fatalf("put %v, failed get %v, session %v, rejected peer %v, stopping %v in:\n%s", put, failed, session, rejected, stopping, errb.String())
	}
}

// rateAgrees reports whether a JSON log line has bytes_per_s, and it is
// its bytes over its duration_ms (within 1%: the duration is rounded).
func rateAgrees(m map[string]any) bool {
	bps, ok1 := m["bytes_per_s"].(float64)
	ms, ok2 := m["duration_ms"].(float64)
	n, ok3 := m["bytes"].(float64)
	if !ok1 || !ok2 || !ok3 || ms <= 0 || bps <= 0 {
		return false
	}
	want := n / (ms / 1000)
	return math.Abs(bps-want) <= 1+want/100
}
