package client

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A download's temporary file, mtime, rename and folders, through the
// destination's open folders (get_linux.go) or the os.Root alone.
func TestLocalDirs(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	dirs := openLocalDirs(dir)
	defer dirs.close()
	r := &getReq{root: root, dirs: dirs}
	mtime := time.Unix(1_000_000_000, 0)
	put := func(local string) error {
		tmp, err := newTemp(r, local, 0o644)
		if err != nil {
			return err
		}
		defer tmp.discard()
		tmp.f.Write([]byte("x"))
		return tmp.commit(local, mtime, false)
	}
	for _, p := range []string{"f", "a/b/f", "a/b/g", "a/c/f"} {
		if err := put(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil || !fi.ModTime().Equal(mtime) || fi.Size() != 1 {
			t.Fatalf("%s: %v %v", p, fi, err)
		}
	}
	// A folder replaced by a symlink after it was used is not followed.
	os.RemoveAll(filepath.Join(dir, "a/b"))
	if err := os.Symlink(outside, filepath.Join(dir, "a/b")); err != nil {
		t.Skip(err)
	}
	for _, p := range []string{"a/b/h", "a/b/i/f"} {
		if err := put(p); err == nil {
			t.Errorf("%s written through a symlink", p)
		}
	}
	if des, _ := os.ReadDir(outside); len(des) != 0 {
		t.Fatalf("written outside: %v", des)
	}
	if des, _ := os.ReadDir(filepath.Join(dir, "a")); len(des) != 2 {
		t.Fatalf("a: %v", des)
	}
}
