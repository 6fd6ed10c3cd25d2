// Package crypt is ferry's security layer: the handshake that authenticates
// the server (X.509 chain or a pinned key) and agrees on per-session keys
// (X25519, HKDF-SHA-256), the AEAD sealing of every frame that follows, and
// the certificate tools a server operator needs. It uses only the standard
// library and golang.org/x/crypto; it implements no primitive of its own.
//
// After the handshake every frame is
//
//	| header (23 or 7 bytes, clear, associated data) | AEAD(payload) || tag (16) |
//
// with the header's size field counting the sealed payload and its tag. The
// nonce is the 64-bit per-direction sequence number, so a replayed,
// reordered, dropped or duplicated frame fails to open. See docs/PROTOCOL.md.
package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/sys/cpu"
)

// Suite names an AEAD. Its wire value is one byte.
type Suite uint8

// Suites, in ferry's wire values.
const (
	SuiteAES256GCM        Suite = 1 // AES-256-GCM, 12-byte nonce, 16-byte tag
	SuiteChaCha20Poly1305 Suite = 2 // ChaCha20-Poly1305 (RFC 8439)
)

// Sizes of the sealing layer.
const (
	KeySize   = 32 // both suites use 256-bit keys
	NonceSize = 12 // 4 zero bytes + 8-byte little-endian sequence number
	TagSize   = 16 // AEAD tag appended to every sealed payload
)

// ErrOpen means a sealed frame failed to authenticate: it was corrupted,
// forged, replayed, reordered, or a frame before it was lost.
var ErrOpen = errors.New("crypt: frame failed authentication (corrupted, forged, replayed, reordered or dropped frame)")

// String names the suite.
func (s Suite) String() string {
	switch s {
	case SuiteAES256GCM:
		return "AES-256-GCM"
	case SuiteChaCha20Poly1305:
		return "ChaCha20-Poly1305"
	}
	return fmt.Sprintf("suite(%d)", uint8(s))
}

// hasAESHardware reports whether this CPU seals AES-GCM in hardware.
func hasAESHardware() bool {
	return (cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ) ||
		(cpu.ARM64.HasAES && cpu.ARM64.HasPMULL) ||
		(cpu.S390X.HasAES && cpu.S390X.HasAESGCM) ||
		cpu.PPC64.IsPOWER8
}

// PreferredSuites lists the suites in this machine's order of preference:
// AES-256-GCM first where the CPU has AES instructions, ChaCha20-Poly1305
// first otherwise (a MIPS router or a Pi without crypto extensions).
func PreferredSuites() []Suite {
	if hasAESHardware() {
		return []Suite{SuiteAES256GCM, SuiteChaCha20Poly1305}
	}
	return []Suite{SuiteChaCha20Poly1305, SuiteAES256GCM}
}

func newAEAD(s Suite, key []byte) (cipher.AEAD, error) {
	switch s {
	case SuiteAES256GCM:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	case SuiteChaCha20Poly1305:
		return chacha20poly1305.New(key)
	}
	return nil, fmt.Errorf("crypt: unknown suite %d", s)
}

// Sealer seals the frames of one direction of a session. Not safe for
// concurrent use.
type Sealer struct {
	aead  cipher.AEAD
	seq   uint64
	nonce [NonceSize]byte
}

// NewSealer returns a Sealer for suite s and a 32-byte key, its sequence
// number at 0.
func NewSealer(s Suite, key []byte) (*Sealer, error) {
	a, err := newAEAD(s, key)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: a}, nil
}

// Seal encrypts plaintext with the next sequence number, authenticating ad
// too, and appends the result to dst. To seal in place, pass plaintext[:0]
// as dst. It does not allocate when dst has room for len(plaintext)+TagSize.
func (s *Sealer) Seal(dst, plaintext, ad []byte) []byte {
	binary.LittleEndian.PutUint64(s.nonce[4:], s.seq)
	s.seq++
	return s.aead.Seal(dst, s.nonce[:], plaintext, ad)
}

// Opener opens the frames of one direction of a session, expecting them in
// order. Not safe for concurrent use.
type Opener struct {
	aead  cipher.AEAD
	seq   uint64
	nonce [NonceSize]byte
}

// NewOpener returns an Opener for suite s and a 32-byte key.
func NewOpener(s Suite, key []byte) (*Opener, error) {
	a, err := newAEAD(s, key)
	if err != nil {
		return nil, err
	}
	return &Opener{aead: a}, nil
}

// Open authenticates and decrypts ciphertext (payload and tag) as the frame
// with the next sequence number, appending the plaintext to dst; pass
// ciphertext[:0] to open in place. A failure returns ErrOpen and leaves the
// sequence number unchanged: the session cannot go on after it.
func (o *Opener) Open(dst, ciphertext, ad []byte) ([]byte, error) {
	binary.LittleEndian.PutUint64(o.nonce[4:], o.seq)
	out, err := o.aead.Open(dst, o.nonce[:], ciphertext, ad)
	if err != nil {
		return nil, ErrOpen
	}
	o.seq++
	return out, nil
}
