package fsstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Table file format.
const (
	HeaderSize       = 16       // magic 8 + version 2 + kind 1 + reserved 1 + CRC-32C 4
	RecordHeaderSize = 12       // magic 2 + type 1 + reserved 1 + payload length 4 + CRC-32C 4
	MaxPayload       = 12 << 10 // largest payload a record may declare: a rename intent with two 4095-byte paths (8212) fits
	FormatVersion    = 2        // newest table version: the file table's; the client table is at version 1
)

// Table kinds, byte 10 of the table header.
const (
	kindClients = 1
	kindFiles   = 2
)

// Record types, byte 2 of the record header.
const (
	recClient      = 1 // full client record
	recTouch       = 2 // LastSeen update
	recFile        = 3 // file record of the previous release (name up to 255 bytes, no mode or mtime); read, no longer written
	recFileDelete  = 4 // file tombstone of the previous release; read, no longer written
	recFile2       = 5 // file record: path, mode, mtime
	recFileDelete2 = 6 // file tombstone with a path
	recIntent      = 7 // a rename or removal in progress
	recIntentDone  = 8 // the client's intent is complete

	recClientStatus  = 9  // a client disabled, enabled again, or its removal begun
	recClientRemoved = 10 // a client's removal is complete
)

// tableMagic opens every table file.
var tableMagic = [8]byte{'F', 'E', 'R', 'R', 'Y', 'T', 'B', 'L'}

// recMagic opens every record, so that a reader can find the next record
// boundary after a damaged one.
var recMagic = [2]byte{0xFE, 0x52}

// castagnoli is the CRC-32C table; "123456789" gives 0xE3069283.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrVersion means a table was written by a newer ferry.
	ErrVersion = errors.New("fsstore: table format version not supported")
	// ErrNotTable means a file in the data directory is not a ferry table.
	ErrNotTable = errors.New("fsstore: not a ferry table")
)

// tableVersion is the version this code writes, and the newest it reads,
// for a table kind. File tables of version 1 (the previous release: no
// record types above 4) are read and upgraded by a rewrite on Open, so that
// the previous release refuses them (ErrVersion) rather than drop records
// it does not know.
func tableVersion(kind byte) uint16 {
	if kind == kindFiles {
		return FormatVersion
	}
	return 1
}

// appendHeader appends the table header of the given kind to dst.
func appendHeader(dst []byte, kind byte) []byte {
	return appendHeaderVersion(dst, kind, tableVersion(kind))
}

// appendHeaderVersion appends a table header of the given version.
func appendHeaderVersion(dst []byte, kind byte, version uint16) []byte {
	start := len(dst)
	dst = append(dst, tableMagic[:]...)
	dst = binary.LittleEndian.AppendUint16(dst, version)
	dst = append(dst, kind, 0)
	crc := crc32.Checksum(dst[start:], castagnoli)
	return binary.LittleEndian.AppendUint32(dst, crc)
}

// headerState classifies a table header.
type headerState int

const (
	headerOK      headerState = iota
	headerDamaged             // checksum or magic wrong: report and read on
	headerShort               // fewer than HeaderSize bytes
	headerOld                 // intact, an older version: read, then rewrite
)

// checkHeader checks a table header. It returns an error only for a header
// that is intact but not usable (a newer version, another table kind).
func checkHeader(h []byte, kind byte) (headerState, error) {
	if len(h) < HeaderSize {
		return headerShort, nil
	}
	crc := binary.LittleEndian.Uint32(h[12:])
	if crc32.Checksum(h[:12], castagnoli) != crc || !bytes.Equal(h[:8], tableMagic[:]) {
		return headerDamaged, nil
	}
	if h[10] != kind {
		return headerOK, fmt.Errorf("%w: table kind %d where %d was expected", ErrNotTable, h[10], kind)
	}
	switch v := binary.LittleEndian.Uint16(h[8:]); {
	case v == 0 || v > tableVersion(kind):
		return headerOK, fmt.Errorf("%w: version %d (this ferry reads versions 1 to %d); use a newer ferry", ErrVersion, v, tableVersion(kind))
	case v < tableVersion(kind):
		return headerOld, nil
	}
	return headerOK, nil
}

// beginRecord appends a record header with the length and CRC left blank;
// endRecord fills them in once the payload has been appended.
func beginRecord(dst []byte, typ byte) []byte {
	return append(dst, recMagic[0], recMagic[1], typ, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

// endRecord completes the record that starts at dst[start:].
func endRecord(dst []byte, start int) []byte {
	rec := dst[start:]
	n := len(rec) - RecordHeaderSize
	if n > MaxPayload {
		panic("fsstore: internal error: record payload too large")
	}
	binary.LittleEndian.PutUint32(rec[4:], uint32(n))
	binary.LittleEndian.PutUint32(rec[8:], recordCRC(rec[:8], rec[RecordHeaderSize:]))
	return dst
}

func recordCRC(head, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(head, castagnoli), castagnoli, payload)
}

// recordLen returns the total length of the record at the start of b, or 0
// if b does not start with a plausible record header. b must hold at least
// RecordHeaderSize bytes.
func recordLen(b []byte) int {
	if b[0] != recMagic[0] || b[1] != recMagic[1] || b[3] != 0 {
		return 0
	}
	n := binary.LittleEndian.Uint32(b[4:])
	if n > MaxPayload {
		return 0
	}
	return RecordHeaderSize + int(n)
}

// recordValid reports whether rec (exactly one record) has a good CRC.
func recordValid(rec []byte) bool {
	return binary.LittleEndian.Uint32(rec[8:]) == recordCRC(rec[:8], rec[RecordHeaderSize:])
}

// DecodeRecord decodes the record at the start of b. It returns the record
// type, its payload (aliasing b) and the total length. ok is false if b does
// not start with a complete, intact record.
func DecodeRecord(b []byte) (typ byte, payload []byte, n int, ok bool) {
	if len(b) < RecordHeaderSize {
		return 0, nil, 0, false
	}
	n = recordLen(b)
	if n == 0 || n > len(b) || !recordValid(b[:n]) {
		return 0, nil, 0, false
	}
	return b[2], b[RecordHeaderSize:n], n, true
}

// Scanner window sizes. The window must hold two largest records.
const (
	readBufSize    = 1 << 20
	minReadBufSize = 32 << 10
)

// scanner reads records from a table file through a fixed window.
type scanner struct {
	r    io.Reader
	buf  []byte
	i, j int   // unread bytes are buf[i:j]
	off  int64 // file offset of buf[i]
	eof  bool
	err  error
}

// newScanner reads from r, positioned at file offset off; sizeHint is the
// number of bytes expected, to keep the window small for small tables.
func newScanner(r io.Reader, off, sizeHint int64) *scanner {
	n := int(min(max(sizeHint+1, minReadBufSize), readBufSize))
	return &scanner{r: r, buf: make([]byte, n), off: off}
}

// fill makes at least n unread bytes available unless the file ends first,
// and returns how many are available.
func (s *scanner) fill(n int) int {
	for s.j-s.i < n && !s.eof {
		if len(s.buf)-s.i < n {
			s.j = copy(s.buf, s.buf[s.i:s.j])
			s.i = 0
		}
		m, err := s.r.Read(s.buf[s.j:])
		s.j += m
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.err, s.eof = err, true
		}
	}
	return s.j - s.i
}

func (s *scanner) skip(n int) {
	s.i += n
	s.off += int64(n)
}

// validAt returns the length of the intact record k bytes into the unread
// window, or 0 if there is none.
func (s *scanner) validAt(k int) int {
	if s.fill(k+RecordHeaderSize) < k+RecordHeaderSize {
		return 0
	}
	n := recordLen(s.buf[s.i+k:])
	if n == 0 || s.fill(k+n) < k+n {
		return 0
	}
	if !recordValid(s.buf[s.i+k : s.i+k+n]) {
		return 0
	}
	return n
}

// resync skips bytes after a damaged record until the next intact record.
// It reports false, with everything skipped, if there is none.
func (s *scanner) resync() bool {
	k := 1
	for {
		if k > len(s.buf)/2 {
			// Positions before k hold no record start; keep the window small.
			s.skip(k - 1)
			k = 1
		}
		avail := s.fill(k + len(recMagic))
		if avail < k+len(recMagic) {
			s.skip(avail)
			return false
		}
		x := bytes.Index(s.buf[s.i+k:s.j], recMagic[:])
		if x < 0 {
			// Keep the last byte: it may be the first half of a magic.
			s.skip(s.j - s.i - 1)
			k = 1
			continue
		}
		k += x
		if s.validAt(k) > 0 {
			s.skip(k)
			return true
		}
		k++
	}
}

// scanResult says what a scan found besides the records.
type scanResult struct {
	end      int64      // offset after the last intact record: where a torn tail is cut
	tail     int64      // bytes after end that hold no intact record
	damaged  []badRange // damaged ranges followed by intact records
	err      error      // read error
	nRecords int
}

// badRange is a damaged stretch of a table file.
type badRange struct{ off, len int64 }

// scan reads records from r, which is positioned at file offset off, and
// calls visit for each intact one. The payload passed to visit is valid only
// during the call.
func scan(r io.Reader, off, sizeHint int64, visit func(typ byte, payload []byte, off int64)) scanResult {
	s := newScanner(r, off, sizeHint)
	res := scanResult{end: off}
	for s.fill(RecordHeaderSize) > 0 {
		if n := s.validAt(0); n > 0 {
			rec := s.buf[s.i : s.i+n]
			visit(rec[2], rec[RecordHeaderSize:], s.off)
			res.nRecords++
			s.skip(n)
			res.end = s.off
			continue
		}
		start := s.off
		if !s.resync() {
			res.tail = s.off - start
			break
		}
		res.damaged = append(res.damaged, badRange{start, s.off - start})
	}
	res.err = s.err
	return res
}
