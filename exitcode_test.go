package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/client"
	"ferry/crypt"
	"ferry/frame"
	"ferry/link"
)

// TestExitCodeMessages: each sentinel gives one line that says what
// happened and what to do, and its exit code; -v adds the chain; text
// from the network is escaped.
func TestExitCodeMessages(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		want string
	}{
		{fmt.Errorf("crypt: waiting for server hello: crypt: response header: %w", frame.ErrVersion), exitFailure, "ferry: the server speaks an older protocol version"},
		{fmt.Errorf("serial:/dev/x: %w", link.ErrPeerTimeout), exitFailure, "peer silent too long): check the cable"},
		{fmt.Errorf("%w for router: pinned A, offered B", crypt.ErrHostKeyChanged), exitTrust, "ferry: SERVER KEY CHANGED for router: pinned A, offered B\n"},
		{fmt.Errorf("%w: x509: certificate signed by unknown authority", crypt.ErrUntrusted), exitTrust, "ferry: server certificate not trusted: x509"},
		{crypt.ErrBadSignature, exitTrust, "someone may be in the middle"},
		{fmt.Errorf("%w: \x1b]0;owned\x07 \u202eevil", client.ErrServer), exitFailure, `ferry: the server reported an error: \x1b]0;owned\x07 \u202eevil`},
		{client.ErrChecksum, exitChecksum, "ferry: checksum still wrong"},
		{fmt.Errorf("%w config:3: unknown keyword", errConfig), exitUsage, "ferry: config config:3: unknown keyword"},
		{fmt.Errorf("crypt: waiting for server hello: %w", crypt.ErrClosedByPeer), exitFailure, "ferry: the server closed the connection: its log says why\n"},
		{fmt.Errorf("read: %w", os.ErrDeadlineExceeded), exitFailure, "did not answer in time"},
		{errors.New("open x.txt: no such file or directory"), exitFailure, "ferry: open x.txt: no such file or directory\n"},
	} {
		for _, verbose := range []bool{false, true} {
			showChain = verbose
			var buf bytes.Buffer
			code := exitCode(tc.err, &buf)
			out := buf.String()
			lines := strings.Count(out, "\n")
			wantLines := 1
			if msg, _ := userMessage(tc.err); verbose && msg != tc.err.Error() {
				wantLines = 2
			}
			if code != tc.code || !strings.Contains(out, tc.want) || strings.ContainsAny(out, "\x1b\x07\u202e") {
				t.Errorf("%v (-v %v): exit %d, %q; want %d, %q", tc.err, verbose, code, out, tc.code, tc.want)
			}
			if lines != wantLines {
				t.Errorf("%v (-v %v): %d lines, want %d: %q", tc.err, verbose, lines, wantLines, out)
			}
			if verbose && lines == 2 && !strings.Contains(out, "ferry: detail: ") {
				t.Errorf("%v: -v shows no chain: %q", tc.err, out)
			}
		}
	}
	showChain = false
}

// TestMessagesOneLine runs the binary: an older server, nothing
// listening, a name taken. Each failure is one line, the chain only with
// -v; after a refused name, another -name works from the same state.
func TestMessagesOneLine(t *testing.T) {
	dir := t.TempDir()
	classicAddr := freePort(t)
	addr := startServer(t, filepath.Join(dir, "srv"), "-classic", classicAddr)
	f := filepath.Join(dir, "f")
	writeRandom(t, f, 10)
	st := filepath.Join(dir, "st")
	_, errs, code := ferry(t, "send", "-q", "-server", classicAddr, "-state", st, f)
	if code != exitFailure || errs != "ferry: the server speaks an older protocol version (the classic protocol, version 3): give the port of its secure listener (7417), or send with -classic\n" {
		t.Fatalf("older server: exit %d %q", code, errs)
	}
	_, errs, _ = ferry(t, "send", "-q", "-v", "-server", classicAddr, "-state", st, f)
	if lines := strings.Split(strings.TrimSpace(errs), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "frame: unsupported protocol version") {
		t.Fatalf("-v: %q", errs)
	}
	_, errs, code = ferry(t, "ls", "-server", freePort(t), "-state", st)
	if code != exitFailure || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "nothing listens at 127.0.0.1:") {
		t.Fatalf("nothing listening: exit %d %q", code, errs)
	}
	ca := filepath.Join(dir, "srv", "ca.pem")
	if _, errs, code := ferry(t, "send", "-q", "-server", addr, "-ca", ca, "-state", filepath.Join(dir, "a"), "-name", "pi", f); code != 0 {
		t.Fatal(errs)
	}
	_, errs, code = ferry(t, "send", "-q", "-server", addr, "-ca", ca, "-state", st, "-name", "pi", f)
	if code != exitFailure || errs != "ferry: the server has this name registered to another key; choose another -name (name \"pi\")\n" {
		t.Fatalf("name taken: exit %d %q", code, errs)
	}
	if _, errs, code = ferry(t, "send", "-q", "-server", addr, "-ca", ca, "-state", st, "-name", "pi-2", f); code != 0 {
		t.Fatalf("another -name after a refused one: exit %d %s", code, errs)
	}
}
