package xfer

import (
	"errors"
	"fmt"
	"io"
	"time"

	"ferry/frame"
)

// A file is sent on two goroutines joined by a ring of depth batches: the
// filler reads the source straight into chunk frames, adds each chunk to
// the cksum and seals it in place, packing up to batchFrames frames back
// to back (with the file message before the first and the file end after
// the last, so a small file is one write); the caller's goroutine writes
// each batch with one write and reports progress. Batches rather than
// frames go round because on a machine where waking a goroutine and a
// write syscall cost tens of microseconds, doing both per 64 KiB frame left
// both cores half idle. The steady state allocates nothing.
//
//	filler:  <-free, (read, cksum, seal) × batchFrames, full<-  ──┐
//	caller:  <-full, write, progress, free<-                <─────┘

// ErrSource wraps a failure to read the source while sending: the content
// was ended early (a last chunk after what was read), so the session is
// still in step, and with a file end the receiver was told to discard it.
var ErrSource = errors.New("xfer: reading the source failed")

// Sender sends files. The zero value is ready to use; its batches are
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
	bufs  [depth][]byte
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

// batch is sealed frames on their way from the filler to the writer.
type batch struct {
	buf    []byte // the ring buffer, to give back
	frames []byte // the sealed frames at its start
	from   int64  // content bytes before the first of them
	sent   int64  // content bytes up to the end of the last of them
	last   bool   // they end the file
}

// Send streams r as the content of f and returns the bytes sent and their
// cksum. A read error of r ends the content early and is returned wrapped
// in ErrSource (with f.End, the file end says the file changed): the
// session stays usable. Any other error is the session's: both goroutines
// have stopped, and the session must end.
func (s *Sender) Send(c Conn, f *File, r io.Reader) (int64, uint32, error) {
	free := make(chan []byte, depth)
	full := make(chan batch, depth)
	stop := make(chan struct{})
	size := batchFrames(c.Chunk())*c.ChunkFrameSize() + c.MsgFrameSize(len(f.Head)) + c.MsgFrameSize(frame.FileEndSize)
	for i := range s.bufs {
		if len(s.bufs[i]) < size {
			s.bufs[i] = make([]byte, size)
		}
		free <- s.bufs[i]
	}
	s.sum = f.Prefix
	var srcErr error
	var sent int64
	if f.Progress != nil {
		f.Progress(0)
	}
	go func() {
		defer close(full) // after srcErr and sent are final: read once full is closed
		sent, srcErr = s.fill(c, f, r, free, full, stop)
	}()
	werr := s.write(c, full, free, f.Progress)
	if werr != nil {
		close(stop)
	}
	for range full { // wait for the filler
	}
	if werr != nil {
		return sent, 0, werr
	}
	if srcErr != nil {
		return sent, s.sum.Sum32(), fmt.Errorf("%w: %w", ErrSource, srcErr)
	}
	return sent, s.sum.Sum32(), nil
}

// fill is the filler goroutine: it fills free batches with sealed frames
// and queues them on full, until the last chunk or stop. A read error ends
// the content where it is: the batch gets a last chunk (and file end) so
// that every sealed frame is written and the peer stays in step.
func (s *Sender) fill(c Conn, f *File, r io.Reader, free <-chan []byte, full chan<- batch, stop <-chan struct{}) (sent int64, srcErr error) {
	head := f.Head != nil
	for {
		var buf []byte
		select {
		case buf = <-free:
		case <-stop:
			return sent, nil
		}
		b := batch{buf: buf, from: sent}
		used := 0
		if head {
			used += len(c.SealMsg(buf, f.HeadCode, f.Head))
			head = false
		}
		for range batchFrames(c.Chunk()) {
			chunk := c.ChunkPayload(buf[used:])
			n, last, err := s.read(r, chunk, f.Size, sent)
			if err != nil {
				srcErr, last = err, true
			}
			sent += int64(n)
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
			used += len(c.SealMsg(buf[used:], f.Codes.End, s.end(f, sent, srcErr)))
		}
		b.frames, b.sent = buf[:used], sent
		select {
		case full <- b:
		case <-stop:
			return sent, srcErr
		}
		if b.last {
			return sent, srcErr
		}
	}
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

// write is the writer: it writes the batches queued on full in order and
// gives their buffers back, until the last one is written or a write
// fails. It returns nil also when full closes early.
func (s *Sender) write(c Conn, full <-chan batch, free chan<- []byte, progress func(sent int64)) error {
	for b := range full {
		if err := s.writeBatch(c, &b, progress); err != nil {
			return err
		}
		if b.last {
			return nil
		}
		free <- b.buf // never blocks: the ring has depth batches and free as many slots
	}
	return nil
}
