package fsstore

// The read side: what a client sees of its tree. Folders come from the
// disk; a file appears only if a record lists it (so a temporary file, an
// orphan or a symlink never does), with the size, cksum, mode and mtime of
// its record.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// Entry is a file or folder of a client's tree.
type Entry struct {
	Path     string      // relative to the client's root, slash-separated; "" for the root
	Dir      bool        // a folder
	Size     int64       // bytes of a file, 0 for a folder
	Mode     os.FileMode // permission bits only: from the record (0644 when the record has none); folders 0755
	MTime    time.Time   // from the record, else from the disk
	Cksum    uint32      // POSIX cksum of a file
	Verified bool        // the client confirmed the file's cksum
}

// Modes shown for what has none recorded.
const (
	defaultFileMode = 0o644
	dirMode         = 0o755
)

// Stat returns the entry at path: a listed file or a folder. Path "" is
// the client's root folder, which exists (empty) before its first upload.
func (s *Store) Stat(id [16]byte, path string) (Entry, error) {
	r, err := s.readRoot(id, path)
	if r == nil {
		if errors.Is(err, ErrNotFound) && path == "" {
			return Entry{Dir: true, Mode: dirMode}, nil
		}
		return Entry{}, err
	}
	defer r.Close()
	fi, err := lstatPath(r, path)
	if err != nil {
		return Entry{}, err
	}
	return s.entry(id, path, fi)
}

// readRoot checks path and the client, and opens the client's root folder.
func (s *Store) readRoot(id [16]byte, path string) (*os.Root, error) {
	if err := s.readCheck(id, path); err != nil {
		return nil, err
	}
	return s.clientRoot(id)
}

// readCheck checks path and that the client is known and the store open.
func (s *Store) readCheck(id [16]byte, path string) error {
	if path != "" {
		if err := ValidatePath(path); err != nil {
			return err
		}
	}
	s.mu.RLock()
	known := s.findClient(id) >= 0
	closed := s.closed
	s.mu.RUnlock()
	switch {
	case closed:
		return ErrClosed
	case !known:
		return fmt.Errorf("%w: %x", ErrNoClient, id)
	}
	return nil
}

// entry makes the Entry of what is at p, whose Lstat is fi: ErrNotFound for
// a file no record lists and for anything neither a file nor a folder.
func (s *Store) entry(id [16]byte, p string, fi fs.FileInfo) (Entry, error) {
	if fi.IsDir() {
		return Entry{Path: p, Dir: true, Mode: dirMode, MTime: fi.ModTime()}, nil
	}
	r, ok := s.listed(id, p)
	if !ok || !fi.Mode().IsRegular() {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	e := Entry{Path: p, Size: r.size, Mode: os.FileMode(r.mode), MTime: fromNanos(r.mtime), Cksum: r.cksum, Verified: r.flags&flagVerified != 0}
	if r.mode == 0 {
		e.Mode = defaultFileMode
	}
	if e.MTime.IsZero() {
		e.MTime = fi.ModTime()
	}
	return e, nil
}

// listed returns the record of a listed file. While a commit is pending it
// is the version being replaced; a new path is not listed until its commit
// is complete.
func (s *Store) listed(id [16]byte, p string) (fileRec, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := s.getFile(id, p)
	if i < 0 {
		return fileRec{}, false
	}
	r := s.files.rec(i)
	if r.flags&flagPending != 0 {
		prev := s.files.pending[i]
		if prev.flags&flagNew != 0 {
			return fileRec{}, false
		}
		r.fileVer = prev
	}
	return r, true
}

// List returns the entries of the folder at path sorted by path, component
// by component; with recursive, the whole subtree, each folder right before
// its content. A file path gives that one entry. Path "" is the client's
// root folder, empty before the client's first upload. Temporary files,
// unlisted files, symlinks and names that are not valid (ValidateName)
// never appear.
func (s *Store) List(id [16]byte, path string, recursive bool) ([]Entry, error) {
	r, err := s.readRoot(id, path)
	if r == nil {
		if errors.Is(err, ErrNotFound) && path == "" {
			return nil, nil
		}
		return nil, err
	}
	defer r.Close()
	fi, err := lstatPath(r, path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		e, err := s.entry(id, path, fi)
		if err != nil {
			return nil, err
		}
		return []Entry{e}, nil
	}
	return s.listDir(r, id, path, recursive, nil)
}

// listDir appends the entries of folder dir of r to out.
func (s *Store) listDir(r *os.Root, id [16]byte, dir string, recursive bool, out []Entry) ([]Entry, error) {
	name := dir
	if name == "" {
		name = "."
	}
	des, err := fs.ReadDir(r.FS(), name)
	if err != nil {
		return out, pathErr(err, dir)
	}
	slices.SortFunc(des, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, de := range des {
		p := de.Name()
		if dir != "" {
			p = dir + "/" + p
		}
		if nameProblem([]byte(de.Name())) != "" || len(p) > MaxPathSize || !(de.IsDir() || de.Type().IsRegular()) {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue // removed meanwhile
		}
		e, err := s.entry(id, p, fi)
		if err != nil {
			continue
		}
		out = append(out, e)
		if e.Dir && recursive {
			if out, err = s.listDir(r, id, p, recursive, out); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// OpenFile opens a listed file for reading and returns it with its entry:
// ErrIsDir for a folder, ErrNotFound for a path no record lists. The caller
// closes the file.
func (s *Store) OpenFile(id [16]byte, path string) (*os.File, Entry, error) {
	if path == "" {
		return nil, Entry{}, fmt.Errorf("%w: the root folder", ErrIsDir)
	}
	if err := s.readCheck(id, path); err != nil {
		return nil, Entry{}, err
	}
	f, fi, err := s.openRead(id, path)
	if err != nil {
		return nil, Entry{}, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, Entry{}, fmt.Errorf("%w: %s", ErrIsDir, path)
	}
	e, err := s.entry(id, path, fi)
	if err != nil {
		f.Close()
		return nil, Entry{}, err
	}
	return f, e, nil
}

// Usage returns how many files a client has listed and their total size.
func (s *Store) Usage(id [16]byte) (files int, bytes int64) {
	for _, f := range s.Files(id) {
		files++
		bytes += f.Size
	}
	return files, bytes
}
