// Package classic speaks version 3 of the protocol, the byte layout of the
// deployed seed-004 clients (C++ on Crypto++) and servers (Python), so that
// ferry can stand in for either. It holds the codec, a Server that writes
// into an fsstore, and a client (Send, RunInfoFiles).
//
// The classic protocol has known weaknesses that this package keeps for
// compatibility and does not fix: the server is not authenticated, the file
// is AES-128-CBC with an all-zero IV and no MAC, and a bad padding gets a
// different answer than a good one. It is off unless asked for; callers say
// so to the user. It does not speak version 4 (see package crypt).
//
// All integers are little-endian. A request is a 23-byte header (see package
// frame) and a payload; names are 255 bytes, ASCII, cut at the first NUL
// (a field without one is a 255-byte name):
//
//	1025 register     | name (255) |
//	1026 public key   | name (255) | RSA-1024 SubjectPublicKeyInfo DER (160) |
//	1027 reconnect    | name (255) |
//	1028 send file    | content size (4) | file name (255) | ciphertext (content size) |
//	1029 checksum ok  | file name (255) |
//	1030 checksum bad | file name (255) |     (no answer; the next 1028 follows)
//	1031 give up      | file name (255) |
//
// A response is a 7-byte header and a payload:
//
//	2100 registered   | client ID (16) |
//	2101 name taken   (empty)
//	2102 key accepted | client ID (16) | AES key, RSA-OAEP SHA-1 (128) |
//	2103 file received| client ID (16) | content size (4) | file name (255) | cksum (4) |
//	2104 thanks       | client ID (16) |
//	2105 reconnected  | client ID (16) | AES key, RSA-OAEP SHA-1 (128) |
//	2106 denied       | client ID (16) |
//	2107 error        (empty)
//
// docs/CLASSIC.md is the byte-for-byte description.
package classic

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"ferry/frame"
)

// Wire sizes of version 3.
const (
	NameSize          = frame.NameSize                              // ASCII name field, NUL-padded or full
	PublicKeySize     = 160                                         // X.509 SPKI DER of RSA-1024 with e = 17
	EncryptedKeySize  = 128                                         // RSA-1024 OAEP of the 16-byte AES key
	AESKeySize        = 16                                          // AES-128
	FileHeaderSize    = 4 + NameSize                                // 1028 before the ciphertext: content size 4 + file name 255
	PublicKeyPayload  = NameSize + PublicKeySize                    // 1026: name 255 + key 160
	KeyPayload        = frame.IDSize + EncryptedKeySize             // 2102, 2105: client ID 16 + key 128
	FileReceivedSize  = frame.IDSize + 4 + NameSize + 4             // 2103: ID 16 + size 4 + name 255 + cksum 4
	maxResponseLength = frame.ResponseHeaderSize + FileReceivedSize // the longest response
)

// DefaultPort is the TCP port of the deployed classic servers.
const DefaultPort = 1357

// DefaultTimeout bounds every read and write, on both sides, unless configured.
const DefaultTimeout = 2 * time.Minute

// Errors of the codec. Callers branch on them with errors.Is.
var (
	// ErrMalformed means a frame does not follow version 3: wrong version,
	// a code that is not a version 3 request or response, a payload size that
	// does not fit the code, an empty name or one with a byte that is not
	// printable ASCII, a bad CBC padding.
	ErrMalformed = errors.New("classic: malformed frame")
	// ErrTooLarge means a 1028 declares more content than the limit; nothing
	// has been read or allocated for it.
	ErrTooLarge = errors.New("classic: declared file size over the limit")
)

// Name is a 255-byte name field as it travels: ASCII, cut at the first NUL;
// anything after it is ignored (some clients leave garbage there) but kept,
// so that decoding then encoding gives the same bytes. A field without a
// NUL is a 255-byte name: the seed counts the NUL inside the field, but
// deployed clients fill it with long file names, and the independent
// servers take them.
type Name [NameSize]byte

// MakeName encodes s, which must be 1 to 255 printable ASCII bytes,
// NUL-padded.
func MakeName(s string) (Name, error) {
	var n Name
	if len(s) == 0 || len(s) > NameSize {
		return n, fmt.Errorf("classic: name %q: want 1 to %d bytes", s, NameSize)
	}
	copy(n[:], s)
	if err := n.check(); err != nil || n.String() != s {
		return n, fmt.Errorf("classic: name %q: only printable ASCII is allowed", s)
	}
	return n, nil
}

// String returns the name: up to its first NUL, or the whole field.
func (n *Name) String() string { return string(n[:n.len()]) }

// len is the length of the name: the offset of the first NUL, or the whole
// field when it has none.
func (n *Name) len() int {
	if i := bytes.IndexByte(n[:], 0); i >= 0 {
		return i
	}
	return NameSize
}

// check enforces the field's rules: at least one byte before the first NUL
// (or a full field), and only printable ASCII there.
func (n *Name) check() error {
	end := n.len()
	if end == 0 {
		return ErrMalformed
	}
	for _, b := range n[:end] {
		if b < 0x20 || b > 0x7e {
			return ErrMalformed
		}
	}
	return nil
}

// MaxContent is the largest ciphertext (content size of a 1028) of a
// plaintext of at most maxFile bytes: PKCS#7 always adds 1 to 16 bytes.
func MaxContent(maxFile int64) int64 { return encryptedSize(maxFile) }
