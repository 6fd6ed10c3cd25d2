package frame

import (
	"encoding/binary"
	"fmt"
)

// The payloads of the resume feature (1046, 1047, 2118; docs/PROTOCOL.md
// §4.11) and of the usage request's answer (2117).

// UsageSize is the payload of 2117.
const UsageSize = 4 * 8

// Usage is the payload of 2117: files 8 | bytes 8 | free 8 | max file 8.
// Free is the room left on the server's disk for stored files, max file
// the largest file it accepts; both ^0 when unknown or unlimited.
type Usage struct {
	Files, Bytes, Free, MaxFile uint64
}

// Marshal encodes u.
func (u *Usage) Marshal() []byte {
	b := make([]byte, 0, UsageSize)
	for _, v := range []uint64{u.Files, u.Bytes, u.Free, u.MaxFile} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// ParseUsage decodes a 2117 payload.
func ParseUsage(b []byte) (Usage, error) {
	if len(b) != UsageSize {
		return Usage{}, fmt.Errorf("%w: usage of %d bytes, want %d", ErrPayload, len(b), UsageSize)
	}
	le := binary.LittleEndian
	return Usage{Files: le.Uint64(b), Bytes: le.Uint64(b[8:]), Free: le.Uint64(b[16:]), MaxFile: le.Uint64(b[24:])}, nil
}

// ResumeQuery is the payload of 1046: size 8 | mtime 8 | path: the source
// the client is about to put.
type ResumeQuery struct {
	Size  uint64
	MTime int64
	Path  string
}

// Marshal encodes q.
func (q *ResumeQuery) Marshal() []byte {
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 18+len(q.Path)), q.Size)
	b = binary.LittleEndian.AppendUint64(b, uint64(q.MTime))
	return appendPath(b, q.Path)
}

// ParseResumeQuery decodes a 1046 payload.
func ParseResumeQuery(b []byte) (ResumeQuery, error) {
	if len(b) < 16 {
		return ResumeQuery{}, fmt.Errorf("%w: resume query of %d bytes", ErrPayload, len(b))
	}
	q := ResumeQuery{Size: binary.LittleEndian.Uint64(b), MTime: int64(binary.LittleEndian.Uint64(b[8:]))}
	var rest []byte
	var err error
	if q.Path, rest, err = parsePath(b[16:]); err != nil {
		return q, err
	}
	return q, noTrailing(rest, "resume query path")
}

// ResumeOffer is the payload of 2118: have 8 | SHA-256 of those bytes 32.
// have 0: nothing to resume from.
type ResumeOffer struct {
	Have   uint64
	Prefix [32]byte
}

// ResumeOfferSize is the size of a 2118 payload.
const ResumeOfferSize = 8 + 32

// Marshal encodes o.
func (o *ResumeOffer) Marshal() []byte {
	return append(binary.LittleEndian.AppendUint64(make([]byte, 0, ResumeOfferSize), o.Have), o.Prefix[:]...)
}

// ParseResumeOffer decodes a 2118 payload.
func ParseResumeOffer(b []byte) (ResumeOffer, error) {
	if len(b) != ResumeOfferSize {
		return ResumeOffer{}, fmt.Errorf("%w: resume offer of %d bytes, want %d", ErrPayload, len(b), ResumeOfferSize)
	}
	o := ResumeOffer{Have: binary.LittleEndian.Uint64(b)}
	copy(o.Prefix[:], b[8:])
	return o, nil
}

// GetFrom is the payload of 1047: offset 8 | size 8 | mtime 8 | SHA-256 of
// the first offset bytes 32 | path: the client holds the start of this
// file as it was (size, mtime); send the rest if the file is still that.
type GetFrom struct {
	Offset uint64
	Size   uint64
	MTime  int64
	Prefix [32]byte
	Path   string
}

const getFromHead = 8 + 8 + 8 + 32

// Marshal encodes g.
func (g *GetFrom) Marshal() []byte {
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, getFromHead+2+len(g.Path)), g.Offset)
	b = binary.LittleEndian.AppendUint64(b, g.Size)
	b = binary.LittleEndian.AppendUint64(b, uint64(g.MTime))
	b = append(b, g.Prefix[:]...)
	return appendPath(b, g.Path)
}

// ParseGetFrom decodes a 1047 payload.
func ParseGetFrom(b []byte) (GetFrom, error) {
	if len(b) < getFromHead {
		return GetFrom{}, fmt.Errorf("%w: get-from of %d bytes", ErrPayload, len(b))
	}
	le := binary.LittleEndian
	g := GetFrom{Offset: le.Uint64(b), Size: le.Uint64(b[8:]), MTime: int64(le.Uint64(b[16:]))}
	copy(g.Prefix[:], b[24:56])
	if g.Offset > g.Size {
		return g, fmt.Errorf("%w: get-from offset %d past the size %d", ErrPayload, g.Offset, g.Size)
	}
	var rest []byte
	var err error
	if g.Path, rest, err = parsePath(b[getFromHead:]); err != nil {
		return g, err
	}
	return g, noTrailing(rest, "get-from path")
}
