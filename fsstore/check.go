package fsstore

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ProblemKind classifies what Check found.
type ProblemKind uint8

// Problem kinds.
const (
	ProblemHeader        ProblemKind = iota + 1 // table header damaged or short
	ProblemDamaged                              // damaged record in the middle of a table
	ProblemTornTail                             // incomplete record at the end of a table
	ProblemPending                              // commit interrupted between its two records
	ProblemMissing                              // listed file not on disk
	ProblemMismatch                             // listed file's size or cksum differs from its record
	ProblemOrphan                               // file on disk that no record lists
	ProblemLeftover                             // temporary file of an unfinished upload or compaction
	ProblemUnknownClient                        // file records or directory of a client the client table lacks
	ProblemNotRegular                           // directory entry that is not a regular file
)

var problemNames = [...]string{
	ProblemHeader:        "damaged header",
	ProblemDamaged:       "damaged record",
	ProblemTornTail:      "torn tail",
	ProblemPending:       "interrupted commit",
	ProblemMissing:       "missing file",
	ProblemMismatch:      "size or checksum mismatch",
	ProblemOrphan:        "orphan file",
	ProblemLeftover:      "leftover temporary file",
	ProblemUnknownClient: "unknown client",
	ProblemNotRegular:    "not a regular file",
}

func (k ProblemKind) String() string {
	if int(k) < len(problemNames) && problemNames[k] != "" {
		return problemNames[k]
	}
	return fmt.Sprintf("problem %d", k)
}

// Problem is one thing Check found wrong.
type Problem struct {
	Kind     ProblemKind
	Path     string // relative to the data directory
	Offset   int64  // byte offset in a table, or -1
	Detail   string
	Repaired bool

	fix func(s *Store) error // repair, when not done by Open itself
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Path)
	if p.Offset >= 0 && (p.Kind == ProblemHeader || p.Kind == ProblemDamaged || p.Kind == ProblemTornTail) {
		fmt.Fprintf(&b, ": offset %d", p.Offset)
	}
	fmt.Fprintf(&b, ": %s", p.Kind)
	if p.Detail != "" {
		fmt.Fprintf(&b, ": %s", p.Detail)
	}
	if p.Repaired {
		b.WriteString(" (repaired)")
	}
	return b.String()
}

// Report is what Check found.
type Report struct {
	Dir     string
	Clients int // clients listed
	Files   int // files listed
	// Partials are the partial uploads kept for resume (DIR/partial): not
	// a problem, and not listed until a resumed upload commits them.
	Partials, PartialBytes int64
	Problems               []Problem
}

// OK reports whether nothing was wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Repaired reports whether every problem found was repaired.
func (r *Report) Repaired() bool {
	for _, p := range r.Problems {
		if !p.Repaired {
			return false
		}
	}
	return true
}

// Write prints a summary line and one line per problem.
func (r *Report) Write(w io.Writer) error {
	partials := ""
	if r.Partials > 0 {
		partials = fmt.Sprintf(", %d partial uploads kept for resume (%d bytes)", r.Partials, r.PartialBytes)
	}
	_, err := fmt.Fprintf(w, "%s: %d clients, %d files%s, %d problems\n", r.Dir, r.Clients, r.Files, partials, len(r.Problems))
	for _, p := range r.Problems {
		if err != nil {
			break
		}
		_, err = fmt.Fprintln(w, p)
	}
	return err
}

func (r *Report) String() string {
	var b strings.Builder
	r.Write(&b)
	return b.String()
}

// Check checks the data directory dir: the tables, and the stored files
// against them (missing, orphan, size or cksum mismatch, leftovers). With
// repair it then makes them consistent without losing verified data: Open
// cuts torn tails and resolves interrupted commits, damaged records are
// compacted away, missing files are unlisted, mismatching and orphan files are
// listed as unverified with their actual size and cksum, leftovers removed.
// The server must not be running during a repair.
func Check(dir string, repair bool) (Report, error) {
	rep, err := inspect(dir)
	if err != nil || !repair || rep.OK() {
		return rep, err
	}
	return rep, fix(dir, &rep)
}

// inspect is the read-only part of Check.
func inspect(dir string) (Report, error) {
	rep := Report{Dir: dir}
	if _, err := os.Stat(dir); err != nil {
		return rep, fmt.Errorf("fsstore: check: %w", err)
	}
	s := &Store{dir: dir}
	cl, fl, err := s.load(false)
	if err != nil {
		return rep, err
	}
	rep.Problems = append(append(rep.Problems, cl.findings...), fl.findings...)
	for _, name := range []string{ClientsTable, FilesTable} {
		if _, err := os.Stat(filepath.Join(dir, name+compactSuffix)); err == nil {
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemLeftover, Path: name + compactSuffix, Offset: -1, Detail: "unfinished compaction; removed by opening the store"})
		}
	}
	defer s.releaseViews()
	rep.Clients = len(s.Clients()) // not the removed ones
	for i := range s.files.ents {
		if !s.files.ents[i].deleted {
			rep.Files++
			rep.Problems = append(rep.Problems, s.checkFile(int32(i))...)
		}
	}
	for id := range s.files.intents {
		in, _ := s.files.intent(id)
		what := "rename to " + in.new
		if in.op == opRemove {
			what = "removal"
		}
		rep.Problems = append(rep.Problems, Problem{Kind: ProblemPending, Path: storedPath(in.client, in.old), Offset: -1, Detail: "interrupted " + what + "; completed by opening the store"})
	}
	orphans, err := s.walkFiles()
	rep.Problems = append(rep.Problems, orphans...)
	rep.Problems = append(rep.Problems, s.checkTempDir()...)
	for _, p := range s.Partials() {
		rep.Partials++
		rep.PartialBytes += p.Have
	}
	return rep, err
}

// checkTempDir reports what uploads left in TempDir; Open removes it.
func (s *Store) checkTempDir() []Problem {
	entries, _ := os.ReadDir(filepath.Join(s.dir, TempDir))
	var out []Problem
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			out = append(out, Problem{Kind: ProblemLeftover, Path: TempDir + "/" + e.Name(), Offset: -1, Detail: "unfinished upload; removed by opening the store"})
		}
	}
	return out
}

// checkFile compares one listed file with the bytes on disk.
func (s *Store) checkFile(i int32) []Problem {
	r := s.files.rec(i)
	rel := storedPath(r.client, r.name)
	var out []Problem
	if s.clients.find(r.client) < 0 {
		out = append(out, Problem{Kind: ProblemUnknownClient, Path: rel, Offset: -1, Detail: "listed file of a client the client table lacks"})
	}
	if r.flags&flagPending != 0 {
		return append(out, Problem{Kind: ProblemPending, Path: rel, Offset: -1, Detail: "resolved by opening the store"})
	}
	path := filepath.Join(s.dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return append(out, Problem{Kind: ProblemMissing, Path: rel, Offset: -1, Detail: "unlisted", fix: func(s *Store) error {
			return s.deleteFile(r.client, r.name)
		}})
	case err != nil:
		return append(out, Problem{Kind: ProblemMissing, Path: rel, Offset: -1, Detail: err.Error()})
	case !fi.Mode().IsRegular():
		return append(out, Problem{Kind: ProblemNotRegular, Path: rel, Offset: -1, Detail: fi.Mode().String()})
	}
	size, sum, _, err := fileCksum(path, -1, -1)
	if err != nil {
		return append(out, Problem{Kind: ProblemMismatch, Path: rel, Offset: -1, Detail: err.Error()})
	}
	if size != r.size || sum != r.cksum {
		detail := fmt.Sprintf("record says %d bytes cksum %d, disk has %d bytes cksum %d", r.size, r.cksum, size, sum)
		out = append(out, Problem{Kind: ProblemMismatch, Path: rel, Offset: -1, Detail: detail, fix: relist(r, size, sum)})
	}
	return out
}

// relist lists a file as unverified with the size and cksum it has on disk.
func relist(r fileRec, size int64, sum uint32) func(s *Store) error {
	r.fileVer = fileVer{size: size, time: r.time, cksum: sum, flags: r.flags & flagClassic}
	return func(s *Store) error {
		_, err := s.putFile(&r, nil)
		return err
	}
}

// walkFiles looks for stored files that no record lists.
func (s *Store) walkFiles() ([]Problem, error) {
	top := filepath.Join(s.dir, FilesDir)
	dirs, err := os.ReadDir(top)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fsstore: check: %w", err)
	}
	var out []Problem
	for _, d := range dirs {
		rel := FilesDir + "/" + d.Name()
		var id [16]byte
		if n, err := hex.Decode(id[:], []byte(d.Name())); err != nil || n != 16 || !d.IsDir() || hex.EncodeToString(id[:]) != d.Name() {
			out = append(out, Problem{Kind: ProblemOrphan, Path: rel, Offset: -1, Detail: "not a client directory; left alone"})
			continue
		}
		out = append(out, s.walkClient(id, rel)...)
	}
	return out, nil
}

func (s *Store) walkClient(id [16]byte, rel string) []Problem {
	var out []Problem
	known := s.clients.find(id) >= 0
	if !known {
		out = append(out, Problem{Kind: ProblemUnknownClient, Path: rel, Offset: -1, Detail: "directory of a client the client table lacks; left alone"})
	}
	return s.walkFolder(id, rel, "", known, out)
}

// walkFolder checks the entries of folder sub ("" for the root) of a
// client's directory rel; folders are walked into, an empty one is fine.
func (s *Store) walkFolder(id [16]byte, rel, sub string, known bool, out []Problem) []Problem {
	dir := rel
	if sub != "" {
		dir = rel + "/" + sub
	}
	entries, err := os.ReadDir(filepath.Join(s.dir, filepath.FromSlash(dir)))
	if err != nil {
		return append(out, Problem{Kind: ProblemOrphan, Path: dir, Offset: -1, Detail: err.Error()})
	}
	for _, e := range entries {
		p := e.Name()
		if sub != "" {
			p = sub + "/" + p
		}
		if e.IsDir() && ValidatePath(p) == nil {
			out = s.walkFolder(id, rel, p, known, out)
			continue
		}
		if pr := s.checkEntry(id, rel, p, e, known); pr != nil {
			out = append(out, *pr)
		}
	}
	return out
}

// checkEntry checks one entry of a client directory rel at path p (relative
// to the client's root).
func (s *Store) checkEntry(id [16]byte, rel, p string, e fs.DirEntry, known bool) *Problem {
	name := e.Name()
	full := rel + "/" + p
	path := filepath.Join(s.dir, filepath.FromSlash(full))
	switch {
	case strings.HasPrefix(name, tempPrefix) && e.Type().IsRegular():
		return &Problem{Kind: ProblemLeftover, Path: full, Offset: -1, Detail: "removed on repair", fix: func(*Store) error {
			return os.Remove(path)
		}}
	case !e.Type().IsRegular():
		return &Problem{Kind: ProblemNotRegular, Path: full, Offset: -1, Detail: e.Type().String() + "; left alone"}
	case s.files.get(id, p) >= 0:
		return nil
	case ValidatePath(p) != nil || !known:
		return &Problem{Kind: ProblemOrphan, Path: full, Offset: -1, Detail: "no record; left alone"}
	}
	return &Problem{Kind: ProblemOrphan, Path: full, Offset: -1, Detail: "no record; listed as unverified on repair", fix: func(s *Store) error {
		size, sum, _, err := fileCksum(path, -1, -1)
		if err != nil {
			return err
		}
		var mtime int64
		if fi, err := e.Info(); err == nil {
			mtime = toNanos(fi.ModTime())
		}
		_, err = s.putFile(&fileRec{client: id, name: p, fileVer: fileVer{size: size, time: mtime, cksum: sum, mtime: mtime}}, nil)
		return err
	}}
}

// fix repairs what inspect found.
func fix(dir string, rep *Report) error {
	s, err := Open(dir, Options{})
	if err != nil {
		return err
	}
	damaged := false
	for i := range rep.Problems {
		p := &rep.Problems[i]
		switch {
		case p.Kind == ProblemDamaged:
			damaged = true
		case p.Kind == ProblemHeader || p.Kind == ProblemTornTail || p.Kind == ProblemPending,
			p.Kind == ProblemLeftover && p.fix == nil:
			p.Repaired = true // Open did it
		case p.fix != nil:
			if err := p.fix(s); err != nil {
				p.Detail += "; repair failed: " + err.Error()
				continue
			}
			p.Repaired = true
		}
	}
	if damaged {
		err = s.Compact()
		for i := range rep.Problems {
			if rep.Problems[i].Kind == ProblemDamaged {
				rep.Problems[i].Repaired = err == nil
			}
		}
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}
