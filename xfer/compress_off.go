//go:build ferry_nocompress

package xfer

import (
	"errors"
	"fmt"
)

// A build with the ferry_nocompress tag has no codec (make size measures
// its cost so; no board profile does it): the client does not offer the
// feature and the server does not accept it, so that no peer sends this
// build a compressed chunk; one that does breaks the protocol.

// Codec reports whether this build compresses chunks.
const Codec = false

// ErrBomb means a compressed chunk inflates past the negotiated chunk size.
var ErrBomb = errors.New("xfer: compressed chunk larger than the chunk size (compression bomb)")

// Compression levels, for the flags that choose them (no codec uses them):
// flate's DefaultCompression and BestSpeed, as in compress.go.
const (
	LevelSlowLink = -1
	LevelFast     = 1
)

type compressor struct{ level int }

func (z *compressor) reset()                        {}
func (z *compressor) compress(p []byte) (int, bool) { return len(p), false }

type decompressor struct{}

func (z *decompressor) reset()     {}
func (z *decompressor) raw([]byte) {}

func (z *decompressor) decompress(p []byte, limit int) ([]byte, error) {
	return nil, fmt.Errorf("%w: compressed chunk, but this build has no codec", ErrProtocol)
}
