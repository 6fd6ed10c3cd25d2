package fsstore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Compaction defaults.
const (
	defaultCompactRatio    = 1.0
	defaultCompactMinBytes = 1 << 20
)

// needsCompaction returns l if its superseded bytes have passed the
// configured ratio of its live bytes, else nil. Called with s.mu held.
func (s *Store) needsCompaction(l *log, live int64) *log {
	ratio, minBytes := s.opts.CompactRatio, s.opts.CompactMinBytes
	if ratio <= 0 {
		ratio = defaultCompactRatio
	}
	if minBytes <= 0 {
		minBytes = defaultCompactMinBytes
	}
	size := l.fileSize()
	if size < minBytes || float64(size-live) <= ratio*float64(live) {
		return nil
	}
	return l
}

// maybeCompact compacts l (if not nil) unless another caller already did.
// A failed compaction is reported and leaves the table as it was.
func (s *Store) maybeCompact(l *log) {
	if l == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.needsCompaction(l, s.liveOf(l)) == nil {
		return
	}
	if err := s.rewrite(l); err != nil {
		s.logf("%v", err)
	}
}

// Compact rewrites both tables now, keeping only the latest record of each
// key. Appends wait while it runs.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.rewrite(s.clog); err != nil {
		return err
	}
	return s.rewrite(s.flog)
}

// rewrite compacts one table from the index and points the index at the
// new file. Called with s.mu held, so the index and the log do not change
// under it. If mapping the new file fails, the index keeps the old mapping,
// which stays valid.
func (s *Store) rewrite(l *log) error {
	emit, remap, n := s.clients.emit, s.clients.remap, len(s.clients.ents)
	if l == s.flog {
		emit, remap, n = s.files.emit, s.files.remap, len(s.files.ents)
	}
	offs := make([]int64, n)
	if err := l.rewrite(func(w io.Writer) error { return emit(w, offs) }); err != nil {
		return err
	}
	m, unmap, err := mapPath(l.path)
	if err != nil {
		return fmt.Errorf("fsstore: map compacted %s: %w", filepath.Base(l.path), err)
	}
	remap(offs, m, unmap)
	return nil
}

// mapPath maps a whole file.
func mapPath(path string) ([]byte, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	return mapFile(f, fi.Size())
}

func (s *Store) liveOf(l *log) int64 {
	if l == s.flog {
		return s.files.live
	}
	return s.clients.live
}
