package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoCodecInterop: a build without the codec (-tags ferry_nocompress,
// which make size builds to measure compression) and one with it move a
// file both ways with compression asked for: the feature is not negotiated,
// and the content goes raw.
func TestNoCodecInterop(t *testing.T) {
	nocodec := filepath.Join(t.TempDir(), "ferry-nocompress")
	if out, err := exec.Command("go", "build", "-tags", "ferry_nocompress", "-o", nocodec, ".").CombinedOutput(); err != nil {
		t.Fatalf("building with ferry_nocompress: %v\n%s", err, out)
	}
	full := ferryBin
	defer func() { ferryBin = full }()
	for _, c := range []struct{ name, server, client string }{
		{"server without codec", nocodec, full},
		{"client without codec", full, nocodec},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ferryBin = c.server
			addr := startServer(t, filepath.Join(dir, "srv"))
			ferryBin = c.client
			src := filepath.Join(dir, "app.log")
			text := []byte(strings.Repeat("2026-12-01 12:00:00 daemon.info ferry: a compressible log line\n", 4000))
			if err := os.WriteFile(src, text, 0o600); err != nil {
				t.Fatal(err)
			}
			common := []string{"-q", "-compress", "-server", addr, "-ca", filepath.Join(dir, "srv", "ca.pem"), "-state", filepath.Join(dir, "state"), "-name", "pi"}
			if _, errs, code := ferry(t, append(append([]string{"send"}, common...), src)...); code != 0 {
				t.Fatalf("send: exit %d: %s", code, errs)
			}
			got := filepath.Join(dir, "got.log")
			if _, errs, code := ferry(t, append(append([]string{"get"}, common...), "-o", got, "app.log")...); code != 0 {
				t.Fatalf("get: exit %d: %s", code, errs)
			}
			if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, text) {
				t.Fatalf("got back %d bytes (%v), want the %d sent", len(b), err, len(text))
			}
		})
	}
}
