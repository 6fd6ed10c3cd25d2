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
// chunk frames into a batch buffer, each payload right after the one before
// (ReadRequestInto leaves the header out and the tag is not needed once the
// frame is open), opening and checking each; the session's goroutine writes
// the batch's content to the temporary file with one write (fsstore adds it
// to the cksum). Batches rather than frames go round the ring because
// waking a goroutine and a syscall cost tens of microseconds on a busy
// virtual machine. The reader stops after the last chunk, so nothing it reads
// belongs to the next request; the session goroutine sends the 2103 only
// after the reader has stopped and every chunk is written.
//
//	reader:  <-free, (read + open, check) × batchFrames, full<-  ──┐
//	session: <-full, one write + cksum, free<-               <─────┘
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

// ring is the buffers of one pipelined upload: recvDepth batch buffers,
// each with room for batchFrames frames.
type ring struct {
	bufs [recvDepth][]byte
}

// takeRing returns a ring for frames that need size bytes each (see
// crypt.Conn.ReadBufSize), or false when every slot is in use.
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

// fit makes every buffer of r hold batchFrames frames of size bytes,
// reusing those large enough.
func (r *ring) fit(size int) {
	for i := range r.bufs {
		if cap(r.bufs[i]) < batchFrames*size {
			r.bufs[i] = make([]byte, batchFrames*size)
		}
		r.bufs[i] = r.bufs[i][:batchFrames*size]
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
	buf     []byte // the ring's buffer, to give back
	content []byte // the opened payloads at its start, back to back
	last    bool   // they end the upload
}

// receivePipelined reads the chunks of one transmission of size bytes from
// src and writes their content to w, with idle as the time allowed for
// each frame. On any error both goroutines have stopped when it returns;
// the read side of src is then unusable and the session must end.
func receivePipelined(src frameSource, r *ring, w io.Writer, size uint64, idle time.Duration) error {
	free := make(chan []byte, recvDepth)
	full := make(chan openedBatch, recvDepth)
	stop := make(chan struct{})
	for _, b := range r.bufs {
		free <- b
	}
	frameSize := len(r.bufs[0]) / batchFrames
	var rerr error
	go func() {
		defer close(full) // after rerr is final: the writer reads it once full is closed
		rerr = readChunks(src, frameSize, size, idle, free, full, stop)
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
// frames (each needing frameSize bytes of room) into free batches and
// queues them on full, until the last chunk, an error, or stop. A batch is
// queued when it has no room for another frame or at the last chunk; one
// cut short by an error is not.
func readChunks(src frameSource, frameSize int, size uint64, idle time.Duration, free <-chan []byte, full chan<- openedBatch, stop <-chan struct{}) error {
	var got uint64
	for {
		b := openedBatch{}
		select {
		case b.buf = <-free:
		case <-stop:
			return nil
		}
		used := 0
		for len(b.buf)-used >= frameSize && !b.last {
			src.SetReadDeadline(time.Now().Add(idle))
			select { // after the deadline: a stop that comes later moves it to the past
			case <-stop:
				return nil
			default:
			}
			req, p, err := src.ReadRequestInto(b.buf[used:])
			if err != nil {
				return fmt.Errorf("server: upload interrupted after %d of %d bytes: %w", got, size, err)
			}
			if b.last, err = checkChunk(req, len(p), &got, size); err != nil {
				return err
			}
			used += len(p)
		}
		b.content = b.buf[:used]
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
func writeChunks(w io.Writer, full <-chan openedBatch, free chan<- []byte) error {
	for b := range full {
		if _, err := w.Write(b.content); err != nil {
			return err
		}
		if b.last {
			return nil
		}
		free <- b.buf // never blocks: the ring has recvDepth batches and free as many slots
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
