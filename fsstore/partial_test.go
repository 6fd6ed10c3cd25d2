package fsstore

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPartialResume: an upload kept after its session ended is taken up
// by the next upload of the same source, across a restart, with the hash
// of what it holds; another source starts from zero; a commit leaves
// nothing in DIR/partial.
func TestPartialResume(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	data := bytes.Repeat([]byte("0123456789"), 10000)
	mtime := time.Unix(1700000000, 5)
	u, err := s.NewResumable(c.ID, "big/file.bin", int64(len(data)), mtime)
	if err != nil {
		t.Fatal(err)
	}
	if have, _ := u.Resumed(); have != 0 {
		t.Fatalf("fresh upload resumed at %d", have)
	}
	u.Write(data[:40000])
	if err := u.Keep(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if rep, err := Check(dir, false); err != nil || !rep.OK() || rep.Partials != 1 || rep.PartialBytes != 40000 {
		t.Fatalf("fsck with a partial upload: %v %s", err, rep.String())
	}
	s = openT(t, dir, nil)
	defer s.Close()
	if ps := s.Partials(); len(ps) != 1 || ps[0].Have != 40000 || ps[0].Path != "big/file.bin" || ps[0].Client != c.ID {
		t.Fatalf("partials after a restart: %+v", ps)
	}
	if u, err = s.NewResumable(c.ID, "big/file.bin", int64(len(data)), mtime.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if have, _ := u.Resumed(); have != 0 {
		t.Fatalf("a changed source (other mtime) resumed at %d", have)
	}
	u.Write(data[:30000])
	u.Keep()
	u, err = s.NewResumable(c.ID, "big/file.bin", int64(len(data)), mtime.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	have, sum := u.Resumed()
	if have != 30000 || sum != sha256.Sum256(data[:30000]) || u.Size() != 30000 {
		t.Fatalf("resumed at %d (size %d), hash ok %v", have, u.Size(), sum == sha256.Sum256(data[:30000]))
	}
	u.Write(data[30000:])
	if _, err := u.Commit(false, t0); err != nil {
		t.Fatal(err)
	}
	f, ok := s.File(c.ID, "big/file.bin")
	if !ok || f.Size != int64(len(data)) || !f.Verified {
		t.Fatalf("committed: %+v %v", f, ok)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, PartialDir)); len(ents) != 0 {
		t.Fatalf("left in %s after the commit: %v", PartialDir, ents)
	}
	rep, err := Check(dir, false)
	if err != nil || !rep.OK() {
		t.Fatalf("fsck: %v %s", err, rep.String())
	}
}

// TestExpirePartials: by age, by total size (oldest first), and halves of
// partial uploads left by a crash.
func TestExpirePartials(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	defer s.Close()
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	for i, name := range []string{"a", "b", "c"} {
		u, err := s.NewResumable(c.ID, name, 1000, t0)
		if err != nil {
			t.Fatal(err)
		}
		u.Write(make([]byte, 100))
		u.Keep()
		old := time.Now().Add(time.Duration(i-3) * time.Hour)
		os.Chtimes(filepath.Join(dir, PartialDir, partialKey(c.ID, name)+".part"), old, old)
	}
	os.WriteFile(filepath.Join(dir, PartialDir, "stray.part"), []byte("x"), 0o600)
	os.Chtimes(filepath.Join(dir, PartialDir, "stray.part"), t0, t0)
	if n := s.ExpirePartials(150*time.Minute, 0, time.Now()); n != 1 || len(s.Partials()) != 2 {
		t.Fatalf("by age: %d dropped, %d left", n, len(s.Partials()))
	}
	if _, err := os.Stat(filepath.Join(dir, PartialDir, "stray.part")); err == nil {
		t.Fatal("a .part without its .info was kept")
	}
	if n := s.ExpirePartials(24*time.Hour, 150, time.Now()); n != 1 {
		t.Fatalf("by size: %d dropped", n)
	}
	if ps := s.Partials(); len(ps) != 1 || ps[0].Path != "c" {
		t.Fatalf("the newest should stay: %+v", ps)
	}
}
