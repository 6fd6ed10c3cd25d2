//go:build !linux || ferry_nofolders

package fsstore

// Elsewhere than on Linux (folders_linux.go) a commit resolves its paths
// from the client's root folder through an os.Root, every time.

import (
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
)

// clientTree is empty: nothing stays open between commits.
type clientTree struct{}

// lstatTarget says what is at p in the client's tree without following
// a symlink: isDir, or ErrNotFound if nothing, or ErrNotDir if a parent is
// not a folder.
func (s *Store) lstatTarget(cf *clientFiles, id [16]byte, p string) (isDir bool, err error) {
	r, err := s.clientRoot(id)
	if err != nil {
		return false, err
	}
	defer r.Close()
	fi, err := lstatPath(r, p)
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}

// makeParents creates the missing folders of p (0700), each made durable
// in its parent. A component that is not a folder gives ErrNotDir.
func (s *Store) makeParents(cf *clientFiles, id [16]byte, p string) error {
	r, err := s.clientRoot(id)
	if err != nil {
		return err
	}
	defer r.Close()
	return mkdirAll(r, parentOf(p))
}

// renameIn renames the upload's temporary file onto p and fsyncs p's
// folder. renamed says whether the rename was done (the error is then the
// fsync's).
func (s *Store) renameIn(u *Upload, p string) (renamed bool, err error) {
	r, err := s.clientRoot(u.client)
	if err != nil {
		return false, err
	}
	defer r.Close()
	// The rename crosses from DIR/tmp into the client's folder, so it is
	// confined to the data directory by s.root; the commit has just
	// checked that no parent is a symlink.
	final := FilesDir + "/" + hex.EncodeToString(u.client[:]) + "/" + p
	if err := s.root.Rename(u.rel, final); err != nil {
		return false, err
	}
	return true, syncIn(r, parentOf(p))
}

func (cf *clientFiles) forget()    {}
func (cf *clientFiles) closeTree() {}

// createTemp creates a new temporary file in dir.
func createTemp(dir string) (*os.File, error) {
	return os.CreateTemp(dir, tempPrefix+"*")
}

// openRead opens the file or folder at p for reading, without following a
// symlink, and returns what it opened.
func (s *Store) openRead(id [16]byte, p string) (*os.File, fs.FileInfo, error) {
	r, err := s.clientRoot(id)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	fi, err := lstatPath(r, p)
	if err != nil {
		return nil, nil, err
	}
	if fi.IsDir() {
		return nil, nil, fmt.Errorf("%w: %s", ErrIsDir, p)
	}
	if !fi.Mode().IsRegular() { // a symlink planted on the server: not a file of the client
		return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	f, err := r.Open(p)
	if err != nil {
		return nil, nil, pathErr(err, p)
	}
	// What was opened must be what Lstat saw: not a symlink swapped in.
	if got, err := f.Stat(); err != nil || !os.SameFile(fi, got) {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %s (changed while opening)", ErrNotFound, p)
	}
	return f, fi, nil
}
