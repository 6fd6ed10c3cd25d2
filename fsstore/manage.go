package fsstore

// Managing a client's tree: Mkdir, Remove, Rename. Each runs under the
// client's commit lock, so that it never interleaves with a commit of the
// same client. Remove and Rename change the disk and the records together;
// to stay consistent across a crash they first make an intent record
// durable (type 7: the operation and its paths), then change the disk, then
// write the new records and the intent's end (type 8). Open completes an
// intent left open by a crash (resolveIntents): a rename whose source is
// gone from the disk gets its records moved, one whose source is still
// there is dropped; a removal is carried out again.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Mkdir creates the folder at path (0700 on disk) and returns once it is
// durable. Something at path gives ErrExists; without parents, a missing
// parent gives ErrNotFound, with parents the missing ones are created.
func (s *Store) Mkdir(id [16]byte, path string, parents bool) error {
	return s.manage(id, path, func(r *os.Root) error {
		if _, err := lstatPath(r, path); err == nil {
			return fmt.Errorf("%w: %s", ErrExists, path)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if _, ok := s.listed(id, path); ok {
			return fmt.Errorf("%w: %s (listed)", ErrExists, path)
		}
		if err := s.listedParent(id, path); err != nil {
			return err
		}
		if !parents {
			if err := wantDir(r, parentOf(path)); err != nil {
				return err
			}
		}
		return mkdirAll(r, path)
	})
}

// wantDir checks that dir of r ("." for the root) is a folder.
func wantDir(r *os.Root, dir string) error {
	if dir == "." {
		return nil
	}
	fi, err := lstatPath(r, dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s", ErrNotDir, dir)
	}
	return nil
}

// manage checks path and runs op on the client's root folder with the
// client's commit lock held, then drops the folder handles commits keep.
func (s *Store) manage(id [16]byte, path string, op func(r *os.Root) error) error {
	if err := ValidatePath(path); err != nil {
		return err
	}
	cf, err := s.clientState(id)
	if err != nil {
		return err
	}
	if err := cf.ensureDir(s.clientDir(id)); err != nil {
		return fmt.Errorf("fsstore: create client directory: %w", err)
	}
	cf.mu.Lock()
	defer cf.mu.Unlock()
	defer cf.gen.Add(1) // before the unlock: op changes the tree
	if err := s.beginOp(); err != nil {
		return err
	}
	defer s.commits.Done()
	r, err := s.clientRoot(id)
	if err != nil {
		return err
	}
	defer r.Close()
	err = op(r)
	cf.forget() // op may have renamed or removed folders that commits hold open
	return err
}

// Remove removes a listed file, an empty folder, or with recursive a
// folder and everything in it, and returns how many listed files it
// removed. The removal records are durable when it returns. A folder with
// content gives ErrNotEmpty without recursive; a path neither listed nor a
// folder gives ErrNotFound. The root folder cannot be removed.
func (s *Store) Remove(id [16]byte, path string, recursive bool) (n int, err error) {
	err = s.manage(id, path, func(r *os.Root) error {
		fi, err := lstatPath(r, path)
		switch {
		case errors.Is(err, ErrNotFound):
			return s.removeListed(id, path, &n) // listed, gone from the disk: unlist
		case err != nil:
			return err
		case fi.IsDir():
			return s.removeDir(r, id, path, recursive, &n)
		}
		if _, ok := s.listed(id, path); !ok || !fi.Mode().IsRegular() {
			return fmt.Errorf("%w: %s", ErrNotFound, path)
		}
		n = 1
		return s.removeTree(r, id, path)
	})
	return n, err
}

// removeListed unlists a file that is not on disk.
func (s *Store) removeListed(id [16]byte, path string, n *int) error {
	if _, ok := s.listed(id, path); !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	*n = 1
	return s.deleteFile(id, path)
}

// removeDir removes folder path: at once if empty, else with recursive.
func (s *Store) removeDir(r *os.Root, id [16]byte, path string, recursive bool, n *int) error {
	des, err := fs.ReadDir(r.FS(), path)
	if err != nil {
		return pathErr(err, path)
	}
	if len(des) > 0 && !recursive {
		return fmt.Errorf("%w: %s", ErrNotEmpty, path)
	}
	*n = len(s.recordsUnder(id, path))
	if len(des) == 0 && *n == 0 {
		if err := r.Remove(path); err != nil {
			return pathErr(err, path)
		}
		return syncIn(r, parentOf(path))
	}
	return s.removeTree(r, id, path)
}

// removeTree removes the file or folder at path and the records of every
// file in it, crash-safe: the intent and the removal records (one durable
// write), the removal from the disk, the end of the intent.
func (s *Store) removeTree(r *os.Root, id [16]byte, path string) error {
	in := intentRec{client: id, op: opRemove, old: path}
	recs := s.recordsUnder(id, path)
	if err := s.appendFiles(func(add func([]byte)) {
		add(appendIntent(nil, &in))
		for _, m := range recs {
			add(appendDelete(nil, &id, m.rec.name))
		}
	}); err != nil {
		return err
	}
	return s.removeOnDisk(r, &in)
}

// finishRemove carries out a removal whose intent a crash left open: the
// removal records again (some may be lost with a torn tail), then the disk.
func (s *Store) finishRemove(r *os.Root, in *intentRec) error {
	recs := s.recordsUnder(in.client, in.old)
	if err := s.appendFiles(func(add func([]byte)) {
		for _, m := range recs {
			add(appendDelete(nil, &in.client, m.rec.name))
		}
	}); err != nil {
		return err
	}
	return s.removeOnDisk(r, in)
}

// removeOnDisk removes in.old from the disk (r nil: the client has no
// folder) and ends the intent.
func (s *Store) removeOnDisk(r *os.Root, in *intentRec) error {
	if r != nil {
		if err := r.RemoveAll(in.old); err != nil {
			return pathErr(err, in.old)
		}
		if err := syncIn(r, parentOf(in.old)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return s.appendFiles(func(add func([]byte)) { add(appendIntentDone(nil, &in.client)) })
}

// Rename moves a listed file or a folder (with the records of every file in
// it) from oldPath to newPath, creating the missing parents of newPath. A
// file replaces a file at newPath unless noClobber (ErrExists); a folder at
// newPath gives ErrExists for a folder and ErrIsDir for a file; a file at
// newPath gives ErrNotDir for a folder. A crash at any point leaves either
// the old or the new state, records matching the disk.
func (s *Store) Rename(id [16]byte, oldPath, newPath string, noClobber bool) error {
	if err := ValidatePath(newPath); err != nil {
		return err
	}
	if strings.HasPrefix(newPath, oldPath+"/") {
		return fmt.Errorf("%w: cannot move %s into itself", ErrBadName, oldPath)
	}
	return s.manage(id, oldPath, func(r *os.Root) error {
		ofi, err := lstatPath(r, oldPath)
		if err != nil {
			return err
		}
		if _, ok := s.listed(id, oldPath); !ofi.IsDir() && (!ok || !ofi.Mode().IsRegular()) {
			return fmt.Errorf("%w: %s", ErrNotFound, oldPath)
		}
		if oldPath == newPath {
			return nil
		}
		if err := s.checkRenameTarget(r, id, ofi.IsDir(), oldPath, newPath, noClobber); err != nil {
			return err
		}
		if err := mkdirAll(r, parentOf(newPath)); err != nil {
			return err
		}
		in := intentRec{client: id, op: opRename, old: oldPath, new: newPath}
		if err := s.appendFiles(func(add func([]byte)) { add(appendIntent(nil, &in)) }); err != nil {
			return err
		}
		if err := r.Rename(oldPath, newPath); err != nil {
			s.appendFiles(func(add func([]byte)) { add(appendIntentDone(nil, &id)) })
			return pathErr(err, oldPath)
		}
		// Once renamed, the records follow even if an fsync fails, so that
		// the index matches what the disk shows.
		serr := syncRename(r, oldPath, newPath)
		if err := s.moveRecords(&in); err != nil {
			return err
		}
		return serr
	})
}

// checkRenameTarget checks what is at newPath before a rename, and that no
// moved path would become too long.
func (s *Store) checkRenameTarget(r *os.Root, id [16]byte, dir bool, oldPath, newPath string, noClobber bool) error {
	nfi, err := lstatPath(r, newPath)
	_, listed := s.listed(id, newPath)
	switch {
	case err == nil && nfi.IsDir() && dir:
		return fmt.Errorf("%w: %s", ErrExists, newPath)
	case err == nil && nfi.IsDir():
		return fmt.Errorf("%w: %s", ErrIsDir, newPath)
	case err == nil && dir:
		return fmt.Errorf("%w: %s", ErrNotDir, newPath)
	case (err == nil || listed) && noClobber:
		return fmt.Errorf("%w: %s", ErrExists, newPath)
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	}
	if err := s.listedParent(id, newPath); err != nil {
		return err
	}
	for _, m := range s.recordsUnder(id, oldPath) {
		if len(newPath)+len(m.rec.name)-len(oldPath) > MaxPathSize {
			return fmt.Errorf("%w: %s would become longer than %d bytes", ErrBadName, m.rec.name, MaxPathSize)
		}
	}
	return nil
}

// syncRename makes a rename durable in both folders.
func syncRename(r *os.Root, oldPath, newPath string) error {
	if err := syncIn(r, parentOf(newPath)); err != nil {
		return err
	}
	if parentOf(oldPath) == parentOf(newPath) {
		return nil
	}
	return syncIn(r, parentOf(oldPath))
}

// moveRecords writes, in one durable batch, the records of every file
// under in.old at its new path, the removal of the old ones, and the end of
// the intent.
func (s *Store) moveRecords(in *intentRec) error {
	recs := s.recordsUnder(in.client, in.old)
	return s.appendFiles(func(add func([]byte)) {
		for _, m := range recs {
			old := m.rec.name
			m.rec.name = in.new + old[len(in.old):]
			add(appendFile(nil, &m.rec, m.prev))
			add(appendDelete(nil, &in.client, old))
		}
		add(appendIntentDone(nil, &in.client))
	})
}

// listedRec is a file record with the previous version of a pending one.
type listedRec struct {
	rec  fileRec
	prev *fileVer // nil unless pending with a previous version
}

// recordsUnder returns the listed files at p or under it.
func (s *Store) recordsUnder(id [16]byte, p string) []listedRec {
	var out []listedRec
	s.eachFile(id, func(i int32) {
		_, name := s.files.keyOf(i)
		if string(name) != p && !(len(name) > len(p) && name[len(p)] == '/' && string(name[:len(p)]) == p) {
			return
		}
		m := listedRec{rec: s.files.rec(i)}
		if m.rec.flags&(flagPending|flagNew) == flagPending {
			prev := s.files.pending[i]
			m.prev = &prev
		}
		out = append(out, m)
	})
	return out
}

// appendFiles indexes and appends the records build adds, under one lock,
// and waits until they are durable. The records are copied.
func (s *Store) appendFiles(build func(add func(rec []byte))) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	var end int64
	build(func(rec []byte) {
		s.files.add(rec)
		end = s.flog.add(rec)
	})
	compact := s.needsCompaction(s.flog, s.files.live)
	s.mu.Unlock()
	if err := s.flog.wait(end, true); err != nil {
		return err
	}
	s.maybeCompact(compact)
	return nil
}

// resolveIntents completes the renames and removals a crash interrupted.
func (s *Store) resolveIntents() error {
	s.mu.RLock()
	var todo []intentRec
	for id := range s.files.intents {
		in, _ := s.files.intent(id)
		todo = append(todo, in)
	}
	s.mu.RUnlock()
	for _, in := range todo {
		what, err := s.resolveIntent(&in)
		if err != nil {
			return err
		}
		s.logf("%s: %s: interrupted %s", FilesTable, storedPath(in.client, in.old), what)
	}
	return nil
}

// resolveIntent completes one intent and says what it did.
func (s *Store) resolveIntent(in *intentRec) (string, error) {
	r, err := s.clientRoot(in.client)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	if r != nil {
		defer r.Close()
	}
	if in.op == opRemove {
		return "removal: completed", s.finishRemove(r, in)
	}
	if r != nil {
		if _, err := lstatPath(r, in.old); err == nil {
			return "rename to " + in.new + ": not done, old path kept", s.appendFiles(func(add func([]byte)) {
				add(appendIntentDone(nil, &in.client))
			})
		}
	}
	return "rename to " + in.new + ": done, records moved", s.moveRecords(in)
}
