package link

// The serial link's wire format (docs/LINK.md is normative):
//
//	+------+------------+-----+-----+----------+---------+------------+
//	| 0x9E | type<<12|len| seq | ack | CRC-16   | payload | CRC-32C    |
//	|  1   |   2 (LE)   |  1  |  1  | 2 (LE)   |   len   | 4 (LE)     |
//	+------+------------+-----+-----+----------+---------+------------+
//
// The CRC-16/CCITT-FALSE covers the first five bytes, so that a receiver
// can trust the length before it waits for the payload. The CRC-32C covers
// a virtual key prefix (session ID and direction; empty for setup frames)
// and every byte from the sync byte to the end of the payload: frames of
// another session or of the other direction fail it like corrupted ones.
// There is no byte stuffing; the receiver resynchronises by scanning for
// the sync byte and checking both CRCs. In a session that negotiated FEC,
// keyed frames end with FECSize bytes of BCH parity after the CRC-32C
// (fec.go), and a DATA frame of more than MaxPayload bytes is sent as
// type typeDataLong, whose length field counts from MaxPayload+1.

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"

	"github.com/sigurn/crc16"
)

// Wire sizes.
const (
	Sync        = 0x9E // first byte of every frame
	HeaderSize  = 7    // sync 1 + type/length 2 + seq 1 + ack 1 + CRC-16 2
	TrailerSize = 4    // CRC-32C of key prefix, header and payload
	Overhead    = HeaderSize + TrailerSize
	FECSize     = fecParity // BCH parity after the trailer of keyed frames, when negotiated
	MaxPayload  = 4085      // 12-bit length field, chosen so that a frame fits 4096 bytes
	// MaxLongPayload is the largest payload of a DATA frame in a session
	// with FEC: the frame and its parity are then 8191 bytes, 65,528 bits
	// of the 65,535 the code allows.
	MaxLongPayload = 8172
	MaxFrame       = HeaderSize + MaxLongPayload + TrailerSize + FECSize
	keySize        = 5 // session ID 4 (LE) + direction 1
)

// Frame types. Types below typeSyn are keyed: their CRC-32C includes the
// session key, so they belong to one session and one direction.
const (
	typeData      = 0  // payload of the stream, sequenced
	typeAck       = 1  // cumulative ack in the header, selective-ack bitmap as payload
	typePoll      = 2  // an ack that asks for an ack in return
	typeFin       = 3  // end of stream, sequenced, empty
	typeRst       = 4  // session aborted, empty
	typeDataLong  = 5  // DATA of more than MaxPayload bytes, length MaxPayload+1 + the field (sessions with FEC); decoded as typeData
	typeSyn       = 8  // client opens a session: setup payload
	typeSynAck    = 9  // server accepts it: the same setup payload
	typeNoSession = 10 // "I know no session": the server restarted
)

// Directions in the key prefix.
const (
	dirClient = 'C' // frames sent by the client
	dirServer = 'S' // frames sent by the server
)

var (
	crc16Table = crc16.MakeTable(crc16.CRC16_CCITT_FALSE)
	crc32Table = crc32.MakeTable(crc32.Castagnoli)
)

// header is a decoded frame header.
type header struct {
	typ, seq, ack uint8
	n             int // payload length
}

// sessionKey returns the CRC-32C state after the virtual key prefix of a
// session and direction.
func sessionKey(sid uint32, dir byte) uint32 {
	var k [keySize]byte
	binary.LittleEndian.PutUint32(k[:4], sid)
	k[4] = dir
	return crc32.Update(0, crc32Table, k[:])
}

// keyed reports whether frames of type t carry the session key.
func keyed(t uint8) bool { return t < typeSyn }

// putFrame encodes a frame into b, which must hold
// Overhead+FECSize+len(payload) bytes, and returns the frame. key is the
// CRC-32C state of the key prefix, 0 for setup frames; fec appends the
// parity (keyed frames of a session that negotiated it).
func putFrame(b []byte, h header, payload []byte, key uint32, fec bool) []byte {
	n, v := len(payload), uint16(h.typ)<<12|uint16(len(payload))
	if n > MaxPayload {
		if !fec || h.typ != typeData || n > MaxLongPayload {
			panic("link: internal error: payload too large")
		}
		v = typeDataLong<<12 | uint16(n-MaxPayload-1)
	}
	b[0] = Sync
	binary.LittleEndian.PutUint16(b[1:3], v)
	b[3] = h.seq
	b[4] = h.ack
	binary.LittleEndian.PutUint16(b[5:7], crc16.Checksum(b[:5], crc16Table))
	copy(b[HeaderSize:], payload)
	end := HeaderSize + n
	binary.LittleEndian.PutUint32(b[end:end+4], crc32.Update(key, crc32Table, b[:end]))
	end += TrailerSize
	if fec {
		p := fecEncode(b[:end])
		end += copy(b[end:], p[:])
	}
	return b[:end]
}

// parseHeader decodes the first HeaderSize bytes of b; long admits
// typeDataLong (a session with FEC), which it returns as typeData.
func parseHeader(b []byte, long bool) (header, bool) {
	if b[0] != Sync || binary.LittleEndian.Uint16(b[5:7]) != crc16.Checksum(b[:5], crc16Table) {
		return header{}, false
	}
	v := binary.LittleEndian.Uint16(b[1:3])
	h := header{typ: uint8(v >> 12), seq: b[3], ack: b[4], n: int(v & 0x0FFF)}
	if long && h.typ == typeDataLong && h.n <= MaxLongPayload-MaxPayload-1 {
		h.typ, h.n = typeData, h.n+MaxPayload+1
		return h, true
	}
	if h.n > MaxPayload || !validType(h.typ) {
		return header{}, false
	}
	return h, true
}

func validType(t uint8) bool {
	return t <= typeRst || (t >= typeSyn && t <= typeNoSession)
}

// checkTrailer verifies the CRC-32C of a whole frame b.
func checkTrailer(b []byte, key uint32) bool {
	end := len(b) - TrailerSize
	return binary.LittleEndian.Uint32(b[end:]) == crc32.Update(key, crc32Table, b[:end])
}

// decoder finds frames in the received byte stream. It skips garbage and
// resynchronises after errors by scanning for the sync byte again one
// byte past the start of a frame that failed. Not safe for concurrent use.
type decoder struct {
	buf   [3 * MaxFrame]byte
	r, w  int    // unread bytes are buf[r:w]
	ahead int    // scan-ahead resumes here (absolute index), 0 = from r+1
	key   uint32 // CRC-32C state of the receive key prefix
	keyOK bool   // key is set: keyed frames can be accepted
	fec   bool   // keyed frames carry parity

	skipped   int // garbage bytes skipped, for statistics
	orphans   int // complete keyed frames that failed the key (or had none)
	corrected int // bits corrected by the parity
}

// space returns the free tail of the buffer, compacting it first.
func (d *decoder) space() []byte {
	if d.r > 0 && (d.w == len(d.buf) || d.r >= len(d.buf)/2 || d.r == d.w) {
		copy(d.buf[:], d.buf[d.r:d.w])
		if d.ahead > 0 {
			d.ahead -= d.r
		}
		d.w -= d.r
		d.r = 0
	}
	return d.buf[d.w:]
}

// setKey sets the key that keyed frames must carry and whether they
// carry parity.
func (d *decoder) setKey(key uint32, fec bool) { d.key, d.keyOK, d.fec = key, true, fec }

// parity returns the size of the parity that frames of type t carry.
func (d *decoder) parity(t uint8) int {
	if d.fec && keyed(t) {
		return FECSize
	}
	return 0
}

// next returns the next good frame. The payload is valid until the next
// call to next or space. It returns false when more bytes are needed.
func (d *decoder) next() (header, []byte, bool) {
	for {
		i := bytes.IndexByte(d.buf[d.r:d.w], Sync)
		if i < 0 {
			d.advance(d.w - d.r)
			return header{}, nil, false
		}
		d.advance(i)
		if d.w-d.r < HeaderSize {
			return header{}, nil, false
		}
		h, ok := parseHeader(d.buf[d.r:d.r+HeaderSize], d.fec)
		if !ok {
			d.advance(1)
			continue
		}
		end := d.r + HeaderSize + h.n + TrailerSize + d.parity(h.typ)
		if end > d.w {
			// Wait for the payload, unless a complete good frame starts
			// inside it: then this header was noise.
			if j := d.findAhead(); j > 0 {
				d.advance(j - d.r)
				continue
			}
			return header{}, nil, false
		}
		if !d.check(h.typ, d.buf[d.r:end]) && !d.repair(h.typ, d.buf[d.r:end]) {
			d.advance(1)
			continue
		}
		p := d.buf[d.r+HeaderSize : d.r+HeaderSize+h.n]
		d.r, d.ahead = end, 0
		return h, p, true
	}
}

func (d *decoder) advance(n int) {
	d.skipped += n
	d.r += n
	if d.ahead <= d.r {
		d.ahead = 0
	}
}

// check verifies the trailer of frame b of type t with the right key.
func (d *decoder) check(t uint8, b []byte) bool {
	if !keyed(t) {
		return checkTrailer(b, 0)
	}
	if d.fec {
		b = b[:len(b)-FECSize]
	}
	if d.keyOK && checkTrailer(b, d.key) {
		return true
	}
	d.orphans++
	return false
}

// repair corrects up to fecT flipped bits of a keyed frame b that failed
// check, in place, and reports whether it then passes. A correction the
// CRC-32C refuses is undone: the frame is left as it came.
func (d *decoder) repair(t uint8, b []byte) bool {
	if !d.fec || !d.keyOK || !keyed(t) {
		return false
	}
	var pos [fecT]int
	n := fecLocate(b, &pos)
	if n <= 0 {
		return false
	}
	for undo := range 2 {
		for _, p := range pos[:n] {
			b[p/8] ^= 0x80 >> (p % 8)
		}
		if undo == 0 && checkTrailer(b[:len(b)-FECSize], d.key) {
			d.orphans-- // counted by check
			d.corrected += n
			return true
		}
	}
	return false
}

// findAhead looks for a complete good frame after d.r and returns its
// start, or 0. It remembers where it has to resume, so that a frame that
// arrives in many reads is scanned once.
func (d *decoder) findAhead() int {
	p := d.ahead
	if p <= d.r {
		p = d.r + 1
	}
	for p+HeaderSize <= d.w {
		i := bytes.IndexByte(d.buf[p:d.w], Sync)
		if i < 0 {
			p = d.w
			break
		}
		p += i
		if p+HeaderSize > d.w {
			break
		}
		h, ok := parseHeader(d.buf[p:p+HeaderSize], d.fec)
		if !ok {
			p++
			continue
		}
		end := p + HeaderSize + h.n + TrailerSize + d.parity(h.typ)
		if end > d.w {
			break // cannot tell yet; resume here
		}
		orphans := d.orphans
		if d.check(h.typ, d.buf[p:end]) {
			return p
		}
		d.orphans = orphans
		p++
	}
	d.ahead = p
	return 0
}
