//go:build !linux || ferry_nofolders

package client

// Elsewhere than on Linux (get_linux.go) a download works on its
// destination through the os.Root alone.

import (
	"os"
	"time"
)

// localDirs is empty: every call goes to the os.Root.
type localDirs struct{}

func openLocalDirs(dir string) *localDirs { return nil }

func (d *localDirs) close() {}

// mkdirAll makes folder local and its parents (0755, before the umask).
func (d *localDirs) mkdirAll(root *os.Root, local string) error {
	return rootMkdirAll(root, local)
}

// create creates the new file name (O_EXCL).
func (d *localDirs) create(root *os.Root, name string, perm os.FileMode) (*os.File, error) {
	return root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}

// chtimes sets name's modification time (and its access time to now).
func (d *localDirs) chtimes(root *os.Root, name string, mtime time.Time) error {
	return root.Chtimes(name, time.Now(), mtime)
}

// rename renames old onto new.
func (d *localDirs) rename(root *os.Root, old, new string) error {
	return root.Rename(old, new)
}

// syncDir fsyncs folder dir, making a rename in it durable; best effort.
func (d *localDirs) syncDir(root *os.Root, dir string) { rootSyncDir(root, dir) }
