package client

import (
	"fmt"
	"io"

	"ferry/frame"
)

// An upload runs on two goroutines joined by a ring of pipeDepth batches,
// so that both cores work: the filler reads the file straight into chunk
// frames, adds each chunk to the cksum and seals it in place, packing up to
// batchFrames frames back to back in a batch; the caller's goroutine writes
// each batch to the link with one write and reports progress. A batch
// rather than a frame goes round the ring because on a machine where
// waking a goroutine and a write syscall cost tens of microseconds, doing
// both once per 64 KiB frame left both cores half idle. Memory is
// pipeDepth × batchFrames frames whatever the file size, and the steady
// state allocates nothing: batches go round through buffered channels.
//
//	filler:  <-free, (read, cksum, seal) × batchFrames, full<-  ──┐
//	caller:  <-full, write, progress, free<-                <─────┘

// Sizes of the upload pipeline.
const (
	pipeDepth   = 3 // batches in flight: one being filled, one being written, one spare
	batchFrames = 4 // chunk frames per batch, written with one write
)

// chunkConn is what an upload needs of a session; *crypt.Session has it,
// and tests substitute failing fakes.
type chunkConn interface {
	ChunkFrameSize() int
	ChunkPayload(buf []byte) []byte
	SealChunk(buf []byte, id frame.ClientID, code frame.Code, n int) []byte
	WriteSealed(f []byte) error
}

// pipe is the state uploads reuse: the ring's batches and the cksum. The
// zero value is ready to use; the batches are allocated by the first upload.
type pipe struct {
	bufs [pipeDepth][]byte
	sum  frame.Cksum
}

// batch is sealed frames on their way from the filler to the writer.
type batch struct {
	buf    []byte // the ring buffer, to give back
	frames []byte // the sealed frames at its start
	sent   int64  // file bytes up to the end of the last of them
	last   bool   // they end the file
}

// send streams size bytes of r in chunks over cc as the content of one
// upload, reporting each batch written to progress (nil: none), and
// returns the cksum of the bytes sent. On any error both goroutines have
// stopped when it returns, and the session must not be used for another
// upload.
func (p *pipe) send(cc chunkConn, id frame.ClientID, r io.Reader, size int64, progress func(sent int64)) (uint32, error) {
	free := make(chan []byte, pipeDepth)
	full := make(chan batch, pipeDepth)
	stop := make(chan struct{})
	for i := range p.bufs {
		if len(p.bufs[i]) != batchFrames*cc.ChunkFrameSize() {
			p.bufs[i] = make([]byte, batchFrames*cc.ChunkFrameSize())
		}
		free <- p.bufs[i]
	}
	p.sum.Reset()
	var ferr error
	go func() {
		defer close(full) // after ferr and sum are final: the caller reads them once full is closed
		ferr = p.fill(cc, id, r, size, free, full, stop)
	}()
	werr := write(cc, full, free, progress)
	if werr != nil {
		close(stop)
	}
	for range full { // wait for the filler
	}
	switch {
	case werr != nil:
		return 0, werr
	case ferr != nil:
		return 0, ferr
	}
	return p.sum.Sum32(), nil
}

// fill is the filler goroutine: it fills free batches with sealed chunk
// frames and queues them on full, until the last chunk, an error, or stop.
func (p *pipe) fill(cc chunkConn, id frame.ClientID, r io.Reader, size int64, free <-chan []byte, full chan<- batch, stop <-chan struct{}) error {
	var sent int64
	for {
		var buf []byte
		select {
		case buf = <-free:
		case <-stop:
			return nil
		}
		b := batch{buf: buf}
		used := 0
		for range batchFrames {
			chunk := cc.ChunkPayload(buf[used:])
			n := int(min(int64(len(chunk)), size-sent))
			if _, err := io.ReadFull(r, chunk[:n]); err != nil {
				return fmt.Errorf("client: the file shrank while being sent: %w", err)
			}
			p.sum.Write(chunk[:n])
			sent += int64(n)
			code := frame.CodeChunk
			if sent == size {
				code, b.last = frame.CodeLastChunk, true
			}
			used += len(cc.SealChunk(buf[used:], id, code, n))
			if b.last {
				break
			}
		}
		b.frames, b.sent = buf[:used], sent
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

// write is the writer: it writes the batches queued on full in order and
// gives their buffers back, until the last one is written or a write
// fails. It returns nil also when full closes early: the filler failed.
func write(cc chunkConn, full <-chan batch, free chan<- []byte, progress func(sent int64)) error {
	for b := range full {
		if err := cc.WriteSealed(b.frames); err != nil {
			return err
		}
		if progress != nil {
			progress(b.sent)
		}
		if b.last {
			return nil
		}
		free <- b.buf // never blocks: the ring has pipeDepth batches and free as many slots
	}
	return nil
}
