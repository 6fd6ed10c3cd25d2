package xfer

import (
	"errors"
	"fmt"
	"io"
	"time"

	"ferry/frame"
)

// A file is sent on the caller's goroutine, a batch at a time: the source
// is read straight into chunk frames, each chunk added to the cksum and
// sealed in place, up to batchFrames frames back to back (with the file
// message before the first and the file end after the last, so a small
// file is one write); the batch goes with one write, then progress. The
// steady state allocates nothing.
//
//	(read, cksum, seal) × batchFrames, write, progress
//
// There is no second goroutine to read and seal the next batch while this
// one is written: on a 2-core machine the hand-off between the two cost
// more CPU time than the overlap saved (docs/BENCHMARKS.md, bench/ops),
// and the overlap that matters remains: while the peer reads what the
// socket buffer holds, the next batch is read and sealed.

// ErrSource wraps a failure to read the source while sending: the content
// was ended early (a last chunk after what was read), so the session is
// still in step, and with a file end the receiver was told to discard it.
var ErrSource = errors.New("xfer: reading the source failed")

// Sender sends files. The zero value is ready to use; its batch buffer is
// allocated by the first Send and reused. Not safe for concurrent use.
type Sender struct {
	// Timeout bounds each write: a peer that stops reading for this long
	// fails the send. 0 means no deadline.
	Timeout time.Duration
	// Compress, when not 0, is the flate level chunks are compressed with
	// (the session negotiated compression; the file's Codes have ChunkZ).
	Compress int
	// Piece, when not 0, writes each batch in pieces of that many bytes
	// and reports progress after each: on a slow line a batch takes
	// seconds, and a person wants to see the bytes move.
	Piece int
	buf   []byte // the batch being filled and written
	sum   frame.Cksum
	z     compressor
}

// File describes one file to send.
type File struct {
	Codes Codes
	// Head, if not nil, is a message (code and payload) sent just before
	// the content, in the same write: a put or a file entry.
	HeadCode frame.Code
	Head     []byte
	// Size is the content's length, or -1 for a stream read to its end.
	Size int64
	// Offset is how many bytes of the file come before the content (a
	// resumed transfer: the receiver holds them), and Prefix their cksum:
	// the file end gives the size and cksum of the whole file.
	Offset int64
	Prefix frame.Cksum
	// End says whether a file end follows the content (the operations
	// protocol); the first release's upload has none.
	End bool
	// Progress, if not nil, is called with the bytes sent so far: with 0
	// first, then after each batch (or piece, Sender.Piece) is written.
	Progress func(sent int64)
	// Tamper, if not nil, alters the cksum the file end carries: tests use
	// it to make the receiver see a mismatch.
	Tamper func(sum uint32) uint32
}

// batch is sealed frames ready to be written.
type batch struct {
	frames []byte // the sealed frames at the start of the buffer
	from   int64  // content bytes before the first of them
	sent   int64  // content bytes up to the end of the last of them
	last   bool   // they end the file
}

// Send streams r as the content of f and returns the bytes sent and their
// cksum. A read error of r ends the content early and is returned wrapped
// in ErrSource (with f.End, the file end says the file changed): the
// session stays usable. Any other error is the session's: it must end.
func (s *Sender) Send(c Conn, f *File, r io.Reader) (int64, uint32, error) {
	size := batchFrames(c.Chunk())*c.ChunkFrameSize() + c.MsgFrameSize(len(f.Head)) + c.MsgFrameSize(frame.FileEndSize)
	if len(s.buf) < size {
		s.buf = make([]byte, size)
	}
	s.sum = f.Prefix
	s.z.reset()
	if f.Progress != nil {
		f.Progress(0)
	}
	st := sending{f: f, r: r, head: f.Head != nil}
	for {
		b := s.fillBatch(c, &st, s.buf)
		if err := s.writeBatch(c, &b, f.Progress); err != nil {
			return st.sent, 0, err
		}
		if b.last {
			break
		}
	}
	if st.srcErr != nil {
		return st.sent, s.sum.Sum32(), fmt.Errorf("%w: %w", ErrSource, st.srcErr)
	}
	return st.sent, s.sum.Sum32(), nil
}

// sending is the state of one file being sent.
type sending struct {
	f      *File
	r      io.Reader
	head   bool  // the file message is still to go
	sent   int64 // content bytes sealed so far
	srcErr error // the read error that ended the content early
}

// fillBatch fills buf with the sealed frames of one batch: the file
// message first if it is still to go, then up to batchFrames chunks, then
// the file end after the last one. A read error ends the content where it
// is: the batch gets a last chunk (and file end) so that the peer stays in
// step.
func (s *Sender) fillBatch(c Conn, st *sending, buf []byte) batch {
	f := st.f
	b := batch{from: st.sent}
	used := 0
	if st.head {
		used += len(c.SealMsg(buf, f.HeadCode, f.Head))
		st.head = false
	}
	for range batchFrames(c.Chunk()) {
		chunk := c.ChunkPayload(buf[used:])
		n, last, err := s.read(st.r, chunk, f.Size, st.sent)
		if err != nil {
			st.srcErr, last = err, true
		}
		st.sent += int64(n)
		code, zcode := f.Codes.Chunk, f.Codes.ChunkZ
		if last {
			code, zcode, b.last = f.Codes.Last, f.Codes.LastZ, true
		}
		if s.Compress != 0 && zcode != 0 {
			s.z.level = s.Compress
			var ok bool
			if n, ok = s.z.compress(chunk[:n]); ok {
				code = zcode
			}
		}
		used += len(c.SealChunk(buf[used:], code, n))
		if b.last {
			break
		}
	}
	if b.last && f.End {
		used += len(c.SealMsg(buf[used:], f.Codes.End, s.end(f, st.sent, st.srcErr)))
	}
	b.frames, b.sent = buf[:used], st.sent
	return b
}

// read fills chunk from r, of a content of size bytes (-1: to the end of
// r) of which sent are gone, and reports whether this is the last chunk.
func (s *Sender) read(r io.Reader, chunk []byte, size, sent int64) (n int, last bool, err error) {
	if size >= 0 {
		n = int(min(int64(len(chunk)), size-sent))
		m, err := io.ReadFull(r, chunk[:n])
		s.sum.Write(chunk[:m])
		if err != nil {
			return m, true, fmt.Errorf("the file shrank while being sent (%d of %d bytes): %w", sent+int64(m), size, err)
		}
		return n, sent+int64(n) == size, nil
	}
	n, err = io.ReadFull(r, chunk)
	s.sum.Write(chunk[:n])
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return n, true, nil
	case err != nil:
		return n, true, err
	}
	return n, false, nil
}

// end encodes the file end for the content sent.
func (s *Sender) end(f *File, sent int64, srcErr error) []byte {
	e := frame.FileEnd{Size: uint64(f.Offset + sent), Cksum: s.sum.Sum32()}
	if f.Tamper != nil {
		e.Cksum = f.Tamper(e.Cksum)
	}
	if srcErr != nil {
		e.Status = frame.EndChanged
	}
	b := make([]byte, frame.FileEndSize)
	e.Put(b)
	return b
}

// writeBatch writes one batch, in pieces when Piece is set, with progress
// after each piece (the content bytes estimated from the share of the
// batch written: frames carry about the same share of content).
func (s *Sender) writeBatch(c Conn, b *batch, progress func(sent int64)) error {
	piece := len(b.frames)
	if s.Piece > 0 {
		piece = s.Piece
	}
	for off := 0; off < len(b.frames); off += piece {
		end := min(off+piece, len(b.frames))
		if s.Timeout > 0 {
			c.SetWriteDeadline(time.Now().Add(s.Timeout))
		}
		if err := c.WriteSealed(b.frames[off:end]); err != nil {
			return err
		}
		if progress != nil {
			progress(b.from + (b.sent-b.from)*int64(end)/int64(len(b.frames)))
		}
	}
	return nil
}
