package classic

import (
	"crypto/aes"
	"encoding/binary"
	"math"

	"ferry/frame"
)

// Request is a decoded version 3 request: its header and the fixed-size
// fields of its payload. The ciphertext of a 1028 is not part of it; it
// follows on the wire, ContentSize bytes.
type Request struct {
	Header      frame.Request
	Name        Name                // user name (1025-1027) or file name (1028-1031)
	PublicKey   [PublicKeySize]byte // 1026 only
	ContentSize uint32              // 1028 only: the size of the ciphertext
}

// bodySize is the size of the fixed part of a request payload, all of it but
// the ciphertext of a 1028; ok is false for a code that is not a version 3
// request.
func bodySize(c frame.Code) (n int, ok bool) {
	switch c {
	case frame.CodeRegister, frame.CodeReconnect, frame.CodeChecksumOK, frame.CodeChecksumBad, frame.CodeGiveUp:
		return NameSize, true
	case frame.CodePublicKey:
		return PublicKeyPayload, true
	case frame.CodeSendFile:
		return FileHeaderSize, true
	}
	return 0, false
}

// ParseRequestHeader decodes a request header and checks it against version
// 3: the version, the code, and a payload size that fits the code, exactly
// for fixed layouts. For a 1028 the payload must hold at least one cipher
// block and at most maxContent bytes of ciphertext (ErrTooLarge); the match
// of the payload size with the content size is checked by ParseRequestBody.
func ParseRequestHeader(b *[frame.RequestHeaderSize]byte, maxContent int64) (frame.Request, error) {
	h, err := frame.ParseRequest(b, math.MaxUint32)
	if err != nil || h.Version != frame.VersionClassic {
		return h, ErrMalformed
	}
	n, ok := bodySize(h.Code)
	switch {
	case !ok:
		return h, ErrMalformed
	case h.Code == frame.CodeSendFile:
		if h.Size < FileHeaderSize+aes.BlockSize {
			return h, ErrMalformed
		}
		if int64(h.Size)-FileHeaderSize > maxContent {
			return h, ErrTooLarge
		}
	case h.Size != uint32(n):
		return h, ErrMalformed
	}
	return h, nil
}

// ParseRequestBody decodes the fixed part of the payload of a request whose
// header passed ParseRequestHeader; b must be exactly that part (see
// BodySize). A 1028's content size must be a positive multiple of the AES
// block and account for the rest of the payload.
func ParseRequestBody(h frame.Request, b []byte) (Request, error) {
	r := Request{Header: h}
	if n, ok := bodySize(h.Code); !ok || len(b) != n {
		return r, ErrMalformed
	}
	switch h.Code {
	case frame.CodeSendFile:
		r.ContentSize = binary.LittleEndian.Uint32(b[0:4])
		copy(r.Name[:], b[4:])
		if r.ContentSize%aes.BlockSize != 0 || uint64(r.ContentSize)+FileHeaderSize != uint64(h.Size) {
			return r, ErrMalformed
		}
	case frame.CodePublicKey:
		copy(r.Name[:], b)
		copy(r.PublicKey[:], b[NameSize:])
	default:
		copy(r.Name[:], b)
	}
	return r, r.Name.check()
}

// BodySize is the size of the fixed part of the payload of a request with
// code c (all of it but a 1028's ciphertext), or 0 for a code that is not a
// version 3 request.
func BodySize(c frame.Code) int {
	n, _ := bodySize(c)
	return n
}

// Append appends the encoded header and fixed payload of r to dst and
// returns the extended slice. The header's version and payload size are
// taken from the code (and ContentSize for a 1028), not from r.Header.
func (r *Request) Append(dst []byte) []byte {
	n, ok := bodySize(r.Header.Code)
	if !ok {
		panic("classic: internal error: encoding request code " + r.Header.Code.String())
	}
	h := r.Header
	h.Version = frame.VersionClassic
	h.Size = uint32(n)
	if h.Code == frame.CodeSendFile {
		h.Size += r.ContentSize
	}
	var hb [frame.RequestHeaderSize]byte
	h.Put(&hb)
	dst = append(dst, hb[:]...)
	if h.Code == frame.CodeSendFile {
		dst = binary.LittleEndian.AppendUint32(dst, r.ContentSize)
	}
	dst = append(dst, r.Name[:]...)
	if h.Code == frame.CodePublicKey {
		dst = append(dst, r.PublicKey[:]...)
	}
	return dst
}

// Response is a decoded version 3 response. Fields a code does not carry
// are zero.
type Response struct {
	Code         frame.Code
	ClientID     frame.ClientID         // all but 2101 and 2107
	EncryptedKey [EncryptedKeySize]byte // 2102, 2105
	ContentSize  uint32                 // 2103
	FileName     Name                   // 2103, as the server echoes it; not checked
	Cksum        uint32                 // 2103
}

// responseSize is the payload size of a response with code c; ok is false
// for a code that is not a version 3 response.
func responseSize(c frame.Code) (n int, ok bool) {
	switch c {
	case frame.CodeNameTaken, frame.CodeError:
		return 0, true
	case frame.CodeRegistered, frame.CodeThanks, frame.CodeDenied:
		return frame.IDSize, true
	case frame.CodeKeyAccepted, frame.CodeReconnected:
		return KeyPayload, true
	case frame.CodeFileReceived:
		return FileReceivedSize, true
	}
	return 0, false
}

// ParseResponseHeader decodes a response header and checks it against
// version 3: the version, the code, and the exact payload size of the code.
// The refusals 2101 and 2107 are taken with any payload up to the largest
// response's (some servers put the client ID or a message in them): the
// client acts on the code alone.
func ParseResponseHeader(b *[frame.ResponseHeaderSize]byte) (frame.Response, error) {
	h, err := frame.ParseResponse(b, FileReceivedSize)
	if err != nil || h.Version != frame.VersionClassic {
		return h, ErrMalformed
	}
	if n, ok := responseSize(h.Code); !ok || h.Size != uint32(n) && !anyPayload(h.Code) {
		return h, ErrMalformed
	}
	return h, nil
}

// anyPayload reports whether a response with code c is taken whatever its
// payload (up to FileReceivedSize bytes), which is then ignored.
func anyPayload(c frame.Code) bool { return c == frame.CodeNameTaken || c == frame.CodeError }

// ParseResponseBody decodes the payload b of a response whose header passed
// ParseResponseHeader.
func ParseResponseBody(h frame.Response, b []byte) (Response, error) {
	r := Response{Code: h.Code}
	if anyPayload(h.Code) && len(b) <= FileReceivedSize {
		return r, nil
	}
	if n, ok := responseSize(h.Code); !ok || len(b) != n {
		return r, ErrMalformed
	}
	if len(b) >= frame.IDSize {
		copy(r.ClientID[:], b)
		b = b[frame.IDSize:]
	}
	switch h.Code {
	case frame.CodeKeyAccepted, frame.CodeReconnected:
		copy(r.EncryptedKey[:], b)
	case frame.CodeFileReceived:
		r.ContentSize = binary.LittleEndian.Uint32(b[0:4])
		copy(r.FileName[:], b[4:4+NameSize])
		r.Cksum = binary.LittleEndian.Uint32(b[4+NameSize:])
	}
	return r, nil
}

// Append appends the encoded response, header and payload, to dst and
// returns the extended slice.
func (r *Response) Append(dst []byte) []byte {
	n, ok := responseSize(r.Code)
	if !ok {
		panic("classic: internal error: encoding response code " + r.Code.String())
	}
	var hb [frame.ResponseHeaderSize]byte
	(&frame.Response{Version: frame.VersionClassic, Code: r.Code, Size: uint32(n)}).Put(&hb)
	dst = append(dst, hb[:]...)
	if n == 0 {
		return dst
	}
	dst = append(dst, r.ClientID[:]...)
	switch r.Code {
	case frame.CodeKeyAccepted, frame.CodeReconnected:
		dst = append(dst, r.EncryptedKey[:]...)
	case frame.CodeFileReceived:
		dst = binary.LittleEndian.AppendUint32(dst, r.ContentSize)
		dst = append(dst, r.FileName[:]...)
		dst = binary.LittleEndian.AppendUint32(dst, r.Cksum)
	}
	return dst
}
