package fsstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultyFile is a table file on a disk that fills up: writes store what
// fits in room and then fail with ENOSPC, as write(2) does on a full disk
// (a short write, then the error); room < 0 is unlimited. A sync fails
// with syncErr once, if set.
type faultyFile struct {
	*os.File
	mu      sync.Mutex
	room    int64
	syncErr error
	fails   int // failed calls
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.room < 0 || int64(len(p)) <= f.room {
		if f.room >= 0 {
			f.room -= int64(len(p))
		}
		return f.File.WriteAt(p, off)
	}
	n, _ := f.File.WriteAt(p[:f.room], off)
	f.room = 0
	f.fails++
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func (f *faultyFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.syncErr; err != nil {
		f.syncErr = nil
		f.fails++
		return &os.PathError{Op: "sync", Path: f.Name(), Err: err}
	}
	return f.File.Sync()
}

func (f *faultyFile) setRoom(n int64) {
	f.mu.Lock()
	f.room = n
	f.mu.Unlock()
}

// fillDisk puts a faultyFile with room bytes free under the files table.
func fillDisk(s *Store, room int64) *faultyFile { return faulty(s.flog, room) }

func faulty(l *log, room int64) *faultyFile {
	l.mu.Lock()
	defer l.mu.Unlock()
	ff := &faultyFile{File: l.f.(*os.File), room: room}
	l.f = ff
	return ff
}

func tryUpload(s *Store, id [16]byte, name string) error {
	u, err := s.NewUpload(id, name)
	if err != nil {
		return err
	}
	u.Write([]byte("content of " + name))
	if _, err := u.Commit(false, t0); err != nil {
		u.Abort()
		return err
	}
	return nil
}

// checkClean reopens dir and fails the test if fsck or Open find anything:
// no torn tail, no orphan file, every name in want listed and verified.
// checkClean checks that fsck finds nothing, that reopening finds nothing
// to repair, and that the names want are listed and verified; a name
// starting with "-" must not be listed (a commit that failed: with the
// intent written first, nothing of it was renamed into place).
func checkClean(t *testing.T, dir string, id [16]byte, want ...string) {
	t.Helper()
	rep, err := Check(dir, false)
	if err != nil || !rep.OK() {
		t.Fatalf("fsck: %v\n%s", err, rep.String())
	}
	var logs []string
	s := openT(t, dir, &logs)
	defer s.Close()
	if len(logs) > 0 {
		t.Errorf("reopen found: %q", logs)
	}
	for _, name := range want {
		if gone, ok := strings.CutPrefix(name, "-"); ok {
			if f, listed := s.File(id, gone); listed {
				t.Errorf("%s: a failed commit is listed: %+v", gone, f)
			}
			continue
		}
		if f, ok := s.File(id, name); !ok || !f.Verified {
			t.Errorf("%s: listed %v, %+v", name, ok, f)
		}
	}
}

// TestAppendAfterDiskFull: a full disk fails the commits that need space,
// with ErrDiskFull and the table's name; once space is back the log takes
// appends again, without a restart; the failed commits left nothing (their
// intent failed before anything was renamed): no orphan, no record.
func TestAppendAfterDiskFull(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	upload(t, s, c.ID, "before", []byte("x"))
	ff := fillDisk(s, 0)
	for _, name := range []string{"full-1", "full-2"} {
		err := tryUpload(s, c.ID, name)
		if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("%s on a full disk: %v, want ErrDiskFull wrapping ENOSPC", name, err)
		}
		t.Log(err)
		if msg := err.Error(); !strings.Contains(msg, FilesTable) || strings.Contains(msg, dir) {
			t.Errorf("error should name %s and no absolute path: %s", FilesTable, msg)
		}
	}
	ff.setRoom(-1) // space is back
	for _, name := range []string{"after-1", "after-2", "after-3"} {
		if err := tryUpload(s, c.ID, name); err != nil {
			t.Fatalf("%s once space is back: %v", name, err)
		}
	}
	if _, err := s.Register("d", KeyEd25519, key32(2), t0); err != nil {
		t.Fatalf("register once space is back: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkClean(t, dir, c.ID, "before", "-full-1", "-full-2", "after-1", "after-2", "after-3")
}

// TestFailedAppendCutBack: the part of a record that a short write left at
// the end of the table is cut off at once, so that the next record does not
// follow a torn one.
func TestFailedAppendCutBack(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	before, _ := os.Stat(s.flog.path)
	ff := fillDisk(s, 20) // part of a record fits
	if err := tryUpload(s, c.ID, "torn"); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("commit on a full disk: %v", err)
	}
	if after, _ := os.Stat(s.flog.path); after.Size() != before.Size() {
		t.Errorf("table is %d bytes after the failed append, want it cut back to %d", after.Size(), before.Size())
	}
	ff.setRoom(-1)
	if err := tryUpload(s, c.ID, "next"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	checkClean(t, dir, c.ID, "-torn", "next")
}

// TestFailedSyncWritesAgain: after a failed fsync, what it covered is not
// known to be on disk: the log writes it again and the next fsync makes it
// durable. Records written without fsync (Touch) before it are included.
func TestFailedSyncWritesAgain(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	ff := fillDisk(s, -1)
	ff.syncErr = syscall.EIO
	err := tryUpload(s, c.ID, "a")
	t.Log(err)
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), FilesTable) {
		t.Fatalf("commit with a failing fsync: %v", err)
	}
	if err := tryUpload(s, c.ID, "b"); err != nil {
		t.Fatalf("commit after a failed fsync: %v", err)
	}
	cf := faulty(s.clog, -1)
	durable, _ := os.Stat(s.clog.path)
	seen := t0.Add(time.Hour)
	s.Touch(c.ID, seen) // written, not fsynced
	cf.syncErr = syscall.EIO
	if _, err := s.Register("d", KeyEd25519, key32(2), t0); err == nil {
		t.Fatal("Register acknowledged with a failing fsync")
	}
	if fi, _ := os.Stat(s.clog.path); fi.Size() != durable.Size() {
		t.Errorf("after the failed fsync the table is %d bytes, want it cut back to the last fsync, %d", fi.Size(), durable.Size())
	}
	if _, err := s.Register("e", KeyEd25519, key32(3), t0); err != nil {
		t.Fatalf("Register after a failed fsync: %v", err)
	}
	s.Close()
	checkClean(t, dir, c.ID, "-a", "b")
	s = openT(t, dir, nil)
	defer s.Close()
	got, _ := s.Client(c.ID)
	_, okD := s.ClientByName("d")
	_, okE := s.ClientByName("e")
	if !got.LastSeen.Equal(seen) || !okD || !okE {
		t.Errorf("after reopen: LastSeen %v (want %v), d listed %v, e listed %v", got.LastSeen, seen, okD, okE)
	}
}

// TestDiskFullConcurrent: commits from many goroutines while the disk
// fills and empties; every acknowledged commit survives a reopen and fsck
// finds nothing.
func TestDiskFullConcurrent(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	ff := fillDisk(s, -1)
	const writers, each = 8, 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []string
	failed := 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if w == 0 {
					ff.setRoom(int64(i%3-1) * 100) // unlimited, full, 100 bytes
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				err := tryUpload(s, c.ID, name)
				mu.Lock()
				if err == nil {
					acked = append(acked, name)
				} else if errors.Is(err, ErrDiskFull) {
					failed++
				} else {
					t.Errorf("%s: %v", name, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ff.setRoom(-1)
	if err := tryUpload(s, c.ID, "last"); err != nil {
		t.Fatalf("commit once space is back: %v", err)
	}
	t.Logf("%d commits acknowledged, %d refused for a full disk", len(acked), failed)
	s.Close()
	checkClean(t, dir, c.ID, append(acked, "last")...)
}

// TestErrorNamesTableAfterCompaction: after a compaction the log's file is
// the table under its own name, not the compaction's temporary name.
func TestErrorNamesTableAfterCompaction(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	defer s.Close()
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if name := s.flog.f.(*os.File).Name(); name != s.flog.path {
		t.Errorf("after compaction the log's file is %s, want %s", name, s.flog.path)
	}
	fillDisk(s, 0)
	err := tryUpload(s, c.ID, "f")
	if err == nil || strings.Contains(err.Error(), compactSuffix) || !strings.Contains(err.Error(), FilesTable) {
		t.Fatalf("error after compaction: %v, want it to name %s", err, FilesTable)
	}
}
