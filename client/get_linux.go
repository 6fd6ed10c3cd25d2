//go:build linux && !ferry_nofolders

package client

// On Linux a download keeps its destination's folders open (package
// folders): each file's temporary file, modification time, rename and
// folder fsync are one *at system call on its folder's handle, where
// os.Root walks the path from the destination again for each (18 openat
// and 18 close per file in get -r; docs/BENCHMARKS.md, "Many small
// files"). A folder is opened with O_NOFOLLOW, so unlike os.Root a symlink
// in the destination tree is not followed even when it stays inside it.

import (
	"os"
	"path"
	"syscall"
	"time"

	"ferry/folders"

	"golang.org/x/sys/unix"
)

// localDirs is a destination folder's open folders; a nil *localDirs
// leaves everything to the os.Root.
type localDirs struct{ t *folders.Tree }

// openLocalDirs opens dir's folders, or returns nil (the os.Root, opened
// on the same folder, then reports what is wrong).
func openLocalDirs(dir string) *localDirs {
	t, err := folders.Open(dir)
	if err != nil {
		return nil
	}
	return &localDirs{t}
}

func (d *localDirs) close() {
	if d != nil {
		d.t.Close()
	}
}

// mkdirAll makes folder local and its parents (0755, before the umask).
func (d *localDirs) mkdirAll(root *os.Root, local string) error {
	if d == nil {
		return rootMkdirAll(root, local)
	}
	_, err := d.t.Dir(local, true, 0o755)
	return err
}

// create creates the new file name (O_EXCL) in an existing folder, without
// registering it with the poller (a regular file cannot wait there).
func (d *localDirs) create(root *os.Root, name string, perm os.FileMode) (*os.File, error) {
	if d == nil {
		return root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	}
	dir, err := d.t.Dir(path.Dir(name), false, 0)
	if err != nil {
		return nil, err
	}
	fd, err := syscall.Openat(dir, path.Base(name), syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, uint32(perm))
	if err != nil {
		return nil, &os.PathError{Op: "openat", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// chtimes sets name's modification time (and its access time to now),
// without following a symlink.
func (d *localDirs) chtimes(root *os.Root, name string, mtime time.Time) error {
	if d == nil {
		return root.Chtimes(name, time.Now(), mtime)
	}
	dir, err := d.t.Dir(path.Dir(name), false, 0)
	if err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(time.Now().UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(dir, path.Base(name), ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}

// rename renames old onto new, in the same folder.
func (d *localDirs) rename(root *os.Root, old, new string) error {
	if d == nil || path.Dir(old) != path.Dir(new) {
		return root.Rename(old, new)
	}
	dir, err := d.t.Dir(path.Dir(new), false, 0)
	if err != nil {
		return err
	}
	if err := syscall.Renameat(dir, path.Base(old), dir, path.Base(new)); err != nil {
		return &os.LinkError{Op: "renameat", Old: old, New: new, Err: err}
	}
	return nil
}

// syncDir fsyncs folder dir, making a rename in it durable; best effort.
func (d *localDirs) syncDir(root *os.Root, dir string) {
	if d == nil {
		rootSyncDir(root, dir)
		return
	}
	if fd, err := d.t.Dir(dir, false, 0); err == nil {
		syscall.Fsync(fd)
	}
}
