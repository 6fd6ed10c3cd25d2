package folders

import (
	"os"
	"strings"
	"syscall"
)

// cacheSize is how many folder handles a Tree keeps open besides its root:
// a tree walked depth first needs one per level, and this many leaves room
// for the few folders a pipeline has in flight.
const cacheSize = 16

// Tree is a folder opened as the root of a tree, with handles on the
// folders under it that were used last. The zero value is not usable; see
// Open.
type Tree struct {
	_    [0]func() // not comparable: no equality function linked
	root int
	tick uint64
	ents [cacheSize]entry
}

// entry is one cached handle; used 0 is a free slot.
type entry struct {
	_    [0]func()
	path string
	fd   int
	used uint64 // the tick of its last use
}

// _AT_FDCWD is AT_FDCWD, which package syscall does not name on every
// architecture.
const _AT_FDCWD = -0x64

// Open opens dir (following a symlink, as os.OpenRoot does) as the root of
// a tree.
func Open(dir string) (*Tree, error) {
	fd, err := openDir(_AT_FDCWD, dir, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return &Tree{root: fd}, nil
}

// Dir returns a handle on folder p of the tree ("" or "." is the root),
// valid until the next call of a method of t. p is slash-separated and
// every component a plain name. With create, a missing folder is made
// with perm and made durable by an fsync of its parent. A component that
// is a symlink or not a folder gives an error wrapping syscall.ENOTDIR, a
// missing one an error wrapping syscall.ENOENT (fs.ErrNotExist).
func (t *Tree) Dir(p string, create bool, perm uint32) (int, error) {
	if p == "" || p == "." {
		return t.root, nil
	}
	if i := t.find(p); i >= 0 {
		t.tick++
		t.ents[i].used = t.tick
		return t.ents[i].fd, nil
	}
	parent, name := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		parent, name = p[:i], p[i+1:]
	}
	if name == "" || name == "." || name == ".." {
		return -1, &os.PathError{Op: "openat", Path: p, Err: syscall.EINVAL}
	}
	pfd, err := t.Dir(parent, create, perm)
	if err != nil {
		return -1, err
	}
	fd, err := openDir(pfd, name, syscall.O_NOFOLLOW)
	if err == syscall.ENOENT && create {
		fd, err = makeDir(pfd, name, perm)
	}
	if err != nil {
		return -1, &os.PathError{Op: "openat", Path: p, Err: err}
	}
	t.put(p, fd)
	return fd, nil
}

// openDir opens folder name in dir; a symlink (with O_NOFOLLOW) gives
// ENOTDIR.
func openDir(dir int, name string, flags int) (int, error) {
	for {
		fd, err := syscall.Openat(dir, name, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC|flags, 0)
		switch err {
		case nil:
			return fd, nil
		case syscall.EINTR:
			continue
		case syscall.ELOOP:
			return -1, syscall.ENOTDIR
		}
		return -1, err
	}
}

// makeDir creates folder name in dir, makes it durable and opens it. One
// made by someone else meanwhile is opened as it is.
func makeDir(dir int, name string, perm uint32) (int, error) {
	err := syscall.Mkdirat(dir, name, perm)
	if err == nil {
		err = syscall.Fsync(dir)
	} else if err == syscall.EEXIST {
		err = nil
	}
	if err != nil {
		return -1, err
	}
	return openDir(dir, name, syscall.O_NOFOLLOW)
}

// find returns the slot of p, or -1.
func (t *Tree) find(p string) int {
	for i := range t.ents {
		if t.ents[i].used != 0 && t.ents[i].path == p {
			return i
		}
	}
	return -1
}

// put caches fd as folder p, closing the handle used longest ago if every
// slot is taken.
func (t *Tree) put(p string, fd int) {
	v := 0
	for i := range t.ents {
		if t.ents[i].used == 0 {
			v = i
			break
		}
		if t.ents[i].used < t.ents[v].used {
			v = i
		}
	}
	if t.ents[v].used != 0 {
		syscall.Close(t.ents[v].fd)
	}
	t.tick++
	t.ents[v] = entry{path: p, fd: fd, used: t.tick}
}

// Forget closes every cached handle but the root's: the next Dir opens
// each folder again from the root. Call it after renaming or removing a
// folder of the tree.
func (t *Tree) Forget() {
	for i := range t.ents {
		if t.ents[i].used != 0 {
			syscall.Close(t.ents[i].fd)
		}
		t.ents[i] = entry{}
	}
}

// Close closes every handle of the tree; t is not to be used afterwards.
func (t *Tree) Close() error {
	t.Forget()
	err := syscall.Close(t.root)
	t.root = -1
	return err
}
