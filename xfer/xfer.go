// Package xfer moves file content over a sealed session, the same way for
// both roles and both directions: a client uploading and a server serving
// a download call the same Sender, a server storing an upload and a client
// storing a download the same Receiver. It streams chunks in batches of
// up to four frames (256 KiB of content over TCP), one write each, in
// memory bounded by a few batches whatever the file size: the Sender on
// the caller's goroutine, the Receiver so too or, with a ring from a Pool,
// pipelined (one goroutine reads and opens while the other writes). It
// runs the end-to-end check of the operations protocol: the
// sender ends a file with its size and POSIX cksum (a file end), the
// receiver compares them with what it got.
//
// What a file's content is, where it comes from and where it goes (a
// temporary file, the store, stdout) is the caller's; xfer sees an
// io.Reader or an io.Writer. It holds no protocol state between files.
//
//	sender:   [file message] chunk... last-chunk file-end   (one direction's codes)
//	receiver: opens and checks each, writes the content, compares the file end
package xfer

import (
	"time"

	"ferry/crypt"
	"ferry/frame"
)

// Conn is what xfer needs of a session; *crypt.Session has it, in either
// role, and tests substitute failing fakes.
type Conn interface {
	Chunk() int
	ChunkFrameSize() int
	ChunkPayload(buf []byte) []byte
	SealChunk(buf []byte, code frame.Code, n int) []byte
	MsgFrameSize(n int) int
	SealMsg(buf []byte, code frame.Code, payload []byte) []byte
	WriteSealed(f []byte) error
	ReadMsgInto(buf []byte) (crypt.Header, []byte, error)
	ReadBufSize() int
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

var _ Conn = (*crypt.Session)(nil)

// Codes are the message codes of one direction: raw chunks, compressed
// chunks (ChunkZ, LastZ; 0 where the direction has none), the file end.
type Codes struct {
	Chunk, Last, ChunkZ, LastZ, End frame.Code
}

// The two directions. Upload is also the content of the first release's
// send-file (1028), which has no file end and is never compressed.
var (
	Upload = Codes{Chunk: frame.CodeChunk, Last: frame.CodeLastChunk,
		ChunkZ: frame.CodeChunkZ, LastZ: frame.CodeLastChunkZ, End: frame.CodeFileEnd}
	Download = Codes{Chunk: frame.CodeFileChunk, Last: frame.CodeFileLast,
		ChunkZ: frame.CodeFileChunkZ, LastZ: frame.CodeFileLastZ, End: frame.CodeFileEndResp}
)

// Sizes of the batches.
const (
	depth          = 3         // batches of a pipelined reception: one being filled, one being written, one spare
	batchContent   = 256 << 10 // content per batch, written (or read) together
	maxBatchFrames = 4         // frames per batch at most: small chunks are packed four at a time
)

// batchFrames is the number of chunk frames in a batch for a session with
// the given chunk size: as many as make 256 KiB of content, at least one
// and at most four. From 64 to 256 KiB chunks a batch stays 256 KiB (a
// larger chunk makes fewer frames, not larger batches), and so does the
// memory of a pipeline; smaller chunks (slow links) go four at a time.
func batchFrames(chunk int) int {
	return max(1, min(maxBatchFrames, batchContent/max(chunk, 1)))
}
