//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry/link/linktest"
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
	// -n on a stored file: the put is refused, and so is the goodbye that
	// send sends right behind its last file (PROTOCOL.md §4.6, bye)
	if _, errs, code := ferry(t, append(append([]string{"send", "-n"}, flags...), src)...); code == 0 {
		t.Fatalf("send -n of a stored file: exit 0: %s", errs)
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
	var put, failed, byeAhead, session, rejected, stopping bool
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
		case m["op"] == "bye" && strings.HasPrefix(m["result"].(string), "refused: a request failed"):
			byeAhead = true
		case m["kind"] == "session" && m["client"] == "logger-pi" && m["result"] == "ok":
			session = session || (m["bytes"] == 12345.0 && m["files"] == 1.0 && rateAgrees(m))
		case m["kind"] == "session" && m["client"] == nil && strings.Contains(m["result"].(string), "handshake"):
			rejected = true
		case strings.Contains(fmt.Sprint(m["msg"]), "stopping"):
			stopping = true
		}
	}
	if !put || !failed || !byeAhead || !session || !rejected || !stopping {
		t.Fatalf("put %v, failed get %v, refused bye ahead %v, session %v, rejected peer %v, stopping %v in:\n%s", put, failed, byeAhead, session, rejected, stopping, errb.String())
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

// TestServerLogPeerLink: over a serial line the log names the server's
// device ("from serial:/dev/pts/N"), over stdio it says "from stdio", so
// an operator can tell the two apart (neither is "link").
func TestServerLogPeerLink(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f.txt")
	writeRandom(t, f, 300)

	_, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	srv := exec.Command(ferryBin, "serve", "-serial", srvDev, "-baud", serialBaud, "-data", filepath.Join(dir, "srv1"))
	serialLog := &lockedBuffer{}
	srv.Stderr = serialLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	for i := 0; i < 200 && !strings.Contains(serialLog.String(), "serving on"); i++ {
		time.Sleep(25 * time.Millisecond)
	}
	if code, _ := startSerialSend(t, cliDev, filepath.Join(dir, "st1"), f).wait(t); code != 0 {
		t.Fatalf("serial send: exit %d\n%s", code, serialLog.String())
	}
	srv.Process.Signal(os.Interrupt)
	srv.Wait()
	if want := `op put "f.txt" client`; !strings.Contains(serialLog.String(), "from serial:"+srvDev+": ok") || !strings.Contains(serialLog.String(), want) {
		t.Errorf("serial: no %q from serial:%s in the log:\n%s", want, srvDev, serialLog.String())
	}

	srv = exec.Command(ferryBin, "serve", "-stdio", "-data", filepath.Join(dir, "srv2"))
	cli := exec.Command(ferryBin, "send", "-stdio", "-trust-new", "-state", filepath.Join(dir, "st2"), "-q", f)
	c2s, _ := srv.StdinPipe()
	s2c, _ := srv.StdoutPipe()
	var stdioLog bytes.Buffer
	srv.Stderr, cli.Stdin, cli.Stdout = &stdioLog, s2c, c2s
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	err := cli.Run()
	c2s.Close()
	waitServer(t, srv, 10*time.Second, "stdio server did not end with its stdin", &stdioLog)
	if code := exitOf(t, err); code != 0 {
		t.Fatalf("stdio send: exit %d\n%s", code, stdioLog.String())
	}
	for _, want := range []string{`op put "f.txt" client`, "from stdio: ok", "session client"} {
		if !strings.Contains(stdioLog.String(), want) {
			t.Errorf("stdio: no %q in the log:\n%s", want, stdioLog.String())
		}
	}
	if strings.Contains(serialLog.String()+stdioLog.String(), "from link") {
		t.Error(`a log line says "from link"`)
	}
}
