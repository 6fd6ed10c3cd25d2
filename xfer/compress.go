//go:build !ferry_nocompress

package xfer

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// Compression (feature compress) works on each chunk alone, before it is
// sealed (ciphertext does not compress): the sender deflates the chunk and
// sends it with the compressed chunk code when that made it smaller, raw
// otherwise, so random or already compressed data costs only the attempt.
// A chunk never depends on another: the receiver inflates each into at
// most the negotiated chunk size, and a chunk that would inflate past it
// (a compression bomb) is an error before anything of it is written.
//
// Memory: a compressor holds one flate writer (about 1 MiB at the default
// level, 300 KiB at level 1) and a chunk of output; a decompressor one
// flate reader (about 45 KiB) and a chunk of output. Each Sender and
// Receiver that compresses has one, made on first use and reused.

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

// compressor deflates chunks for a Sender.
type compressor struct {
	level int
	w     *flate.Writer
	out   fixedBuf
}

// fixedBuf is a writer into a fixed buffer that fails when it is full:
// output that does not fit did not shrink.
type fixedBuf struct {
	b []byte
	n int
}

var errFull = errors.New("full")

func (f *fixedBuf) Write(p []byte) (int, error) {
	if len(p) > len(f.b)-f.n {
		return 0, errFull
	}
	f.n += copy(f.b[f.n:], p)
	return len(p), nil
}

// compress replaces p's bytes by their deflated form when that is smaller,
// and returns the new length and whether it did.
func (z *compressor) compress(p []byte) (int, bool) {
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
	if _, err := z.w.Write(p); err != nil {
		return len(p), false
	}
	if err := z.w.Close(); err != nil {
		return len(p), false
	}
	return copy(p, z.out.b[:z.out.n]), true
}

// decompressor inflates chunks for a Receiver.
type decompressor struct {
	r   io.ReadCloser
	src bytes.Reader
	out []byte
}

// decompress inflates p, which must come to at most limit bytes, and
// returns the content, valid until the next call.
func (z *decompressor) decompress(p []byte, limit int) ([]byte, error) {
	z.src.Reset(p)
	if z.r == nil {
		z.r = flate.NewReader(&z.src)
	} else if err := z.r.(flate.Resetter).Reset(&z.src, nil); err != nil {
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
	return z.out[:n], nil
}
