package fsstore

import (
	"encoding/binary"
	"io"
	"os"
)

// view holds the bytes of a table's live records: the file as mapped when
// it was opened or last compacted, and the records added since. The index
// keeps only offsets into it, so that the names and keys of a million
// clients stay in the page cache instead of the heap.
//
// An offset >= 0 is a file offset into mapped; an offset < 0 is -(n+1) for
// position n in tail.
type view struct {
	mapped []byte
	unmap  func() error
	tail   []byte
}

// add appends a record to the tail and returns its offset.
func (v *view) add(rec []byte) int64 {
	off := -int64(len(v.tail)) - 1
	v.tail = append(v.tail, rec...)
	return off
}

// record returns the whole record at off.
func (v *view) record(off int64) []byte {
	var b []byte
	if off >= 0 {
		b = v.mapped[off:]
	} else {
		b = v.tail[-off-1:]
	}
	return b[:RecordHeaderSize+int(binary.LittleEndian.Uint32(b[4:]))]
}

// payload returns the payload of the record at off.
func (v *view) payload(off int64) []byte { return v.record(off)[RecordHeaderSize:] }

// reset installs a new mapping (after compaction) and releases the old one.
func (v *view) reset(mapped []byte, unmap func() error) {
	v.release()
	v.mapped, v.unmap, v.tail = mapped, unmap, nil
}

func (v *view) release() {
	if v.unmap != nil {
		v.unmap()
	}
	v.mapped, v.unmap = nil, nil
}

// forceRead makes mapFile read instead of map, to test that path.
var forceRead bool

// readFile reads the first size bytes of f into memory.
func readFile(f *os.File, size int64) ([]byte, func() error, error) {
	if int64(int(size)) != size {
		return nil, nil, io.ErrShortBuffer
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, nil, err
	}
	return b, nil, nil
}
