// Package frame encodes and decodes the fixed binary headers that start every
// ferry message, and computes the POSIX cksum that ends every upload.
//
// A request (client to server) starts with a 23-byte header, a response
// (server to client) with a 7-byte one; all integers are little-endian:
//
//	request:  | client ID (16) | version (1) | code (2) | payload size (4) |
//	response: | version (1) | code (2) | payload size (4) |
//
// The version byte decides the protocol: 4 is ferry's secure protocol, 3 the
// classic layout of the deployed seed-004 clients. The package does not
// interpret payloads and does no I/O; it never allocates. See
// docs/PROTOCOL.md for the normative description.
package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Wire sizes.
const (
	IDSize             = 16  // client ID
	RequestHeaderSize  = 23  // client ID 16 + version 1 + code 2 + payload size 4
	ResponseHeaderSize = 7   // version 1 + code 2 + payload size 4
	NameSize           = 255 // fixed, NUL-padded name field of the seed protocol
)

// Protocol versions.
const (
	VersionClassic = 3 // seed 004's byte layout, RSA + AES-CBC, no server authentication
	VersionSecure  = 4 // ferry's secure protocol
)

// MaxPayload is the largest payload of a secure (version 4) frame: the
// largest chunk (MaxChunk) plus room for the chunk's AEAD tag. Handshake
// messages are far smaller.
const MaxPayload = MaxChunk + 1024

// MaxChunk is the largest file chunk two peers may negotiate.
const MaxChunk = 1 << 20

// Errors returned by the parsers. Callers branch on them with errors.Is.
var (
	// ErrTooLarge means a header declares a payload over the caller's limit;
	// nothing has been allocated for it.
	ErrTooLarge = errors.New("frame: declared payload size over the limit")
	// ErrVersion means a header carries a version this build does not speak.
	ErrVersion = errors.New("frame: unsupported protocol version")
)

// ClientID is the 16-byte identifier a server assigns at registration.
type ClientID [IDSize]byte

// String formats the ID as 32 lowercase hex digits.
func (id ClientID) String() string { return fmt.Sprintf("%x", id[:]) }

// Request is a decoded request header.
type Request struct {
	ClientID ClientID
	Version  uint8
	Code     Code
	Size     uint32 // payload size in bytes
}

// Put encodes h into b.
func (h *Request) Put(b *[RequestHeaderSize]byte) {
	copy(b[0:16], h.ClientID[:])
	b[16] = h.Version
	binary.LittleEndian.PutUint16(b[17:19], uint16(h.Code))
	binary.LittleEndian.PutUint32(b[19:23], h.Size)
}

// ParseRequest decodes a request header. It fails with ErrVersion for a
// version other than 3 or 4 and with ErrTooLarge when the payload size is
// over max, so that the caller allocates nothing for a hostile size.
func ParseRequest(b *[RequestHeaderSize]byte, max uint32) (Request, error) {
	var h Request
	copy(h.ClientID[:], b[0:16])
	h.Version = b[16]
	h.Code = Code(binary.LittleEndian.Uint16(b[17:19]))
	h.Size = binary.LittleEndian.Uint32(b[19:23])
	return h, check(h.Version, h.Code, h.Size, max)
}

// Response is a decoded response header.
type Response struct {
	Version uint8
	Code    Code
	Size    uint32 // payload size in bytes
}

// Put encodes h into b.
func (h *Response) Put(b *[ResponseHeaderSize]byte) {
	b[0] = h.Version
	binary.LittleEndian.PutUint16(b[1:3], uint16(h.Code))
	binary.LittleEndian.PutUint32(b[3:7], h.Size)
}

// ParseResponse decodes a response header, with the checks of ParseRequest.
func ParseResponse(b *[ResponseHeaderSize]byte, max uint32) (Response, error) {
	h := Response{
		Version: b[0],
		Code:    Code(binary.LittleEndian.Uint16(b[1:3])),
		Size:    binary.LittleEndian.Uint32(b[3:7]),
	}
	return h, check(h.Version, h.Code, h.Size, max)
}

// errSized is returned instead of a formatted error so that the parsers
// never allocate, not even on the error path.
type sizeError struct{ size, max uint32 }

func (e *sizeError) Error() string {
	return fmt.Sprintf("frame: declared payload size %d over the limit %d", e.size, e.max)
}
func (e *sizeError) Unwrap() error { return ErrTooLarge }

func check(version uint8, code Code, size, max uint32) error {
	if version != VersionClassic && version != VersionSecure {
		return ErrVersion
	}
	if size > max {
		return &sizeError{size, max}
	}
	return nil
}
