package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// runServer runs "ferry serve -listen ADDR -data DATA" until stop, which
// returns what the server logged.
func runServer(t *testing.T, data string) (addr string, stop func() string) {
	t.Helper()
	addr = freePort(t)
	cmd := exec.Command(ferryBin, "serve", "-listen", addr, "-data", data)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log strings.Builder
	ready, done := make(chan bool, 1), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "serving on") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server did not start")
	}
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
			<-done
		}
		mu.Lock()
		defer mu.Unlock()
		return log.String()
	}
	t.Cleanup(func() { stop() })
	return addr, stop
}

// TestClientsCommand: "ferry clients" lists a server's clients beside the
// running server; -disable, -enable and -remove need it stopped; a
// disabled client is refused (2106, logged) while the others go on; a
// removed one loses its files, and its name can register again.
func TestClientsCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "srv")
	addr, stop := runServer(t, data)
	ca := filepath.Join(data, "ca.pem")
	f := filepath.Join(dir, "cfg.tar")
	writeRandom(t, f, 1234)
	send := func(addr, name string) (string, int) {
		t.Helper()
		_, errs, code := ferry(t, "send", "-q", "-server", addr, "-ca", ca, "-state", filepath.Join(dir, name), "-name", name, f)
		return errs, code
	}
	for _, name := range []string{"router", "pi"} {
		if errs, code := send(addr, name); code != 0 {
			t.Fatalf("%s: exit %d %s", name, code, errs)
		}
	}
	out, errs, code := ferry(t, "clients", "-data", data)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("clients beside the server: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"router", "SHA256:", " 1 ", " 1234 ", "enabled"} {
		if !strings.Contains(lines[1], want) {
			t.Fatalf("no %q in %q", want, lines[1])
		}
	}
	if !strings.HasPrefix(lines[2], "pi ") {
		t.Fatalf("second line: %q", lines[2])
	}
	if _, errs, code := ferry(t, "clients", "-data", data, "-disable", "router"); code != exitFailure || !strings.Contains(errs, "stop the server first") {
		t.Fatalf("-disable beside the server: exit %d %s", code, errs)
	}
	stop()

	out, errs, code = ferry(t, "clients", "-data", data, "-disable", "router")
	if code != 0 || !strings.Contains(out, `disabled client "router"`) {
		t.Fatalf("-disable: exit %d %s%s", code, out, errs)
	}
	if out, _, _ := ferry(t, "clients", "-data", data); !strings.Contains(out, "disabled since") {
		t.Fatalf("list after -disable:\n%s", out)
	}
	addr, stop = runServer(t, data)
	if errs, code := send(addr, "router"); code != exitFailure || !strings.Contains(errs, "refused this client") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("disabled router: exit %d %q", code, errs)
	}
	if errs, code := send(addr, "pi"); code != 0 {
		t.Fatalf("pi beside a disabled router: exit %d %s", code, errs)
	}
	// A disabled client registering again with its key is refused too.
	ids, _ := filepath.Glob(filepath.Join(dir, "router", "servers", "*"))
	if len(ids) != 1 {
		t.Fatalf("router's identities: %v", ids)
	}
	kept, _ := os.ReadFile(ids[0])
	var unregistered []string
	for _, l := range strings.Split(string(kept), "\n") {
		if !strings.HasPrefix(l, "id ") {
			unregistered = append(unregistered, l)
		}
	}
	os.WriteFile(ids[0], []byte(strings.Join(unregistered, "\n")), 0o600)
	if errs, code := send(addr, "router"); code != exitFailure || !strings.Contains(errs, "operator disabled the client") {
		t.Fatalf("disabled router registering again: exit %d %q", code, errs)
	}
	os.WriteFile(ids[0], kept, 0o600)
	log := stop()
	for _, want := range []string{`reconnection of "router" as `, `registration of "router" (`, "refused: the client is disabled"} {
		if !strings.Contains(log, want) {
			t.Fatalf("no %q in the server log:\n%s", want, log)
		}
	}

	if _, errs, code := ferry(t, "clients", "-data", data, "-enable", "router"); code != 0 {
		t.Fatalf("-enable: exit %d %s", code, errs)
	}
	addr, stop = runServer(t, data)
	if errs, code := send(addr, "router"); code != 0 {
		t.Fatalf("router enabled again: exit %d %s", code, errs)
	}
	stop()

	id := strings.Fields(lines[1])[1]
	out, errs, code = ferry(t, "clients", "-data", data, "-remove", id)
	if code != 0 || !strings.Contains(out, `removed client "router"`) || !strings.Contains(out, "its files (1)") {
		t.Fatalf("-remove by ID: exit %d %s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "files", id)); !os.IsNotExist(err) {
		t.Fatalf("the removed client's files: %v", err)
	}
	if out, _, _ := ferry(t, "clients", "-data", data); strings.Contains(out, "router") {
		t.Fatalf("list after -remove:\n%s", out)
	}
	if _, errs, code := ferry(t, "clients", "-data", data, "-remove", "router"); code != exitFailure || !strings.Contains(errs, `no client named "router"`) {
		t.Fatalf("-remove twice: exit %d %s", code, errs)
	}
	if _, errs, code := ferry(t, "fsck", "-data", data); code != 0 {
		t.Fatalf("fsck after -remove: exit %d %s", code, errs)
	}
	addr, _ = runServer(t, data)
	if errs, code := send(addr, "router"); code != exitFailure || !strings.Contains(errs, "to register anew") {
		t.Fatalf("removed router: exit %d %s", code, errs)
	}
	os.RemoveAll(filepath.Join(dir, "router"))
	if errs, code := send(addr, "router"); code != 0 {
		t.Fatalf("router registering anew under its old name: exit %d %s", code, errs)
	}
	for _, args := range [][]string{{"clients", "-data", data, "-disable", "a", "-remove", "b"}, {"clients", "extra"}} {
		if _, _, code := ferry(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
