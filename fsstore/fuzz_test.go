package fsstore

import (
	"bytes"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	clients, files := goldenTables()
	for _, tbl := range [][]byte{clients, files, goldenTreeTable()} {
		for off := HeaderSize; off < len(tbl); {
			_, _, n, _ := DecodeRecord(tbl[off:])
			f.Add(tbl[off : off+n])
			off += n
		}
		f.Add(tbl)
	}
	f.Add([]byte{0xFE, 0x52, 1, 0, 0xff, 0xff, 0xff, 0xff})
}

// FuzzDecodeRecord: no input panics; an accepted record re-encodes to the
// same bytes, and an accepted payload (of every type, the file records of
// both formats, removals, intents) re-encodes to the same payload.
func FuzzDecodeRecord(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, p, n, ok := DecodeRecord(b)
		if !ok {
			// Reach the payload decoders too: wrap the input in a valid
			// record, the first byte choosing the type.
			if len(b) == 0 || len(b) > MaxPayload {
				return
			}
			b = endRecord(append(beginRecord(nil, b[0]%9), b[1:]...), 0)
			typ, p, n, ok = DecodeRecord(b)
			if !ok {
				t.Fatalf("wrapped record %x rejected", b)
			}
		}
		re := endRecord(append(beginRecord(nil, typ), p...), 0)
		if !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoded record %x differs from %x", re, b[:n])
		}
		var again []byte
		switch typ {
		case recClient:
			c, err := decodeClient(p)
			if err != nil {
				return
			}
			again = appendClient(nil, &c)
		case recTouch:
			id, seen, err := decodeTouch(p)
			if err != nil {
				return
			}
			again = appendTouch(nil, &id, seen)
		case recFile:
			fr, prev, err := decodeFile1(p)
			if err != nil {
				return
			}
			again = appendFile1(nil, &fr, &prev)
		case recFile2:
			fr, prev, err := decodeFile2(p)
			if err != nil {
				return
			}
			again = appendFile(nil, &fr, &prev)
		case recFileDelete:
			id, name, err := decodeDelete(typ, p)
			if err != nil {
				return
			}
			again = appendDelete1(nil, &id, name)
		case recFileDelete2:
			id, name, err := decodeDelete(typ, p)
			if err != nil {
				return
			}
			again = appendDelete(nil, &id, name)
		case recIntent:
			in, err := decodeIntent(p)
			if err != nil {
				return
			}
			again = appendIntent(nil, &in)
		case recIntentDone:
			id, err := decodeIntentDone(p)
			if err != nil {
				return
			}
			again = appendIntentDone(nil, &id)
		default:
			return
		}
		if !bytes.Equal(again, b[:n]) {
			t.Fatalf("payload of type %d re-encodes to %x, not %x", typ, again, b[:n])
		}
	})
}

// FuzzScan: scanning any bytes never panics, and the records and damaged
// ranges it reports tile the input exactly.
func FuzzScan(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var covered int64
		res := scan(bytes.NewReader(b), 0, int64(len(b)), func(typ byte, p []byte, off int64) {
			if off < covered {
				t.Fatalf("record at %d overlaps the previous one ending at %d", off, covered)
			}
			covered = off + int64(RecordHeaderSize+len(p))
		})
		if res.end > int64(len(b)) || res.end+res.tail != int64(len(b)) {
			t.Fatalf("end %d + tail %d != %d", res.end, res.tail, len(b))
		}
		ci, fi := newClientIndex(0), newFileIndex(0)
		ci.v.mapped, fi.v.mapped = b, b
		scan(bytes.NewReader(b), 0, int64(len(b)), func(typ byte, p []byte, off int64) {
			ci.apply(typ, p, off)
			fi.apply(typ, p, off)
		})
		for i := range ci.ents {
			ci.rec(int32(i))
		}
		for i := range fi.ents {
			fi.rec(int32(i))
		}
	})
}

// FuzzValidatePath: no input panics; an accepted path is clean, local
// (filepath.IsLocal: no "..", not absolute, no reserved names) and made of
// valid names, and a single accepted name is an accepted path.
func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"a", "logs/2026/x.log", "../x", "a//b", "a/./b", "/a", "a/", "a\u202eb", ".ferry-tmp-x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if ValidateName(p) == nil && ValidatePath(p) != nil {
			t.Fatalf("name %q accepted, path refused", p)
		}
		if ValidatePath(p) != nil {
			return
		}
		if path.Clean(p) != p || !filepath.IsLocal(filepath.FromSlash(p)) || strings.HasPrefix(p, "/") {
			t.Fatalf("accepted %q is not a clean local path", p)
		}
		for _, elem := range strings.Split(p, "/") {
			if err := ValidateName(elem); err != nil {
				t.Fatalf("accepted %q has a bad component: %v", p, err)
			}
		}
	})
}

// FuzzFileRecord feeds payloads to the decoder of file records (type 5):
// no input panics; an accepted payload re-encodes to the same bytes, holds
// a path valid for a record, a sanitized mode, and a previous version only
// when pending and not new; and indexing it works.
func FuzzFileRecord(f *testing.F) {
	tbl := goldenTreeTable()
	for off := HeaderSize; off < len(tbl); {
		typ, p, n, _ := DecodeRecord(tbl[off:])
		if typ == recFile2 {
			f.Add(p)
		}
		off += n
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		r, prev, err := decodeFile2(p)
		if err != nil {
			return
		}
		pending := r.flags&(flagPending|flagNew) == flagPending
		again := appendFile(nil, &r, &prev)
		if !bytes.Equal(again[RecordHeaderSize:], p) {
			t.Fatalf("payload %x re-encodes to %x", p, again[RecordHeaderSize:])
		}
		if pathProblem([]byte(r.name), safeNameProblem) != "" || r.mode&^modeMask != 0 || r.size < 0 ||
			pending != (len(p) > file2FixedSize+len(r.name)) {
			t.Fatalf("accepted %+v (previous %+v)", r, prev)
		}
		x := newFileIndex(0)
		i := x.add(again)
		if got := x.rec(i); got != r {
			t.Fatalf("indexed %+v, decoded %+v", got, r)
		}
	})
}
