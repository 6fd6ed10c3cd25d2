package fsstore

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/frame"
)

// oldTable writes a file table as the previous release did (types 3 and
// 4, with a pending replacement) and the stored files it describes.
func oldTable(t *testing.T, dir string, id [16]byte) {
	n := toNanos(t0)
	files := appendHeaderVersion(nil, kindFiles, 1)
	files = appendFile1(files, &fileRec{client: id, name: "a.txt", fileVer: fileVer{size: 5, time: n, cksum: ck("alpha"), flags: flagVerified}}, nil)
	files = appendFile1(files, &fileRec{client: id, name: "gone", fileVer: fileVer{size: 1, time: n, cksum: 2}}, nil)
	files = appendDelete1(files, &id, "gone")
	files = appendFile1(files, &fileRec{client: id, name: "b.bin", fileVer: fileVer{size: 3, time: n, cksum: 3, flags: flagVerified | flagClassic}}, nil)
	// a replacement of b.bin killed after its pending record, the rename done
	files = appendFile1(files, &fileRec{client: id, name: "b.bin", fileVer: fileVer{size: 4, time: n + 1, cksum: ck("newb"), flags: flagClassic | flagPending}},
		&fileVer{size: 3, time: n, cksum: 3, flags: flagVerified | flagClassic})
	os.WriteFile(filepath.Join(dir, FilesTable), files, 0o600)
	cdir := filepath.Join(dir, FilesDir, hex.EncodeToString(id[:]))
	os.MkdirAll(cdir, 0o700)
	os.WriteFile(filepath.Join(cdir, "a.txt"), []byte("alpha"), 0o600)
	os.WriteFile(filepath.Join(cdir, "b.bin"), []byte("newb"), 0o600)
	os.WriteFile(filepath.Join(cdir, tempPrefix+"old"), []byte("left by the old release"), 0o600)
}

// ck is the POSIX cksum of s.
func ck(s string) uint32 {
	var c frame.Cksum
	c.Write([]byte(s))
	return c.Sum32()
}

// TestOldTableUpgrade opens a table written with the previous release's
// encoder (and its leftovers), appends records of the new format, compacts
// (which must rewrite every record as type 5) and reopens, checking the
// files at each step.
func TestOldTableUpgrade(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("old", KeyEd25519, key32(1), t0)
	s.Close()
	oldTable(t, dir, c.ID)
	var logs []string
	s = openT(t, dir, &logs)
	if len(logs) != 2 || !strings.Contains(logs[0], "upgraded from format version 1") {
		t.Fatalf("findings %q, want the upgrade and the pending commit resolved", logs)
	}
	if h, _ := os.ReadFile(filepath.Join(dir, FilesTable)); h[8] != 2 {
		t.Fatalf("table version %d after Open, want 2", h[8])
	}
	const want = "a.txt 5 -rw-r--r-- true\nb.bin 4 -rw-r--r-- true\n"
	check := func(when string, extra string) {
		t.Helper()
		var got bytes.Buffer
		for _, f := range []string{"a.txt", "b.bin"} {
			r, ok := s.File(c.ID, f)
			e, err := s.Stat(c.ID, f)
			if !ok || err != nil || r.Mode != 0 || !r.MTime.IsZero() || e.Mode != 0o644 {
				t.Fatalf("%s: %s: %+v %+v %v", when, f, r, e, err)
			}
			fmt.Fprintf(&got, "%s %d %v %v\n", f, e.Size, e.Mode, e.Verified)
		}
		if got.String() != want {
			t.Fatalf("%s:\n%s", when, got.String())
		}
		if b, _ := s.File(c.ID, "b.bin"); !b.Classic || b.Cksum != ck("newb") {
			t.Fatalf("%s: b.bin %+v", when, b)
		}
		if _, ok := s.File(c.ID, "gone"); ok {
			t.Fatalf("%s: removed file listed", when)
		}
		if extra != "" {
			if e, err := s.Stat(c.ID, extra); err != nil || e.Mode != 0o750 {
				t.Fatalf("%s: %s: %+v %v", when, extra, e, err)
			}
		}
	}
	check("opened", "")
	uploadMeta(t, s, c.ID, "new/nested.txt", []byte("nested"), 0o750, t0)
	if err := s.Rename(c.ID, "a.txt", "new/a.txt", false); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(c.ID, "new/a.txt", "a.txt", false); err != nil {
		t.Fatal(err)
	}
	check("appended", "new/nested.txt")
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	check("compacted", "new/nested.txt")
	s.Close()
	table, _ := os.ReadFile(filepath.Join(dir, FilesTable))
	for off := HeaderSize; off < len(table); {
		typ, _, n, ok := DecodeRecord(table[off:])
		if !ok || typ != recFile2 {
			t.Fatalf("compacted table: record at %d of type %d (ok %v), want only type 5", off, typ, ok)
		}
		off += n
	}
	s = openT(t, dir, nil)
	check("reopened", "new/nested.txt")
	s.Close()
	// The old release's temporary file went with the first upload.
	if rep, err := Check(dir, false); err != nil || !rep.OK() {
		t.Fatalf("fsck: %v\n%s", err, rep.String())
	}
}

// TestOldGoldenUpgrade: the checked-in table of the previous release
// (testdata/files.log) opens, takes new records and compacts to type 5
// with the same content.
func TestOldGoldenUpgrade(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata")); err != nil {
		t.Fatal(err)
	}
	s := openT(t, dir, nil)
	checkGoldenContent(t, s)
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	checkGoldenContent(t, s)
	s.Close()
	s = openT(t, dir, nil)
	defer s.Close()
	checkGoldenContent(t, s)
}

// TestOldNamesKeepRecords: a name the previous release accepted and this
// one refuses from the wire (a bidirectional control, a C1 control, a
// lookalike slash) keeps its record: not damaged on Open, kept by
// compaction, fsck clean.
func TestOldNamesKeepRecords(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("old", KeyEd25519, key32(1), t0)
	s.Close()
	names := []string{"invoice\u202efdp.exe", "\u009b31m", "a\u2215b"}
	files := appendHeaderVersion(nil, kindFiles, 1)
	cdir := filepath.Join(dir, FilesDir, hex.EncodeToString(c.ID[:]))
	os.MkdirAll(cdir, 0o700)
	for _, n := range names {
		if ValidateName(n) == nil {
			t.Fatalf("%q accepted from the wire", n)
		}
		files = appendFile1(files, &fileRec{client: c.ID, name: n, fileVer: fileVer{size: 1, cksum: ck("x"), flags: flagVerified}}, nil)
		os.WriteFile(filepath.Join(cdir, n), []byte("x"), 0o600)
	}
	os.WriteFile(filepath.Join(dir, FilesTable), files, 0o600)
	for round := range 2 {
		var logs []string
		s = openT(t, dir, &logs)
		if round == 0 && len(logs) != 1 || round == 1 && len(logs) != 0 {
			t.Fatalf("round %d: findings %q", round, logs)
		}
		for _, n := range names {
			if f, ok := s.File(c.ID, n); !ok || !f.Verified {
				t.Fatalf("round %d: %q lost: %+v", round, n, f)
			}
		}
		s.Compact()
		s.Close()
		if rep, err := Check(dir, false); err != nil || !rep.OK() {
			t.Fatalf("round %d: fsck: %v\n%s", round, err, rep.String())
		}
	}
}
