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
	fileFixedSize   = 38 // type 3: client id 16 + size 8 + time 8 + cksum 4 + flags 1 + name length 1
	filePrevSize    = 21 // type 3: previous size 8 + time 8 + cksum 4 + flags 1, present when flagPending is set
	deleteFixedSize = 17 // type 4: client id 16 + name length 1
	verSize         = 34 // size 8 + time 8 + cksum 4 + flags 1 + reserved 1 + mode 4 + mtime 8
	file2FixedSize  = 52 // type 5: client id 16 + version 34 + path length 2
	file2PathOff    = 50 // type 5: offset of the path length
	delete2Fixed    = 18 // type 6: client id 16 + path length 2
	intentFixedSize = 22 // type 7: client id 16 + op 1 + reserved 1 + old path length 2 + new path length 2
	intentDoneSize  = 16 // type 8: client id 16
	MaxKeySize      = 2048
	MaxClientName   = 255 // bytes
)

// File record flags.
const (
	flagVerified = 1 << 0 // the client confirmed the checksum and the bytes are in place
	flagClassic  = 1 << 1 // uploaded over the classic (v3) protocol
	flagPending  = 1 << 2 // a commit replacing the previous version is in progress
	flagNew      = 1 << 3 // type 5, with flagPending: the path was not listed before (no previous version follows)
	flagsKnown   = flagVerified | flagClassic | flagPending
	flagsKnown2  = flagsKnown | flagNew
)

// modeMask is what a record may hold of a file's mode: permission bits
// without world-writable (and never setuid, setgid or sticky).
const modeMask = 0o775

// Intent operations (type 7).
const (
	opRename = 1
	opRemove = 2
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
	reg, seen int64        // unix nanoseconds, 0 for the zero time
	status    clientStatus // from the index (clients_admin.go); not in the record
}

// fileVer is one version of a stored file.
type fileVer struct {
	size  int64
	time  int64 // unix nanoseconds
	cksum uint32
	flags uint8
	mode  uint32 // permission bits (modeMask), 0 when unknown
	mtime int64  // source modification time, unix nanoseconds, 0 when unknown
}

// fileRec is one file record, decoded.
type fileRec struct {
	client [16]byte
	name   string // the path
	fileVer
}

// intentRec is a rename or removal in progress (type 7).
type intentRec struct {
	client   [16]byte
	op       byte
	old, new string // new is empty for a removal
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

// appendVer1 and decodeVer1 encode the 21-byte version of type 3 records.
func appendVer1(dst []byte, v *fileVer) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(v.size))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(v.time))
	dst = binary.LittleEndian.AppendUint32(dst, v.cksum)
	return append(dst, v.flags)
}

func decodeVer1(p []byte) (fileVer, error) {
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

// appendFile1 appends a file record of type 3, as the previous release
// wrote them; prev is written only when the pending flag is set. Only tests
// write type 3 now (to produce old tables); it ignores mode and mtime.
func appendFile1(dst []byte, f *fileRec, prev *fileVer) []byte {
	start := len(dst)
	dst = beginRecord(dst, recFile)
	dst = append(dst, f.client[:]...)
	dst = appendVer1(dst, &f.fileVer) // ends with the flags byte
	dst = append(dst, byte(len(f.name)))
	dst = append(dst, f.name...)
	if f.flags&flagPending != 0 {
		dst = appendVer1(dst, prev)
	}
	return endRecord(dst, start)
}

// checkFile1 checks a type 3 payload without allocating and returns the
// name it holds.
func checkFile1(p []byte) (name []byte, err error) {
	if len(p) < fileFixedSize {
		return nil, errPayload
	}
	v, err := decodeVer1(p[16:])
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
	if safeNameProblem(name) != "" {
		return nil, errPayload
	}
	if v.flags&flagPending != 0 {
		if prev, err := decodeVer1(p[want-filePrevSize:]); err != nil || prev.flags&flagPending != 0 {
			return nil, errPayload
		}
	}
	return name, nil
}

// decodeFile1 decodes a type 3 payload; prev is set for a pending record.
func decodeFile1(p []byte) (f fileRec, prev fileVer, err error) {
	name, err := checkFile1(p)
	if err != nil {
		return f, prev, err
	}
	copy(f.client[:], p)
	f.fileVer, _ = decodeVer1(p[16:])
	f.name = string(name)
	if f.flags&flagPending != 0 {
		prev, _ = decodeVer1(p[len(p)-filePrevSize:])
	}
	return f, prev, nil
}

// appendVer and decodeVer encode the 34-byte version of type 5 records.
func appendVer(dst []byte, v *fileVer) []byte {
	dst = appendVer1(dst, v)
	dst = append(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, v.mode)
	return binary.LittleEndian.AppendUint64(dst, uint64(v.mtime))
}

func decodeVer(p []byte) (fileVer, error) {
	v := fileVer{
		size:  int64(binary.LittleEndian.Uint64(p)),
		time:  int64(binary.LittleEndian.Uint64(p[8:])),
		cksum: binary.LittleEndian.Uint32(p[16:]),
		flags: p[20],
		mode:  binary.LittleEndian.Uint32(p[22:]),
		mtime: int64(binary.LittleEndian.Uint64(p[26:])),
	}
	if v.size < 0 || v.flags&^flagsKnown2 != 0 || p[21] != 0 || v.mode&^modeMask != 0 {
		return v, errPayload
	}
	return v, nil
}

// appendFile appends a file record (type 5). For a pending record, prev is
// the listed version being replaced, or nil (with flagNew) when the path
// was not listed.
func appendFile(dst []byte, f *fileRec, prev *fileVer) []byte {
	start := len(dst)
	dst = beginRecord(dst, recFile2)
	dst = append(dst, f.client[:]...)
	dst = appendVer(dst, &f.fileVer)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(f.name)))
	dst = append(dst, f.name...)
	if f.flags&(flagPending|flagNew) == flagPending {
		dst = appendVer(dst, prev)
	}
	return endRecord(dst, start)
}

// checkFile2 checks a type 5 payload without allocating and returns the
// path it holds.
func checkFile2(p []byte) (path []byte, err error) {
	if len(p) < file2FixedSize {
		return nil, errPayload
	}
	v, err := decodeVer(p[16:])
	if err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint16(p[file2PathOff:]))
	want := file2FixedSize + n
	switch v.flags & (flagPending | flagNew) {
	case flagPending:
		want += verSize
	case flagNew:
		return nil, errPayload // new without pending
	}
	if len(p) != want {
		return nil, errPayload
	}
	path = p[file2FixedSize : file2FixedSize+n]
	if pathProblem(path, safeNameProblem) != "" {
		return nil, errPayload
	}
	if want > file2FixedSize+n {
		if prev, err := decodeVer(p[want-verSize:]); err != nil || prev.flags&(flagPending|flagNew) != 0 {
			return nil, errPayload
		}
	}
	return path, nil
}

// decodeFile2 decodes a type 5 payload; prev is set for a pending record
// that replaces a listed version.
func decodeFile2(p []byte) (f fileRec, prev fileVer, err error) {
	path, err := checkFile2(p)
	if err != nil {
		return f, prev, err
	}
	copy(f.client[:], p)
	f.fileVer, _ = decodeVer(p[16:])
	f.name = string(path)
	if len(p) > file2FixedSize+len(path) {
		prev, _ = decodeVer(p[len(p)-verSize:])
	}
	return f, prev, nil
}

// decodeFileRecord decodes a file record payload of type 3 or 5.
func decodeFileRecord(typ byte, p []byte) (fileRec, fileVer, error) {
	if typ == recFile {
		return decodeFile1(p)
	}
	return decodeFile2(p)
}

// appendDelete1 appends a removal record of type 4, as the previous release
// wrote them (only tests write them now).
func appendDelete1(dst []byte, client *[16]byte, name string) []byte {
	start := len(dst)
	dst = beginRecord(dst, recFileDelete)
	dst = append(dst, client[:]...)
	dst = append(dst, byte(len(name)))
	dst = append(dst, name...)
	return endRecord(dst, start)
}

// checkDelete1 checks a type 4 payload without allocating and returns the
// name it holds.
func checkDelete1(p []byte) (name []byte, err error) {
	if len(p) < deleteFixedSize || len(p) != deleteFixedSize+int(p[16]) {
		return nil, errPayload
	}
	name = p[deleteFixedSize:]
	if safeNameProblem(name) != "" {
		return nil, errPayload
	}
	return name, nil
}

// appendDelete appends a removal record (type 6).
func appendDelete(dst []byte, client *[16]byte, path string) []byte {
	start := len(dst)
	dst = beginRecord(dst, recFileDelete2)
	dst = append(dst, client[:]...)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(path)))
	dst = append(dst, path...)
	return endRecord(dst, start)
}

// checkDelete2 checks a type 6 payload without allocating and returns the
// path it holds.
func checkDelete2(p []byte) (path []byte, err error) {
	if len(p) < delete2Fixed || len(p) != delete2Fixed+int(binary.LittleEndian.Uint16(p[16:])) {
		return nil, errPayload
	}
	path = p[delete2Fixed:]
	if pathProblem(path, safeNameProblem) != "" {
		return nil, errPayload
	}
	return path, nil
}

// decodeDelete decodes a removal payload of type 4 or 6.
func decodeDelete(typ byte, p []byte) (client [16]byte, path string, err error) {
	check := checkDelete2
	if typ == recFileDelete {
		check = checkDelete1
	}
	n, err := check(p)
	if err != nil {
		return client, "", err
	}
	copy(client[:], p)
	return client, string(n), nil
}

// appendIntent appends a rename or removal intent (type 7).
func appendIntent(dst []byte, in *intentRec) []byte {
	start := len(dst)
	dst = beginRecord(dst, recIntent)
	dst = append(dst, in.client[:]...)
	dst = append(dst, in.op, 0)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(in.old)))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(in.new)))
	dst = append(dst, in.old...)
	dst = append(dst, in.new...)
	return endRecord(dst, start)
}

// decodeIntent decodes a type 7 payload.
func decodeIntent(p []byte) (in intentRec, err error) {
	if len(p) < intentFixedSize || p[17] != 0 {
		return in, errPayload
	}
	no, nn := int(binary.LittleEndian.Uint16(p[18:])), int(binary.LittleEndian.Uint16(p[20:]))
	if len(p) != intentFixedSize+no+nn {
		return in, errPayload
	}
	old, nw := p[intentFixedSize:intentFixedSize+no], p[intentFixedSize+no:]
	switch {
	case pathProblem(old, safeNameProblem) != "":
		return in, errPayload
	case p[16] == opRename && pathProblem(nw, safeNameProblem) == "":
	case p[16] == opRemove && nn == 0:
	default:
		return in, errPayload
	}
	copy(in.client[:], p)
	in.op, in.old, in.new = p[16], string(old), string(nw)
	return in, nil
}

// appendIntentDone appends the end of a client's intent (type 8).
func appendIntentDone(dst []byte, client *[16]byte) []byte {
	start := len(dst)
	dst = beginRecord(dst, recIntentDone)
	dst = append(dst, client[:]...)
	return endRecord(dst, start)
}

func decodeIntentDone(p []byte) (client [16]byte, err error) {
	if len(p) != intentDoneSize {
		return client, errPayload
	}
	return [16]byte(p), nil
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
