package server

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"ferry/crypt"
	"ferry/frame"
)

// An upload is received on two goroutines joined by a ring of recvDepth
// batches, so that both cores work: the reader reads up to batchFrames
// chunk frames into a batch, opening each in place and checking it; the
// session's goroutine writes their content to the temporary file (fsstore
// adds it to the cksum). Batches rather than frames go round the ring
// because waking a goroutine costs tens of microseconds on a busy virtual
// machine. The reader stops after the last chunk, so nothing it reads
// belongs to the next request; the session goroutine sends the 2103 only
// after the reader has stopped and every chunk is written.
//
//	reader:  <-free, (read + open, check) × batchFrames, full<-  ──┐
//	session: <-full, write + cksum, free<-                   <─────┘
//
// Pipelining pays only while cores are idle, so at most pipeSlots uploads
// of the process use it at once, each with a ring kept for the next one;
// the others read one frame at a time into the session's own buffer. This
// keeps the memory of many concurrent sessions at one frame each.

// Sizes of the receive pipeline.
const (
	recvDepth   = 3 // batches in flight: one being read, one being written, one spare
	batchFrames = 4 // chunk frames per batch
)

// pipeSlots holds the rings of the uploads that may be pipelined at once,
// one per CPU; a nil ring is allocated on first use.
var pipeSlots = func() chan *ring {
	n := max(runtime.GOMAXPROCS(0), 2)
	c := make(chan *ring, n)
	for range n {
		c <- nil
	}
	return c
}()

// ring is the buffers of one pipelined upload: recvDepth batches of
// batchFrames frame buffers.
type ring struct {
	bufs [recvDepth][batchFrames][]byte
}

// takeRing returns a ring for frame buffers of size bytes, or false when
// every slot is in use.
func takeRing(size int) (*ring, bool) {
	select {
	case r := <-pipeSlots:
		if r == nil {
			r = new(ring)
		}
		r.fit(size)
		return r, true
	default:
		return nil, false
	}
}

// fit makes every buffer of r size bytes long, reusing those large enough.
func (r *ring) fit(size int) {
	for i := range r.bufs {
		for j := range r.bufs[i] {
			if cap(r.bufs[i][j]) < size {
				r.bufs[i][j] = make([]byte, size)
			}
			r.bufs[i][j] = r.bufs[i][j][:size]
		}
	}
}

func putRing(r *ring) { pipeSlots <- r }

// frameSource is what the reader needs of a session; sessionSource adapts
// a *crypt.Session, and tests substitute failing fakes.
type frameSource interface {
	ReadRequestInto(buf []byte) (frame.Request, []byte, error)
	SetReadDeadline(t time.Time) error
}

// sessionSource is a session as a frameSource.
type sessionSource struct{ *crypt.Session }

func (s sessionSource) SetReadDeadline(t time.Time) error { return s.Link().SetReadDeadline(t) }

// openedBatch is chunks on their way from the reader to the writer.
type openedBatch struct {
	bufs    *[batchFrames][]byte // the ring's buffers, to give back
	content [batchFrames][]byte  // the opened payloads in them
	n       int                  // how many of content are set
	last    bool                 // the last of them ends the upload
}

// receivePipelined reads the chunks of one transmission of size bytes from
// src and writes their content to w, with idle as the time allowed for
// each frame. On any error both goroutines have stopped when it returns;
// the read side of src is then unusable and the session must end.
func receivePipelined(src frameSource, r *ring, w io.Writer, size uint64, idle time.Duration) error {
	free := make(chan *[batchFrames][]byte, recvDepth)
	full := make(chan openedBatch, recvDepth)
	stop := make(chan struct{})
	for i := range r.bufs {
		free <- &r.bufs[i]
	}
	var rerr error
	go func() {
		defer close(full) // after rerr is final: the writer reads it once full is closed
		rerr = readChunks(src, size, idle, free, full, stop)
	}()
	werr := writeChunks(w, full, free)
	if werr != nil {
		close(stop)
		src.SetReadDeadline(time.Now()) // wakes a reader blocked on the link
	}
	for range full { // wait for the reader
	}
	if werr != nil {
		return werr
	}
	return rerr
}

// readChunks is the reader goroutine: it reads, opens and checks chunk
// frames into free batches and queues them on full, until the last chunk,
// an error, or stop. A batch is queued when full or at the last chunk;
// one cut short by an error is not.
func readChunks(src frameSource, size uint64, idle time.Duration, free <-chan *[batchFrames][]byte, full chan<- openedBatch, stop <-chan struct{}) error {
	var got uint64
	for {
		b := openedBatch{}
		select {
		case b.bufs = <-free:
		case <-stop:
			return nil
		}
		for ; b.n < batchFrames && !b.last; b.n++ {
			src.SetReadDeadline(time.Now().Add(idle))
			select { // after the deadline: a stop that comes later moves it to the past
			case <-stop:
				return nil
			default:
			}
			req, p, err := src.ReadRequestInto(b.bufs[b.n])
			if err != nil {
				return fmt.Errorf("server: upload interrupted after %d of %d bytes: %w", got, size, err)
			}
			if b.last, err = checkChunk(req, len(p), &got, size); err != nil {
				return err
			}
			b.content[b.n] = p
		}
		select {
		case full <- b:
		case <-stop:
			return nil
		}
		if b.last {
			return nil
		}
	}
}

// writeChunks is the writer: it writes the content queued on full in order
// and gives the buffers back, until the last chunk is written or a write
// fails. It returns nil also when full closes early: the reader failed.
func writeChunks(w io.Writer, full <-chan openedBatch, free chan<- *[batchFrames][]byte) error {
	for b := range full {
		for _, p := range b.content[:b.n] {
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
		if b.last {
			return nil
		}
		free <- b.bufs // never blocks: the ring has recvDepth batches and free as many slots
	}
	return nil
}

// checkChunk accounts for a frame of n content bytes in an upload of size
// bytes of which got have arrived, and reports whether it is the last.
func checkChunk(req frame.Request, n int, got *uint64, size uint64) (last bool, err error) {
	if req.Code != frame.CodeChunk && req.Code != frame.CodeLastChunk {
		return false, fmt.Errorf("%w: %v inside an upload", ErrProtocol, req.Code)
	}
	if *got += uint64(n); *got > size {
		return false, fmt.Errorf("%w: more content than the %d bytes declared", ErrProtocol, size)
	}
	if req.Code == frame.CodeLastChunk && *got != size {
		return false, fmt.Errorf("%w: last chunk after %d of %d bytes", ErrProtocol, *got, size)
	}
	return req.Code == frame.CodeLastChunk, nil
}
