package fsstore

// Paths from the wire are worked on inside the client's root folder
// DATA/files/<id> through an os.Root, so that no "..", absolute path or
// symlink leaves it; on top of that, every component of a path is checked
// with Lstat before use, so that a symlink inside (planted on the server)
// is never followed: as a parent it gives ErrNotDir, as the last component
// it is not a file nor a folder (ErrNotFound).

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// clientRoot opens the client's root folder. A client without one yet
// gives an error wrapping ErrNotFound.
func (s *Store) clientRoot(id [16]byte) (*os.Root, error) {
	dir := s.clientDir(id)
	if err := checkClientDir(dir); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, pathErr(err, "")
	}
	return r, nil
}

// checkClientDir checks that the client's root folder dir is a folder, not
// a symlink (ErrNotFound otherwise).
func checkClientDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err == nil && !fi.IsDir() {
		return fmt.Errorf("%w: the client's folder is a %s", ErrNotFound, fi.Mode().Type())
	}
	if err != nil {
		return pathErr(err, "")
	}
	return nil
}

// pathErr maps a file system error about p to the package's errors.
func pathErr(err error, p string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s", ErrNotFound, p)
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w: a parent of %s", ErrNotDir, p)
	}
	return fmt.Errorf("fsstore: %s: %w", p, err)
}

// lstatPath returns what is at p in r without following any symlink:
// every parent must be a folder (ErrNotDir otherwise); nothing at p gives
// ErrNotFound. p "" is the root itself.
func lstatPath(r *os.Root, p string) (fs.FileInfo, error) {
	if p == "" {
		return r.Lstat(".")
	}
	for i := 0; ; {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			fi, err := r.Lstat(p)
			if err != nil {
				return nil, pathErr(err, p)
			}
			return fi, nil
		}
		fi, err := r.Lstat(p[:i+j])
		if err != nil {
			return nil, pathErr(err, p)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%w: %s (in %s)", ErrNotDir, p[:i+j], p)
		}
		i += j + 1
	}
}

// mkdirAll creates the missing folders of dir in r (0700), each made
// durable in its parent. A component that is not a folder gives ErrNotDir.
func mkdirAll(r *os.Root, dir string) error {
	if dir == "." || dir == "" {
		return nil
	}
	for i := 0; ; {
		j := strings.IndexByte(dir[i:], '/')
		end := len(dir)
		if j >= 0 {
			end = i + j
		}
		if err := mkdirOne(r, dir[:end]); err != nil {
			return err
		}
		if j < 0 {
			return nil
		}
		i = end + 1
	}
}

// mkdirOne creates folder p in r unless it exists, with its parents
// already in place.
func mkdirOne(r *os.Root, p string) error {
	fi, err := r.Lstat(p)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("%w: %s", ErrNotDir, p)
	case !errors.Is(err, fs.ErrNotExist):
		return pathErr(err, p)
	}
	if err := r.Mkdir(p, 0o700); err != nil {
		return pathErr(err, p)
	}
	return syncIn(r, path.Dir(p))
}

// syncIn fsyncs folder dir of r ("." for the root), making the creations,
// renames and removals in it durable.
func syncIn(r *os.Root, dir string) error {
	d, err := r.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// parentOf is the folder holding p in its root: "." for a top-level name.
func parentOf(p string) string { return path.Dir(p) }
