package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// The two-way operations (feature "ops", docs/PROTOCOL.md §4.9): a client
// that negotiated them puts files with paths, modes and times (1035), gets
// files and folders back (1037), lists (1038), removes (1039), renames
// (1040) and makes folders (1041). Every operation is answered, in order,
// by one done (2108) or failed (2109); a get's files come before its done,
// a list's entries (2114) before its done. File content moves the same way
// in both directions: a file message (1035 or 2110), chunks (1032/2111),
// a last chunk (1033/2112) and a file end with the sender's size and cksum
// (1036/2113), which the receiver checks.

// Operation codes (requests).
const (
	CodePut     Code = 1035 // a file with its path, mode and mtime; chunks and a file end follow
	CodeFileEnd Code = 1036 // the sender's size and cksum of the file just sent
	CodeGet     Code = 1037 // send me this file, or this folder with FlagRecursive
	CodeList    Code = 1038 // list this path
	CodeRemove  Code = 1039 // remove this file, or this folder (with FlagRecursive, its content too)
	CodeRename  Code = 1040 // rename a file or folder
	CodeMkdir   Code = 1041 // make a folder
	// Feature compress: chunks deflated on their own (see xfer).
	CodeChunkZ     Code = 1042 // a compressed chunk, more follow
	CodeLastChunkZ Code = 1043 // the last chunk, compressed
	// Feature keepalive.
	CodeKeepalive Code = 1044 // the client is still there; no answer
	CodeUsage     Code = 1045 // ops: how much do I store, how much room is left
	// Feature resume.
	CodeResumeQuery Code = 1046 // do you hold the start of this file from an interrupted put?
	CodeGetFrom     Code = 1047 // get a file from an offset, if its start is what I hold
)

// Operation codes (responses).
const (
	CodeDone        Code = 2108 // the operation succeeded
	CodeFailed      Code = 2109 // the operation failed; the session goes on
	CodeFile        Code = 2110 // a file or folder of a get; for a file, chunks and a file end follow
	CodeFileChunk   Code = 2111 // a chunk of a downloaded file, more follow
	CodeFileLast    Code = 2112 // the last chunk of a downloaded file
	CodeFileEndResp Code = 2113 // the sender's size and cksum of the downloaded file
	CodeListEntries Code = 2114 // entries of a list
	// Feature compress.
	CodeFileChunkZ  Code = 2115 // a compressed chunk of a downloaded file, more follow
	CodeFileLastZ   Code = 2116 // the last chunk of a downloaded file, compressed
	CodeUsageResp   Code = 2117 // ops: the answer to a usage request
	CodeResumeOffer Code = 2118 // resume: what the server holds of a file (answers 1046)
)

// opCodeNames name the codes of the features, for Code.String.
var opCodeNames = []codeName{
	{CodePut, "put"}, {CodeFileEnd, "file-end"}, {CodeGet, "get"}, {CodeList, "list"},
	{CodeRemove, "remove"}, {CodeRename, "rename"}, {CodeMkdir, "mkdir"},
	{CodeDone, "done"}, {CodeFailed, "failed"}, {CodeFile, "file"}, {CodeFileChunk, "file-chunk"},
	{CodeFileLast, "file-last-chunk"}, {CodeFileEndResp, "file-end"}, {CodeListEntries, "entries"},
	{CodeKeepalive, "keepalive"}, {CodeUsage, "usage"}, {CodeUsageResp, "usage-answer"},
	{CodeResumeQuery, "resume-query"}, {CodeGetFrom, "get-from"}, {CodeResumeOffer, "resume-offer"}, {CodeChunkZ, "chunk-z"}, {CodeLastChunkZ, "last-chunk-z"}, {CodeFileChunkZ, "file-chunk-z"}, {CodeFileLastZ, "file-last-chunk-z"},
}

// Operation flags (the flags byte of 1035 and of the path requests).
const (
	FlagNoClobber uint8 = 1 << 0 // put, rename: refuse to replace an existing file
	FlagRecursive uint8 = 1 << 1 // get, list, remove: the whole folder; mkdir: make parents
)

// MaxPath is the longest path on the wire, in bytes.
const MaxPath = 4095

// SizeUnknown in a put's or file's size: a stream whose length the sender
// learns at its end (stdin); the file end says how long it was.
const SizeUnknown = ^uint64(0)

// Fixed parts of the operation payloads.
const (
	putHead      = 8 + 8 + 8 + 4 + 1 // size, offset, mtime, mode, flags; then the path
	FileEndSize  = 8 + 4 + 1         // size, cksum, status
	pathReqHead  = 1                 // flags; then the path
	DoneSize     = 4 + 8 + 4 + 1     // count, size, cksum, flags
	failedHead   = 2                 // reason code; then the text
	entryHead    = 1 + 1 + 8 + 8 + 4 + 4
	maxListBatch = 64 << 10 // bytes of entries per 2114 (fits any chunk size >= 64 KiB; smaller chunks get smaller batches)
)

// ErrPayload means an operation payload is malformed.
var ErrPayload = errors.New("frame: malformed operation payload")

// appendPath appends a path field: uint16 length, then the bytes.
func appendPath(b []byte, p string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(p)))
	return append(b, p...)
}

// parsePath reads a path field that must end the payload exactly.
func parsePath(p []byte) (string, []byte, error) {
	if len(p) < 2 {
		return "", nil, fmt.Errorf("%w: path field truncated", ErrPayload)
	}
	n := int(binary.LittleEndian.Uint16(p))
	if n > MaxPath || len(p) < 2+n {
		return "", nil, fmt.Errorf("%w: path of %d bytes in %d", ErrPayload, n, len(p)-2)
	}
	s := string(p[2 : 2+n])
	if err := checkPath(s); err != nil {
		return "", nil, err
	}
	return s, p[2+n:], nil
}

// checkPath refuses what no path may hold on the wire: invalid UTF-8, NUL
// and other control characters. The receiver's own rules (components,
// reserved names) come on top.
func checkPath(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: path is not UTF-8", ErrPayload)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return fmt.Errorf("%w: control character %U in a path", ErrPayload, r)
		}
	}
	return nil
}

func noTrailing(rest []byte, what string) error {
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d bytes after the %s", ErrPayload, len(rest), what)
	}
	return nil
}

// Put is the payload of 1035:
//
//	size 8 | offset 8 | mtime 8 (int64 ns, 0 none) | mode 4 | flags 1 | path len 2 | path
//
// offset is where the content starts (resume: the bytes before it are the
// ones the server offered); 0 without the resume feature.
type Put struct {
	Size   uint64 // SizeUnknown for a stream
	Offset uint64
	MTime  int64
	Mode   uint32 // permission bits
	Flags  uint8
	Path   string
}

// Marshal encodes p.
func (p *Put) Marshal() []byte {
	b := make([]byte, 0, putHead+2+len(p.Path))
	b = binary.LittleEndian.AppendUint64(b, p.Size)
	b = binary.LittleEndian.AppendUint64(b, p.Offset)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.MTime))
	b = binary.LittleEndian.AppendUint32(b, p.Mode)
	b = append(b, p.Flags)
	return appendPath(b, p.Path)
}

// ParsePut decodes a 1035 payload.
func ParsePut(b []byte) (Put, error) {
	var p Put
	if len(b) < putHead {
		return p, fmt.Errorf("%w: put of %d bytes", ErrPayload, len(b))
	}
	p.Size = binary.LittleEndian.Uint64(b)
	p.Offset = binary.LittleEndian.Uint64(b[8:])
	p.MTime = int64(binary.LittleEndian.Uint64(b[16:]))
	p.Mode = binary.LittleEndian.Uint32(b[24:])
	p.Flags = b[28]
	if p.Size != SizeUnknown && p.Offset > p.Size {
		return p, fmt.Errorf("%w: put offset %d past the size %d", ErrPayload, p.Offset, p.Size)
	}
	var rest []byte
	var err error
	if p.Path, rest, err = parsePath(b[putHead:]); err != nil {
		return p, err
	}
	return p, noTrailing(rest, "put path")
}

// File-end statuses.
const (
	EndComplete uint8 = 0 // the file was sent whole
	EndChanged  uint8 = 1 // the source changed or failed while being read: discard what came
)

// FileEnd is the payload of 1036 and 2113: size 8 | cksum 4 | status 1.
type FileEnd struct {
	Size   uint64
	Cksum  uint32
	Status uint8
}

// Put encodes e into b, which has FileEndSize bytes.
func (e *FileEnd) Put(b []byte) {
	binary.LittleEndian.PutUint64(b, e.Size)
	binary.LittleEndian.PutUint32(b[8:], e.Cksum)
	b[12] = e.Status
}

// ParseFileEnd decodes a 1036 or 2113 payload.
func ParseFileEnd(b []byte) (FileEnd, error) {
	if len(b) != FileEndSize {
		return FileEnd{}, fmt.Errorf("%w: file end of %d bytes, want %d", ErrPayload, len(b), FileEndSize)
	}
	e := FileEnd{Size: binary.LittleEndian.Uint64(b), Cksum: binary.LittleEndian.Uint32(b[8:]), Status: b[12]}
	if e.Status > EndChanged {
		return e, fmt.Errorf("%w: file end status %d", ErrPayload, e.Status)
	}
	return e, nil
}

// PathReq is the payload of get (1037), list (1038), remove (1039) and
// mkdir (1041): flags 1 | path len 2 | path. The empty path is the
// client's root folder.
type PathReq struct {
	Flags uint8
	Path  string
}

// Marshal encodes r.
func (r *PathReq) Marshal() []byte {
	return appendPath([]byte{r.Flags}, r.Path)
}

// ParsePathReq decodes a get, list, remove or mkdir payload.
func ParsePathReq(b []byte) (PathReq, error) {
	if len(b) < pathReqHead {
		return PathReq{}, fmt.Errorf("%w: empty path request", ErrPayload)
	}
	r := PathReq{Flags: b[0]}
	path, rest, err := parsePath(b[1:])
	r.Path = path
	if err != nil {
		return r, err
	}
	return r, noTrailing(rest, "path")
}

// Rename is the payload of 1040: flags 1 | old path | new path.
type Rename struct {
	Flags    uint8
	Old, New string
}

// Marshal encodes r.
func (r *Rename) Marshal() []byte {
	return appendPath(appendPath([]byte{r.Flags}, r.Old), r.New)
}

// ParseRename decodes a 1040 payload.
func ParseRename(b []byte) (Rename, error) {
	if len(b) < 1 {
		return Rename{}, fmt.Errorf("%w: empty rename", ErrPayload)
	}
	r := Rename{Flags: b[0]}
	var rest []byte
	var err error
	if r.Old, rest, err = parsePath(b[1:]); err != nil {
		return r, err
	}
	if r.New, rest, err = parsePath(rest); err != nil {
		return r, err
	}
	return r, noTrailing(rest, "new path")
}

// Done flags.
const (
	DoneReplaced uint8 = 1 << 0 // put, rename: an existing file was replaced
)

// Done is the payload of 2108: count 4 | size 8 | cksum 4 | flags 1. count
// is the files the operation moved, removed or listed; size and cksum
// those of the stored file (put) or the bytes moved.
type Done struct {
	Count uint32
	Size  uint64
	Cksum uint32
	Flags uint8
}

// Marshal encodes d.
func (d *Done) Marshal() []byte {
	b := make([]byte, DoneSize)
	binary.LittleEndian.PutUint32(b, d.Count)
	binary.LittleEndian.PutUint64(b[4:], d.Size)
	binary.LittleEndian.PutUint32(b[12:], d.Cksum)
	b[16] = d.Flags
	return b
}

// ParseDone decodes a 2108 payload.
func ParseDone(b []byte) (Done, error) {
	if len(b) != DoneSize {
		return Done{}, fmt.Errorf("%w: done of %d bytes, want %d", ErrPayload, len(b), DoneSize)
	}
	return Done{
		Count: binary.LittleEndian.Uint32(b), Size: binary.LittleEndian.Uint64(b[4:]),
		Cksum: binary.LittleEndian.Uint32(b[12:]), Flags: b[16],
	}, nil
}

// Failure reasons of 2109, for the client to branch on; the text says more.
const (
	FailInternal   uint16 = 1  // the server could not do it (its log has the detail)
	FailNotFound   uint16 = 2  // no such file or folder
	FailExists     uint16 = 3  // it exists and no-clobber was asked, or mkdir of an existing path
	FailBadPath    uint16 = 4  // the path is not allowed
	FailReadOnly   uint16 = 5  // pub/ is read-only
	FailChecksum   uint16 = 6  // the received bytes did not match the sender's cksum; send again
	FailTooLarge   uint16 = 7  // over the server's -max-file
	FailDiskFull   uint16 = 8  // the server's disk is full
	FailChanged    uint16 = 9  // the source changed while being read
	FailIsDir      uint16 = 10 // a folder where a file was needed (get without -r, put over a folder)
	FailNotDir     uint16 = 11 // a file where a folder was needed
	FailNotEmpty   uint16 = 12 // remove of a folder with content, without recursive
	FailIncomplete uint16 = 13 // the sender gave up on the file (it could not read it)
	FailResume     uint16 = 14 // a put from an offset the server does not hold: send it whole
	FailGoOn       uint16 = 15 // a bye sent ahead (ByeIfDone) after a failure: the session goes on
)

// Failed is the payload of 2109: reason 2 | text (UTF-8, at most
// MaxReasonSize bytes).
type Failed struct {
	Reason uint16
	Text   string
}

// Marshal encodes f, cutting the text to MaxReasonSize bytes.
func (f *Failed) Marshal() []byte {
	t := f.Text
	if len(t) > MaxReasonSize {
		t = t[:MaxReasonSize]
	}
	b := binary.LittleEndian.AppendUint16(make([]byte, 0, failedHead+len(t)), f.Reason)
	return append(b, t...)
}

// ParseFailed decodes a 2109 payload.
func ParseFailed(b []byte) (Failed, error) {
	if len(b) < failedHead || len(b) > failedHead+MaxReasonSize {
		return Failed{}, fmt.Errorf("%w: failed of %d bytes", ErrPayload, len(b))
	}
	return Failed{Reason: binary.LittleEndian.Uint16(b), Text: string(b[failedHead:])}, nil
}

// Entry kinds.
const (
	KindFile uint8 = 1
	KindDir  uint8 = 2
)

// Entry flags.
const (
	EntryVerified uint8 = 1 << 0 // the client confirmed the checksum when it was stored
)

// Entry describes a file or folder, in a 2110 (one entry) and in a 2114
// (entries back to back):
//
//	kind 1 | flags 1 | size 8 | mtime 8 (int64 ns) | mode 4 | cksum 4 | path len 2 | path
type Entry struct {
	Kind  uint8
	Flags uint8
	Size  uint64
	MTime int64
	Mode  uint32
	Cksum uint32
	Path  string
}

// Append encodes e at the end of b.
func (e *Entry) Append(b []byte) []byte {
	b = append(b, e.Kind, e.Flags)
	b = binary.LittleEndian.AppendUint64(b, e.Size)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.MTime))
	b = binary.LittleEndian.AppendUint32(b, e.Mode)
	b = binary.LittleEndian.AppendUint32(b, e.Cksum)
	return appendPath(b, e.Path)
}

// EncodedSize is the bytes Append adds.
func (e *Entry) EncodedSize() int { return entryHead + 2 + len(e.Path) }

// parseEntry decodes one entry from the start of b and returns the rest.
func parseEntry(b []byte) (Entry, []byte, error) {
	if len(b) < entryHead {
		return Entry{}, nil, fmt.Errorf("%w: entry of %d bytes", ErrPayload, len(b))
	}
	e := Entry{
		Kind: b[0], Flags: b[1], Size: binary.LittleEndian.Uint64(b[2:]),
		MTime: int64(binary.LittleEndian.Uint64(b[10:])), Mode: binary.LittleEndian.Uint32(b[18:]),
		Cksum: binary.LittleEndian.Uint32(b[22:]),
	}
	if e.Kind != KindFile && e.Kind != KindDir {
		return e, nil, fmt.Errorf("%w: entry kind %d", ErrPayload, e.Kind)
	}
	var err error
	e.Path, b, err = parsePath(b[entryHead:])
	return e, b, err
}

// ParseEntry decodes a 2110 payload: exactly one entry.
func ParseEntry(b []byte) (Entry, error) {
	e, rest, err := parseEntry(b)
	if err != nil {
		return e, err
	}
	return e, noTrailing(rest, "entry")
}

// ParseEntries decodes a 2114 payload: one or more entries back to back.
func ParseEntries(b []byte) ([]Entry, error) {
	var out []Entry
	for len(b) > 0 {
		e, rest, err := parseEntry(b)
		if err != nil {
			return out, err
		}
		out = append(out, e)
		b = rest
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no entries", ErrPayload)
	}
	return out, nil
}

// ListBatch is the most bytes of entries one 2114 carries for a session
// with the given chunk size.
func ListBatch(chunk int) int { return min(chunk, maxListBatch) }

// FileMsg is the payload of 2110: offset 8 | entry. offset is where the
// content that follows starts (a resumed get); 0 otherwise.
type FileMsg struct {
	Offset uint64
	Entry
}

// Marshal encodes m.
func (m *FileMsg) Marshal() []byte {
	return m.Entry.Append(binary.LittleEndian.AppendUint64(make([]byte, 0, 8+m.EncodedSize()), m.Offset))
}

// ParseFileMsg decodes a 2110 payload.
func ParseFileMsg(b []byte) (FileMsg, error) {
	if len(b) < 8 {
		return FileMsg{}, fmt.Errorf("%w: file message of %d bytes", ErrPayload, len(b))
	}
	m := FileMsg{Offset: binary.LittleEndian.Uint64(b)}
	var err error
	m.Entry, err = ParseEntry(b[8:])
	if err == nil && m.Offset > m.Size {
		err = fmt.Errorf("%w: file offset %d past its size %d", ErrPayload, m.Offset, m.Size)
	}
	return m, err
}
