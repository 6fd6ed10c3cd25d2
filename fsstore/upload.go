package fsstore

// An upload flows like this: NewUpload checks the path and creates a
// temporary file in DIR/tmp; Write streams into it with a running cksum;
// CommitWith fsyncs it, checks the path again under the client's commit
// lock (on the disk only if the client's tree changed meanwhile), creates the missing parent folders, makes a pending record durable
// (the intent: the new version and the one it replaces, or none), renames
// the temporary file onto the path, fsyncs the folder and makes the
// verified record durable. Open resolves a pending record left by a crash
// (recover.go), so that no kill leaves a file the table does not describe.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ferry/frame"
)

// TempDir is the folder of uploads in progress in the data directory. Open
// empties it: what it holds then was left by a process that died.
const TempDir = "tmp"

// Upload is a file being received: a temporary file with a running POSIX
// cksum. Not safe for concurrent use; uploads of different clients proceed
// in parallel.
type Upload struct {
	s      *Store
	cf     *clientFiles
	client [16]byte
	name   string // the path
	tmp    string
	f      *os.File
	ck     frame.Cksum
	mode   uint32
	mtime  time.Time
	rel    string   // tmp relative to the data directory, for the rename
	part   *partial // a resumable upload (partial.go), or nil
	closed bool     // f is closed
	done   bool     // committed or aborted
	again  bool     // a commit failed before it changed anything: CommitWith may be called again
	seen   target   // the target as the start of the upload found it
}

// target is what a look at an upload's path on the disk found, and when.
type target struct {
	ok     bool   // the path was looked at
	gen    uint64 // clientFiles.gen before the look
	exists bool   // something is at the path
}

// notStarted is a commit's failure before it changed anything (for want of
// file descriptors, say): the upload can be committed again.
type notStarted struct{ err error }

func (e *notStarted) Error() string { return e.err.Error() }
func (e *notStarted) Unwrap() error { return e.err }

// NewUpload validates path and starts an upload for a registered client.
// The path may hold folders ("logs/2026/x.log"); the missing ones are
// created at Commit. A component of the path that is a file gives
// ErrNotDir, a path that is a folder ErrIsDir.
func (s *Store) NewUpload(id [16]byte, path string) (*Upload, error) {
	cf, seen, err := s.checkUpload(id, path)
	if err != nil {
		return nil, err
	}
	f, err := createTemp(filepath.Join(s.dir, TempDir))
	if err != nil {
		return nil, fmt.Errorf("fsstore: start upload of %q: %w", path, err)
	}
	return &Upload{s: s, cf: cf, client: id, name: path, tmp: f.Name(), f: f, rel: TempDir + "/" + filepath.Base(f.Name()), seen: seen}, nil
}

// checkUpload checks that a client may upload to path, and returns its
// commit state and what is at path.
func (s *Store) checkUpload(id [16]byte, path string) (*clientFiles, target, error) {
	if err := ValidatePath(path); err != nil {
		return nil, target{}, err
	}
	cf, err := s.clientState(id)
	if err != nil {
		return nil, target{}, err
	}
	if err := cf.ensureDir(s.clientDir(id)); err != nil {
		return nil, target{}, fmt.Errorf("fsstore: create client directory: %w", err)
	}
	t := target{ok: true, gen: cf.gen.Load()}
	t.exists, err = s.diskTarget(cf, id, path)
	if err == nil {
		_, err = s.listedTarget(id, path)
	}
	return cf, t, err
}

// clientState returns the commit state of a registered client.
func (s *Store) clientState(id [16]byte) (*clientFiles, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.clients.find(id) < 0 {
		return nil, fmt.Errorf("%w: %x", ErrNoClient, id)
	}
	cf := s.dirs[id]
	if cf == nil {
		cf = new(clientFiles)
		s.dirs[id] = cf
	}
	return cf, nil
}

// clientDir is the client's root folder.
func (s *Store) clientDir(id [16]byte) string {
	return filepath.Join(s.dir, FilesDir, hex.EncodeToString(id[:]))
}

// ensureDir creates the client's directory and makes its entry durable,
// once per Store, and removes temporary files that uploads of the previous
// release interrupted by a crash left there (no upload of this Store has
// started in it yet, and the directory lock keeps other processes out).
func (cf *clientFiles) ensureDir(dir string) error {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if cf.ready {
		return nil
	}
	defer cf.gen.Add(1) // before the unlock
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

// SetMeta sets the mode and modification time the commit records. Only the
// permission bits are kept, without world-writable (mode&0o777&^0o002):
// never setuid, setgid or sticky. The stored file keeps permission 0600 on
// the server's disk; its modification time is set to mtime (zero: left as
// the arrival time).
func (u *Upload) SetMeta(mode os.FileMode, mtime time.Time) {
	u.mode = SanitizeMode(mode)
	u.mtime = mtime
}

// SanitizeMode returns what a record keeps of a mode: the permission bits
// without world-writable.
func SanitizeMode(mode os.FileMode) uint32 {
	return uint32(mode.Perm()) & modeMask
}

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

// Abort removes the temporary file (and, for a resumable upload, what
// identifies it). It is a no-op after Commit or Keep.
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
	if u.part != nil {
		u.part.remove(u.s)
	}
	return nil
}

// CommitOptions tune CommitWith. The zero value commits a secure-protocol
// upload, replacing a listed file, with the zero time.
type CommitOptions struct {
	Classic   bool      // uploaded over the classic (v3) protocol
	NoClobber bool      // fail with ErrExists (the upload is still to be aborted) if the path exists
	Now       time.Time // time of the upload, recorded
}

// Commit is CommitWith without NoClobber.
func (u *Upload) Commit(classic bool, now time.Time) (File, error) {
	f, _, err := u.CommitWith(CommitOptions{Classic: classic, Now: now})
	return f, err
}

// CommitWith stores the upload under its path and records it as verified:
// it fsyncs the file, creates the missing parent folders, renames it onto
// the path, fsyncs the folder and appends the record, returning once the
// record is durable. replaced says whether a file was at the path before.
// After CommitWith returns, the file survives any crash. If it fails the
// upload is still to be aborted.
func (u *Upload) CommitWith(o CommitOptions) (f File, replaced bool, err error) {
	if u.done || (u.closed && !u.again) {
		return File{}, false, ErrUploadDone
	}
	if !u.closed {
		u.closed = true
		if err := u.finishTemp(); err != nil {
			return File{}, false, fmt.Errorf("fsstore: commit %q: %w", u.name, err)
		}
	}
	u.again = false
	rec := fileRec{client: u.client, name: u.name, fileVer: fileVer{
		size: u.ck.Size(), time: toNanos(o.Now), cksum: u.ck.Sum32(), flags: flagVerified,
		mode: u.mode, mtime: toNanos(u.mtime),
	}}
	if o.Classic {
		rec.flags |= flagClassic
	}
	u.cf.mu.Lock()
	defer u.cf.mu.Unlock()
	defer u.cf.gen.Add(1) // before the unlock
	replaced, err = u.s.commit(u, &rec, o.NoClobber)
	if err != nil {
		_, u.again = errors.AsType[*notStarted](err) // nothing changed: the commit may be tried again
		return File{}, false, fmt.Errorf("fsstore: commit %q: %w", u.name, err)
	}
	u.done = true
	if u.part != nil {
		u.part.remove(u.s) // its bytes are the stored file now
	}
	return rec.file(), replaced, nil
}

// finishTemp sets the modification time of the temporary file, fsyncs and
// closes it.
func (u *Upload) finishTemp() error {
	var err error
	if !u.mtime.IsZero() {
		err = os.Chtimes(u.tmp, time.Time{}, u.mtime)
	}
	if serr := u.f.Sync(); err == nil {
		err = serr
	}
	if cerr := u.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// beginOp counts an operation that changes stored files, so that Close lets
// it finish; it fails once Close has begun. The caller calls s.commits.Done.
func (s *Store) beginOp() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrClosed
	}
	s.commits.Add(1)
	return nil
}

// commit renames u's temporary file onto rec's path and records rec. It
// first makes a pending record durable that names the new version and the
// listed one (or none), so that a crash between the rename and the final
// record leaves a record Open can resolve: never a verified record
// describing bytes that are not there, nor a file no record lists. Called
// with the client's commit lock held.
func (s *Store) commit(u *Upload, rec *fileRec, noClobber bool) (replaced bool, err error) {
	if err := s.beginOp(); err != nil {
		return false, err
	}
	defer s.commits.Done()
	exists, listed, err := s.recheckTarget(u)
	if err != nil {
		return false, &notStarted{err}
	}
	if noClobber && (exists || listed) {
		return false, fmt.Errorf("%w: %s", ErrExists, rec.name)
	}
	if err := s.makeParents(u.cf, rec.client, rec.name); err != nil {
		return false, err
	}
	prev, hadPrev, err := s.markPending(rec)
	if err != nil {
		// The pending record is in the index, and the log writes it again
		// once it can (a full disk): undo it the same way, so that the
		// table never says a commit is under way that was given up.
		s.undoPending(rec, &prev, hadPrev)
		return false, err
	}
	renamed, err := s.renameIn(u, rec.name)
	if !renamed {
		s.undoPending(rec, &prev, hadPrev)
	}
	if err != nil {
		return false, err
	}
	_, err = s.putFile(rec, nil)
	return exists || listed, err
}

// undoPending puts back what a pending record replaced, after a failed
// rename.
func (s *Store) undoPending(rec *fileRec, prev *fileRec, hadPrev bool) {
	if hadPrev {
		s.putFile(prev, nil)
		return
	}
	s.deleteFile(rec.client, rec.name)
}

// markPending makes the pending record of rec durable and returns the
// listed record it replaces, if any.
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
	p := *rec
	p.flags = rec.flags&flagClassic | flagPending
	if i < 0 || prev.flags&flagNew != 0 {
		p.flags |= flagNew
		_, err = s.putFile(&p, nil)
		return prev, false, err
	}
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

// recheckTarget checks u's path again for its commit (checkTarget), with
// the client's commit lock held. The disk is looked at again only if the
// client's tree has changed since the upload's start looked at it: in a
// stream of puts, one look per file, not two.
func (s *Store) recheckTarget(u *Upload) (exists, listed bool, err error) {
	if !u.seen.ok || u.seen.gen != u.cf.gen.Load() {
		return s.checkTarget(u.cf, u.client, u.name)
	}
	listed, err = s.listedTarget(u.client, u.name)
	return u.seen.exists, listed, err
}

// checkTarget checks that a file can be stored at p: every existing parent
// is a folder (else ErrNotDir) and p is not a folder (ErrIsDir). It says
// whether something is at p on disk and whether p is listed.
func (s *Store) checkTarget(cf *clientFiles, id [16]byte, p string) (exists, listed bool, err error) {
	if exists, err = s.diskTarget(cf, id, p); err != nil {
		return false, false, err
	}
	listed, err = s.listedTarget(id, p)
	return exists, listed, err
}

// diskTarget is the look at the disk of checkTarget: it says whether
// something is at p.
func (s *Store) diskTarget(cf *clientFiles, id [16]byte, p string) (exists bool, err error) {
	cf.lstats.Add(1)
	isDir, err := s.lstatTarget(cf, id, p)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case isDir:
		return true, fmt.Errorf("%w: %s", ErrIsDir, p)
	}
	return true, nil
}

// listedTarget is the look at the table of checkTarget: no parent of p is
// a listed file, and it says whether p is listed.
func (s *Store) listedTarget(id [16]byte, p string) (listed bool, err error) {
	if err := s.listedParent(id, p); err != nil {
		return false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.getFile(id, p) >= 0, nil
}

// listedParent fails with ErrNotDir if a parent of p is a listed file (one
// gone from the disk: a file on disk fails the Lstat checks first), so that
// no folder is made where a record says a file is.
func (s *Store) listedParent(id [16]byte, p string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := strings.IndexByte(p, '/'); i >= 0; i = next(p, i) {
		if s.getFile(id, p[:i]) >= 0 {
			return fmt.Errorf("%w: %s is a listed file", ErrNotDir, p[:i])
		}
	}
	return nil
}

// next returns the index of the '/' after the one at i in p, or -1.
func next(p string, i int) int {
	j := strings.IndexByte(p[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}
