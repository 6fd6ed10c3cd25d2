package fsstore

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"syscall"

	"ferry/frame"
)

// resolvePending settles commits that a crash interrupted between their
// pending record and their final record: the bytes on disk are the new
// version (the rename happened), the previous one (it did not), or neither
// (damage). Sizes decide when they differ; otherwise the cksum is computed.
// For a path that was not listed before (flagNew), anything but the new
// version leaves it unlisted, as it was.
func (s *Store) resolvePending() error {
	s.mu.RLock()
	var todo []int32
	for i := range s.files.pending {
		todo = append(todo, i)
	}
	s.mu.RUnlock()
	for _, i := range todo {
		s.mu.RLock()
		cur, prev := s.files.rec(i), s.files.pending[i]
		s.mu.RUnlock()
		rec, what, err := s.settle(cur, prev)
		if err != nil {
			return err
		}
		s.logf("%s: %s: interrupted commit: %s", FilesTable, storedPath(cur.client, cur.name), what)
		if rec == nil {
			if err := s.deleteFile(cur.client, cur.name); err != nil {
				return err
			}
			continue
		}
		if _, err := s.putFile(rec, nil); err != nil {
			return err
		}
	}
	return nil
}

// settle decides what record a pending file gets; nil means the file is gone.
func (s *Store) settle(cur fileRec, prev fileVer) (*fileRec, string, error) {
	path := filepath.Join(s.dir, filepath.FromSlash(storedPath(cur.client, cur.name)))
	isNew := cur.flags&flagNew != 0
	other := prev.size
	if isNew {
		other = -1
	}
	size, sum, summed, err := fileCksum(path, cur.size, other)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, errNotRegular) {
		return nil, "file missing, record removed", nil
	}
	if err != nil {
		return nil, "", err
	}
	rec := cur
	switch {
	case size == cur.size && (!summed || sum == cur.cksum):
		rec.flags = cur.flags&^(flagPending|flagNew) | flagVerified
		return &rec, "new version in place, now verified", nil
	case isNew:
		return nil, "new file not in place, record removed", nil
	case size == prev.size && (!summed || sum == prev.cksum):
		rec.fileVer = prev
		return &rec, "previous version kept", nil
	}
	rec.fileVer = fileVer{size: size, time: cur.time, cksum: sum, flags: cur.flags & flagClassic, mode: cur.mode, mtime: cur.mtime}
	return &rec, "neither version on disk, recorded as unverified", nil
}

// errNotRegular: fileCksum found something other than a regular file.
var errNotRegular = errors.New("not a regular file")

// fileCksum returns the size of the regular file at path (never following
// a symlink there) and, unless its size alone tells the two candidate sizes
// apart, its cksum.
func fileCksum(path string, sizeA, sizeB int64) (size int64, sum uint32, summed bool, err error) {
	f, err := openNoFollow(path)
	if err != nil {
		return 0, 0, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, false, err
	}
	if !fi.Mode().IsRegular() {
		return 0, 0, false, errNotRegular
	}
	size = fi.Size()
	if sizeA != sizeB && (size == sizeA || size == sizeB) {
		return size, 0, false, nil
	}
	var ck frame.Cksum
	if _, err := io.Copy(&ck, f); err != nil {
		return 0, 0, false, err
	}
	return ck.Size(), ck.Sum32(), true, nil
}

// deleteFile appends a tombstone for a file and waits until it is durable.
func (s *Store) deleteFile(client [16]byte, name string) error {
	return s.appendFiles(func(add func([]byte)) { add(appendDelete(nil, &client, name)) })
}
