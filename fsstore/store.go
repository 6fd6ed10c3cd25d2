package fsstore

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Store is an open data directory. It is safe for concurrent use by many
// goroutines: index reads share a read lock, appends serialise only while
// copying their record into the log buffer, and durability waits share
// fsyncs.
type Store struct {
	dir  string
	opts Options

	mu      sync.RWMutex   // guards everything below, and the order of appends
	closing bool           // Close has begun: no new commits
	closed  bool           // the logs are closing or closed, the tables unmapped
	commits sync.WaitGroup // commits in progress, which Close lets finish
	clients clientIndex
	files   fileIndex
	clog    *log
	flog    *log
	scratch []byte                    // record encoding buffer
	dirs    map[[16]byte]*clientFiles // per-client upload state
	lock    *os.File                  // held while open; nil where there is no flock
	root    *os.Root                  // the data directory, for renames from TempDir into a client's folder
}

// lockFile is the name of the lock file in the data directory.
const lockFile = "fsstore.lock"

// clientFiles serialises commits of one client, so that the order of
// renames matches the order of records, and remembers that the client's
// directory exists and is durable. Every change of the client's tree is
// made with mu held, and bumps gen before mu is released: a look at the
// tree taken at an earlier gen may be out of date, one taken at the
// current gen is not (the data directory's lock keeps other ferry
// processes out).
type clientFiles struct {
	mu      sync.Mutex
	ready   bool
	gen     atomic.Uint64 // changes of the tree so far
	folders clientTree    // the client's open folders (folders_linux.go)
	lstats  atomic.Int64  // looks at upload targets on the disk, for tests
}

// Open opens the data directory dir, creating it (0700) and the tables if
// missing. Damaged records are reported through opts.Logf and skipped, a torn
// tail is cut off, and commits interrupted by a crash are resolved; Open
// fails only when the directory or a table cannot be read or written, or a
// table was written by a newer ferry.
func Open(dir string, opts Options) (*Store, error) {
	if err := makeDir(dir); err != nil {
		return nil, fmt.Errorf("fsstore: create data directory: %w", err)
	}
	if err := makeDir(filepath.Join(dir, FilesDir)); err != nil {
		return nil, fmt.Errorf("fsstore: create data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, dirs: make(map[[16]byte]*clientFiles), lock: lock}
	if err := s.clearTemp(); err != nil {
		s.unlock()
		return nil, err
	}
	if s.root, err = os.OpenRoot(dir); err != nil {
		s.unlock()
		return nil, fmt.Errorf("fsstore: open data directory: %w", err)
	}
	cl, fl, err := s.load(true)
	if err != nil {
		s.unlock()
		return nil, err
	}
	s.clog = newLog(filepath.Join(dir, ClientsTable), kindClients, cl.f, cl.size)
	s.flog = newLog(filepath.Join(dir, FilesTable), kindFiles, fl.f, fl.size)
	if err := s.recover(cl, fl); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// makeDir creates dir if missing and makes its entry durable (also when an
// earlier process created it and died before the fsync).
func makeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// clearTemp creates TempDir, or removes what uploads of a process that
// died left in it.
func (s *Store) clearTemp() error {
	tmp := filepath.Join(s.dir, TempDir)
	if err := makeDir(tmp); err != nil {
		return fmt.Errorf("fsstore: create %s: %w", tmp, err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("fsstore: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			os.Remove(filepath.Join(tmp, e.Name()))
		}
	}
	return nil
}

func (s *Store) unlock() {
	if s.root != nil {
		s.root.Close()
	}
	if s.lock != nil {
		s.lock.Close()
	}
}

// load reads both tables at once into fresh indexes.
func (s *Store) load(write bool) (cl, fl *loaded, err error) {
	var ferr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.files = newFileIndex(0)
		fl, ferr = loadTable(filepath.Join(s.dir, FilesTable), kindFiles, write, &s.files)
	}()
	s.clients = newClientIndex(0)
	cl, err = loadTable(filepath.Join(s.dir, ClientsTable), kindClients, write, &s.clients)
	<-done
	if err == nil {
		err = ferr
	}
	if err != nil {
		for _, ld := range []*loaded{cl, fl} {
			if ld != nil && ld.f != nil {
				ld.f.Close()
			}
		}
		s.releaseViews()
		return nil, nil, err
	}
	return cl, fl, nil
}

// recover rewrites tables whose header was damaged, reports what loading
// found, and resolves interrupted commits.
func (s *Store) recover(cl, fl *loaded) error {
	for _, t := range []struct {
		ld  *loaded
		log *log
	}{{cl, s.clog}, {fl, s.flog}} {
		if t.ld.rewrite || t.ld.upgrade {
			if err := s.rewrite(t.log); err != nil {
				return err
			}
			t.ld.markRepaired(ProblemHeader)
			t.ld.markRepaired(ProblemTornTail)
		}
		if t.ld.upgrade {
			s.logf("%s: upgraded from format version 1 to %d", filepath.Base(t.log.path), FormatVersion)
		}
		for _, p := range t.ld.findings {
			s.logf("%s", p)
		}
	}
	if err := s.resolvePending(); err != nil {
		return err
	}
	if err := s.resolveIntents(); err != nil {
		return err
	}
	return s.resolveRemovals()
}

func (s *Store) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// Close writes what is buffered, fsyncs and closes the tables. Uploads in
// progress cannot be committed afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closing = true
	s.mu.Unlock()
	s.commits.Wait()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	for _, cf := range s.dirs { // closed: clientState adds none now
		cf.closeTree() // and none opens again (Store.tree)
	}
	err := s.clog.close()
	if ferr := s.flog.close(); err == nil {
		err = ferr
	}
	s.mu.Lock()
	s.releaseViews()
	s.mu.Unlock()
	s.unlock()
	return err
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Register adds a client with a random ID and returns it once its record is
// durable. A name another client holds gives ErrNameTaken.
func (s *Store) Register(name string, kind KeyKind, pub []byte, now time.Time) (Client, error) {
	if err := validClientName([]byte(name)); err != nil {
		return Client{}, err
	}
	if err := validKey(kind, pub); err != nil {
		return Client{}, err
	}
	c := clientRec{name: name, kind: kind, key: append([]byte(nil), pub...), reg: toNanos(now), seen: toNanos(now)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Client{}, ErrClosed
	}
	if s.clients.byNameFind(name) >= 0 {
		s.mu.Unlock()
		return Client{}, fmt.Errorf("%w: %q", ErrNameTaken, name)
	}
	for {
		rand.Read(c.id[:]) // never fails (crypto/rand)
		if s.clients.find(c.id) < 0 && c.id != ([16]byte{}) {
			break
		}
	}
	end, compact := s.appendClient(&c)
	s.mu.Unlock()
	if err := s.clog.wait(end, true); err != nil {
		return Client{}, fmt.Errorf("fsstore: register %q: %w", name, err)
	}
	s.maybeCompact(compact)
	return c.client(), nil
}

// appendClient indexes a client record and adds it to the log. Called with
// s.mu held.
func (s *Store) appendClient(c *clientRec) (end int64, compact *log) {
	s.scratch = appendClient(s.scratch[:0], c)
	s.clients.add(s.scratch)
	end = s.clog.add(s.scratch)
	return end, s.needsCompaction(s.clog, s.clients.live)
}

// SetKey sets a client's public key and returns once the record is durable.
func (s *Store) SetKey(id [16]byte, kind KeyKind, pub []byte) error {
	if err := validKey(kind, pub); err != nil {
		return err
	}
	i, err := s.lockClient(id)
	if err != nil {
		return err
	}
	c := s.clients.rec(i)
	c.kind, c.key = kind, pub
	end, compact := s.appendClient(&c)
	s.mu.Unlock()
	if err := s.clog.wait(end, true); err != nil {
		return fmt.Errorf("fsstore: set key of %x: %w", id, err)
	}
	s.maybeCompact(compact)
	return nil
}

// lockClient takes s.mu for writing and finds client id. On an error (the
// store is closed, no such client) s.mu is released again.
func (s *Store) lockClient(id [16]byte) (int32, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return -1, ErrClosed
	}
	i := s.clients.find(id)
	if i < 0 {
		s.mu.Unlock()
		return -1, fmt.Errorf("%w: %x", ErrNoClient, id)
	}
	return i, nil
}

// Client returns the client with the given ID.
func (s *Store) Client(id [16]byte) (Client, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := s.findClient(id)
	if i < 0 {
		return Client{}, false
	}
	c := s.clients.rec(i)
	return c.client(), true
}

// ClientByName returns the client registered under name.
func (s *Store) ClientByName(name string) (Client, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Client{}, false
	}
	i := s.clients.byNameFind(name)
	if i < 0 {
		return Client{}, false
	}
	c := s.clients.rec(i)
	return c.client(), true
}

// Touch sets a client's LastSeen. The record is written but not fsynced: a
// crash may lose the latest LastSeen. Compaction keeps the log bounded.
func (s *Store) Touch(id [16]byte, t time.Time) error {
	i, err := s.lockClient(id)
	if err != nil {
		return err
	}
	s.clients.ents[i].seen = toNanos(t)
	s.scratch = appendTouch(s.scratch[:0], &id, toNanos(t))
	s.clog.add(s.scratch)
	compact := s.needsCompaction(s.clog, s.clients.live)
	s.mu.Unlock()
	s.clog.kick()
	s.maybeCompact(compact)
	return nil
}

// Files returns the latest record of each file of a client.
func (s *Store) Files(id [16]byte) []File {
	var out []File
	s.eachFile(id, func(i int32) {
		r := s.files.rec(i)
		out = append(out, r.file())
	})
	return out
}

// eachFile calls fn, with s.mu held for reading, for each listed file of a
// client. The per-client lists are linked on first use.
func (s *Store) eachFile(id [16]byte, fn func(i int32)) {
	s.mu.RLock()
	if s.files.heads == nil {
		s.mu.RUnlock()
		s.mu.Lock()
		if s.files.heads == nil && !s.closed {
			s.files.linkClients()
		}
		s.mu.Unlock()
		s.mu.RLock()
	}
	defer s.mu.RUnlock()
	i, ok := s.files.heads[id]
	ok = ok && !s.closed
	for ok && i >= 0 {
		if !s.files.ents[i].deleted {
			fn(i)
		}
		i = s.files.ents[i].next
	}
}

// File returns the latest record of one file.
func (s *Store) File(id [16]byte, name string) (File, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := s.getFile(id, name)
	if i < 0 {
		return File{}, false
	}
	r := s.files.rec(i)
	return r.file(), true
}

// findClient is clients.find, or -1 once the Store is closed (and the
// tables unmapped). Called with s.mu held.
func (s *Store) findClient(id [16]byte) int32 {
	if s.closed {
		return -1
	}
	return s.clients.find(id)
}

// getFile is files.get, or -1 once the Store is closed. Called with s.mu
// held.
func (s *Store) getFile(id [16]byte, name string) int32 {
	if s.closed {
		return -1
	}
	return s.files.get(id, name)
}

// releaseViews unmaps the tables. Called with s.mu held or before the
// Store is shared.
func (s *Store) releaseViews() {
	s.clients.v.release()
	s.files.v.release()
}
