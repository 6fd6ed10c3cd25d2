//go:build !ferry_nocompress

package xfer

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// Compression (feature compress) works chunk by chunk, before sealing
// (ciphertext does not compress): the sender deflates the chunk and sends
// it with the compressed chunk code when that made it smaller, raw
// otherwise, so random or already compressed data costs only the attempt.
// Each compressed chunk is a DEFLATE stream of its own whose matches may
// reach back into the file's previous 32 KiB of content in this transfer
// (the preset dictionary of RFC 1951's window), raw chunks included: both
// ends keep that window, from the start of each Send and Receive. On a
// line's 12-16 KiB chunks of text this saves an eighth of the bytes (Go
// source: 0.294 of the content alone, 0.258 with the window; deflate over
// the whole file: 0.256). The receiver inflates each into at most the
// negotiated chunk size, and a chunk that would inflate past it (a
// compression bomb) is an error before anything of it is written.
//
// Memory: a compressor holds one flate writer (about 1 MiB at the default
// level, 300 KiB at level 1), a chunk of output and the 32 KiB window; a
// decompressor one flate reader (about 45 KiB), a chunk of output and the
// window. Each Sender and Receiver that compresses has one, made on first
// use and reused.

// Codec reports whether this build compresses chunks: a build with the
// ferry_nocompress tag (compress_off.go) neither offers nor accepts the
// feature, and so speaks with every other build uncompressed.
const Codec = true

// ErrBomb means a compressed chunk inflates past the negotiated chunk size.
var ErrBomb = errors.New("xfer: compressed chunk larger than the chunk size (compression bomb)")

// Compression levels (flate's): Serial and stdio links are slow enough for
// the better ratio; TCP gets the fast one.
const (
	LevelSlowLink = flate.DefaultCompression
	LevelFast     = flate.BestSpeed
)

// window is how far back a compressed chunk may refer: DEFLATE's window.
const window = 32 << 10

// history is the last window bytes of a file's content in one transfer.
type history struct{ b []byte }

func (h *history) reset() { h.b = h.b[:0] }

func (h *history) add(p []byte) {
	if h.b == nil {
		h.b = make([]byte, 0, window)
	}
	if len(p) >= window {
		h.b = append(h.b[:0], p[len(p)-window:]...)
		return
	}
	if keep := window - len(p); len(h.b) > keep {
		h.b = h.b[:copy(h.b, h.b[len(h.b)-keep:])]
	}
	h.b = append(h.b, p...)
}

// compressor deflates chunks for a Sender.
type compressor struct {
	level int
	w     *flate.Writer
	out   fixedBuf
	hist  history
}

// fixedBuf is a writer into a fixed buffer that fails when it is full:
// output that does not fit did not shrink. While discard is set it takes
// and drops everything (the window's own output).
type fixedBuf struct {
	b       []byte
	n       int
	discard bool
}

var errFull = errors.New("full")

func (f *fixedBuf) Write(p []byte) (int, error) {
	if f.discard {
		return len(p), nil
	}
	if len(p) > len(f.b)-f.n {
		return 0, errFull
	}
	f.n += copy(f.b[f.n:], p)
	return len(p), nil
}

// reset starts a new transfer: no window.
func (z *compressor) reset() { z.hist.reset() }

// compress replaces p's bytes by their deflated form when that is smaller,
// and returns the new length and whether it did. p joins the window
// either way.
func (z *compressor) compress(p []byte) (int, bool) {
	n, ok := z.deflate(p)
	z.hist.add(p)
	if ok {
		copy(p, z.out.b[:n])
	}
	return n, ok
}

// deflate compresses p into z.out after the window and reports the length
// and whether it is shorter than p. The writer takes the window first and
// flushes (output dropped): what it writes after that sync point is a
// DEFLATE stream of its own whose matches reach into the window.
func (z *compressor) deflate(p []byte) (int, bool) {
	if len(p) < 64 { // too short to gain
		return len(p), false
	}
	if cap(z.out.b) < len(p) {
		z.out.b = make([]byte, len(p))
	}
	z.out.b, z.out.n = z.out.b[:len(p)-1], 0
	if z.w == nil {
		var err error
		if z.w, err = flate.NewWriter(&z.out, z.level); err != nil {
			panic("xfer: internal error: flate level " + err.Error())
		}
	} else {
		z.w.Reset(&z.out)
	}
	if len(z.hist.b) > 0 {
		z.out.discard = true
		z.w.Write(z.hist.b) // to a discarding writer: no error
		z.w.Flush()
		z.out.discard = false
	}
	if _, err := z.w.Write(p); err != nil {
		return len(p), false
	}
	if err := z.w.Close(); err != nil {
		return len(p), false
	}
	return z.out.n, true
}

// decompressor inflates chunks for a Receiver.
type decompressor struct {
	r    io.ReadCloser
	src  bytes.Reader
	out  []byte
	hist history
}

// reset starts a new transfer: no window.
func (z *decompressor) reset() { z.hist.reset() }

// raw takes a chunk that came raw into the window.
func (z *decompressor) raw(p []byte) { z.hist.add(p) }

// decompress inflates p, which must come to at most limit bytes, with the
// window as its dictionary, and returns the content, valid until the next
// call; the content joins the window.
func (z *decompressor) decompress(p []byte, limit int) ([]byte, error) {
	z.src.Reset(p)
	if z.r == nil {
		z.r = flate.NewReaderDict(&z.src, z.hist.b)
	} else if err := z.r.(flate.Resetter).Reset(&z.src, z.hist.b); err != nil {
		return nil, err
	}
	if cap(z.out) < limit+1 {
		z.out = make([]byte, limit+1)
	}
	n, err := io.ReadFull(z.r, z.out[:limit+1])
	switch {
	case err == nil:
		return nil, ErrBomb
	case err != io.ErrUnexpectedEOF && err != io.EOF:
		return nil, fmt.Errorf("%w: bad compressed chunk: %v", ErrProtocol, err)
	}
	z.hist.add(z.out[:n])
	return z.out[:n], nil
}
