package fsstore

// The operator's view of clients: listing them with their usage, and
// disabling, enabling and removing one (a lost router's key must stop
// working). A status record (type 9) says that a client is disabled, or
// enabled again, or that its removal has begun; a removed record (type
// 10) says that the removal is complete. Removal is crash-safe the way
// Remove is: the status "removing" is made durable first (from then on the
// client counts as disabled), then the removal records of its files, then
// its folder goes from the disk, and only then is the removed record
// written; Open completes a removal a crash interrupted (resolveRemovals).
// A removed client's ID and name are free again: it is gone from every
// lookup, and compaction drops its records.

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Client statuses (type 9).
const (
	statusEnabled  = 0 // enabled again after a disable
	statusDisabled = 1 // refused by the server
	statusRemoving = 2 // removal begun: refused, files going
	statusRemoved  = 3 // in memory only: a type 10 record was applied
)

// Payload sizes of the records of this file.
const (
	statusSize  = 25 // type 9: client id 16 + time 8 + status 1
	removedSize = 16 // type 10: client id 16
)

// clientStatus is what the index keeps of a client's latest status record.
type clientStatus struct {
	state uint8
	at    int64 // unix nanoseconds
}

// ClientUsage is a client with what it stores.
type ClientUsage struct {
	Client
	Files int   // listed files
	Bytes int64 // their total size
}

func appendStatus(dst []byte, id *[16]byte, st clientStatus) []byte {
	start := len(dst)
	dst = beginRecord(dst, recClientStatus)
	dst = append(dst, id[:]...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(st.at))
	dst = append(dst, st.state)
	return endRecord(dst, start)
}

func decodeStatus(p []byte) (id [16]byte, st clientStatus, err error) {
	if len(p) != statusSize || p[24] > statusRemoving {
		return id, st, errPayload
	}
	copy(id[:], p)
	return id, clientStatus{state: p[24], at: int64(binary.LittleEndian.Uint64(p[16:]))}, nil
}

func appendRemoved(dst []byte, id *[16]byte) []byte {
	start := len(dst)
	dst = beginRecord(dst, recClientRemoved)
	dst = append(dst, id[:]...)
	return endRecord(dst, start)
}

// applyStatus folds a status or removed record into the index.
func (x *clientIndex) applyStatus(typ byte, p []byte) error {
	var id [16]byte
	st := clientStatus{state: statusRemoved}
	var err error
	if typ == recClientStatus {
		id, st, err = decodeStatus(p)
	} else if len(p) != removedSize {
		err = errPayload
	} else {
		copy(id[:], p)
	}
	if err != nil {
		return err
	}
	i := x.find(id)
	if i < 0 {
		return fmt.Errorf("status of unknown client %x", id)
	}
	x.setStatus(i, st)
	return nil
}

// setStatus records client i's status and keeps the live size: a status
// other than enabled is one record, a removed client none at all.
func (x *clientIndex) setStatus(i int32, st clientStatus) {
	if old, ok := x.status[i]; ok && old.state != statusEnabled {
		x.live -= RecordHeaderSize + statusSize
	}
	switch st.state {
	case statusEnabled:
		delete(x.status, i)
		return
	case statusRemoved:
		x.live -= int64(len(x.v.record(x.ents[i].off)))
	default:
		x.live += RecordHeaderSize + statusSize
	}
	x.status[i] = st
}

// removed reports whether client i was removed.
func (x *clientIndex) removed(i int32) bool {
	st, ok := x.status[i]
	return ok && st.state == statusRemoved
}

// revive forgets that client i was removed, for a new client record with
// its ID, and reports whether it was.
func (x *clientIndex) revive(i int32) bool {
	if !x.removed(i) {
		return false
	}
	delete(x.status, i)
	return true
}

// emitStatus writes client i's status record, if it has one to keep.
func (x *clientIndex) emitStatus(w interface{ Write([]byte) (int, error) }, i int32, buf []byte) (int64, error) {
	st, ok := x.status[i]
	if !ok {
		return 0, nil
	}
	id := [16]byte(x.payload(i)[:16])
	rec := appendStatus(buf[:0], &id, st)
	_, err := w.Write(rec)
	return int64(len(rec)), err
}

// Clients returns every client, in the order they registered.
func (s *Store) Clients() []Client {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil
	}
	out := make([]Client, 0, len(s.clients.ents))
	for i := range s.clients.ents {
		if !s.clients.removed(int32(i)) {
			c := s.clients.rec(int32(i))
			out = append(out, c.client())
		}
	}
	return out
}

// ReadClients lists the clients of the data directory dir with their
// usage, reading the tables without changing them or taking the
// directory's lock, so that it works beside a running server (it sees what
// the server had written when it was called).
func ReadClients(dir string) ([]ClientUsage, error) {
	if _, err := os.Stat(filepath.Join(dir, ClientsTable)); err != nil {
		return nil, fmt.Errorf("fsstore: %s is not a data directory: %w", dir, err)
	}
	s := &Store{dir: dir, dirs: map[[16]byte]*clientFiles{}}
	if _, _, err := s.load(false); err != nil {
		return nil, err
	}
	defer s.releaseViews()
	var out []ClientUsage
	for _, c := range s.Clients() {
		files, bytes := s.Usage(c.ID)
		out = append(out, ClientUsage{Client: c, Files: files, Bytes: bytes})
	}
	return out, nil
}

// DisableClient marks a client disabled and returns once that is durable:
// the server refuses its reconnection and registration (with 2106). Its
// files stay.
func (s *Store) DisableClient(id [16]byte, now time.Time) error {
	return s.putStatus(id, clientStatus{state: statusDisabled, at: toNanos(now)})
}

// EnableClient undoes DisableClient.
func (s *Store) EnableClient(id [16]byte, now time.Time) error {
	return s.putStatus(id, clientStatus{state: statusEnabled, at: toNanos(now)})
}

// putStatus appends a status record for client id and waits until it is
// durable.
func (s *Store) putStatus(id [16]byte, st clientStatus) error {
	i, err := s.lockClient(id)
	if err != nil {
		return err
	}
	if cur := s.clients.status[i]; cur.state == statusRemoving {
		s.mu.Unlock()
		return fmt.Errorf("%w: %x is being removed", ErrNoClient, id)
	}
	s.clients.setStatus(i, st)
	s.scratch = appendStatus(s.scratch[:0], &id, st)
	end := s.clog.add(s.scratch)
	compact := s.needsCompaction(s.clog, s.clients.live)
	s.mu.Unlock()
	if err := s.clog.wait(end, true); err != nil {
		return fmt.Errorf("fsstore: status of %x: %w", id, err)
	}
	s.maybeCompact(compact)
	return nil
}

// RemoveClient removes a client, its files and its records, crash-safe
// (see the top of this file), and returns how many listed files went. It
// is meant for a store no session uses (the CLI holds the directory's
// lock, so no server runs); an upload of the client committed meanwhile
// could be left behind.
func (s *Store) RemoveClient(id [16]byte, now time.Time) (files int, err error) {
	if err := s.putStatus(id, clientStatus{state: statusRemoving, at: toNanos(now)}); err != nil {
		return 0, err
	}
	return s.finishRemoveClient(id)
}

// finishRemoveClient carries out a removal whose status is durable: the
// removal records of the client's files, its folder, the removed record.
// Open calls it again for a removal a crash interrupted.
func (s *Store) finishRemoveClient(id [16]byte) (int, error) {
	cf, err := s.clientState(id)
	if err != nil {
		return 0, err
	}
	cf.mu.Lock()
	defer cf.mu.Unlock()
	defer cf.gen.Add(1) // before the unlock
	listed := s.Files(id)
	s.mu.RLock()
	_, intent := s.files.intents[id]
	s.mu.RUnlock()
	if err := s.appendFiles(func(add func([]byte)) {
		for _, f := range listed {
			add(appendDelete(nil, &id, f.Name))
		}
		if intent {
			add(appendIntentDone(nil, &id))
		}
	}); err != nil {
		return 0, err
	}
	cf.closeTree()
	if err := s.root.RemoveAll(filepath.Join(FilesDir, hex.EncodeToString(id[:]))); err != nil {
		return 0, fmt.Errorf("fsstore: remove the files of %x: %w", id, err)
	}
	if err := syncDir(filepath.Join(s.dir, FilesDir)); err != nil {
		return 0, err
	}
	s.removePartials(id)
	return len(listed), s.appendRemoved(id)
}

// HasPartials reports whether partial uploads of client id are kept for
// resume (DIR/partial/<id>-*): a client told there are none need not ask
// about each of its large files (PROTOCOL.md, feature short).
func (s *Store) HasPartials(id [16]byte) bool {
	ents, _ := os.ReadDir(filepath.Join(s.dir, PartialDir))
	prefix := hex.EncodeToString(id[:]) + "-"
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			return true
		}
	}
	return false
}

// removePartials removes the partial uploads the client left for resume
// (DIR/partial/<id>-*). What a crash leaves of them ExpirePartials takes.
func (s *Store) removePartials(id [16]byte) {
	dir := filepath.Join(s.dir, PartialDir)
	ents, _ := os.ReadDir(dir)
	prefix := hex.EncodeToString(id[:]) + "-"
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// appendRemoved writes the removed record of client id and waits until it
// is durable; the client is then gone.
func (s *Store) appendRemoved(id [16]byte) error {
	i, err := s.lockClient(id)
	if err != nil {
		return err
	}
	s.clients.setStatus(i, clientStatus{state: statusRemoved})
	s.scratch = appendRemoved(s.scratch[:0], &id)
	end := s.clog.add(s.scratch)
	compact := s.needsCompaction(s.clog, s.clients.live)
	delete(s.dirs, id)
	s.mu.Unlock()
	if err := s.clog.wait(end, true); err != nil {
		return fmt.Errorf("fsstore: remove client %x: %w", id, err)
	}
	s.maybeCompact(compact)
	return nil
}

// resolveRemovals completes the client removals a crash interrupted.
func (s *Store) resolveRemovals() error {
	s.mu.RLock()
	var todo [][16]byte
	for i, st := range s.clients.status {
		if st.state == statusRemoving {
			todo = append(todo, [16]byte(s.clients.payload(i)[:16]))
		}
	}
	s.mu.RUnlock()
	for _, id := range todo {
		n, err := s.finishRemoveClient(id)
		if err != nil && !errors.Is(err, ErrNoClient) {
			return err
		}
		s.logf("%s: client %x: interrupted removal completed (%d files)", ClientsTable, id, n)
	}
	return nil
}
