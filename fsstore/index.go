package fsstore

import (
	"bytes"
	"encoding/binary"
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

// countRecords counts the records whose type is in the bit set types by following the length
// fields from the first record, without checking CRCs: a size hint for the
// index, exact for a healthy table. It stops at the first implausible
// header.
func countRecords(data []byte, types uint32) int {
	n := 0
	for off := HeaderSize; off+RecordHeaderSize <= len(data); {
		size := recordLen(data[off:])
		if size == 0 {
			break
		}
		if data[off+2] < 32 && types&(1<<data[off+2]) != 0 {
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
	live   int64                  // size of the table once compacted
	status map[int32]clientStatus // clients disabled, being removed or removed (clients_admin.go)
}

func newClientIndex(hint int) clientIndex {
	return clientIndex{
		ents:   make([]clientEnt, 0, hint),
		byID:   newHashTable(hint),
		byName: newHashTable(hint),
		seed:   maphash.MakeSeed(),
		live:   HeaderSize,
		status: make(map[int32]clientStatus),
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

// find returns the client with this ID, or -1 (also for one removed).
func (x *clientIndex) find(id [16]byte) int32 {
	_, i := x.findID(id[:])
	if i >= 0 && x.removed(i) {
		return -1
	}
	return i
}

// byNameFind returns the client with this name, or -1 (also for one
// removed).
func (x *clientIndex) byNameFind(name string) int32 {
	_, i := x.findName([]byte(name))
	if i >= 0 && x.removed(i) {
		return -1
	}
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
	case recClientStatus, recClientRemoved:
		return x.applyStatus(typ, p)
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
		if x.revive(i) {
			renamed = true
		} else {
			x.live -= int64(len(x.v.record(x.ents[i].off)))
		}
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
	c.status = x.status[i]
	return c
}

// emit writes one client record per client, LastSeen folded in, followed
// by its status record if it is disabled or being removed, and the offset
// of each client record into offs. Removed clients are left out.
func (x *clientIndex) emit(w io.Writer, offs []int64) error {
	buf := make([]byte, 0, RecordHeaderSize+MaxPayload)
	pos := int64(HeaderSize)
	for i, e := range x.ents {
		if x.removed(int32(i)) {
			continue
		}
		buf = append(buf[:0], x.v.record(e.off)...)
		binary.LittleEndian.PutUint64(buf[RecordHeaderSize+24:], uint64(e.seen))
		binary.LittleEndian.PutUint32(buf[8:], recordCRC(buf[:8], buf[RecordHeaderSize:]))
		if _, err := w.Write(buf); err != nil {
			return err
		}
		offs[i] = pos
		pos += int64(len(buf))
		n, err := x.emitStatus(w, int32(i), buf)
		if err != nil {
			return err
		}
		pos += n
	}
	return nil
}

// remap points the index at a compacted table. The records of removed
// clients, which the table no longer holds but the hash tables still key
// on, move to the tail.
func (x *clientIndex) remap(offs []int64, mapped []byte, unmap func() error) {
	var kept view
	for i, e := range x.ents {
		if x.removed(int32(i)) {
			offs[i] = kept.add(x.v.record(e.off))
		}
	}
	x.v.reset(mapped, unmap)
	x.v.tail = kept.tail
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
		Disabled:   c.status.state == statusDisabled || c.status.state == statusRemoving,
		DisabledAt: fromNanos(c.status.at),
	}
}
