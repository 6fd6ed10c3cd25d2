package fsstore

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)

func key32(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func openT(t testing.TB, dir string, logs *[]string) *Store {
	t.Helper()
	var mu sync.Mutex
	s, err := Open(dir, Options{Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if logs != nil {
			*logs = append(*logs, fmt.Sprintf(format, args...))
		}
	}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestCRC32CCheckValue(t *testing.T) {
	if got := crc32.Checksum([]byte("123456789"), castagnoli); got != 0xE3069283 {
		t.Fatalf("CRC-32C check value = %#x, want 0xE3069283", got)
	}
}

func TestRegisterAndReopen(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	a, err := s.Register("alice", KeyEd25519, key32(1), t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register("alice", KeyEd25519, key32(2), t0); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second alice: err = %v, want ErrNameTaken", err)
	}
	b, err := s.Register("bob", KeyNone, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	rsa := bytes.Repeat([]byte{7}, 160)
	if err := s.SetKey(b.ID, KeyRSA, rsa); err != nil {
		t.Fatal(err)
	}
	if err := s.SetKey([16]byte{1}, KeyRSA, rsa); !errors.Is(err, ErrNoClient) {
		t.Fatalf("SetKey unknown: err = %v", err)
	}
	if err := s.Touch(a.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, nil)
	defer s.Close()
	got, ok := s.ClientByName("alice")
	if !ok || got.ID != a.ID || !bytes.Equal(got.PublicKey, key32(1)) || !got.LastSeen.Equal(t0.Add(time.Hour)) || !got.Registered.Equal(t0) {
		t.Fatalf("alice after reopen = %+v", got)
	}
	got, ok = s.Client(b.ID)
	if !ok || got.Name != "bob" || got.KeyKind != KeyRSA || !bytes.Equal(got.PublicKey, rsa) {
		t.Fatalf("bob after reopen = %+v", got)
	}
}

func TestRegisterRefusesBadInput(t *testing.T) {
	s := openT(t, t.TempDir(), nil)
	defer s.Close()
	for _, tc := range []struct {
		name string
		kind KeyKind
		key  []byte
		want error
	}{
		{"", KeyEd25519, key32(1), ErrBadClientName},
		{string(make([]byte, 256)), KeyEd25519, key32(1), ErrBadClientName},
		{"ctl\n", KeyEd25519, key32(1), ErrBadClientName},
		{"short-key", KeyEd25519, key32(1)[:31], ErrBadKey},
		{"none-with-key", KeyNone, key32(1), ErrBadKey},
		{"bad-kind", 9, key32(1), ErrBadKey},
		{"huge-rsa", KeyRSA, make([]byte, MaxKeySize+1), ErrBadKey},
	} {
		if _, err := s.Register(tc.name, tc.kind, tc.key, t0); !errors.Is(err, tc.want) {
			t.Errorf("Register(%.20q): err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func upload(t testing.TB, s *Store, id [16]byte, name string, data []byte) File {
	t.Helper()
	u, err := s.NewUpload(id, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(data); err != nil {
		t.Fatal(err)
	}
	f, err := u.Commit(false, t0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUploadCommit(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	u, err := s.NewUpload(c.ID, "report.txt")
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("garbage"))
	if err := u.Reset(); err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("1234"))
	u.Write([]byte("56789"))
	if u.Size() != 9 || u.Sum() != 930766865 {
		t.Fatalf("size %d sum %d, want 9 930766865", u.Size(), u.Sum())
	}
	f, err := u.Commit(true, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Abort(); err != nil {
		t.Fatalf("Abort after Commit: %v", err)
	}
	want := File{ClientID: c.ID, Name: "report.txt", Path: fmt.Sprintf("files/%x/report.txt", c.ID), Verified: true, Size: 9, Cksum: 930766865, Time: t0, Classic: true}
	if f != want {
		t.Fatalf("Commit = %+v\nwant %+v", f, want)
	}
	upload(t, s, c.ID, "report.txt", []byte("second version"))
	upload(t, s, c.ID, "other", nil)
	a, _ := s.NewUpload(c.ID, "aborted")
	a.Write([]byte("x"))
	a.Abort()
	if _, err := s.NewUpload([16]byte{9}, "x"); !errors.Is(err, ErrNoClient) {
		t.Fatalf("NewUpload unknown client: %v", err)
	}
	if _, err := s.NewUpload(c.ID, "../x"); !errors.Is(err, ErrBadName) {
		t.Fatalf("NewUpload ../x: %v", err)
	}
	s.Close()

	s = openT(t, dir, nil)
	defer s.Close()
	fs := s.Files(c.ID)
	if len(fs) != 2 {
		t.Fatalf("Files = %+v", fs)
	}
	f, ok := s.File(c.ID, "report.txt")
	data, _ := os.ReadFile(filepath.Join(dir, f.Path))
	if !ok || !f.Verified || f.Size != 14 || string(data) != "second version" || f.Classic {
		t.Fatalf("after reopen %+v %q", f, data)
	}
	if _, ok := s.File(c.ID, "aborted"); ok {
		t.Fatal("aborted upload listed")
	}
	rep, err := Check(dir, false)
	if err != nil || !rep.OK() {
		t.Fatalf("Check: %v\n%s", err, rep.String())
	}
}

func TestHotPathAllocs(t *testing.T) {
	s := openT(t, t.TempDir(), nil)
	defer s.Close()
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	u, _ := s.NewUpload(c.ID, "f")
	defer u.Abort()
	buf := make([]byte, 4096)
	if n := testing.AllocsPerRun(100, func() { u.Write(buf) }); n != 0 {
		t.Fatalf("Upload.Write allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { s.Touch(c.ID, t0) }); n != 0 {
		t.Fatalf("Touch allocates %v times", n)
	}
}

// TestGroupCommit runs many writers at once under the race detector and
// checks that they share fsyncs and that everything is there after reopen.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	const writers, each = 64, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- writer(s, w, each)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	syncs := s.clog.syncs + s.flog.syncs
	commits := int64(writers * each * 2)
	t.Logf("%d durable commits shared %d fsyncs", commits, syncs)
	if syncs >= commits {
		t.Errorf("no group commit: %d fsyncs for %d commits", syncs, commits)
	}
	s.Close()
	s = openT(t, dir, nil)
	defer s.Close()
	for w := range writers {
		for i := range each {
			c, ok := s.ClientByName(fmt.Sprintf("w%d-%d", w, i))
			if !ok {
				t.Fatalf("client w%d-%d lost", w, i)
			}
			if f, ok := s.File(c.ID, "f"); !ok || !f.Verified || f.Size != int64(i) {
				t.Fatalf("file of w%d-%d: %+v", w, i, f)
			}
		}
	}
}

func writer(s *Store, w, n int) error {
	for i := range n {
		c, err := s.Register(fmt.Sprintf("w%d-%d", w, i), KeyEd25519, key32(byte(w)), t0)
		if err != nil {
			return err
		}
		s.Touch(c.ID, t0.Add(time.Duration(i)))
		u, err := s.NewUpload(c.ID, "f")
		if err != nil {
			return err
		}
		u.Write(make([]byte, i))
		if _, err := u.Commit(false, t0); err != nil {
			return err
		}
		s.Files(c.ID)
	}
	return nil
}

func TestSecondOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if _, err := Check(dir, true); err != nil {
		t.Fatalf("Check on a clean directory needs no lock: %v", err)
	}
	s.Close()
	s = openT(t, dir, nil)
	s.Close()
}

// TestUseAfterClose: a closed Store answers "not found" or ErrClosed, and
// an upload in flight cannot commit; nothing reads the unmapped tables.
func TestUseAfterClose(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	upload(t, s, c.ID, "f", []byte("x"))
	u, _ := s.NewUpload(c.ID, "f")
	u.Write([]byte("y"))
	s.Close()
	if _, ok := s.Client(c.ID); ok {
		t.Error("Client after Close")
	}
	if _, ok := s.ClientByName("c"); ok {
		t.Error("ClientByName after Close")
	}
	if _, ok := s.File(c.ID, "f"); ok || len(s.Files(c.ID)) != 0 {
		t.Error("File(s) after Close")
	}
	if _, err := u.Commit(false, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: %v", err)
	}
	u.Abort()
	if data, _ := os.ReadFile(filepath.Join(dir, FilesDir, fmt.Sprintf("%x", c.ID), "f")); string(data) != "x" {
		t.Errorf("a refused commit replaced the stored file with %q", data)
	}
	if _, err := s.Register("d", KeyNone, nil, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("Register after Close: %v", err)
	}
	if err := s.Touch(c.ID, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("Touch after Close: %v", err)
	}
	if _, err := s.NewUpload(c.ID, "g"); !errors.Is(err, ErrClosed) {
		t.Errorf("NewUpload after Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// TestCloseDuringCommits closes the Store while uploads commit: every
// commit that returned nil survives, and no listed file has other bytes.
func TestCloseDuringCommits(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := map[string]string{}
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				name, data := fmt.Sprintf("f%d", g), fmt.Sprintf("g%d-v%d", g, i)
				u, err := s.NewUpload(c.ID, name)
				if err != nil {
					return
				}
				u.Write([]byte(data))
				_, err = u.Commit(false, t0)
				u.Abort()
				if err != nil {
					return
				}
				mu.Lock()
				done[name] = data
				mu.Unlock()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	s.Close()
	wg.Wait()
	if rep, _ := Check(dir, false); len(rep.Problems) > 0 {
		for _, p := range rep.Problems {
			if p.Kind != ProblemLeftover && p.Kind != ProblemOrphan {
				t.Errorf("after Close: %v", p)
			}
		}
	}
	s = openT(t, dir, nil)
	defer s.Close()
	for name, data := range done {
		f, ok := s.File(c.ID, name)
		got, _ := os.ReadFile(filepath.Join(dir, f.Path))
		if !ok || !f.Verified || string(got) != data {
			t.Errorf("%s: committed %q, listed %v %+v with %q", name, data, ok, f, got)
		}
	}
}

// TestFailedSyncIsSticky: once a write or fsync of a table fails, nothing
// more is acknowledged, since what reached the disk is no longer known.
func TestFailedSyncIsSticky(t *testing.T) {
	s := openT(t, t.TempDir(), nil)
	defer s.Close()
	s.clog.f.Close() // every later write fails
	if _, err := s.Register("a", KeyNone, nil, t0); err == nil {
		t.Fatal("Register acknowledged after a failed write")
	}
	f, err := os.OpenFile(s.clog.path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.clog.mu.Lock()
	s.clog.f = f // the disk works again
	s.clog.mu.Unlock()
	if _, err := s.Register("b", KeyNone, nil, t0); err == nil {
		t.Fatal("Register acknowledged after an earlier failed write")
	}
}

// TestStaleTempRemoved: a restart removes the temporary files of uploads an
// earlier process left behind.
func TestStaleTempRemoved(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	u, _ := s.NewUpload(c.ID, "f")
	u.Write([]byte("interrupted"))
	stale := u.tmp
	s.Close() // as if the process died: the upload is neither committed nor aborted
	s = openT(t, dir, nil)
	defer s.Close()
	u2, err := s.NewUpload(c.ID, "g")
	if err != nil {
		t.Fatal(err)
	}
	defer u2.Abort()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(u2.tmp); err != nil {
		t.Fatalf("new upload's file: %v", err)
	}
}
