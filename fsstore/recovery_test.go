package fsstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sampleDir builds a small data directory: three clients (one with a key
// set later), LastSeen updates, three files of which one was replaced, a
// file in folders whose folder is then renamed, and a folder removed.
func sampleDir(t testing.TB) string {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	a, _ := s.Register("alice", KeyEd25519, key32(1), t0)
	b, _ := s.Register("bob", KeyNone, nil, t0)
	s.Touch(a.ID, t0.Add(1))
	s.SetKey(b.ID, KeyRSA, bytes.Repeat([]byte{2}, 160))
	c, _ := s.Register("carol", KeyEd25519, key32(3), t0)
	s.Touch(c.ID, t0.Add(2))
	upload(t, s, a.ID, "a.txt", []byte("alpha"))
	upload(t, s, b.ID, "b.bin", []byte{0, 1, 2})
	upload(t, s, a.ID, "a.txt", []byte("alpha, second version"))
	upload(t, s, c.ID, "c", []byte("carol's file"))
	uploadMeta(t, s, a.ID, "dir/x/n.txt", []byte("nested"), 0o755, t0)
	s.Mkdir(a.ID, "empty", false)
	if err := s.Rename(a.ID, "dir", "moved", false); err != nil {
		t.Fatal(err)
	}
	upload(t, s, b.ID, "rm/f", []byte("removed"))
	if _, err := s.Remove(b.ID, "rm", true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// recordOfType returns the index of the first record of type typ.
func recordOfType(data []byte, typ byte) int {
	for i, off := 0, HeaderSize; off < len(data); i++ {
		rt, _, n, _ := DecodeRecord(data[off:])
		if rt == typ {
			return i
		}
		off += n
	}
	panic("no such record")
}

// recordEnds returns the end offset of every record of a table.
func recordEnds(t testing.TB, data []byte) []int {
	var ends []int
	for off := HeaderSize; off < len(data); {
		_, _, n, ok := DecodeRecord(data[off:])
		if !ok {
			t.Fatalf("sample table damaged at %d", off)
		}
		off += n
		ends = append(ends, off)
	}
	return ends
}

// expectState is the state the records of data fully inside [0, cut) give,
// skipping the records whose index is in skip.
func expectState(data []byte, kind byte, cut int, skip int) string {
	ci, fi := newClientIndex(0), newFileIndex(0)
	ci.v.mapped, fi.v.mapped = data, data
	i := 0
	for off := HeaderSize; off < cut; i++ {
		typ, p, n, ok := DecodeRecord(data[off:cut])
		if !ok {
			break
		}
		if i != skip {
			if kind == kindClients {
				ci.apply(typ, p, int64(off))
			} else {
				fi.apply(typ, p, int64(off))
			}
		}
		off += n
	}
	if kind == kindClients {
		return dumpClients(&ci)
	}
	return dumpFiles(&fi, finalFiles(data))
}

// finalFiles returns what the sample directory holds on disk: the latest
// listed version of each file in the whole table.
func finalFiles(data []byte) map[string]fileVer {
	fi := newFileIndex(0)
	fi.v.mapped = data
	for off := HeaderSize; off < len(data); {
		typ, p, n, _ := DecodeRecord(data[off:])
		fi.apply(typ, p, int64(off))
		off += n
	}
	out := make(map[string]fileVer)
	for i := range fi.ents {
		if !fi.ents[i].deleted {
			f := fi.rec(int32(i))
			out[fmt.Sprintf("%x/%s", f.client, f.name)] = f.fileVer
		}
	}
	return out
}

func dumpClients(x *clientIndex) string {
	var lines []string
	for i := range x.ents {
		c := x.rec(int32(i))
		lines = append(lines, fmt.Sprintf("%x %q %d %x %d %d", c.id, c.name, c.kind, c.key, c.reg, c.seen))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// dumpFiles lists the files; a pending commit is shown as Open resolves it
// with disk (the sample directory, where every rename happened): the new
// version if the disk has it, else the previous one or, for a new file,
// none. An open intent is shown completed, as Open does in the sample
// directory, where no old path of a rename exists any more.
func dumpFiles(x *fileIndex, disk map[string]fileVer) string {
	type row struct {
		client [16]byte
		name   string
		v      fileVer
	}
	var rows []row
	for i := range x.ents {
		f := x.rec(int32(i))
		if x.ents[i].deleted {
			continue
		}
		if f.flags&flagPending != 0 {
			d := disk[fmt.Sprintf("%x/%s", f.client, f.name)]
			switch {
			case d.size == f.size && d.cksum == f.cksum:
				f.flags = f.flags&^(flagPending|flagNew) | flagVerified
			case f.flags&flagNew != 0:
				continue
			default:
				f.fileVer = x.pending[int32(i)]
			}
		}
		rows = append(rows, row{f.client, f.name, f.fileVer})
	}
	for id := range x.intents {
		in, _ := x.intent(id)
		var moved []row
		kept := rows[:0]
		for _, r := range rows {
			if r.client == id && (r.name == in.old || strings.HasPrefix(r.name, in.old+"/")) {
				if in.op == opRename {
					r.name = in.new + r.name[len(in.old):]
					moved = append(moved, r)
				}
				continue
			}
			kept = append(kept, r)
		}
		rows = kept
		for _, m := range moved {
			rows = slices.DeleteFunc(rows, func(r row) bool { return r.client == m.client && r.name == m.name })
			rows = append(rows, m)
		}
	}
	var lines []string
	for _, r := range rows {
		lines = append(lines, fmt.Sprintf("%x %q %+v", r.client, r.name, r.v))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func stateOf(s *Store, kind byte) string {
	if kind == kindClients {
		return dumpClients(&s.clients)
	}
	return dumpFiles(&s.files, nil)
}

// copyDir copies a sample data directory.
func copyDir(t testing.TB, src string) string {
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// tableProblems returns the problems Check found in the tables themselves.
func tableProblems(rep Report) []Problem {
	var out []Problem
	for _, p := range rep.Problems {
		switch p.Kind {
		case ProblemHeader, ProblemDamaged, ProblemTornTail:
			out = append(out, p)
		}
	}
	return out
}

var tables = []struct {
	name string
	kind byte
}{{ClientsTable, kindClients}, {FilesTable, kindFiles}}

// TestTruncateEveryOffset cuts each table at every byte offset and reopens:
// Open must succeed, keep every record that ends before the cut and report a
// cut inside a record; Check must report it first.
func TestTruncateEveryOffset(t *testing.T) {
	src := sampleDir(t)
	for _, tb := range tables {
		t.Run(tb.name, func(t *testing.T) {
			t.Parallel() // fsync-bound
			orig, _ := os.ReadFile(filepath.Join(src, tb.name))
			ends := recordEnds(t, orig)
			dir := copyDir(t, src)
			for cut := 0; cut <= len(orig); cut++ {
				os.WriteFile(filepath.Join(dir, tb.name), orig[:cut], 0o600)
				onBoundary := cut == HeaderSize || slices.Contains(ends, cut)
				rep, err := Check(dir, false)
				if err != nil {
					t.Fatalf("cut %d: Check: %v", cut, err)
				}
				if found := tableProblems(rep); (len(found) == 0) != onBoundary {
					t.Fatalf("cut %d: Check found %v, on a record boundary: %v", cut, found, onBoundary)
				}
				var logs []string
				s := openT(t, dir, &logs)
				if got, want := stateOf(s, tb.kind), expectState(orig, tb.kind, cut, -1); got != want {
					t.Fatalf("cut %d: state\n%s\nwant\n%s", cut, got, want)
				}
				if l := strings.Join(logs, "\n"); !onBoundary && !strings.Contains(l, "torn tail") && !strings.Contains(l, "damaged header") {
					t.Fatalf("cut %d: findings %q", cut, logs)
				}
				s.Close()
				if rep, _ := Check(dir, false); len(tableProblems(rep)) > 0 {
					t.Fatalf("cut %d: table not clean after Open:\n%s", cut, rep.String())
				}
			}
		})
	}
}

// TestFlipEveryBit flips every bit of several records (a client, a LastSeen
// update, a file record in the middle, and the last record) and reopens: the
// damage is reported by Check and by Open, and every other record loads.
func TestFlipEveryBit(t *testing.T) {
	src := sampleDir(t)
	for _, tb := range tables {
		orig, _ := os.ReadFile(filepath.Join(src, tb.name))
		ends := recordEnds(t, orig)
		var picks []int
		if tb.kind == kindClients {
			picks = []int{0, 2} // a client and a LastSeen update
		} else {
			picks = []int{len(ends) / 2, recordOfType(orig, recIntent), len(ends) - 1}
		}
		for _, rec := range slices.Compact(picks) {
			t.Run(fmt.Sprintf("%s/record%d", tb.name, rec), func(t *testing.T) {
				t.Parallel() // fsync-bound
				flipRecord(t, src, tb.name, tb.kind, orig, ends, rec)
			})
		}
	}
}

func flipRecord(t *testing.T, src, table string, kind byte, orig []byte, ends []int, rec int) {
	start := HeaderSize
	if rec > 0 {
		start = ends[rec-1]
	}
	dir := copyDir(t, src)
	path := filepath.Join(dir, table)
	for bit := start * 8; bit < ends[rec]*8; bit++ {
		data := bytes.Clone(orig)
		data[bit/8] ^= 1 << (bit % 8)
		os.WriteFile(path, data, 0o600)
		rep, err := Check(dir, false)
		if err != nil || len(tableProblems(rep)) == 0 {
			t.Fatalf("bit %d: Check did not detect the flip (err %v)\n%s", bit, err, rep.String())
		}
		var logs []string
		s := openT(t, dir, &logs)
		got, want := stateOf(s, kind), expectState(orig, kind, len(orig), rec)
		s.Close()
		if got != want {
			t.Fatalf("bit %d: state\n%s\nwant\n%s", bit, got, want)
		}
		if len(logs) == 0 || !strings.Contains(strings.Join(logs, "\n"), fmt.Sprintf("offset %d", start)) {
			t.Fatalf("bit %d: findings %q do not name offset %d", bit, logs, start)
		}
		if bit%16 == 0 {
			checkRepair(t, dir, bit)
		}
	}
}

// checkRepair repairs dir and checks that only what cannot be repaired (files
// of a client whose record is lost) remains.
func checkRepair(t *testing.T, dir string, bit int) {
	t.Helper()
	rep, err := Check(dir, true)
	if err != nil {
		t.Fatalf("bit %d: repair: %v", bit, err)
	}
	for _, p := range rep.Problems {
		if !p.Repaired && p.Kind != ProblemUnknownClient {
			t.Fatalf("bit %d: not repaired: %v\n%s", bit, p, rep.String())
		}
	}
	rep, _ = Check(dir, false)
	for _, p := range rep.Problems {
		if p.Kind != ProblemUnknownClient {
			t.Fatalf("bit %d: after repair: %v\n%s", bit, p, rep.String())
		}
	}
}

// TestFlipHeaderBits flips every bit of each table header: reported, all
// records still load, and Open rewrites the header.
func TestFlipHeaderBits(t *testing.T) {
	src := sampleDir(t)
	for _, tb := range tables {
		orig, _ := os.ReadFile(filepath.Join(src, tb.name))
		dir := copyDir(t, src)
		for bit := range HeaderSize * 8 {
			data := bytes.Clone(orig)
			data[bit/8] ^= 1 << (bit % 8)
			os.WriteFile(filepath.Join(dir, tb.name), data, 0o600)
			rep, err := Check(dir, false)
			if err != nil || len(tableProblems(rep)) != 1 || tableProblems(rep)[0].Kind != ProblemHeader {
				t.Fatalf("%s bit %d: Check: %v\n%s", tb.name, bit, err, rep.String())
			}
			s := openT(t, dir, nil)
			got, want := stateOf(s, tb.kind), expectState(orig, tb.kind, len(orig), -1)
			s.Close()
			if got != want {
				t.Fatalf("%s bit %d: state\n%s\nwant\n%s", tb.name, bit, got, want)
			}
			if rep, _ := Check(dir, false); !rep.OK() {
				t.Fatalf("%s bit %d: not clean after Open:\n%s", tb.name, bit, rep.String())
			}
		}
	}
}

func TestForeignFileRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ClientsTable), []byte("this is somebody else's file, not a table\n"), 0o600)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNotTable) {
		t.Fatalf("Open over a foreign file: %v, want ErrNotTable", err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ClientsTable))
	if !strings.HasPrefix(string(data), "this is") {
		t.Fatal("foreign file modified")
	}
}

func TestNewerVersionRefused(t *testing.T) {
	for _, tc := range []struct {
		table   string
		kind    byte
		version uint16
	}{{ClientsTable, kindClients, 2}, {FilesTable, kindFiles, 3}, {FilesTable, kindFiles, 0}} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, tc.table), appendHeaderVersion(nil, tc.kind, tc.version), 0o600)
		if _, err := Open(dir, Options{}); !errors.Is(err, ErrVersion) {
			t.Fatalf("Open of a version %d %s: %v, want ErrVersion", tc.version, tc.table, err)
		}
	}
}
