package fsstore

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// log appends records to one table file. Appenders add records to a
// buffer; whoever then needs them written becomes the leader, writes the
// whole buffer and, if asked, fsyncs it, while later appenders fill the other
// buffer. Every appender waiting for durability while an fsync is running is
// served by the next one: that is the group commit.
//
// Positions are logical byte counts since the log was opened (lsn), not file
// offsets, so that compaction can rewrite the file under waiting appenders.
type log struct {
	path string
	kind byte

	mu      sync.Mutex
	cond    sync.Cond
	f       tableFile
	buf     []byte // records not yet handed to a leader
	spare   []byte // the other buffer, reused
	lsn     int64  // bytes ever added
	written int64  // lsn written to the file
	synced  int64  // lsn made durable
	off     int64  // file offset of the end of what is written: where the next write goes
	busy    bool   // a leader is writing
	err     error  // sticky: after a failed write or fsync nothing more is acknowledged
	size    int64  // file size once everything added is written
	syncs   int64  // fsyncs done, for tests
}

// tableFile is what the log needs of its file; tests put failing files
// behind it.
type tableFile interface {
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Close() error
}

var _ tableFile = (*os.File)(nil)

func newLog(path string, kind byte, f *os.File, size int64) *log {
	l := &log{path: path, kind: kind, f: f, size: size, off: size}
	l.cond.L = &l.mu
	return l
}

// add appends one or more encoded records and returns the position that
// wait needs to reach for them to be written.
func (l *log) add(recs []byte) int64 {
	l.mu.Lock()
	l.buf = append(l.buf, recs...)
	l.lsn += int64(len(recs))
	l.size += int64(len(recs))
	end := l.lsn
	l.mu.Unlock()
	return end
}

// wait returns once everything up to end is written and, if durable is set,
// fsynced.
func (l *log) wait(end int64, durable bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.synced >= end || (!durable && l.written >= end) {
			return nil
		}
		if l.err != nil {
			return l.err
		}
		if l.busy {
			l.cond.Wait()
			continue
		}
		l.lead(durable)
	}
}

// kick writes what is buffered if no leader is at work, without waiting for
// one. Records added without durability are written this way.
func (l *log) kick() {
	l.mu.Lock()
	if !l.busy && l.err == nil && len(l.buf) > 0 {
		l.lead(false)
	}
	l.mu.Unlock()
}

// lead writes the buffer, and fsyncs if durable. Called with l.mu held; it
// releases the lock during I/O.
func (l *log) lead(durable bool) {
	l.busy = true
	buf, start, off := l.buf, l.written, l.off
	l.buf = l.spare[:0]
	f := l.f
	l.mu.Unlock()
	_, err := f.WriteAt(buf, off)
	if err == nil && durable {
		err = f.Sync()
	}
	l.mu.Lock()
	l.spare = buf[:0]
	l.busy = false
	l.written = start + int64(len(buf))
	l.off = off + int64(len(buf))
	if err != nil && l.err == nil {
		l.err = fmt.Errorf("fsstore: append to %s: %w", filepath.Base(l.path), err)
	}
	if err == nil && durable {
		l.synced = l.written
		l.syncs++
	}
	l.cond.Broadcast()
}

// rewrite replaces the table with a header and the records emit writes: into
// a temporary file, fsync, rename over the table, fsync the directory. The
// caller must stop emit's source from changing (the Store holds its lock).
// Whatever was buffered is superseded by the new file, which holds the
// current state. Killed at any point, the table is either the old or the new
// file, both complete.
func (l *log) rewrite(emit func(w io.Writer) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.busy {
		l.cond.Wait()
	}
	if l.err != nil {
		return l.err
	}
	f, size, err := writeTable(l.path, l.kind, emit)
	if err != nil {
		return fmt.Errorf("fsstore: compact %s: %w", filepath.Base(l.path), err)
	}
	l.f.Close()
	l.f, l.size, l.off = f, size, size
	l.buf = l.buf[:0]
	l.written, l.synced = l.lsn, l.lsn
	l.cond.Broadcast()
	return nil
}

// writeTable creates path atomically with a header and what emit writes, and
// returns it open for appending at its end.
func writeTable(path string, kind byte, emit func(w io.Writer) error) (*os.File, int64, error) {
	tmp := path + compactSuffix
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, 0, err
	}
	size, err := fillTable(f, kind, emit)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, 0, err
	}
	return f, size, nil
}

// compactSuffix names a table being rewritten; a leftover one is removed on
// Open (the rename had not happened, so the old table is complete).
const compactSuffix = ".compact"

func fillTable(f *os.File, kind byte, emit func(w io.Writer) error) (int64, error) {
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.Write(appendHeader(nil, kind))
	if emit != nil {
		if err := emit(bw); err != nil {
			return 0, err
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return f.Seek(0, io.SeekEnd)
}

// close writes what is buffered, fsyncs and closes the file.
func (l *log) close() error {
	err := l.wait(l.lsnNow(), true)
	l.mu.Lock()
	defer l.mu.Unlock()
	if cerr := l.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("fsstore: close %s: %w", filepath.Base(l.path), cerr)
	}
	if l.err == nil {
		l.err = ErrClosed
	}
	return err
}

func (l *log) lsnNow() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lsn
}

// fileSize is the table's size once everything added is written.
func (l *log) fileSize() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size
}

// syncDir fsyncs a directory, making renames and creations in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
