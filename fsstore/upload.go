package fsstore

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ferry/frame"
)

// Upload is a file being received: a temporary file in the client's
// directory, with a running POSIX cksum. Not safe for concurrent use; uploads
// of different clients proceed in parallel.
type Upload struct {
	s      *Store
	cf     *clientFiles
	client [16]byte
	name   string
	dir    string
	tmp    string
	f      *os.File
	ck     frame.Cksum
	closed bool // f is closed
	done   bool // committed or aborted
}

// NewUpload validates name and starts an upload for a registered client.
func (s *Store) NewUpload(id [16]byte, name string) (*Upload, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if s.clients.find(id) < 0 {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %x", ErrNoClient, id)
	}
	cf := s.dirs[id]
	if cf == nil {
		cf = new(clientFiles)
		s.dirs[id] = cf
	}
	s.mu.Unlock()
	dir := filepath.Join(s.dir, FilesDir, hex.EncodeToString(id[:]))
	if err := cf.ensureDir(dir); err != nil {
		return nil, fmt.Errorf("fsstore: create client directory: %w", err)
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("fsstore: start upload of %q: %w", name, err)
	}
	return &Upload{s: s, cf: cf, client: id, name: name, dir: dir, tmp: f.Name(), f: f}, nil
}

// ensureDir creates the client's directory and makes its entry durable,
// once per Store, and removes temporary files that uploads interrupted by a
// crash left there (no upload of this Store has started in it yet, and the
// directory lock keeps other processes out).
func (cf *clientFiles) ensureDir(dir string) error {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if cf.ready {
		return nil
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return err
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	cf.ready = true
	return nil
}

// Write appends p to the upload. It does not allocate.
func (u *Upload) Write(p []byte) (int, error) {
	if u.done || u.closed {
		return 0, ErrUploadDone
	}
	n, err := u.f.Write(p)
	u.ck.Write(p[:n])
	if err != nil {
		return n, fmt.Errorf("fsstore: write upload of %q: %w", u.name, err)
	}
	return n, nil
}

// Size returns the number of bytes written so far.
func (u *Upload) Size() int64 { return u.ck.Size() }

// Sum returns the POSIX cksum of everything written so far.
func (u *Upload) Sum() uint32 { return u.ck.Sum32() }

// Reset empties the upload for a resend.
func (u *Upload) Reset() error {
	if u.done || u.closed {
		return ErrUploadDone
	}
	u.ck.Reset()
	if err := u.f.Truncate(0); err != nil {
		return fmt.Errorf("fsstore: reset upload of %q: %w", u.name, err)
	}
	if _, err := u.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("fsstore: reset upload of %q: %w", u.name, err)
	}
	return nil
}

// Abort removes the temporary file. It is a no-op after Commit.
func (u *Upload) Abort() error {
	if u.done {
		return nil
	}
	u.done = true
	if !u.closed {
		u.f.Close()
		u.closed = true
	}
	if err := os.Remove(u.tmp); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("fsstore: abort upload of %q: %w", u.name, err)
	}
	return nil
}

// Commit stores the upload under its name and records it as verified: it
// fsyncs the file, renames it over the final name, fsyncs the directory and
// appends the record, returning once the record is durable. After Commit
// returns, the file survives any crash. If Commit fails the upload is still
// to be aborted.
func (u *Upload) Commit(classic bool, now time.Time) (File, error) {
	if u.done || u.closed {
		return File{}, ErrUploadDone
	}
	u.closed = true
	err := u.f.Sync()
	if cerr := u.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, fmt.Errorf("fsstore: commit %q: %w", u.name, err)
	}
	rec := fileRec{client: u.client, name: u.name, fileVer: fileVer{
		size: u.ck.Size(), time: toNanos(now), cksum: u.ck.Sum32(), flags: flagVerified,
	}}
	if classic {
		rec.flags |= flagClassic
	}
	u.cf.mu.Lock()
	defer u.cf.mu.Unlock()
	if err := u.s.commit(&rec, u.tmp, filepath.Join(u.dir, u.name)); err != nil {
		return File{}, fmt.Errorf("fsstore: commit %q: %w", u.name, err)
	}
	u.done = true
	return rec.file(), nil
}

// commit renames tmp over final and records rec. Replacing a listed file,
// it first makes a pending record durable that names both versions, so that
// a crash between the rename and the final record leaves a record Open can
// resolve, never a verified record describing bytes that are not there.
// Called with the client's commit lock held.
func (s *Store) commit(rec *fileRec, tmp, final string) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrClosed
	}
	s.commits.Add(1)
	s.mu.Unlock()
	defer s.commits.Done()
	prev, hadPrev, err := s.markPending(rec)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		if hadPrev {
			s.putFile(&prev, nil) // undo the pending record
		}
		return err
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return err
	}
	_, err = s.putFile(rec, nil)
	return err
}

// markPending writes the pending record if rec replaces a listed file, and
// returns the listed record.
func (s *Store) markPending(rec *fileRec) (prev fileRec, ok bool, err error) {
	s.mu.RLock()
	i := s.getFile(rec.client, rec.name)
	if i >= 0 {
		prev = s.files.rec(i)
		if prev.flags&flagPending != 0 {
			prev.fileVer = s.files.pending[i]
		}
	}
	s.mu.RUnlock()
	if i < 0 {
		return prev, false, nil
	}
	p := *rec
	p.flags = rec.flags&flagClassic | flagPending
	_, err = s.putFile(&p, &prev.fileVer)
	return prev, true, err
}

// putFile indexes a file record, appends it and waits until it is durable.
func (s *Store) putFile(rec *fileRec, prev *fileVer) (int32, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return -1, ErrClosed
	}
	s.scratch = appendFile(s.scratch[:0], rec, prev)
	i := s.files.add(s.scratch)
	end := s.flog.add(s.scratch)
	compact := s.needsCompaction(s.flog, s.files.live)
	s.mu.Unlock()
	if err := s.flog.wait(end, true); err != nil {
		return i, err
	}
	s.maybeCompact(compact)
	return i, nil
}
