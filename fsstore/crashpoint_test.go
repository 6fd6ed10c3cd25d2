package fsstore

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// treeDir builds the data directory the crash-point cases start from.
func treeDir(t *testing.T) (dir string, id [16]byte) {
	dir = t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	uploadMeta(t, s, c.ID, "d/one", []byte("1"), 0o700, old)
	uploadMeta(t, s, c.ID, "d/sub/two", []byte("22"), 0o640, old)
	uploadMeta(t, s, c.ID, "top", []byte("333"), 0o644, old)
	uploadMeta(t, s, c.ID, "other", []byte("4444"), 0, old)
	s.Mkdir(c.ID, "d/sub/empty", false)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, c.ID
}

// crashOps are the operations whose every crash point TestCrashPoints
// tries. change is the number of records made durable before the
// operation changes the disk.
var crashOps = []struct {
	name   string
	change int
	op     func(t *testing.T, s *Store, id [16]byte)
}{
	{"commit new nested", 1, func(t *testing.T, s *Store, id [16]byte) {
		uploadMeta(t, s, id, "n/m/new", []byte("new!"), 0o755, t0)
	}},
	{"commit replacing", 1, func(t *testing.T, s *Store, id [16]byte) {
		uploadMeta(t, s, id, "d/one", []byte("replaced"), 0o600, t0)
	}},
	{"rename file", 1, func(t *testing.T, s *Store, id [16]byte) {
		mustOK(t, s.Rename(id, "top", "x/y/top", false))
	}},
	{"rename file over file", 1, func(t *testing.T, s *Store, id [16]byte) {
		mustOK(t, s.Rename(id, "top", "other", false))
	}},
	{"rename folder", 1, func(t *testing.T, s *Store, id [16]byte) {
		mustOK(t, s.Rename(id, "d", "e/f", false))
	}},
	{"remove file", 2, func(t *testing.T, s *Store, id [16]byte) {
		_, err := s.Remove(id, "top", false)
		mustOK(t, err)
	}},
	{"remove folder", 3, func(t *testing.T, s *Store, id [16]byte) {
		_, err := s.Remove(id, "d", true)
		mustOK(t, err)
	}},
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashPoints runs each operation, then rebuilds every state a kill
// could have left: the file table cut at every byte offset of the records
// the operation appended, with the disk as it was before the operation
// (while no record after the one that precedes the disk change is there)
// or after it (once that record is there). Open must give the state before
// or the state after, with records matching the disk (fsck clean, no
// orphan), and the state after once every record is there.
func TestCrashPoints(t *testing.T) {
	for _, tc := range crashOps {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // fsync-bound
			before, id := treeDir(t)
			after := copyDir(t, before)
			s := openT(t, after, nil)
			tc.op(t, s, id)
			s.Close()
			t0, t1 := readTable(t, before), readTable(t, after)
			if !bytes.HasPrefix(t1, t0) {
				t.Fatal("the operation rewrote the table")
			}
			wantBefore, wantAfter := treeState(t, before, id), treeState(t, after, id)
			change := changePoint(t, t1, len(t0), tc.change)
			dir := t.TempDir()
			for cut := len(t0); cut <= len(t1); cut++ {
				for _, disk := range []string{before, after} {
					if disk == before && cut > change || disk == after && cut < change {
						continue
					}
					rebuild(t, dir, disk, t1[:cut])
					got := treeState(t, dir, id)
					if got != wantAfter && (got != wantBefore || cut == len(t1)) {
						t.Fatalf("cut %d of %d (change at %d), disk %s: state\n%s\nwant before\n%s\nor after\n%s",
							cut, len(t1), change, map[bool]string{true: "before", false: "after"}[disk == before], got, wantBefore, wantAfter)
					}
					if rep, err := Check(dir, false); err != nil || !rep.OK() {
						t.Fatalf("cut %d, disk %v: fsck after Open: %v\n%s", cut, disk == before, err, rep.String())
					}
				}
			}
		})
	}
}

func readTable(t *testing.T, dir string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, FilesTable))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// changePoint returns the end of the n-th record appended after offset
// from.
func changePoint(t *testing.T, table []byte, from int, n int) int {
	off := from
	for range n {
		_, _, size, ok := DecodeRecord(table[off:])
		if !ok {
			t.Fatalf("table damaged at %d", off)
		}
		off += size
	}
	return off
}

// rebuild makes dir a copy of the data directory disk with the file table
// replaced by table.
func rebuild(t *testing.T, dir, disk string, table []byte) {
	os.RemoveAll(dir)
	if err := os.CopyFS(dir, os.DirFS(disk)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FilesTable), table, 0o600); err != nil {
		t.Fatal(err)
	}
}

// treeState opens dir and lists the client's tree: paths, sizes, cksums,
// modes and the bytes of each file.
func treeState(t *testing.T, dir string, id [16]byte) string {
	t.Helper()
	s := openT(t, dir, nil)
	defer s.Close()
	es, err := s.List(id, "", true)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range es {
		if e.Dir {
			lines = append(lines, e.Path+"/")
			continue
		}
		f, _, err := s.OpenFile(id, e.Path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(f)
		f.Close()
		lines = append(lines, entryLine(e)+" "+b.String())
	}
	return strings.Join(lines, "\n")
}
