package fsstore

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"io"
)

// tableIndex is what loadTable fills.
type tableIndex interface {
	reserve(n int) // room for about n entries, before any apply
	apply(typ byte, p []byte, off int64) error
	view() *view
}

// countRecords counts the records of type typ by following the length
// fields from the first record, without checking CRCs: a size hint for the
// index, exact for a healthy table. It stops at the first implausible
// header.
func countRecords(data []byte, typ byte) int {
	n := 0
	for off := HeaderSize; off+RecordHeaderSize <= len(data); {
		size := recordLen(data[off:])
		if size == 0 {
			break
		}
		if data[off+2] == typ {
			n++
		}
		off += size
	}
	return n
}

// clientEnt is one client: where its latest client record is, and its
// LastSeen, which later updates may have changed.
type clientEnt struct {
	off  int64
	seen int64
}

// clientIndex is the in-memory client table: 16 bytes per client plus two
// hash tables of 8-byte slots; names and keys stay in the view. Not safe
// for concurrent use: the Store's lock guards it.
type clientIndex struct {
	v      view
	ents   []clientEnt
	byID   hashTable
	byName hashTable
	seed   maphash.Seed
	live   int64 // size of the table once compacted
}

func newClientIndex(hint int) clientIndex {
	return clientIndex{
		ents:   make([]clientEnt, 0, hint),
		byID:   newHashTable(hint),
		byName: newHashTable(hint),
		seed:   maphash.MakeSeed(),
		live:   HeaderSize,
	}
}

func (x *clientIndex) view() *view { return &x.v }

func (x *clientIndex) reserve(n int) {
	if n > cap(x.ents) {
		x.ents = make([]clientEnt, 0, n)
		x.byID, x.byName = newHashTable(n), newHashTable(n)
	}
}

func (x *clientIndex) payload(i int32) []byte { return x.v.payload(x.ents[i].off) }

func (x *clientIndex) nameOf(i int32) []byte {
	p := x.payload(i)
	return p[clientFixedSize : clientFixedSize+int(p[33])]
}

// findID returns the client with this ID, or -1 and the probe where it
// would be inserted.
func (x *clientIndex) findID(id []byte) (probe, int32) {
	p := x.byID.probe(maphash.Bytes(x.seed, id))
	for i := p.next(); i >= 0; i = p.next() {
		if bytes.Equal(x.payload(i)[:16], id) {
			return p, i
		}
	}
	return p, -1
}

func (x *clientIndex) findName(name []byte) (probe, int32) {
	p := x.byName.probe(maphash.Bytes(x.seed, name))
	for i := p.next(); i >= 0; i = p.next() {
		if bytes.Equal(x.nameOf(i), name) {
			return p, i
		}
	}
	return p, -1
}

// find returns the client with this ID, or -1.
func (x *clientIndex) find(id [16]byte) int32 {
	_, i := x.findID(id[:])
	return i
}

// byNameFind returns the client with this name, or -1.
func (x *clientIndex) byNameFind(name string) int32 {
	_, i := x.findName([]byte(name))
	return i
}

// apply folds the record at off, with payload p, into the index.
func (x *clientIndex) apply(typ byte, p []byte, off int64) error {
	switch typ {
	case recClient:
		name, err := checkClient(p)
		if err != nil {
			return err
		}
		x.put(p[:16], name, int64(binary.LittleEndian.Uint64(p[24:])), off, int64(RecordHeaderSize+len(p)))
	case recTouch:
		id, seen, err := decodeTouch(p)
		if err != nil {
			return err
		}
		_, i := x.findID(id[:])
		if i < 0 {
			return fmt.Errorf("last-seen update for unknown client %x", id)
		}
		x.ents[i].seen = seen
	default:
		return fmt.Errorf("unknown record type %d in the client table", typ)
	}
	return nil
}

// put indexes a client record of the given size at off.
func (x *clientIndex) put(id, name []byte, seen, off, size int64) {
	if x.byID.full() {
		x.byID.grow(func(i int32) uint64 { return maphash.Bytes(x.seed, x.payload(i)[:16]) })
	}
	pr, i := x.findID(id)
	x.live += size
	if i >= 0 {
		renamed := !bytes.Equal(x.nameOf(i), name)
		x.live -= int64(len(x.v.record(x.ents[i].off)))
		x.ents[i] = clientEnt{off, seen}
		if renamed {
			x.indexName(i, name)
		}
		return
	}
	i = int32(len(x.ents))
	x.ents = append(x.ents, clientEnt{off, seen})
	pr.insert(i)
	x.indexName(i, name)
}

// indexName points name at client i; the latest client with a name wins.
func (x *clientIndex) indexName(i int32, name []byte) {
	if x.byName.full() {
		x.byName.grow(func(i int32) uint64 { return maphash.Bytes(x.seed, x.nameOf(i)) })
	}
	pr, j := x.findName(name)
	if j >= 0 {
		pr.replace(i)
		return
	}
	pr.insert(i)
}

// add indexes a client record appended at run time and keeps its bytes.
func (x *clientIndex) add(rec []byte) {
	off := x.v.add(rec)
	p := rec[RecordHeaderSize:]
	name, err := checkClient(p)
	if err != nil {
		panic("fsstore: internal error: encoded an invalid client record")
	}
	x.put(p[:16], name, int64(binary.LittleEndian.Uint64(p[24:])), off, int64(len(rec)))
}

// rec returns client i as a record that owns its bytes.
func (x *clientIndex) rec(i int32) clientRec {
	c, err := decodeClient(x.payload(i))
	if err != nil {
		panic("fsstore: internal error: indexed an invalid client record")
	}
	c.seen = x.ents[i].seen
	return c
}

// emit writes one client record per client, LastSeen folded in, and the
// offset of each into offs.
func (x *clientIndex) emit(w io.Writer, offs []int64) error {
	buf := make([]byte, 0, RecordHeaderSize+MaxPayload)
	pos := int64(HeaderSize)
	for i, e := range x.ents {
		buf = append(buf[:0], x.v.record(e.off)...)
		binary.LittleEndian.PutUint64(buf[RecordHeaderSize+24:], uint64(e.seen))
		binary.LittleEndian.PutUint32(buf[8:], recordCRC(buf[:8], buf[RecordHeaderSize:]))
		if _, err := w.Write(buf); err != nil {
			return err
		}
		offs[i] = pos
		pos += int64(len(buf))
	}
	return nil
}

// remap points the index at a compacted table.
func (x *clientIndex) remap(offs []int64, mapped []byte, unmap func() error) {
	x.v.reset(mapped, unmap)
	for i := range x.ents {
		x.ents[i].off = offs[i]
	}
}

func (c *clientRec) client() Client {
	return Client{
		ID:         c.id,
		Name:       c.name,
		KeyKind:    c.kind,
		PublicKey:  c.key,
		Registered: fromNanos(c.reg),
		LastSeen:   fromNanos(c.seen),
	}
}

// fileEnt is one (client, name): where its latest record is, and the
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
	pending map[int32]fileVer  // previous versions of commits in progress
	seed    maphash.Seed
	live    int64
}

func newFileIndex(hint int) fileIndex {
	return fileIndex{
		ents:    make([]fileEnt, 0, hint),
		byKey:   newHashTable(hint),
		pending: make(map[int32]fileVer),
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

func (x *fileIndex) payload(i int32) []byte { return x.v.payload(x.ents[i].off) }

// keyOf returns the client ID and name of file i (from a file or removal
// record, which both start with the client ID).
func (x *fileIndex) keyOf(i int32) (id, name []byte) {
	p := x.payload(i)
	return p[:16], p[fileFixedSize : fileFixedSize+int(p[37])]
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
	case recFile:
		name, err := checkFile(p)
		if err != nil {
			return err
		}
		x.put(p, name, off)
	case recFileDelete:
		name, err := checkDelete(p)
		if err != nil {
			return err
		}
		x.remove(p[:16], name)
	default:
		return fmt.Errorf("unknown record type %d in the file table", typ)
	}
	return nil
}

// put indexes the file record at off with payload p and returns its entry.
func (x *fileIndex) put(p, name []byte, off int64) int32 {
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
		x.live -= int64(len(x.v.record(e.off)))
	}
	e.off, e.deleted = off, false
	x.live += int64(RecordHeaderSize + len(p))
	if p[36]&flagPending != 0 {
		x.pending[i], _ = decodeVer(p[len(p)-filePrevSize:])
	} else if len(x.pending) > 0 {
		delete(x.pending, i)
	}
	return i
}

// remove unlists a file.
func (x *fileIndex) remove(id, name []byte) {
	_, i := x.findKey(id, name)
	if i < 0 || x.ents[i].deleted {
		return
	}
	x.live -= int64(len(x.v.record(x.ents[i].off)))
	x.ents[i].deleted = true
	delete(x.pending, i)
}

// add indexes a file or removal record appended at run time and keeps its
// bytes; it returns the file's entry (-1 for a removal of an unknown file).
func (x *fileIndex) add(rec []byte) int32 {
	p := rec[RecordHeaderSize:]
	if rec[2] == recFileDelete {
		name, _ := checkDelete(p)
		_, i := x.findKey(p[:16], name)
		x.remove(p[:16], name)
		return i
	}
	name, err := checkFile(p)
	if err != nil {
		panic("fsstore: internal error: encoded an invalid file record")
	}
	return x.put(p, name, x.v.add(rec))
}

// rec returns file i's latest record.
func (x *fileIndex) rec(i int32) fileRec {
	f, _, err := decodeFile(x.payload(i))
	if err != nil {
		panic("fsstore: internal error: indexed an invalid file record")
	}
	return f
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

// emit writes one record per listed file and the offset of each into offs.
func (x *fileIndex) emit(w io.Writer, offs []int64) error {
	pos := int64(HeaderSize)
	for i, e := range x.ents {
		if e.deleted {
			continue
		}
		rec := x.v.record(e.off)
		if _, err := w.Write(rec); err != nil {
			return err
		}
		offs[i] = pos
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
	}
}
