package fsstore

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"ferry/frame"
)

// resolvePending settles commits that a crash interrupted between their
// pending record and their final record: the bytes on disk are the new
// version (the rename happened), the previous one (it did not), or neither
// (damage). Sizes decide when they differ; otherwise the cksum is computed.
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
	size, sum, summed, err := fileCksum(path, cur.size, prev.size)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "file missing, record removed", nil
	}
	if err != nil {
		return nil, "", err
	}
	rec := cur
	switch {
	case size == cur.size && (!summed || sum == cur.cksum):
		rec.flags = cur.flags&^flagPending | flagVerified
		return &rec, "new version in place, now verified", nil
	case size == prev.size && (!summed || sum == prev.cksum):
		rec.fileVer = prev
		return &rec, "previous version kept", nil
	}
	rec.fileVer = fileVer{size: size, time: cur.time, cksum: sum, flags: cur.flags & flagClassic}
	return &rec, "neither version on disk, recorded as unverified", nil
}

// fileCksum returns the size of the file at path and, unless its size alone
// tells the two candidate sizes apart, its cksum.
func fileCksum(path string, sizeA, sizeB int64) (size int64, sum uint32, summed bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, false, err
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
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.scratch = appendDelete(s.scratch[:0], &client, name)
	s.files.add(s.scratch)
	end := s.flog.add(s.scratch)
	s.mu.Unlock()
	return s.flog.wait(end, true)
}
