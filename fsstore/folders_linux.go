//go:build linux && !ferry_nofolders

package fsstore

// On Linux a commit resolves its paths through the client's folders.Tree:
// the folder of a file stays open from one commit to the next, so storing
// a file deep in the tree costs one *at system call per step instead of an
// openat and a close per component (docs/BENCHMARKS.md, "Many small
// files"). Every operation that renames or removes folders (manage) calls
// forget afterwards, and removing the client closes its tree.

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"ferry/folders"

	"golang.org/x/sys/unix"
)

// clientTree is a client's open folders.Tree.
type clientTree struct {
	_  [0]func()     // not comparable: no equality function linked
	mu sync.Mutex    // guards t; taken inside clientFiles.mu, never around it
	t  *folders.Tree // nil until first used, and once closed
}

// tree returns the client's open tree, opening it on first use. Called
// with cf.folders.mu held.
func (s *Store) tree(cf *clientFiles, id [16]byte) (*folders.Tree, error) {
	if cf.folders.t != nil {
		return cf.folders.t, nil
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	dir := s.clientDir(id)
	if err := checkClientDir(dir); err != nil {
		return nil, err
	}
	t, err := folders.Open(dir)
	if err != nil {
		return nil, pathErr(err, "")
	}
	cf.folders.t = t
	return t, nil
}

// atParent runs op on the open handle of p's folder and p's last
// component, under the tree's lock.
func (s *Store) atParent(cf *clientFiles, id [16]byte, p string, op func(dir int, name string) error) error {
	cf.folders.mu.Lock()
	defer cf.folders.mu.Unlock()
	t, err := s.tree(cf, id)
	if err != nil {
		return err
	}
	fd, err := t.Dir(parentOf(p), false, 0)
	if err != nil {
		return err
	}
	return op(fd, path.Base(p))
}

// lstatTarget says what is at p in the client's tree without following
// a symlink: isDir, or ErrNotFound if nothing, or ErrNotDir if a parent is
// not a folder.
func (s *Store) lstatTarget(cf *clientFiles, id [16]byte, p string) (isDir bool, err error) {
	var st unix.Stat_t
	err = s.atParent(cf, id, p, func(dir int, name string) error {
		return unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return false, pathErr(err, p)
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

// openRead opens the file or folder at p for reading, without following a
// symlink (ErrNotFound) and without blocking on a FIFO, and returns what it
// opened.
func (s *Store) openRead(id [16]byte, p string) (*os.File, fs.FileInfo, error) {
	cf, err := s.clientState(id)
	if err != nil {
		return nil, nil, err
	}
	fd := -1
	err = s.atParent(cf, id, p, func(dir int, name string) (err error) {
		fd, err = syscall.Openat(dir, name, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		return err
	})
	if err == syscall.ELOOP {
		err = syscall.ENOENT
	}
	if err != nil {
		return nil, nil, pathErr(err, p)
	}
	f := os.NewFile(uintptr(fd), p)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, pathErr(err, p)
	}
	return f, fi, nil
}

// makeParents creates the missing folders of p (0700), each made durable
// in its parent. A component that is not a folder gives ErrNotDir.
func (s *Store) makeParents(cf *clientFiles, id [16]byte, p string) error {
	cf.folders.mu.Lock()
	t, err := s.tree(cf, id)
	if err == nil {
		_, err = t.Dir(parentOf(p), true, 0o700)
	}
	cf.folders.mu.Unlock()
	if err != nil {
		return pathErr(err, p)
	}
	return nil
}

// renameIn renames the upload's temporary file onto p and fsyncs p's
// folder. renamed says whether the rename was done (the error is then the
// fsync's). A folder removed behind the store's back (its handle finds
// nothing) is opened, or made, again once.
func (s *Store) renameIn(u *Upload, p string) (renamed bool, err error) {
	cf := u.cf
	cf.folders.mu.Lock()
	defer cf.folders.mu.Unlock()
	t, err := s.tree(cf, u.client)
	if err != nil {
		return false, err
	}
	for again := false; ; again = true {
		fd, err := t.Dir(parentOf(p), true, 0o700)
		if err == nil {
			err = syscall.Renameat(unix.AT_FDCWD, u.tmp, fd, path.Base(p))
			if err == nil {
				return true, syscall.Fsync(fd)
			}
		}
		if again || !errors.Is(err, syscall.ENOENT) {
			return false, pathErr(err, p)
		}
		t.Forget()
	}
}

// forget drops the client's folder handles but the root's; called after
// renaming or removing folders, with the client's commit lock held.
func (cf *clientFiles) forget() {
	cf.folders.mu.Lock()
	if cf.folders.t != nil {
		cf.folders.t.Forget()
	}
	cf.folders.mu.Unlock()
}

// closeTree closes the client's tree: before its folder is removed, and
// when the store closes.
func (cf *clientFiles) closeTree() {
	cf.folders.mu.Lock()
	if cf.folders.t != nil {
		cf.folders.t.Close()
		cf.folders.t = nil
	}
	cf.folders.mu.Unlock()
}

// tempSeq numbers the temporary files of uploads; O_EXCL skips a name
// taken by a file left behind.
var tempSeq atomic.Uint64

// createTemp creates a new temporary file in dir, with open(2) and
// os.NewFile: os.CreateTemp's OpenFile registers the file with the poller
// (three fcntl calls and an epoll_ctl that fails for a regular file) and
// takes it out again (two fcntl).
func createTemp(dir string) (*os.File, error) {
	for {
		name := dir + "/" + tempPrefix + strconv.FormatUint(tempSeq.Add(1), 36)
		fd, err := syscall.Open(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
		switch err {
		case nil:
			return os.NewFile(uintptr(fd), name), nil
		case syscall.EEXIST, syscall.EINTR:
			continue
		}
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
}
