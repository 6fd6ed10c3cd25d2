package fsstore

// An upload that may be resumed (a large file from a client that speaks
// resume) keeps its bytes in DIR/partial/<key>.part and, beside them,
// DIR/partial/<key>.info: which client and path they are for and what
// identifies the source (its size and mtime as the client declared them).
// The key is the client ID and a hash of the path, so one path has one
// partial upload. When a session ends in the middle of such an upload the
// bytes stay (Keep); the next upload of the same source continues from
// them (NewResumable), after the client has checked that its file starts
// with the same bytes (a SHA-256 of them, Resumed). A commit renames the
// .part onto the path like any upload and removes the .info; an abort
// removes both. Open keeps partial uploads (unlike DIR/tmp), drops a .part
// without its .info and the reverse, and ExpirePartials bounds them by age
// and total size.
//
// .info is text, one field a line: "ferry partial 1", the client ID in
// hex, the source size, the source mtime (int64 ns), the path. It is
// written and fsynced before the first byte of the .part, so a .part
// always has an .info that says what it is; a crash at any point leaves a
// partial upload that is whole as far as it goes (its bytes are checked
// by the client's hash before being used) or nothing.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PartialDir is the folder of partial uploads in the data directory.
const PartialDir = "partial"

const partialMagic = "ferry partial 1"

// Partial describes a partial upload kept for resume.
type Partial struct {
	Client  [16]byte
	Path    string
	Size    int64     // the source's size, as declared
	MTime   time.Time // the source's mtime, as declared
	Have    int64     // bytes held
	Touched time.Time // last written
	key     string
}

// partial is the resumable state of an Upload.
type partial struct {
	key      string
	resumed  int64    // bytes that were there when it was opened
	prefix   [32]byte // their SHA-256
	infoPath string
}

func partialKey(id [16]byte, path string) string {
	h := sha256.Sum256([]byte(path))
	return hex.EncodeToString(id[:]) + "-" + hex.EncodeToString(h[:16])
}

// NewResumable starts an upload of path that survives the end of its
// session: the bytes of an earlier one of the same source (same declared
// size and mtime) are taken up, and Resumed says how many, with their
// SHA-256; anything else held for the path is dropped. The caller either
// goes on from there (after the client checked the hash), or calls Reset
// to start from zero.
func (s *Store) NewResumable(id [16]byte, path string, size int64, mtime time.Time) (*Upload, error) {
	cf, seen, err := s.checkUpload(id, path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.dir, PartialDir)
	if err := makeDir(dir); err != nil {
		return nil, fmt.Errorf("fsstore: create %s: %w", PartialDir, err)
	}
	key := partialKey(id, path)
	u := &Upload{s: s, cf: cf, client: id, name: path, tmp: filepath.Join(dir, key+".part"), rel: PartialDir + "/" + key + ".part", seen: seen}
	u.part = &partial{key: key, infoPath: filepath.Join(dir, key+".info")}
	if p, ok := s.readPartial(key); ok && p.Client == id && p.Path == path && p.Size == size && p.MTime.Equal(mtime) {
		if err := u.takeUp(); err == nil {
			return u, nil
		}
	}
	if err := u.startPartial(size, mtime); err != nil {
		return nil, err
	}
	return u, nil
}

// takeUp opens the bytes held and reads them for the cksum and the hash.
func (u *Upload) takeUp() error {
	f, err := os.OpenFile(u.tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(h, &u.ck), f); err != nil {
		f.Close()
		u.ck.Reset()
		return err
	}
	u.f = f
	u.part.resumed = u.ck.Size()
	copy(u.part.prefix[:], h.Sum(nil))
	return nil
}

// startPartial writes the .info durably, then creates an empty .part.
func (u *Upload) startPartial(size int64, mtime time.Time) error {
	os.Remove(u.tmp)
	info := fmt.Sprintf("%s\n%x\n%d\n%d\n%s\n", partialMagic, u.client, size, toNanos(mtime), u.name)
	if err := writeSynced(u.part.infoPath, []byte(info)); err != nil {
		return fmt.Errorf("fsstore: start upload of %q: %w", u.name, err)
	}
	f, err := os.OpenFile(u.tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		os.Remove(u.part.infoPath)
		return fmt.Errorf("fsstore: start upload of %q: %w", u.name, err)
	}
	u.f = f
	return syncDir(filepath.Dir(u.tmp))
}

// writeSynced writes a small file and fsyncs it.
func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Resumed reports the bytes an earlier upload of the same source left, and
// their SHA-256; 0 for a fresh or not resumable upload.
func (u *Upload) Resumed() (int64, [32]byte) {
	if u.part == nil {
		return 0, [32]byte{}
	}
	return u.part.resumed, u.part.prefix
}

// Keep ends an interrupted resumable upload, keeping its bytes for a later
// one (fsynced: they are what the next client's hash is compared with).
// For an upload that is not resumable it is Abort.
func (u *Upload) Keep() error {
	if u.part == nil {
		return u.Abort()
	}
	if u.done {
		return nil
	}
	u.done = true
	err := u.f.Sync()
	if cerr := u.f.Close(); err == nil {
		err = cerr
	}
	u.closed = true
	return err
}

// remove deletes a partial upload's files.
func (p *partial) remove(s *Store) {
	os.Remove(filepath.Join(s.dir, PartialDir, p.key+".part"))
	os.Remove(p.infoPath)
}

// readPartial reads the .info of key and the size of its .part.
func (s *Store) readPartial(key string) (Partial, bool) {
	dir := filepath.Join(s.dir, PartialDir)
	b, err := os.ReadFile(filepath.Join(dir, key+".info"))
	if err != nil {
		return Partial{}, false
	}
	p, err := parsePartialInfo(b)
	if err != nil {
		return Partial{}, false
	}
	st, err := os.Stat(filepath.Join(dir, key+".part"))
	if err != nil {
		return Partial{}, false
	}
	p.Have, p.Touched, p.key = st.Size(), st.ModTime(), key
	return p, true
}

var errPartialInfo = errors.New("fsstore: malformed partial upload info")

func parsePartialInfo(b []byte) (Partial, error) {
	var p Partial
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 5 || lines[0] != partialMagic {
		return p, errPartialInfo
	}
	id, err := hex.DecodeString(lines[1])
	if err != nil || len(id) != 16 {
		return p, errPartialInfo
	}
	copy(p.Client[:], id)
	if p.Size, err = strconv.ParseInt(lines[2], 10, 64); err != nil || p.Size < 0 {
		return p, errPartialInfo
	}
	ns, err := strconv.ParseInt(lines[3], 10, 64)
	if err != nil {
		return p, errPartialInfo
	}
	p.MTime, p.Path = fromNanos(ns), lines[4]
	if ValidatePath(p.Path) != nil {
		return p, errPartialInfo
	}
	return p, nil
}

// Partials lists the partial uploads kept, oldest first.
func (s *Store) Partials() []Partial {
	ents, _ := os.ReadDir(filepath.Join(s.dir, PartialDir))
	var out []Partial
	for _, e := range ents {
		key, ok := strings.CutSuffix(e.Name(), ".info")
		if !ok {
			continue
		}
		if p, ok := s.readPartial(key); ok {
			out = append(out, p)
		}
	}
	sort.Sort(byTouched(out))
	return out
}

// byTouched orders partial uploads oldest first. sort.Sort's code is in
// every build already (compress/flate sorts with it); sort.Slice would add
// a second copy and reflection to swap.
type byTouched []Partial

func (p byTouched) Len() int           { return len(p) }
func (p byTouched) Less(i, j int) bool { return p[i].Touched.Before(p[j].Touched) }
func (p byTouched) Swap(i, j int)      { p[i], p[j] = p[j], p[i] }

// ExpirePartials drops partial uploads not written for maxAge, then the
// oldest until they hold at most maxTotal bytes, and files of the folder
// that are not a whole partial upload (a .part without .info or the
// reverse, left by a crash between their creations). Partial uploads in
// use by a session are not touched while it writes them: they are the
// newest. It returns how many it dropped.
func (s *Store) ExpirePartials(maxAge time.Duration, maxTotal int64, now time.Time) int {
	dir := filepath.Join(s.dir, PartialDir)
	ents, _ := os.ReadDir(dir)
	whole := map[string]bool{}
	ps := s.Partials()
	for _, p := range ps {
		whole[p.key] = true
	}
	dropped := 0
	for _, e := range ents {
		key := strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".info"), ".part")
		if !whole[key] && now.Sub(modTime(e)) > time.Minute {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	var total int64
	for _, p := range ps {
		total += p.Have
	}
	for _, p := range ps {
		if now.Sub(p.Touched) > maxAge || (maxTotal > 0 && total > maxTotal) {
			(&partial{key: p.key, infoPath: filepath.Join(dir, p.key+".info")}).remove(s)
			total -= p.Have
			dropped++
		}
	}
	return dropped
}

func modTime(e os.DirEntry) time.Time {
	if fi, err := e.Info(); err == nil {
		return fi.ModTime()
	}
	return time.Time{}
}
