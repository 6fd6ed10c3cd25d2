package fsstore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// adminDir builds a data directory with two clients, each with files in
// folders, and returns it with their IDs.
func adminDir(t *testing.T) (dir string, a, b [16]byte) {
	dir = t.TempDir()
	s := openT(t, dir, nil)
	ca, _ := s.Register("lost-router", KeyEd25519, key32(1), t0)
	cb, _ := s.Register("pi", KeyEd25519, key32(2), t0)
	upload(t, s, ca.ID, "cfg.tar", []byte("router config"))
	uploadMeta(t, s, ca.ID, "logs/2026/x.log", []byte("log"), 0o640, t0)
	s.Mkdir(ca.ID, "empty", false)
	upload(t, s, cb.ID, "keep.txt", []byte("pi's"))
	for _, id := range [][16]byte{ca.ID, cb.ID} { // an upload cut off, kept for resume
		u, err := s.NewResumable(id, "big.bin", 100, t0)
		mustOK(t, err)
		u.Write([]byte("half"))
		mustOK(t, u.Keep())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, ca.ID, cb.ID
}

// TestDisableClient: a disabled client is marked so, across a reopen and a
// compaction, keeps its files, and is enabled again the same way.
func TestDisableClient(t *testing.T) {
	dir, a, b := adminDir(t)
	s := openT(t, dir, nil)
	if err := s.DisableClient(a, t0.Add(1)); err != nil {
		t.Fatal(err)
	}
	check := func(want bool) {
		t.Helper()
		c, ok := s.Client(a)
		byName, _ := s.ClientByName("lost-router")
		if !ok || c.Disabled != want || byName.Disabled != want || want && !c.DisabledAt.Equal(t0.Add(1)) {
			t.Fatalf("client %+v, want disabled %v", c, want)
		}
		if other, _ := s.Client(b); other.Disabled {
			t.Fatal("the other client is disabled too")
		}
		if n, _ := s.Usage(a); n != 2 {
			t.Fatalf("%d files left, want 2", n)
		}
	}
	check(true)
	s.Close()
	s = openT(t, dir, nil)
	check(true)
	mustOK(t, s.Compact())
	check(true)
	s.Close()
	s = openT(t, dir, nil)
	check(true)
	mustOK(t, s.EnableClient(a, t0.Add(2)))
	check(false)
	s.Close()
	s = openT(t, dir, nil)
	check(false)
	mustOK(t, s.Compact())
	check(false)
	if err := s.DisableClient([16]byte{9}, t0); !errors.Is(err, ErrNoClient) {
		t.Fatalf("disable an unknown client: %v", err)
	}
	s.Close()
	if rep, err := Check(dir, false); err != nil || !rep.OK() {
		t.Fatalf("fsck: %v %s", err, rep.String())
	}
}

// TestRemoveClient: a removed client, its records and its folder are
// gone; its name is free for a new client; the other client is untouched;
// a compaction drops its records, and fsck is clean throughout.
func TestRemoveClient(t *testing.T) {
	dir, a, b := adminDir(t)
	s := openT(t, dir, nil)
	n, err := s.RemoveClient(a, t0.Add(1))
	if err != nil || n != 2 {
		t.Fatalf("remove: %d files, %v", n, err)
	}
	gone := func() {
		t.Helper()
		if _, ok := s.Client(a); ok {
			t.Fatal("removed client still there")
		}
		if c, ok := s.ClientByName("lost-router"); ok && c.ID == a {
			t.Fatal("removed client still found by name")
		}
		if fs := s.Files(a); len(fs) != 0 {
			t.Fatalf("removed client's files listed: %v", fs)
		}
		if _, err := os.Stat(filepath.Join(dir, FilesDir, hex.EncodeToString(a[:]))); !os.IsNotExist(err) {
			t.Fatalf("removed client's folder: %v", err)
		}
		if fs := s.Files(b); len(fs) != 1 {
			t.Fatalf("the other client's files: %v", fs)
		}
		for _, c := range s.Clients() {
			if c.ID == a {
				t.Fatal("Clients lists the removed client")
			}
		}
		if ps := s.Partials(); len(ps) != 1 || ps[0].Client != b {
			t.Fatalf("partial uploads: %+v, want only the other client's", ps)
		}
	}
	gone()
	if _, err := s.RemoveClient(a, t0); !errors.Is(err, ErrNoClient) {
		t.Fatalf("remove twice: %v", err)
	}
	if err := s.Touch(a, t0); !errors.Is(err, ErrNoClient) {
		t.Fatalf("touch a removed client: %v", err)
	}
	s.Close()
	s = openT(t, dir, nil)
	gone()
	again, err := s.Register("lost-router", KeyEd25519, key32(3), t0)
	if err != nil || again.ID == a {
		t.Fatalf("register the freed name: %+v %v", again, err)
	}
	before := fileSize(t, filepath.Join(dir, ClientsTable))
	mustOK(t, s.Compact())
	gone()
	if c, ok := s.ClientByName("lost-router"); !ok || c.ID != again.ID {
		t.Fatalf("the new client by name: %+v", c)
	}
	s.Close()
	data, _ := os.ReadFile(filepath.Join(dir, ClientsTable))
	if int64(len(data)) >= before || bytes.Contains(data, a[:]) {
		t.Fatalf("compaction kept the removed client (%d bytes, %d before)", len(data), before)
	}
	s = openT(t, dir, nil)
	gone()
	s.Close()
	if rep, err := Check(dir, false); err != nil || !rep.OK() {
		t.Fatalf("fsck: %v %s", err, rep.String())
	}
	list, err := ReadClients(dir)
	if err != nil || len(list) != 2 || list[0].Name != "pi" || list[0].Files != 1 || list[0].Bytes != 4 || list[1].Name != "lost-router" {
		t.Fatalf("ReadClients: %+v %v", list, err)
	}
}

// TestRemoveClientCrashPoints rebuilds every state a kill during a removal
// could leave (docs/STORAGE.md §5): the client table cut at every byte of
// the status record with the rest as before; the status durable and the
// file table cut at every byte of the removal records, the disk as before;
// the same with the folder half removed; the removed record cut at every
// byte, the disk as after. Open gives the state before (the first case) or
// the client removed (the others), fsck clean.
func TestRemoveClientCrashPoints(t *testing.T) {
	before, a, b := adminDir(t)
	after := copyDir(t, before)
	s := openT(t, after, nil)
	if _, err := s.RemoveClient(a, t0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	read := func(dir, table string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, table))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	c0, c1 := read(before, ClientsTable), read(after, ClientsTable)
	f0, f1 := read(before, FilesTable), read(after, FilesTable)
	if !bytes.HasPrefix(c1, c0) || !bytes.HasPrefix(f1, f0) {
		t.Fatal("the removal rewrote a table")
	}
	status := len(c0) + RecordHeaderSize + statusSize
	clientDir := filepath.Join(FilesDir, hex.EncodeToString(a[:]))
	type state struct {
		clients, files []byte
		disk           string // "before", "half", "after"
		removed        bool   // the state Open must give
	}
	var cases []state
	for cut := len(c0); cut < status; cut++ {
		cases = append(cases, state{c1[:cut], f0, "before", false})
	}
	for cut := len(f0); cut <= len(f1); cut++ {
		cases = append(cases, state{c1[:status], f1[:cut], "before", true})
	}
	cases = append(cases, state{c1[:status], f1, "half", true})
	for cut := status; cut <= len(c1); cut++ {
		cases = append(cases, state{c1[:cut], f1, "after", true})
	}
	dir := t.TempDir()
	for _, tc := range cases {
		os.RemoveAll(dir)
		mustOK(t, os.CopyFS(dir, os.DirFS(before)))
		mustOK(t, os.WriteFile(filepath.Join(dir, ClientsTable), tc.clients, 0o600))
		mustOK(t, os.WriteFile(filepath.Join(dir, FilesTable), tc.files, 0o600))
		switch tc.disk {
		case "half":
			mustOK(t, os.Remove(filepath.Join(dir, clientDir, "cfg.tar")))
		case "after":
			mustOK(t, os.RemoveAll(filepath.Join(dir, clientDir)))
		}
		name := fmt.Sprintf("clients %d/%d, files %d/%d, disk %s", len(tc.clients), len(c1), len(tc.files), len(f1), tc.disk)
		s := openT(t, dir, nil)
		c, ok := s.Client(a)
		_, dirErr := os.Stat(filepath.Join(dir, clientDir))
		switch {
		case tc.removed && (ok || !os.IsNotExist(dirErr) || len(s.Files(a)) != 0):
			t.Fatalf("%s: client %v, folder %v, files %v; want it removed", name, ok, dirErr, s.Files(a))
		case !tc.removed && (!ok || c.Disabled || len(s.Files(a)) != 2):
			t.Fatalf("%s: client %+v, files %v; want it as before", name, c, s.Files(a))
		case len(s.Files(b)) != 1:
			t.Fatalf("%s: the other client lost files", name)
		}
		s.Close()
		if rep, err := Check(dir, false); err != nil || !rep.OK() {
			t.Fatalf("%s: fsck: %v %s", name, err, rep.String())
		}
	}
}

// goldenStatusTable is the client table of testdata/v2/clients.log: two
// clients, one disabled and enabled again, one disabled, one removed.
func goldenStatusTable() []byte {
	ed, _ := goldenKeys()
	n := toNanos(goldenT)
	gone := [16]byte{0x0f}
	t := appendHeader(nil, kindClients)
	t = appendClient(t, &clientRec{id: goldenA, name: "pi-kitchen", kind: KeyEd25519, key: ed, reg: n, seen: n})
	t = appendClient(t, &clientRec{id: goldenB, name: "lost-router", kind: KeyEd25519, key: ed, reg: n, seen: n})
	t = appendClient(t, &clientRec{id: gone, name: "old", kind: KeyNone, reg: n, seen: n})
	t = appendStatus(t, &goldenA, clientStatus{state: statusDisabled, at: n + 1})
	t = appendStatus(t, &goldenA, clientStatus{state: statusEnabled, at: n + 2})
	t = appendStatus(t, &goldenB, clientStatus{state: statusDisabled, at: n + 3})
	t = appendStatus(t, &gone, clientStatus{state: statusRemoving, at: n + 4})
	return appendRemoved(t, &gone)
}

// TestGoldenClientStatus checks the encoder against the checked-in bytes
// and what they mean.
func TestGoldenClientStatus(t *testing.T) {
	want := goldenStatusTable()
	path := filepath.Join("testdata", "v2", ClientsTable)
	if *update {
		mustOK(t, os.WriteFile(path, want, 0o644))
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoder output differs from the checked-in table\ngot  %x\nwant %x", want, got)
	}
	// The last two records: the removal begun (status 2) and done.
	const tail = "fe52090019000000bd5b7bad" + "0f000000000000000000000000000000" + "0a32961cf2ca8618" + "02" +
		"fe520a0010000000aea196b6" + "0f000000000000000000000000000000"
	if got := hex.EncodeToString(got[len(got)-len(tail)/2:]); got != tail {
		t.Errorf("status and removed records:\n%s\nwant\n%s", got, tail)
	}
	dir := t.TempDir()
	mustOK(t, os.WriteFile(filepath.Join(dir, ClientsTable), got, 0o600))
	var logs []string
	s := openT(t, dir, &logs)
	defer s.Close()
	if len(logs) != 0 {
		t.Errorf("findings: %q", logs)
	}
	all := s.Clients()
	if len(all) != 2 || all[0].Disabled || !all[1].Disabled || !all[1].DisabledAt.Equal(goldenT.Add(3)) {
		t.Fatalf("clients: %+v", all)
	}
	if _, ok := s.Client([16]byte{0x0f}); ok {
		t.Fatal("the removed client is there")
	}
}

// FuzzStatusRecord: the status decoder never panics and round-trips.
func FuzzStatusRecord(f *testing.F) {
	f.Add(appendStatus(nil, &goldenA, clientStatus{state: statusDisabled, at: 7})[RecordHeaderSize:])
	f.Add(make([]byte, statusSize))
	f.Fuzz(func(t *testing.T, p []byte) {
		id, st, err := decodeStatus(p)
		if err != nil {
			return
		}
		if again := appendStatus(nil, &id, st)[RecordHeaderSize:]; !bytes.Equal(again, p) {
			t.Fatalf("%x re-encodes as %x", p, again)
		}
		x := newClientIndex(0)
		if err := x.applyStatus(recClientStatus, p); err == nil {
			t.Fatal("status of a client not in the table applied")
		}
	})
}
