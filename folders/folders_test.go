//go:build linux

package folders

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestDir(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(root, "a/b"), 0o700)
	os.WriteFile(filepath.Join(root, "a/file"), nil, 0o600)
	os.Symlink(outside, filepath.Join(root, "a/link"))
	tr, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for _, tc := range []struct {
		name, p string
		create  bool
		want    error // nil: a folder
	}{
		{"root", "", false, nil},
		{"dot", ".", false, nil},
		{"nested", "a/b", false, nil},
		{"missing", "a/c", false, syscall.ENOENT},
		{"created", "a/c/d", true, nil},
		{"a file", "a/file", true, syscall.ENOTDIR},
		{"through a file", "a/file/x", true, syscall.ENOTDIR},
		{"symlink", "a/link", false, syscall.ENOTDIR},
		{"through a symlink", "a/link/x", true, syscall.ENOTDIR},
		{"dotdot", "a/..", false, syscall.EINVAL},
		{"dotdot first", "../x", true, syscall.EINVAL},
		{"empty component", "a//b", false, syscall.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tr.Dir(tc.p, tc.create, 0o700)
			if !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
				t.Fatalf("Dir(%q) = %v, want %v", tc.p, err, tc.want)
			}
		})
	}
	if des, _ := os.ReadDir(outside); len(des) != 0 {
		t.Fatalf("made something outside: %v", des)
	}
	if _, err := os.Stat(filepath.Join(root, "a/c/d")); err != nil {
		t.Fatal(err)
	}
}

// More folders than the cache holds: each handle is the folder asked for.
func TestDirEviction(t *testing.T) {
	root := t.TempDir()
	tr, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for round := 0; round < 2; round++ {
		for i := 0; i < 3*cacheSize; i++ {
			p := "d" + strconv.Itoa(i%7) + "/e" + strconv.Itoa(i)
			fd, err := tr.Dir(p, true, 0o700)
			if err != nil {
				t.Fatal(err)
			}
			var st, want syscall.Stat_t
			syscall.Fstat(fd, &st)
			syscall.Stat(filepath.Join(root, p), &want)
			if st.Ino != want.Ino {
				t.Fatalf("Dir(%q) is another folder", p)
			}
		}
	}
	tr.Forget()
	if _, err := tr.Dir("d1/e1", false, 0); err != nil {
		t.Fatal(err)
	}
}
