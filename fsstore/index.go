package fsstore

import (
	"encoding/hex"
	"fmt"
	"io"
)

// clientIndex is the in-memory client table. Not safe for concurrent use:
// the Store's lock guards it.
type clientIndex struct {
	recs   []clientRec
	byID   map[[16]byte]int32
	byName map[string]int32
	live   int64 // size of the table once compacted
	arena  *arena
}

func newClientIndex(hint int) clientIndex {
	return clientIndex{
		recs:   make([]clientRec, 0, hint),
		byID:   make(map[[16]byte]int32, hint),
		byName: make(map[string]int32, hint),
		live:   HeaderSize,
		arena:  new(arena),
	}
}

// apply folds one record of the client table into the index.
func (x *clientIndex) apply(typ byte, p []byte) error {
	switch typ {
	case recClient:
		c, err := decodeClient(p, x.arena)
		if err != nil {
			return err
		}
		x.put(&c)
	case recTouch:
		id, seen, err := decodeTouch(p)
		if err != nil {
			return err
		}
		i, ok := x.byID[id]
		if !ok {
			return fmt.Errorf("last-seen update for unknown client %x", id)
		}
		x.recs[i].seen = seen
	default:
		return fmt.Errorf("unknown record type %d in the client table", typ)
	}
	return nil
}

// put adds a client or replaces the one with the same ID.
func (x *clientIndex) put(c *clientRec) {
	x.live += clientRecordSize(c)
	if i, ok := x.byID[c.id]; ok {
		old := &x.recs[i]
		x.live -= clientRecordSize(old)
		if old.name != c.name {
			delete(x.byName, old.name)
			x.byName[c.name] = i
		}
		*old = *c
		return
	}
	i := int32(len(x.recs))
	x.recs = append(x.recs, *c)
	x.byID[c.id] = i
	x.byName[c.name] = i
}

// emit writes one client record per client, LastSeen folded in.
func (x *clientIndex) emit(w io.Writer) error {
	var buf []byte
	for i := range x.recs {
		buf = appendClient(buf[:0], &x.recs[i])
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

func (c *clientRec) client() Client {
	return Client{
		ID:         c.id,
		Name:       c.name,
		KeyKind:    c.kind,
		PublicKey:  append([]byte(nil), c.key...),
		Registered: fromNanos(c.reg),
		LastSeen:   fromNanos(c.seen),
	}
}

// fileKey identifies a stored file.
type fileKey struct {
	client [16]byte
	name   string
}

// fileIndex is the in-memory file table. The files of one client form a
// list through fileRec.next, starting at heads[client]; heads is built on
// first use (only Files needs it), which keeps it out of Open. Not safe for
// concurrent use: the Store's lock guards it.
type fileIndex struct {
	recs    []fileRec
	byKey   map[fileKey]int32
	heads   map[[16]byte]int32 // nil until linkClients
	pending map[int32]fileVer  // previous versions of commits in progress
	live    int64
	arena   *arena
}

func newFileIndex(hint int) fileIndex {
	return fileIndex{
		recs:    make([]fileRec, 0, hint),
		byKey:   make(map[fileKey]int32, hint),
		pending: make(map[int32]fileVer),
		live:    HeaderSize,
		arena:   new(arena),
	}
}

// apply folds one record of the file table into the index.
func (x *fileIndex) apply(typ byte, p []byte) error {
	switch typ {
	case recFile:
		f, prev, err := decodeFile(p, x.arena)
		if err != nil {
			return err
		}
		x.put(&f, &prev)
	case recFileDelete:
		id, name, err := decodeDelete(p, x.arena)
		if err != nil {
			return err
		}
		x.remove(id, name)
	default:
		return fmt.Errorf("unknown record type %d in the file table", typ)
	}
	return nil
}

// put records the latest version of a file; prev matters only when f is
// pending. It returns the file's index.
func (x *fileIndex) put(f *fileRec, prev *fileVer) int32 {
	i, ok := x.byKey[fileKey{f.client, f.name}]
	if !ok {
		i = int32(len(x.recs))
		x.recs = append(x.recs, fileRec{client: f.client, name: f.name, next: -1, deleted: true})
		x.byKey[fileKey{f.client, f.name}] = i
		if x.heads != nil {
			x.link(i)
		}
	}
	r := &x.recs[i]
	if !r.deleted {
		x.live -= fileRecordSize(r)
	}
	r.fileVer, r.deleted = f.fileVer, false
	x.live += fileRecordSize(r)
	if r.flags&flagPending != 0 {
		x.pending[i] = *prev
	} else if len(x.pending) > 0 {
		delete(x.pending, i)
	}
	return i
}

// linkClients builds the per-client lists.
func (x *fileIndex) linkClients() {
	x.heads = make(map[[16]byte]int32)
	for i := range x.recs {
		x.link(int32(i))
	}
}

// link puts file i at the head of its client's list.
func (x *fileIndex) link(i int32) {
	r := &x.recs[i]
	r.next = -1
	if head, ok := x.heads[r.client]; ok {
		r.next = head
	}
	x.heads[r.client] = i
}

// remove drops a file from the listing.
func (x *fileIndex) remove(client [16]byte, name string) {
	i, ok := x.byKey[fileKey{client, name}]
	if !ok || x.recs[i].deleted {
		return
	}
	x.live -= fileRecordSize(&x.recs[i])
	x.recs[i].deleted = true
	delete(x.pending, i)
}

// get returns the index of a listed file, or -1.
func (x *fileIndex) get(client [16]byte, name string) int32 {
	i, ok := x.byKey[fileKey{client, name}]
	if !ok || x.recs[i].deleted {
		return -1
	}
	return i
}

// emit writes one record per listed file.
func (x *fileIndex) emit(w io.Writer) error {
	var buf []byte
	for i := range x.recs {
		r := &x.recs[i]
		if r.deleted {
			continue
		}
		prev := x.pending[int32(i)]
		buf = appendFile(buf[:0], r, &prev)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
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
