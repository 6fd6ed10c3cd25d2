package fsstore

import (
	"bufio"
	"errors"
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
//
// A failed write or fsync acknowledges nothing it covered, and is repaired at
// once: the file is cut back to the end of what is known to be there (the
// last good write after a failed write; the last good fsync after a failed
// fsync, since the kernel may have dropped the pages it did not write), and
// the bytes cut off go back to the front of the buffer for the next leader.
// So a full disk fails the commits that need space while it is full, and no
// commit once space is freed, without a restart; and every record the index
// holds reaches the file, in order. Only a cut that fails is sticky: a
// restart then repairs the table.
type log struct {
	path string
	name string // base name of path, for messages: no absolute path, no temporary name
	kind byte

	mu       sync.Mutex
	cond     sync.Cond
	f        tableFile
	buf      []byte // records not yet handed to a leader
	spare    []byte // the other buffer, reused
	unsynced []byte // records written since the last fsync (lsn synced to written), written again if the next fsync fails
	lsn      int64  // bytes ever added
	written  int64  // lsn written to the file
	synced   int64  // lsn made durable
	off      int64  // file offset of the end of what is written: where the next write goes
	busy     bool   // a leader is writing
	failures int64  // failed writes and fsyncs so far
	failEnd  int64  // lsn up to which the last failed attempt wrote
	failErr  error  // what the last failed attempt returned
	err      error  // sticky: the log is closed, or a failed tail could not be cut off
	size     int64  // file size once everything added is written
	syncs    int64  // fsyncs done, for tests
}

// maxUnsynced bounds unsynced: a leader that would leave more than this
// written without an fsync fsyncs anyway.
const maxUnsynced = 64 << 10

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
	l := &log{path: path, name: filepath.Base(path), kind: kind, f: f, size: size, off: size}
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
// fsynced, or with the error of the first failed attempt that covered end
// after wait began: each caller tries at most once, so a full disk fails
// commits instead of spinning on them.
func (l *log) wait(end int64, durable bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := l.failures
	for {
		if l.synced >= end || (!durable && l.written >= end) {
			return nil
		}
		if l.err != nil {
			return l.err
		}
		if l.failures != seen && end <= l.failEnd {
			return l.failErr
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
	durable = durable || len(l.unsynced)+len(buf) > maxUnsynced
	f := l.f
	l.mu.Unlock()
	fsyncFailed, err := l.write(f, buf, off, durable)
	l.mu.Lock()
	l.busy = false
	if err != nil {
		l.failed(buf, start, off, fsyncFailed, err)
	} else {
		l.wrote(buf, start, off, durable)
	}
	l.cond.Broadcast()
}

// write writes buf at off and, if durable, fsyncs. It runs without l.mu.
func (l *log) write(f tableFile, buf []byte, off int64, durable bool) (fsyncFailed bool, err error) {
	if _, err := f.WriteAt(buf, off); err != nil {
		return false, l.errorf("append to", err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			return true, l.errorf("fsync", err)
		}
	}
	return false, nil
}

// wrote records a good write of buf at off (lsn start). Called with l.mu
// held.
func (l *log) wrote(buf []byte, start, off int64, durable bool) {
	l.written = start + int64(len(buf))
	l.off = off + int64(len(buf))
	if durable {
		l.synced = l.written
		l.unsynced = l.unsynced[:0]
		l.syncs++
	} else {
		l.unsynced = append(l.unsynced, buf...)
	}
	l.spare = buf[:0]
}

// failed repairs the tail after a failed write of buf at off (lsn start), or
// a failed fsync after it: it cuts the file back to what is known to be
// there and puts what was cut off back in front of the buffer, so that the
// next leader writes it again. Called with l.mu held.
func (l *log) failed(buf []byte, start, off int64, fsyncFailed bool, err error) {
	l.failures++
	l.failEnd, l.failErr = start+int64(len(buf)), err
	redo := buf
	if fsyncFailed {
		// Nothing since the last good fsync is known to be on disk.
		redo = append(l.unsynced, buf...)
		start, off = l.synced, off-int64(len(l.unsynced))
		l.unsynced = nil
	}
	if terr := l.f.Truncate(off); terr != nil {
		l.err = fmt.Errorf("%w; cutting the failed append off failed too (%v): restart to repair %s", err, terr, l.name)
		return
	}
	l.spare = l.buf[:0]
	l.buf = append(redo, l.buf...)
	l.written, l.off = start, off
}

// errorf says what failed on the table, by its name: the *os.PathError or
// *os.LinkError of the file, which carries its absolute path, is left out.
// A full disk wraps ErrDiskFull.
func (l *log) errorf(what string, err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		err = pe.Err
	} else if le, ok := errors.AsType[*os.LinkError](err); ok {
		err = le.Err
	}
	if diskFull(err) {
		return fmt.Errorf("%w: %s %s: %w", ErrDiskFull, what, l.name, err)
	}
	return fmt.Errorf("fsstore: %s %s: %w", what, l.name, err)
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
	f, size, err := replaceTable(l.path, l.kind, emit)
	if err != nil {
		return l.errorf("compact", err)
	}
	l.f.Close()
	l.f = f
	if err := syncDir(filepath.Dir(l.path)); err != nil {
		// The new file is the table now, but it may not be after a crash:
		// nothing written to it can be acknowledged.
		l.err = fmt.Errorf("%w: restart to repair %s", l.errorf("compact", err), l.name)
		l.cond.Broadcast()
		return l.err
	}
	l.size, l.off = size, size
	l.buf, l.unsynced = l.buf[:0], l.unsynced[:0]
	l.written, l.synced = l.lsn, l.lsn
	l.cond.Broadcast()
	return nil
}

// writeTable creates path atomically with a header and what emit writes, and
// returns it open read-write under its own name, with its size.
func writeTable(path string, kind byte, emit func(w io.Writer) error) (*os.File, int64, error) {
	f, size, err := replaceTable(path, kind, emit)
	if err != nil {
		return nil, 0, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, size, nil
}

// replaceTable writes a table into a temporary file, fsyncs it and renames
// it over path; the caller fsyncs the directory.
func replaceTable(path string, kind byte, emit func(w io.Writer) error) (*os.File, int64, error) {
	tmp := path + compactSuffix
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, 0, err
	}
	size, err := fillTable(f, kind, emit)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, 0, err
	}
	return reopen(f, path), size, nil
}

// compactSuffix names a table being rewritten; a leftover one is removed on
// Open (the rename had not happened, so the old table is complete).
const compactSuffix = ".compact"

// reopen returns f, just renamed to path, opened again under that name, so
// that whatever reports the file's name names the table. If that fails (no
// descriptor left), f is still the same file.
func reopen(f *os.File, path string) *os.File {
	g, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return f
	}
	f.Close()
	return g
}

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
		err = l.errorf("close", cerr)
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
