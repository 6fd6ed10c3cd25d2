package fsstore

import "io"

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

// rewrite compacts one table from the index. Called with s.mu held, so the
// index and the log do not change under it.
func (s *Store) rewrite(l *log) error {
	emit := s.clients.emit
	if l == s.flog {
		emit = s.files.emit
	}
	return l.rewrite(func(w io.Writer) error { return emit(w) })
}

func (s *Store) liveOf(l *log) int64 {
	if l == s.flog {
		return s.files.live
	}
	return s.clients.live
}
