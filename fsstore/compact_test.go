package fsstore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ferry/frame"
)

func fileSize(t testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestTouchDoesNotGrowLog: LastSeen updates trigger compaction, so the
// client table stays near its live size.
func TestTouchDoesNotGrowLog(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{CompactMinBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	var ids [][16]byte
	for i := range 10 {
		c, _ := s.Register(fmt.Sprintf("c%d", i), KeyEd25519, key32(byte(i)), t0)
		ids = append(ids, c.ID)
	}
	var maxSize int64
	for i := range 20000 {
		if err := s.Touch(ids[i%10], t0.Add(time.Duration(i))); err != nil {
			t.Fatal(err)
		}
		maxSize = max(maxSize, s.clog.fileSize())
	}
	live := s.clients.live
	s.Close()
	// 20000 updates of 36 bytes would be 720 kB without compaction.
	if maxSize > 2*4096+2*live {
		t.Fatalf("client table reached %d bytes for %d live bytes", maxSize, live)
	}
	s = openT(t, dir, nil)
	defer s.Close()
	for j, id := range ids {
		c, _ := s.Client(id)
		if want := t0.Add(time.Duration(19990 + j)); !c.LastSeen.Equal(want) {
			t.Fatalf("client %d LastSeen %v, want %v", j, c.LastSeen, want)
		}
	}
}

// TestReplacedFilesCompacted: replacing one file many times keeps the file
// table bounded and the latest version listed.
func TestReplacedFilesCompacted(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, Options{CompactMinBytes: 1024, CompactRatio: 0.5})
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	for i := range 200 {
		upload(t, s, c.ID, "log.txt", []byte(fmt.Sprint("version ", i)))
	}
	s.Close()
	if n := fileSize(t, filepath.Join(dir, FilesTable)); n > 1024+200 {
		t.Fatalf("file table is %d bytes after 200 replacements", n)
	}
	s = openT(t, dir, nil)
	defer s.Close()
	f, _ := s.File(c.ID, "log.txt")
	var ck frame.Cksum
	ck.Write([]byte("version 199"))
	if !f.Verified || f.Cksum != ck.Sum32() {
		t.Fatalf("latest = %+v", f)
	}
	if rep, err := Check(dir, false); err != nil || !rep.OK() {
		t.Fatalf("Check: %v\n%s", err, rep.String())
	}
}

// TestLeftoverCompactionRemoved: a compaction killed before its rename
// leaves a temporary table that Open removes, keeping the real one.
func TestLeftoverCompactionRemoved(t *testing.T) {
	dir := sampleDir(t)
	for _, tb := range tables {
		os.WriteFile(filepath.Join(dir, tb.name+compactSuffix), []byte("half a compaction"), 0o600)
	}
	rep, _ := Check(dir, false)
	if len(rep.Problems) != 2 || rep.Problems[0].Kind != ProblemLeftover {
		t.Fatalf("Check:\n%s", rep.String())
	}
	var logs []string
	s := openT(t, dir, &logs)
	defer s.Close()
	if len(s.clients.ents) != 3 || len(s.Files(s.clients.rec(0).id)) != 2 {
		t.Fatalf("tables damaged by a leftover compaction file")
	}
	if len(logs) != 2 {
		t.Fatalf("findings %q", logs)
	}
	for _, tb := range tables {
		if _, err := os.Stat(filepath.Join(dir, tb.name+compactSuffix)); err == nil {
			t.Fatal("leftover not removed")
		}
	}
}

// TestInterruptedCommit writes the pending record of a replacement and
// stops, with the bytes on disk in each possible state, then reopens.
func TestInterruptedCommit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		disk    *string // content at the final name; nil: missing
		want    string  // content listed as verified, "" for none
		listed  bool
		verfied bool
	}{
		{"renamed", ptr("new content"), "new content", true, true},
		{"not renamed", ptr("old"), "old", true, true},
		{"same size renamed", ptr("NEW"), "NEW", true, true},
		{"neither", ptr("something else"), "", true, false},
		{"missing", nil, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir, nil)
			c, _ := s.Register("c", KeyEd25519, key32(1), t0)
			old := upload(t, s, c.ID, "f", []byte("old"))
			newData := "new content"
			if tc.name == "same size renamed" {
				newData = "NEW"
			}
			var ck frame.Cksum
			ck.Write([]byte(newData))
			rec := fileRec{client: c.ID, name: "f", fileVer: fileVer{size: ck.Size(), cksum: ck.Sum32(), flags: flagVerified}}
			if _, _, err := s.markPending(&rec); err != nil {
				t.Fatal(err)
			}
			s.Close()
			path := filepath.Join(dir, old.Path)
			if tc.disk == nil {
				os.Remove(path)
			} else {
				os.WriteFile(path, []byte(*tc.disk), 0o600)
			}
			if rep, _ := Check(dir, false); rep.OK() {
				t.Fatal("Check missed the interrupted commit")
			}
			var logs []string
			s = openT(t, dir, &logs)
			defer s.Close()
			f, ok := s.File(c.ID, "f")
			if ok != tc.listed || f.Verified != tc.verfied || len(logs) != 1 {
				t.Fatalf("listed %v %+v, findings %q", ok, f, logs)
			}
			if tc.want != "" {
				var ck frame.Cksum
				ck.Write([]byte(tc.want))
				if f.Cksum != ck.Sum32() || f.Size != ck.Size() {
					t.Fatalf("listed %+v, want the cksum of %q", f, tc.want)
				}
			}
			if rep, _ := Check(dir, false); !rep.OK() {
				t.Fatalf("not clean after Open:\n%s", rep.String())
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestCheckStoredFiles: Check finds each kind of stored-file problem, and
// repair makes the directory clean without dropping verified data.
func TestCheckStoredFiles(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	upload(t, s, c.ID, "missing", []byte("gone"))
	upload(t, s, c.ID, "changed", []byte("original"))
	keep := upload(t, s, c.ID, "fine", []byte("fine"))
	u, _ := s.NewUpload(c.ID, "unfinished")
	u.Write([]byte("partial"))
	s.Close()
	cdir := filepath.Join(dir, FilesDir, fmt.Sprintf("%x", c.ID))
	os.Remove(filepath.Join(cdir, "missing"))
	os.WriteFile(filepath.Join(cdir, "changed"), []byte("bit rot!"), 0o600)
	os.WriteFile(filepath.Join(cdir, "orphan"), []byte("no record"), 0o600)
	os.MkdirAll(filepath.Join(dir, FilesDir, "not-a-client"), 0o700)

	rep, err := Check(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[ProblemKind]int{}
	for _, p := range rep.Problems {
		kinds[p.Kind]++
	}
	want := map[ProblemKind]int{ProblemMissing: 1, ProblemMismatch: 1, ProblemOrphan: 2, ProblemLeftover: 1}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("found %v, want %v\n%s", kinds, want, rep.String())
	}
	rep, err = Check(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ = Check(dir, false)
	if len(rep.Problems) != 1 || rep.Problems[0].Path != "files/not-a-client" {
		t.Fatalf("after repair:\n%s", rep.String())
	}
	s = openT(t, dir, nil)
	defer s.Close()
	if f, _ := s.File(c.ID, "fine"); f != keep {
		t.Fatalf("verified file changed by repair: %+v", f)
	}
	if f, ok := s.File(c.ID, "changed"); !ok || f.Verified || f.Size != 8 {
		t.Fatalf("mismatching file after repair: %+v", f)
	}
	if f, ok := s.File(c.ID, "orphan"); !ok || f.Verified {
		t.Fatalf("orphan after repair: %+v", f)
	}
	if _, ok := s.File(c.ID, "missing"); ok {
		t.Fatal("missing file still listed")
	}
}
