package fsstore

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"io"
	"os"
)

// fileEnt is one (client, path): where its latest record is, and the
// client's list.
type fileEnt struct {
	off     int64
	next    int32 // next file of the same client, -1 at the end; valid once heads is built
	deleted bool  // unlisted by a removal record
}

// fileIndex is the in-memory file table: 16 bytes per file plus a hash
// table of 8-byte slots. The files of one client form a list through
// fileEnt.next, starting at heads[client]; heads is built on first use (only
// Files needs it), which keeps it out of Open. Not safe for concurrent use:
// the Store's lock guards it.
type fileIndex struct {
	v       view
	ents    []fileEnt
	byKey   hashTable
	heads   map[[16]byte]int32 // nil until linkClients
	pending map[int32]fileVer  // previous versions of commits in progress (flags flagNew: none)
	intents map[[16]byte]int64 // offsets of the open intent (type 7) of each client
	seed    maphash.Seed
	live    int64

	intentOffs map[[16]byte]int64 // where emit wrote the intents, for remap
}

func newFileIndex(hint int) fileIndex {
	return fileIndex{
		ents:    make([]fileEnt, 0, hint),
		byKey:   newHashTable(hint),
		pending: make(map[int32]fileVer),
		intents: make(map[[16]byte]int64),
		seed:    maphash.MakeSeed(),
		live:    HeaderSize,
	}
}

func (x *fileIndex) view() *view { return &x.v }

func (x *fileIndex) reserve(n int) {
	if n > cap(x.ents) {
		x.ents = make([]fileEnt, 0, n)
		x.byKey = newHashTable(n)
	}
}

// keyOf returns the client ID and path of file i (from its latest file
// record, of type 3 or 5: a removal only sets the deleted flag).
func (x *fileIndex) keyOf(i int32) (id, name []byte) {
	return recordKey(x.v.record(x.ents[i].off))
}

// recordKey returns the client ID and path of a file record.
func recordKey(rec []byte) (id, name []byte) {
	p := rec[RecordHeaderSize:]
	if rec[2] == recFile {
		return p[:16], p[fileFixedSize : fileFixedSize+int(p[37])]
	}
	return p[:16], p[file2FixedSize : file2FixedSize+int(binary.LittleEndian.Uint16(p[file2PathOff:]))]
}

func (x *fileIndex) hash(id, name []byte) uint64 {
	return maphash.Bytes(x.seed, name) ^ maphash.Bytes(x.seed, id)*0x9E3779B97F4A7C15
}

func (x *fileIndex) findKey(id, name []byte) (probe, int32) {
	p := x.byKey.probe(x.hash(id, name))
	for i := p.next(); i >= 0; i = p.next() {
		if eid, ename := x.keyOf(i); bytes.Equal(ename, name) && bytes.Equal(eid, id) {
			return p, i
		}
	}
	return p, -1
}

// get returns the index of a listed file, or -1.
func (x *fileIndex) get(client [16]byte, name string) int32 {
	_, i := x.findKey(client[:], []byte(name))
	if i < 0 || x.ents[i].deleted {
		return -1
	}
	return i
}

// apply folds the record at off, with payload p, into the index.
func (x *fileIndex) apply(typ byte, p []byte, off int64) error {
	switch typ {
	case recFile, recFile2:
		check := checkFile2
		if typ == recFile {
			check = checkFile1
		}
		name, err := check(p)
		if err != nil {
			return err
		}
		x.put(typ, p, name, off)
	case recFileDelete, recFileDelete2:
		check := checkDelete2
		if typ == recFileDelete {
			check = checkDelete1
		}
		name, err := check(p)
		if err != nil {
			return err
		}
		x.remove(p[:16], name)
	case recIntent:
		if _, err := decodeIntent(p); err != nil {
			return err
		}
		x.intents[[16]byte(p[:16])] = off
		x.live += int64(RecordHeaderSize + len(p))
	case recIntentDone:
		id, err := decodeIntentDone(p)
		if err != nil {
			return err
		}
		x.endIntent(id)
	default:
		return fmt.Errorf("unknown record type %d in the file table", typ)
	}
	return nil
}

// endIntent forgets the open intent of a client.
func (x *fileIndex) endIntent(id [16]byte) {
	if off, ok := x.intents[id]; ok {
		x.live -= int64(len(x.v.record(off)))
		delete(x.intents, id)
	}
}

// liveSize is the size a file record has once compaction has rewritten it
// as type 5.
func liveSize(typ byte, p []byte) int64 {
	n := int64(RecordHeaderSize + len(p))
	if typ == recFile {
		n += file2FixedSize - fileFixedSize
		if p[36]&flagPending != 0 {
			n += verSize - filePrevSize
		}
	}
	return n
}

// put indexes the file record of type typ at off with payload p and
// returns its entry.
func (x *fileIndex) put(typ byte, p, name []byte, off int64) int32 {
	if x.byKey.full() {
		x.byKey.grow(func(i int32) uint64 { return x.hash(x.keyOf(i)) })
	}
	pr, i := x.findKey(p[:16], name)
	if i < 0 {
		i = int32(len(x.ents))
		x.ents = append(x.ents, fileEnt{off: off, next: -1, deleted: true})
		pr.insert(i)
		if x.heads != nil {
			x.link(i)
		}
	}
	e := &x.ents[i]
	if !e.deleted {
		rec := x.v.record(e.off)
		x.live -= liveSize(rec[2], rec[RecordHeaderSize:])
	}
	e.off, e.deleted = off, false
	x.live += liveSize(typ, p)
	switch {
	case p[36]&flagPending == 0:
		if len(x.pending) > 0 {
			delete(x.pending, i)
		}
	case p[36]&flagNew != 0:
		x.pending[i] = fileVer{flags: flagNew}
	case typ == recFile:
		x.pending[i], _ = decodeVer1(p[len(p)-filePrevSize:])
	default:
		x.pending[i], _ = decodeVer(p[len(p)-verSize:])
	}
	return i
}

// remove unlists a file.
func (x *fileIndex) remove(id, name []byte) {
	_, i := x.findKey(id, name)
	if i < 0 || x.ents[i].deleted {
		return
	}
	rec := x.v.record(x.ents[i].off)
	x.live -= liveSize(rec[2], rec[RecordHeaderSize:])
	x.ents[i].deleted = true
	delete(x.pending, i)
}

// add indexes a record appended at run time and keeps its bytes; for a file
// or removal record it returns the file's entry (-1 for a removal of an
// unknown file, and for intents).
func (x *fileIndex) add(rec []byte) int32 {
	p := rec[RecordHeaderSize:]
	switch rec[2] {
	case recFileDelete2:
		name, _ := checkDelete2(p)
		_, i := x.findKey(p[:16], name)
		x.remove(p[:16], name)
		return i
	case recIntent:
		x.intents[[16]byte(p[:16])] = x.v.add(rec)
		x.live += int64(len(rec))
		return -1
	case recIntentDone:
		x.endIntent([16]byte(p[:16]))
		return -1
	}
	name, err := checkFile2(p)
	if rec[2] != recFile2 || err != nil {
		panic("fsstore: internal error: encoded an invalid file record")
	}
	return x.put(recFile2, p, name, x.v.add(rec))
}

// rec returns file i's latest record.
func (x *fileIndex) rec(i int32) fileRec {
	rec := x.v.record(x.ents[i].off)
	f, _, err := decodeFileRecord(rec[2], rec[RecordHeaderSize:])
	if err != nil {
		panic("fsstore: internal error: indexed an invalid file record")
	}
	return f
}

// intent returns the open intent of a client.
func (x *fileIndex) intent(id [16]byte) (intentRec, bool) {
	off, ok := x.intents[id]
	if !ok {
		return intentRec{}, false
	}
	in, err := decodeIntent(x.v.payload(off))
	if err != nil {
		panic("fsstore: internal error: indexed an invalid intent record")
	}
	return in, true
}

// linkClients builds the per-client lists.
func (x *fileIndex) linkClients() {
	x.heads = make(map[[16]byte]int32)
	for i := range x.ents {
		x.link(int32(i))
	}
}

// link puts file i at the head of its client's list.
func (x *fileIndex) link(i int32) {
	id, _ := x.keyOf(i)
	e := &x.ents[i]
	e.next = -1
	if head, ok := x.heads[[16]byte(id)]; ok {
		e.next = head
	}
	x.heads[[16]byte(id)] = i
}

// emit writes one record of type 5 per listed file (upgrading records of
// type 3) and the open intents, and the offset of each file record into
// offs.
func (x *fileIndex) emit(w io.Writer, offs []int64) error {
	pos := int64(HeaderSize)
	var buf []byte
	for i, e := range x.ents {
		if e.deleted {
			continue
		}
		rec := x.v.record(e.off)
		if rec[2] == recFile {
			f, prev, _ := decodeFile1(rec[RecordHeaderSize:])
			buf = appendFile(buf[:0], &f, &prev)
			rec = buf
		}
		if _, err := w.Write(rec); err != nil {
			return err
		}
		offs[i] = pos
		pos += int64(len(rec))
	}
	x.intentOffs = make(map[[16]byte]int64, len(x.intents))
	for id, off := range x.intents {
		rec := x.v.record(off)
		if _, err := w.Write(rec); err != nil {
			return err
		}
		x.intentOffs[id] = pos
		pos += int64(len(rec))
	}
	return nil
}

// remap points the index at a compacted table. The records of unlisted
// files, which the table no longer holds but the hash table still keys on,
// move to the tail.
func (x *fileIndex) remap(offs []int64, mapped []byte, unmap func() error) {
	var kept view
	for i, e := range x.ents {
		if e.deleted {
			offs[i] = kept.add(x.v.record(e.off))
		}
	}
	x.v.reset(mapped, unmap)
	x.v.tail = kept.tail
	for i := range x.ents {
		x.ents[i].off = offs[i]
	}
	for id := range x.intents {
		x.intents[id] = x.intentOffs[id]
	}
	x.intentOffs = nil
}

// storedPath is where a file's bytes live, relative to the data directory.
func storedPath(client [16]byte, name string) string {
	return FilesDir + "/" + hex.EncodeToString(client[:]) + "/" + name
}

func (r *fileRec) file() File {
	return File{
		ClientID: r.client,
		Name:     r.name,
		Path:     storedPath(r.client, r.name),
		Verified: r.flags&flagVerified != 0,
		Size:     r.size,
		Cksum:    r.cksum,
		Time:     fromNanos(r.time),
		Classic:  r.flags&flagClassic != 0,
		Mode:     os.FileMode(r.mode),
		MTime:    fromNanos(r.mtime),
	}
}
