package xfer

import (
	"errors"
	"fmt"
	"io"
	"time"

	"ferry/crypt"
	"ferry/frame"
)

// A file is received on two goroutines joined by a ring of depth batches:
// the reader reads up to batchFrames chunk frames into a batch buffer, each
// payload right after the one before (ReadMsgInto leaves the header out
// and the tag is not needed once the frame is open), opening and checking
// each and adding it to the cksum while it is still in the core's cache;
// the caller's goroutine writes the batch's content with one write.
// The reader stops after the last chunk, so nothing it reads belongs to
// the next message; the caller reads the file end after both have stopped.
//
//	reader: <-free, (read + open, check, cksum) × batchFrames, full<-  ──┐
//	caller: <-full, one write, free<-                               <────┘
//
// Pipelining pays only while cores are idle, so a Pool lends rings to at
// most as many receptions at once as it was made for; the others read one
// frame at a time into the session's own buffer. This keeps the memory of
// many concurrent sessions at one frame each.

// ErrProtocol means the peer broke the content rules: a message other than
// a chunk inside a file, more content than declared, a last chunk short of
// the declared size, a malformed or missing file end. The session must end.
var ErrProtocol = errors.New("xfer: protocol violation")

// ErrTooLarge means a stream went past the limit it was received with.
var ErrTooLarge = errors.New("xfer: file larger than the limit")

// Pool lends the rings of pipelined receptions; it belongs to one owner (a
// server, a client). Safe for concurrent use.
type Pool struct {
	slots chan *ring
}

// NewPool returns a pool that lets n receptions be pipelined at once.
func NewPool(n int) *Pool {
	p := &Pool{slots: make(chan *ring, n)}
	for range n {
		p.slots <- nil // allocated on first use
	}
	return p
}

// ring is the buffers of one pipelined reception.
type ring struct {
	bufs [depth][]byte
}

// take returns a ring for batches of frames frames that need size bytes
// each, or false when every slot is in use.
func (p *Pool) take(frames, size int) (*ring, bool) {
	if p == nil {
		return nil, false
	}
	select {
	case r := <-p.slots:
		if r == nil {
			r = new(ring)
		}
		for i := range r.bufs {
			if cap(r.bufs[i]) < frames*size {
				r.bufs[i] = make([]byte, frames*size)
			}
			r.bufs[i] = r.bufs[i][:frames*size]
		}
		return r, true
	default:
		return nil, false
	}
}

func (p *Pool) put(r *ring) { p.slots <- r }

// Receiver receives file content. The zero value is ready to use (without
// pipelining); set Pool to pipeline. Not safe for concurrent use.
type Receiver struct {
	Pool *Pool
	// Idle is the time allowed for each frame; 0 means no deadline.
	Idle time.Duration
	// Compressed accepts compressed chunks (the session negotiated
	// compression); without it they are a protocol error.
	Compressed bool
	buf        []byte // one frame, when no ring is free
	z          decompressor
}

// Content describes one file to receive.
type Content struct {
	Codes Codes
	// Size is the declared size of the content, or -1 for a stream.
	Size int64
	// Offset is how many bytes of the file the receiver already holds (a
	// resumed transfer): the file end counts them. Sum (or WriterSum) then
	// starts with their cksum.
	Offset int64
	// Limit bounds a stream (Size -1); past it, ErrTooLarge. 0: no limit.
	Limit int64
	// ClientID is the ID every chunk must carry: the session's client on a
	// server (zero on a client: responses carry none).
	ClientID frame.ClientID
	// Short lets the last chunk come before Size bytes: the sender could
	// not read the whole file, and its file end will say so.
	Short bool
	// Sum, if not nil, gets every content byte (when the writer does not
	// compute the cksum itself).
	Sum *frame.Cksum
	// WriterSum, if not nil, is the cksum the writer computed itself (the
	// store's upload does); ReceiveFile then computes none.
	WriterSum func() uint32
	// Progress, if not nil, is called with the bytes received so far:
	// with 0 first, then after each frame, from one goroutine at a time
	// (pipelined: the reader's).
	Progress func(got int64)
}

// Receive reads the chunks of one file from c and writes the content to w.
// It returns the bytes received. On any error the session is out of step
// and must end, except a write error of w: then the rest of the content
// has been read and dropped, and the error wraps ErrSink.
func (rc *Receiver) Receive(c Conn, f *Content, w io.Writer) (int64, error) {
	sink := &sinkWriter{w: w}
	if f.Progress != nil {
		f.Progress(0)
	}
	rc.z.reset()
	var n int64
	var err error
	// A file of one chunk has nothing to overlap: a reader goroutine would
	// only add its start and two handoffs (most of a 1 KiB file's time in
	// send -r of many small files, docs/BENCHMARKS.md).
	if f.Size >= 0 && f.Size <= int64(c.Chunk()) {
		n, err = rc.oneByOne(c, f, sink)
	} else if r, ok := rc.Pool.take(batchFrames(c.Chunk()), c.ReadBufSize()); ok {
		n, err = rc.pipelined(c, r, f, sink)
		rc.Pool.put(r)
	} else {
		n, err = rc.oneByOne(c, f, sink)
	}
	if err == nil && sink.err != nil {
		err = fmt.Errorf("%w: %w", ErrSink, sink.err)
	}
	return n, err
}

// ErrSink wraps a failure to write received content (a full disk): the
// content was read to its end and dropped, and the session is in step.
var ErrSink = errors.New("xfer: storing the content failed")

// sinkWriter writes to w until the first error, then drops the rest, so
// that the stream is read to its end and the session stays in step.
type sinkWriter struct {
	w   io.Writer
	err error
}

func (s *sinkWriter) Write(p []byte) (int, error) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
	return len(p), nil
}

// oneByOne reads frame after frame into the receiver's own buffer.
func (rc *Receiver) oneByOne(c Conn, f *Content, w io.Writer) (int64, error) {
	if len(rc.buf) < c.ReadBufSize() {
		rc.buf = make([]byte, c.ReadBufSize())
	}
	var got int64
	for {
		rc.deadline(c)
		h, p, err := c.ReadMsgInto(rc.buf)
		if err != nil {
			return got, fmt.Errorf("xfer: transfer interrupted after %d bytes: %w", got, err)
		}
		if err := checkFrame(c, f, h, len(p)); err != nil {
			return got, err
		}
		if p, err = rc.content(c, f, h, p); err != nil {
			return got, err
		}
		last, err := check(f, h, len(p), &got)
		if err != nil {
			return got, err
		}
		f.sum(p)
		w.Write(p)
		if f.Progress != nil {
			f.Progress(got)
		}
		if last {
			return got, nil
		}
	}
}

func (rc *Receiver) deadline(c Conn) {
	if rc.Idle > 0 {
		c.SetReadDeadline(time.Now().Add(rc.Idle))
	}
}

// opened is chunks on their way from the reader to the writer.
type opened struct {
	buf     []byte // the ring's buffer, to give back
	content []byte // the opened payloads at its start, back to back
	got     int64  // content bytes up to the end of them
	last    bool   // they end the file
}

// pipelined receives with a ring: a reader goroutine, the caller writing.
func (rc *Receiver) pipelined(c Conn, r *ring, f *Content, w io.Writer) (int64, error) {
	free := make(chan []byte, depth)
	full := make(chan opened, depth)
	for _, b := range r.bufs {
		free <- b
	}
	var rerr error
	var got int64
	go func() {
		defer close(full) // after rerr and got are final: read once full is closed
		got, rerr = rc.readChunks(c, f, c.ReadBufSize(), free, full)
	}()
	for b := range full {
		w.Write(b.content) // a sinkWriter: never fails
		if b.last {
			break
		}
		free <- b.buf // never blocks: the ring has depth batches and free as many slots
	}
	for range full { // wait for the reader
	}
	return got, rerr
}

// readChunks is the reader goroutine: it reads, opens and checks chunk
// frames (each needing frameSize bytes of room) into free batches and
// queues them on full, until the last chunk or an error. A batch is queued
// when it has no room for another frame or at the last chunk.
func (rc *Receiver) readChunks(c Conn, f *Content, frameSize int, free <-chan []byte, full chan<- opened) (int64, error) {
	var got int64
	for {
		b := opened{buf: <-free}
		used := 0
		for len(b.buf)-used >= frameSize && !b.last {
			rc.deadline(c)
			h, p, err := c.ReadMsgInto(b.buf[used:])
			if err != nil {
				// What arrived whole before the link failed is written: a
				// resumed transfer goes on from there.
				rc.flush(full, b, used)
				return got, fmt.Errorf("xfer: transfer interrupted after %d bytes: %w", got, err)
			}
			if err := checkFrame(c, f, h, len(p)); err != nil {
				return got, err
			}
			if p, err = rc.content(c, f, h, p); err != nil {
				return got, err
			}
			if b.last, err = check(f, h, len(p), &got); err != nil {
				return got, err
			}
			f.sum(p)
			if f.Progress != nil { // per frame: on a slow line a batch takes long
				f.Progress(got)
			}
			// An inflated chunk goes where its compressed form was: at most
			// a chunk, and the room left is at least a frame.
			used += copy(b.buf[used:], p)
		}
		b.content, b.got = b.buf[:used], got
		full <- b
		if b.last {
			return got, nil
		}
	}
}

// flush queues the part of a batch read before an error, so that it is
// written too.
func (rc *Receiver) flush(full chan<- opened, b opened, used int) {
	if used > 0 {
		b.content = b.buf[:used]
		full <- b
	}
}

// content returns the chunk of frame h: p itself, or p inflated (valid
// until the next call).
func (rc *Receiver) content(c Conn, f *Content, h crypt.Header, p []byte) ([]byte, error) {
	if f.Codes.ChunkZ == 0 {
		return p, nil
	}
	if h.Code != f.Codes.ChunkZ && h.Code != f.Codes.LastZ {
		if rc.Compressed {
			rc.z.raw(p) // a later compressed chunk may refer to it
		}
		return p, nil
	}
	if !rc.Compressed {
		return nil, fmt.Errorf("%w: %v without compression negotiated", ErrProtocol, h.Code)
	}
	return rc.z.decompress(p, c.Chunk())
}

// sum adds content to f.Sum, if it has one.
func (f *Content) sum(p []byte) {
	if f.Sum != nil {
		f.Sum.Write(p)
	}
}

// checkFrame refuses a chunk of another client, or larger than negotiated
// (a raw one; an inflated one is bounded by decompress).
func checkFrame(c Conn, f *Content, h crypt.Header, n int) error {
	if h.ClientID != f.ClientID {
		return fmt.Errorf("%w: %v for client %s inside the file of %s", ErrProtocol, h.Code, h.ClientID, f.ClientID)
	}
	if n > c.Chunk() {
		return fmt.Errorf("%w: chunk of %d bytes, the negotiated chunk is %d", ErrProtocol, n, c.Chunk())
	}
	return nil
}

// check accounts for a frame of n content bytes of which got have arrived,
// and reports whether it is the last.
func check(f *Content, h crypt.Header, n int, got *int64) (last bool, err error) {
	z := f.Codes.ChunkZ != 0 && (h.Code == f.Codes.ChunkZ || h.Code == f.Codes.LastZ)
	if h.Code != f.Codes.Chunk && h.Code != f.Codes.Last && !z {
		return false, fmt.Errorf("%w: %v inside a file", ErrProtocol, h.Code)
	}
	*got += int64(n)
	switch {
	case f.Size >= 0 && *got > f.Size:
		return false, fmt.Errorf("%w: more content than the %d bytes declared", ErrProtocol, f.Size)
	case f.Size < 0 && f.Limit > 0 && *got > f.Limit:
		return false, fmt.Errorf("%w: over %d bytes", ErrTooLarge, f.Limit)
	}
	last = h.Code == f.Codes.Last || (z && h.Code == f.Codes.LastZ)
	if last && f.Size >= 0 && *got != f.Size && !f.Short {
		return false, fmt.Errorf("%w: last chunk after %d of %d bytes", ErrProtocol, *got, f.Size)
	}
	return last, nil
}
