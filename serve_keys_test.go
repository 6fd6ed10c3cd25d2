package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveOnce starts "ferry serve ARGS...", stops it with SIGINT once it
// serves (or lets it exit), and returns what it printed and its exit code.
func serveOnce(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(ferryBin, append([]string{"serve", "-listen", "127.0.0.1:0"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "serving on") {
			cmd.Process.Signal(os.Interrupt)
		}
	}
	timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	cmd.Wait()
	return out.String(), cmd.ProcessState.ExitCode()
}

// TestFirstStartKeepsNoCAKey: the data directory keeps only what the
// server needs at run time; the CA key is not kept unless asked for, and
// the server says where it went.
func TestFirstStartKeepsNoCAKey(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	out, code := serveOnce(t, "-data", data)
	if code != 0 || !strings.Contains(out, "CA's private key was not kept") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(data, "ca.key")); err == nil {
		t.Error("first start left the CA key in the data directory")
	}
	for _, f := range []string{"ca.pem", "server.pem", "server.key"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("first start: %v", err)
		}
	}
	// Without its CA key, a data directory cannot issue itself a new
	// certificate: the server says what to do.
	os.Remove(filepath.Join(data, "server.pem"))
	out, code = serveOnce(t, "-data", data)
	if code == 0 || !strings.Contains(out, "ferry cert -ca-cert") {
		t.Fatalf("restart without server.pem and CA key: exit %d:\n%s", code, out)
	}
}

// TestCAKeyOut: -ca-key-out writes the CA key where asked (0600), and
// "ferry cert" issues from it.
func TestCAKeyOut(t *testing.T) {
	dir := t.TempDir()
	data, caKey := filepath.Join(dir, "srv"), filepath.Join(dir, "offline", "ca.key")
	out, code := serveOnce(t, "-data", data, "-ca-key-out", caKey)
	if code != 0 || !strings.Contains(out, "private key is in "+caKey) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	fi, err := os.Stat(caKey)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key: %v, mode %v", err, fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(data, "ca.key")); err == nil {
		t.Error("the CA key is in the data directory too")
	}
	if _, errs, code := ferry(t, "cert", "-ca-cert", filepath.Join(data, "ca.pem"), "-ca-key", caKey,
		"-hostname", "127.0.0.1", "-out", filepath.Join(dir, "other")); code != 0 {
		t.Fatalf("ferry cert from the offline key: %s", errs)
	}
}

// TestKeyWarnings: a server key readable by others, and a CA key an older
// ferry left online, are reported at start.
func TestKeyWarnings(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	if _, errs, code := ferry(t, "ca", "-out", pki); code != 0 {
		t.Fatal(errs)
	}
	if _, errs, code := ferry(t, "cert", "-ca-cert", filepath.Join(pki, "ca.pem"), "-ca-key", filepath.Join(pki, "ca.key"),
		"-hostname", "127.0.0.1", "-out", filepath.Join(pki, "server")); code != 0 {
		t.Fatal(errs)
	}
	key := filepath.Join(pki, "server.key")
	os.Chmod(key, 0o644)
	out, code := serveOnce(t, "-data", filepath.Join(dir, "a"), "-cert", filepath.Join(pki, "server.pem"), "-key", key)
	if code != 0 || !strings.Contains(out, "chmod 600 "+key) {
		t.Errorf("world-readable -key: exit %d:\n%s", code, out)
	}
	// An older ferry's data directory: the CA key beside the server's.
	data := filepath.Join(dir, "old")
	os.MkdirAll(data, 0o700)
	for _, f := range []string{"ca.pem", "ca.key", "server.pem", "server.key"} {
		b, _ := os.ReadFile(filepath.Join(pki, f))
		os.WriteFile(filepath.Join(data, f), b, 0o600)
	}
	out, code = serveOnce(t, "-data", data)
	if code != 0 || !strings.Contains(out, "ca.key is the CA's private key, online") {
		t.Errorf("CA key in the data directory: exit %d:\n%s", code, out)
	}
}
