package fsstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Payload sizes.
const (
	clientFixedSize = 36 // id 16 + registered 8 + last seen 8 + key kind 1 + name length 1 + key length 2
	touchSize       = 24 // id 16 + last seen 8
	fileFixedSize   = 38 // client id 16 + size 8 + time 8 + cksum 4 + flags 1 + name length 1
	filePrevSize    = 21 // previous size 8 + time 8 + cksum 4 + flags 1, present when flagPending is set
	deleteFixedSize = 17 // client id 16 + name length 1
	MaxKeySize      = 2048
	MaxClientName   = 255 // bytes
)

// File record flags.
const (
	flagVerified = 1 << 0 // the client confirmed the checksum and the bytes are in place
	flagClassic  = 1 << 1 // uploaded over the classic (v3) protocol
	flagPending  = 1 << 2 // a commit replacing the previous version is in progress
	flagsKnown   = flagVerified | flagClassic | flagPending
)

// errPayload marks a record whose CRC is intact but whose payload is not
// well formed. Only a bug or a forged table can produce one.
var errPayload = errors.New("malformed payload")

// clientRec is a client as kept in memory.
type clientRec struct {
	id        [16]byte
	name      string
	key       []byte
	kind      KeyKind
	reg, seen int64 // unix nanoseconds, 0 for the zero time
}

// fileVer is one version of a stored file.
type fileVer struct {
	size  int64
	time  int64 // unix nanoseconds
	cksum uint32
	flags uint8
}

// fileRec is one file record, decoded.
type fileRec struct {
	client [16]byte
	name   string
	fileVer
}

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func appendClient(dst []byte, c *clientRec) []byte {
	start := len(dst)
	dst = beginRecord(dst, recClient)
	dst = append(dst, c.id[:]...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(c.reg))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(c.seen))
	dst = append(dst, byte(c.kind), byte(len(c.name)))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(c.key)))
	dst = append(dst, c.name...)
	dst = append(dst, c.key...)
	return endRecord(dst, start)
}

// checkClient checks a client payload without allocating and returns the
// name it holds.
func checkClient(p []byte) (name []byte, err error) {
	if len(p) < clientFixedSize {
		return nil, errPayload
	}
	nn, kn := int(p[33]), int(binary.LittleEndian.Uint16(p[34:]))
	if len(p) != clientFixedSize+nn+kn {
		return nil, errPayload
	}
	name, key := p[clientFixedSize:clientFixedSize+nn], p[clientFixedSize+nn:]
	if validClientName(name) != nil || validKey(KeyKind(p[32]), key) != nil {
		return nil, errPayload
	}
	return name, nil
}

// decodeClient decodes a client payload into a record that owns its bytes.
func decodeClient(p []byte) (clientRec, error) {
	var c clientRec
	name, err := checkClient(p)
	if err != nil {
		return c, err
	}
	copy(c.id[:], p)
	c.reg = int64(binary.LittleEndian.Uint64(p[16:]))
	c.seen = int64(binary.LittleEndian.Uint64(p[24:]))
	c.kind = KeyKind(p[32])
	c.name = string(name)
	c.key = append([]byte(nil), p[clientFixedSize+len(name):]...)
	return c, nil
}

func appendTouch(dst []byte, id *[16]byte, seen int64) []byte {
	start := len(dst)
	dst = beginRecord(dst, recTouch)
	dst = append(dst, id[:]...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(seen))
	return endRecord(dst, start)
}

func decodeTouch(p []byte) (id [16]byte, seen int64, err error) {
	if len(p) != touchSize {
		return id, 0, errPayload
	}
	copy(id[:], p)
	return id, int64(binary.LittleEndian.Uint64(p[16:])), nil
}

func appendVer(dst []byte, v *fileVer) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(v.size))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(v.time))
	dst = binary.LittleEndian.AppendUint32(dst, v.cksum)
	return append(dst, v.flags)
}

func decodeVer(p []byte) (fileVer, error) {
	v := fileVer{
		size:  int64(binary.LittleEndian.Uint64(p)),
		time:  int64(binary.LittleEndian.Uint64(p[8:])),
		cksum: binary.LittleEndian.Uint32(p[16:]),
		flags: p[20],
	}
	if v.size < 0 || v.flags&^flagsKnown != 0 {
		return v, errPayload
	}
	return v, nil
}

// appendFile appends a file record; prev is written only when the pending
// flag is set.
func appendFile(dst []byte, f *fileRec, prev *fileVer) []byte {
	start := len(dst)
	dst = beginRecord(dst, recFile)
	dst = append(dst, f.client[:]...)
	dst = appendVer(dst, &f.fileVer) // ends with the flags byte
	dst = append(dst, byte(len(f.name)))
	dst = append(dst, f.name...)
	if f.flags&flagPending != 0 {
		dst = appendVer(dst, prev)
	}
	return endRecord(dst, start)
}

// checkFile checks a file payload without allocating and returns the name
// it holds.
func checkFile(p []byte) (name []byte, err error) {
	if len(p) < fileFixedSize {
		return nil, errPayload
	}
	v, err := decodeVer(p[16:])
	if err != nil {
		return nil, err
	}
	nn := int(p[37])
	want := fileFixedSize + nn
	if v.flags&flagPending != 0 {
		want += filePrevSize
	}
	if len(p) != want {
		return nil, errPayload
	}
	name = p[fileFixedSize : fileFixedSize+nn]
	if nameProblem(name) != "" {
		return nil, errPayload
	}
	if v.flags&flagPending != 0 {
		if prev, err := decodeVer(p[want-filePrevSize:]); err != nil || prev.flags&flagPending != 0 {
			return nil, errPayload
		}
	}
	return name, nil
}

// decodeFile decodes a file payload; prev is set for a pending record.
func decodeFile(p []byte) (f fileRec, prev fileVer, err error) {
	name, err := checkFile(p)
	if err != nil {
		return f, prev, err
	}
	copy(f.client[:], p)
	f.fileVer, _ = decodeVer(p[16:])
	f.name = string(name)
	if f.flags&flagPending != 0 {
		prev, _ = decodeVer(p[len(p)-filePrevSize:])
	}
	return f, prev, nil
}

func appendDelete(dst []byte, client *[16]byte, name string) []byte {
	start := len(dst)
	dst = beginRecord(dst, recFileDelete)
	dst = append(dst, client[:]...)
	dst = append(dst, byte(len(name)))
	dst = append(dst, name...)
	return endRecord(dst, start)
}

// checkDelete checks a removal payload without allocating and returns the
// name it holds.
func checkDelete(p []byte) (name []byte, err error) {
	if len(p) < deleteFixedSize || len(p) != deleteFixedSize+int(p[16]) {
		return nil, errPayload
	}
	name = p[deleteFixedSize:]
	if nameProblem(name) != "" {
		return nil, errPayload
	}
	return name, nil
}

func decodeDelete(p []byte) (client [16]byte, name string, err error) {
	n, err := checkDelete(p)
	if err != nil {
		return client, "", err
	}
	copy(client[:], p)
	return client, string(n), nil
}

// validClientName checks a client name: 1 to 255 bytes of UTF-8 without
// control characters.
func validClientName(name []byte) error {
	if len(name) == 0 || len(name) > MaxClientName {
		return fmt.Errorf("%w: client name must be 1 to %d bytes", ErrBadClientName, MaxClientName)
	}
	if !utf8.Valid(name) {
		return fmt.Errorf("%w: client name is not valid UTF-8", ErrBadClientName)
	}
	for _, b := range name {
		if b < 0x20 || b == 0x7f {
			return fmt.Errorf("%w: client name contains a control character", ErrBadClientName)
		}
	}
	return nil
}

// validKey checks that a public key fits its kind.
func validKey(kind KeyKind, key []byte) error {
	switch {
	case kind == KeyNone && len(key) == 0:
	case kind == KeyEd25519 && len(key) == 32:
	case kind == KeyRSA && len(key) > 0 && len(key) <= MaxKeySize:
	default:
		return fmt.Errorf("%w: kind %d with %d bytes", ErrBadKey, kind, len(key))
	}
	return nil
}
