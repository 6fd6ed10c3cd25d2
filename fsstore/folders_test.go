package fsstore

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Commits keep the folders they store into open (folders_linux.go): a
// folder renamed or removed afterwards must not take later uploads with it.
func TestCachedFoldersFollowRenameAndRemove(t *testing.T) {
	s := openT(t, t.TempDir(), nil)
	defer s.Close()
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	cdir := s.clientDir(c.ID)
	upload(t, s, c.ID, "a/b/f1", []byte("1"))
	if err := s.Rename(c.ID, "a", "c", false); err != nil {
		t.Fatal(err)
	}
	upload(t, s, c.ID, "a/b/f2", []byte("2"))
	if _, err := os.Stat(filepath.Join(cdir, "a/b/f2")); err != nil {
		t.Fatalf("a/b/f2 after renaming a to c: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(cdir, "c/b/f2")); err == nil {
		t.Fatal("a/b/f2 went into the renamed folder c/b")
	}
	if _, err := s.Remove(c.ID, "a", true); err != nil {
		t.Fatal(err)
	}
	upload(t, s, c.ID, "a/b/f3", []byte("3"))
	if _, err := os.Stat(filepath.Join(cdir, "a/b/f3")); err != nil {
		t.Fatalf("a/b/f3 after removing a: %v", err)
	}
	if n := len(s.Files(c.ID)); n != 2 { // c/b/f1 and a/b/f3
		t.Fatalf("files: %v", s.Files(c.ID))
	}
}

// A folder removed behind the store's back is made again; one replaced by
// a symlink is not followed.
func TestCachedFolderReplacedOnDisk(t *testing.T) {
	s := openT(t, t.TempDir(), nil)
	defer s.Close()
	outside := t.TempDir()
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	cdir := s.clientDir(c.ID)
	upload(t, s, c.ID, "a/b/f1", []byte("1"))
	if err := os.RemoveAll(filepath.Join(cdir, "a/b")); err != nil {
		t.Fatal(err)
	}
	upload(t, s, c.ID, "a/b/f2", []byte("2"))
	if _, err := os.Stat(filepath.Join(cdir, "a/b/f2")); err != nil {
		t.Fatalf("a/b/f2 after a/b was removed on disk: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(cdir, "a/b")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(cdir, "a/b")); err != nil {
		t.Fatal(err)
	}
	u, err := s.NewUpload(c.ID, "a/b/f3")
	if err == nil {
		u.Write([]byte("3"))
		_, err = u.Commit(false, t0)
		u.Abort()
	}
	if !errors.Is(err, ErrNotDir) {
		t.Fatalf("upload into a folder replaced by a symlink: %v, want ErrNotDir", err)
	}
	if des, _ := os.ReadDir(outside); len(des) != 0 {
		t.Fatalf("the upload went through the symlink: %v", des)
	}
}

// Reads go through the same open folders: after a rename, a path reads
// what is at it now.
func TestCachedFoldersRead(t *testing.T) {
	s := openT(t, t.TempDir(), nil)
	defer s.Close()
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	read := func(p string) string {
		t.Helper()
		f, _, err := s.OpenFile(c.ID, p)
		if err != nil {
			t.Fatalf("OpenFile(%s): %v", p, err)
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		return string(b)
	}
	upload(t, s, c.ID, "a/b/f", []byte("1"))
	if got := read("a/b/f"); got != "1" {
		t.Fatalf("a/b/f = %q", got)
	}
	if err := s.Rename(c.ID, "a", "c", false); err != nil {
		t.Fatal(err)
	}
	upload(t, s, c.ID, "a/b/f", []byte("2"))
	if got, old := read("a/b/f"), read("c/b/f"); got != "2" || old != "1" {
		t.Fatalf("a/b/f = %q, c/b/f = %q after renaming a to c", got, old)
	}
	if _, _, err := s.OpenFile(c.ID, "a/b"); !errors.Is(err, ErrIsDir) {
		t.Fatalf("OpenFile of a folder: %v", err)
	}
}
