package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Fixed payload sizes of version 4 (see docs/PROTOCOL.md, "Messages").
const (
	PublicKeySize    = 32                                       // Ed25519 public key
	SignatureSize    = 64                                       // Ed25519 signature
	RegisterSize     = NameSize + PublicKeySize + SignatureSize // 1025: name, key, signature
	ReconnectSize    = NameSize + SignatureSize                 // 1027: name, signature
	SendFileSize     = 8 + NameSize                             // 1028: file size, file name
	FileReceivedSize = IDSize + 8 + NameSize + 4                // 2103: ID, size, name, cksum
	MaxReasonSize    = 1024                                     // 2107: UTF-8 reason, at most
)

// AuthPartials is bit 0 of the flags that follow the ID in 2100 and 2105
// with feature short: the server keeps partial uploads of the client.
const AuthPartials = 1

// AuthByeIfDone is bit 1 of those flags: the server honours a bye sent
// ahead of the answers to the requests before it (payload ByeIfDone).
const AuthByeIfDone = 2

// ByeIfDone is the payload of a bye (1034) sent ahead of the answers: end
// the session only if every request before it succeeded.
const ByeIfDone = 1

// ErrName means a name field is empty, not NUL-terminated, or not printable
// UTF-8.
var ErrName = errors.New("frame: bad name field")

// PutName writes s into a 255-byte name field, NUL-padded. It fails when s
// does not fit with its terminating NUL or is not a valid name.
func PutName(b []byte, s string) error {
	if err := checkName(s); err != nil {
		return err
	}
	clear(b[:NameSize])
	copy(b, s)
	return nil
}

// ParseName reads a 255-byte name field: the bytes before the first NUL,
// which must be there.
func ParseName(b []byte) (string, error) {
	i := bytes.IndexByte(b[:NameSize], 0)
	if i < 0 {
		return "", fmt.Errorf("%w: no NUL terminator", ErrName)
	}
	s := string(b[:i])
	return s, checkName(s)
}

func checkName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty", ErrName)
	case len(s) > NameSize-1:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrName, len(s), NameSize-1)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: not UTF-8", ErrName)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: control character %U", ErrName, r)
		}
	}
	return nil
}

// Register is the payload of a version 4 registration (1025).
type Register struct {
	Name      string
	PublicKey [PublicKeySize]byte
	Signature [SignatureSize]byte
}

// Marshal encodes r: name field, key, signature; short (feature short):
// key, signature, then the name's bytes alone.
func (r *Register) Marshal(short bool) ([]byte, error) {
	if short {
		if err := checkName(r.Name); err != nil {
			return nil, err
		}
		return append(append(r.PublicKey[:], r.Signature[:]...), r.Name...), nil
	}
	b := make([]byte, RegisterSize)
	if err := PutName(b, r.Name); err != nil {
		return nil, err
	}
	copy(b[NameSize:], r.PublicKey[:])
	copy(b[NameSize+PublicKeySize:], r.Signature[:])
	return b, nil
}

// ParseRegister decodes a 1025 payload, in its short form if short.
func ParseRegister(p []byte, short bool) (Register, error) {
	var r Register
	var err error
	if short {
		r.Name, err = parseShortName(p, "register", PublicKeySize+SignatureSize)
		copy(r.PublicKey[:], p)
		copy(r.Signature[:], p[min(len(p), PublicKeySize):])
		return r, err
	}
	if len(p) != RegisterSize {
		return r, fmt.Errorf("frame: register payload of %d bytes, want %d", len(p), RegisterSize)
	}
	r.Name, err = ParseName(p)
	copy(r.PublicKey[:], p[NameSize:])
	copy(r.Signature[:], p[NameSize+PublicKeySize:])
	return r, err
}

// Reconnect is the payload of a version 4 reconnection (1027).
type Reconnect struct {
	Name      string
	Signature [SignatureSize]byte
}

// Marshal encodes r: name field, signature; short (feature short): the
// signature, then the name's bytes alone.
func (r *Reconnect) Marshal(short bool) ([]byte, error) {
	if short {
		if err := checkName(r.Name); err != nil {
			return nil, err
		}
		return append(r.Signature[:], r.Name...), nil
	}
	b := make([]byte, ReconnectSize)
	if err := PutName(b, r.Name); err != nil {
		return nil, err
	}
	copy(b[NameSize:], r.Signature[:])
	return b, nil
}

// ParseReconnect decodes a 1027 payload, in its short form if short.
func ParseReconnect(p []byte, short bool) (Reconnect, error) {
	var r Reconnect
	var err error
	if short {
		r.Name, err = parseShortName(p, "reconnect", SignatureSize)
		copy(r.Signature[:], p)
		return r, err
	}
	if len(p) != ReconnectSize {
		return r, fmt.Errorf("frame: reconnect payload of %d bytes, want %d", len(p), ReconnectSize)
	}
	r.Name, err = ParseName(p)
	copy(r.Signature[:], p[NameSize:])
	return r, err
}

// parseShortName reads the name that follows the fixed fields (head bytes)
// of a short register or reconnect: 1 to 254 bytes, the rules of a name
// field, no NUL.
func parseShortName(p []byte, what string, head int) (string, error) {
	if len(p) <= head || len(p) > head+NameSize-1 {
		return "", fmt.Errorf("frame: short %s payload of %d bytes, want %d to %d", what, len(p), head+1, head+NameSize-1)
	}
	s := string(p[head:])
	return s, checkName(s)
}

// SendFile is the payload of a version 4 upload request (1028).
type SendFile struct {
	Size uint64
	Name string
}

// Marshal encodes s.
func (s *SendFile) Marshal() ([]byte, error) {
	b := make([]byte, SendFileSize)
	binary.LittleEndian.PutUint64(b, s.Size)
	return b, PutName(b[8:], s.Name)
}

// ParseSendFile decodes a 1028 payload.
func ParseSendFile(p []byte) (SendFile, error) {
	var s SendFile
	if len(p) != SendFileSize {
		return s, fmt.Errorf("frame: send-file payload of %d bytes, want %d", len(p), SendFileSize)
	}
	s.Size = binary.LittleEndian.Uint64(p)
	var err error
	s.Name, err = ParseName(p[8:])
	return s, err
}

// FileReceived is the payload of a version 4 2103.
type FileReceived struct {
	ClientID ClientID
	Size     uint64
	Name     string
	Cksum    uint32
}

// Marshal encodes f.
func (f *FileReceived) Marshal() ([]byte, error) {
	b := make([]byte, FileReceivedSize)
	copy(b, f.ClientID[:])
	binary.LittleEndian.PutUint64(b[IDSize:], f.Size)
	if err := PutName(b[IDSize+8:], f.Name); err != nil {
		return nil, err
	}
	binary.LittleEndian.PutUint32(b[IDSize+8+NameSize:], f.Cksum)
	return b, nil
}

// ParseFileReceived decodes a 2103 payload.
func ParseFileReceived(p []byte) (FileReceived, error) {
	var f FileReceived
	if len(p) != FileReceivedSize {
		return f, fmt.Errorf("frame: file-received payload of %d bytes, want %d", len(p), FileReceivedSize)
	}
	copy(f.ClientID[:], p)
	f.Size = binary.LittleEndian.Uint64(p[IDSize:])
	var err error
	f.Name, err = ParseName(p[IDSize+8:])
	f.Cksum = binary.LittleEndian.Uint32(p[IDSize+8+NameSize:])
	return f, err
}

// NamePayload encodes the payload of 1029, 1030 and 1031: a name field.
func NamePayload(name string) ([]byte, error) {
	b := make([]byte, NameSize)
	return b, PutName(b, name)
}
