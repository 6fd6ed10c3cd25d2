package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpgradeFromFirstRelease opens what the first release wrote
// (testdata/release1: its tables, stored files, keys, and the state of two
// clients, one trusting by CA, one by a pinned key) with this release: the
// server serves the old files, the clients reconnect with their old
// identities (no new registration, no new pin), and new operations work
// on old data.
func TestUpgradeFromFirstRelease(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/release1")); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "srv", "server.key"), 0o600)
	os.Chmod(filepath.Join(dir, "srv", "ca.key"), 0o600)
	// The old state is kept under the address it was written with; move it
	// to a free port as a user moving the server to another port would.
	addr := freePort(t)
	for _, st := range []string{"st", "st2"} {
		old := filepath.Join(dir, st, "servers", "127.0.0.1_17999")
		if err := os.Rename(old, filepath.Join(dir, st, "servers", strings.ReplaceAll(addr, ":", "_"))); err != nil {
			t.Fatal(err)
		}
	}
	kh := filepath.Join(dir, "st2", "known_hosts")
	pins, _ := os.ReadFile(kh)
	os.WriteFile(kh, []byte(strings.ReplaceAll(string(pins), "127.0.0.1:17999", addr)), 0o600)
	startServe(t, "-listen", addr, "-data", filepath.Join(dir, "srv"))
	ca := filepath.Join(dir, "srv", "ca.pem")
	st := filepath.Join(dir, "st")
	out, errs, code := ferry(t, "ls", "-l", "-server", addr, "-ca", ca, "-state", st)
	if code != 0 || !strings.Contains(out, "old.txt") || !strings.Contains(out, "old.bin") || !strings.Contains(out, " verified") {
		t.Fatalf("ls of the old files: exit %d\n%s%s", code, out, errs)
	}
	get := filepath.Join(dir, "got")
	os.Mkdir(get, 0o755)
	if _, errs, code := ferry(t, "get", "-server", addr, "-ca", ca, "-state", st, "-to", get, "old.bin", "old.txt"); code != 0 {
		t.Fatalf("get of old files: exit %d %s", code, errs)
	}
	for _, name := range []string{"old.bin", "old.txt"} {
		want, _ := os.ReadFile(filepath.Join("testdata/release1", name))
		if got, _ := os.ReadFile(filepath.Join(get, name)); !bytes.Equal(got, want) {
			t.Fatalf("%s stored by the first release comes back different", name)
		}
	}
	if _, errs, code := ferry(t, "send", "-server", addr, "-ca", ca, "-state", st, "-as", "new/dir/n.txt", filepath.Join(dir, "old.txt")); code != 0 {
		t.Fatalf("send into a folder on old data: exit %d %s", code, errs)
	}
	// the pinned client: no -trust-new, the old pin must hold
	out, errs, code = ferry(t, "ls", "-server", addr, "-state", filepath.Join(dir, "st2"))
	if code != 0 || strings.TrimSpace(out) != "old.txt" {
		t.Fatalf("pinned client after the upgrade: exit %d %q %s", code, out, errs)
	}
	for _, st := range []string{"st", "st2"} {
		if ents, _ := os.ReadDir(filepath.Join(dir, st, "servers")); len(ents) != 1 {
			t.Fatalf("%s: %d server identities, want the old one only", st, len(ents))
		}
	}
	if out, errs, code := ferry(t, "fsck", "-data", filepath.Join(dir, "srv")); code != 0 {
		t.Fatalf("fsck: exit %d %s%s", code, out, errs)
	}
}
