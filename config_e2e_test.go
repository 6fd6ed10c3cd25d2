//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ferry/link/linktest"
)

// ferryEnv runs the binary with extra environment variables.
func ferryEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(ferryBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), exitOf(t, err)
}

// TestConfigDevices: the config file names a serial device (pinned key)
// and a TCP device (CA); -server takes either name on every client
// command, with the device's transport and trust; flags on the command
// line win; the default file is $XDG_CONFIG_HOME/ferry/config; a mistake
// in it is exit 2 with its line.
func TestConfigDevices(t *testing.T) {
	dir := t.TempDir()
	_, srvDev, cliDev := serialLine(t, linktest.Config{Baud: 115200})
	routerData := filepath.Join(dir, "router")
	startServe(t, "-serial", srvDev, "-baud", serialBaud, "-data", routerData)
	piData := filepath.Join(dir, "pi")
	piAddr := startServer(t, piData)
	xdg := filepath.Join(dir, "xdg")
	os.MkdirAll(filepath.Join(xdg, "ferry"), 0o700)
	os.Rename(filepath.Join(piData, "ca.pem"), filepath.Join(xdg, "ferry", "pi-ca.pem"))
	conf := fmt.Sprintf(`# my devices
device router
	serial %s
	baud 115200
	pin

device pi
	server %s
	ca pi-ca.pem   # next to this file
`, cliDev, piAddr)
	if err := os.WriteFile(filepath.Join(xdg, "ferry", "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_CONFIG_HOME=" + xdg}
	st := filepath.Join(dir, "st")
	f := filepath.Join(dir, "x.log")
	want := writeRandom(t, f, 5000)
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return ferryEnv(t, env, append(args[:1:1], append([]string{"-state", st, "-q"}, args[1:]...)...)...)
	}

	// router: serial, pinned: first contact asks, -trust-new pins it under "router".
	if _, errs, code := run("send", "-server", "router", f); code != exitTrust || !strings.Contains(errs, "-trust-new") {
		t.Fatalf("router, first contact: exit %d %s", code, errs)
	}
	if _, errs, code := run("send", "-server", "router", "-trust-new", f); code != 0 {
		t.Fatalf("router with -trust-new: exit %d %s", code, errs)
	}
	if kh, _ := os.ReadFile(filepath.Join(st, "known_hosts")); !strings.HasPrefix(string(kh), "router SHA256:") {
		t.Fatalf("known_hosts: %q", kh)
	}
	if out, errs, code := run("ls", "-server", "router", "-l"); code != 0 || !strings.Contains(out, "x.log") {
		t.Fatalf("ls router: exit %d %s%s", code, out, errs)
	}
	if got := storedCopy(t, routerData, "x.log"); !bytes.Equal(got, want) {
		t.Fatal("router: stored copy differs")
	}

	// pi: TCP, through the CA named relative to the config file.
	for _, args := range [][]string{
		{"send", "-server", "pi", "-to", "logs", f},
		{"mv", "-server", "pi", "logs/x.log", "logs/y.log"},
		{"get", "-server", "pi", "-to", dir, "logs/y.log"},
	} {
		if out, errs, code := run(args...); code != 0 {
			t.Fatalf("%v: exit %d %s%s", args, code, out, errs)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "y.log")); !bytes.Equal(got, want) {
		t.Fatal("pi: downloaded copy differs")
	}

	// Flags win over the file: another CA, another rate.
	ferry(t, "ca", "-out", filepath.Join(dir, "other"))
	if _, errs, code := run("ls", "-server", "pi", "-ca", filepath.Join(dir, "other", "ca.pem")); code != exitTrust {
		t.Fatalf("pi with -ca OTHER: exit %d %s", code, errs)
	}
	if _, errs, code := run("ls", "-server", "router", "-baud", "0"); code == 0 || !strings.Contains(errs, "-baud 0") {
		t.Fatalf("router with -baud 0: exit %d %s", code, errs)
	}
	// -config FILE, and a mistake in it.
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("device pi\n\tserver h\n\tspeed 9600\n"), 0o600)
	if _, errs, code := run("ls", "-config", bad, "-server", "pi"); code != exitUsage || !strings.Contains(errs, bad+":3: unknown keyword \"speed\"") {
		t.Fatalf("bad config: exit %d %s", code, errs)
	}
	if _, errs, code := run("ls", "-config", filepath.Join(dir, "none"), "-server", "pi"); code != exitUsage || !strings.Contains(errs, "none") {
		t.Fatalf("missing -config: exit %d %s", code, errs)
	}
}
