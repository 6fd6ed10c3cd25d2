package crypt

// The handshake's two clear messages, hello (1000) and server hello
// (2000), on the wire (docs/PROTOCOL.md §4.2): their layouts, the feature
// IDs among the suites, and the chain field a client may name by hash
// (§4.2.2). handshake.go runs the exchange.

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"ferry/frame"
)

type clientHello struct {
	nonce    [NonceLen]byte
	share    [ShareLen]byte
	chunk    uint32
	suites   []Suite
	features Features // offered as feature IDs after the suites
	offered  bool     // at least one feature ID was listed
	known    []byte   // SHA-256 of the chain field the client knows (FeatureChain), or nil
}

func (h *clientHello) marshal() []byte {
	b := make([]byte, 0, clientHelloMin+len(h.suites))
	b = append(b, h.nonce[:]...)
	b = append(b, h.share[:]...)
	b = binary.LittleEndian.AppendUint32(b, h.chunk)
	ids := featureIDs(h.features)
	b = append(b, byte(len(h.suites)+len(ids)))
	for _, s := range h.suites {
		b = append(b, byte(s))
	}
	return append(append(b, ids...), h.known...)
}

// featureIDs lists the suite-list IDs that offer the features of f.
func featureIDs(f Features) []byte {
	var ids []byte
	for i := range 31 {
		if f&(1<<i) != 0 {
			ids = append(ids, byte(featureID+1+i))
		}
	}
	return ids
}

func parseClientHello(p []byte) (*clientHello, error) {
	if len(p) < clientHelloMin {
		return nil, fmt.Errorf("%w: client hello of %d bytes", ErrHandshake, len(p))
	}
	h := &clientHello{}
	copy(h.nonce[:], p)
	copy(h.share[:], p[32:])
	h.chunk = binary.LittleEndian.Uint32(p[64:])
	n := int(p[68])
	if n == 0 || n > maxSuites || len(p) < 69+n {
		return nil, fmt.Errorf("%w: client hello lists %d suites in %d bytes", ErrHandshake, n, len(p))
	}
	for _, s := range p[69 : 69+n] {
		if s > featureID && s <= featureID+31 {
			h.features |= 1 << (s - featureID - 1)
			h.offered = true
			continue
		}
		h.suites = append(h.suites, Suite(s))
	}
	if h.chunk == 0 || h.chunk > frame.MaxChunk {
		return nil, fmt.Errorf("%w: chunk size %d", ErrHandshake, h.chunk)
	}
	switch rest := p[69+n:]; {
	case len(rest) == sha256.Size && h.features.Has(FeatureChain):
		h.known = rest
	case len(rest) != 0:
		return nil, fmt.Errorf("%w: %d bytes after the suites of a client hello", ErrHandshake, len(rest))
	}
	return h, nil
}

type serverHello struct {
	nonce    [NonceLen]byte
	share    [ShareLen]byte
	suite    Suite
	chunk    uint32
	certs    [][]byte // none: the chain the client named is the server's (FeatureChain)
	features Features
	extended bool // the features field follows the chain (the client offered features)
}

// chainField is the part of a server hello that carries the chain: count,
// then each certificate with its length.
func chainField(certs [][]byte) []byte {
	b := []byte{byte(len(certs))}
	for _, c := range certs {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(c)))
		b = append(b, c...)
	}
	return b
}

// errChain is a malformed chain field.
var errChain = fmt.Errorf("%w: bad certificate list", ErrHandshake)

// parseChain reads a chain field from the start of p and returns the
// certificates (in p) and what follows them. allowEmpty lets the count be
// 0 (a server hello that leaves the chain out).
func parseChain(p []byte, allowEmpty bool) (certs [][]byte, rest []byte, err error) {
	if len(p) < 1 || int(p[0]) > maxCerts || p[0] == 0 && !allowEmpty {
		return nil, nil, errChain
	}
	n := int(p[0])
	rest = p[1:]
	for range n {
		if len(rest) < 2 {
			return nil, nil, errChain
		}
		l := int(binary.LittleEndian.Uint16(rest))
		if l == 0 || len(rest) < 2+l {
			return nil, nil, errChain
		}
		certs = append(certs, rest[2:2+l])
		rest = rest[2+l:]
	}
	return certs, rest, nil
}

func (h *serverHello) marshal() []byte {
	b := make([]byte, 0, 1024)
	b = append(b, h.nonce[:]...)
	b = append(b, h.share[:]...)
	b = append(b, byte(h.suite))
	b = binary.LittleEndian.AppendUint32(b, h.chunk)
	b = append(b, chainField(h.certs)...)
	if h.extended {
		b = binary.LittleEndian.AppendUint32(b, uint32(h.features))
	}
	return b
}

func parseServerHello(p []byte, extended bool) (*serverHello, error) {
	if len(p) < serverHelloHead {
		return nil, fmt.Errorf("%w: server hello of %d bytes", ErrHandshake, len(p))
	}
	h := &serverHello{suite: Suite(p[64]), chunk: binary.LittleEndian.Uint32(p[65:])}
	copy(h.nonce[:], p)
	copy(h.share[:], p[32:])
	certs, rest, err := parseChain(p[serverHelloHead-1:], extended)
	if err != nil {
		return nil, err
	}
	h.certs = certs
	if extended && len(rest) == 4 {
		h.features, h.extended = Features(binary.LittleEndian.Uint32(rest)), true
		rest = rest[4:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes in server hello", ErrHandshake, len(rest))
	}
	return h, nil
}
