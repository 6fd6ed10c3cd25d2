package crypt

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"

	"ferry/frame"
	"ferry/link"
)

// handshakeLimit bounds the payload of any handshake message (a server
// certificate chain is the largest), so a hostile peer cannot make us
// allocate before it has authenticated.
const handshakeLimit = 16 << 10

// ErrClosedByPeer means the peer closed the stream between frames.
var ErrClosedByPeer = errors.New("crypt: connection closed by peer")

// ErrTruncated means the stream ended inside a frame.
var ErrTruncated = errors.New("crypt: stream truncated inside a frame")

// Conn exchanges ferry frames over a link.Conn: clear during the handshake,
// sealed after it. A client Conn writes requests and reads responses, a
// server Conn the reverse. One goroutine may read while another writes; two
// readers or two writers at once are not allowed.
type Conn struct {
	rw     link.Conn
	client bool
	seal   *Sealer
	open   *Opener
	limit  uint32                        // largest payload accepted, sealed size
	chunk  int                           // negotiated chunk size, 0 before the handshake
	th     hash.Hash                     // transcript hash, nil once the handshake is over
	wbuf   []byte                        // header + payload + tag of the frame being written
	rbuf   []byte                        // header + payload of the frame last read
	hbuf   [frame.RequestHeaderSize]byte // header being read; in the struct so that it does not escape per call
}

func newConn(rw link.Conn, client bool) *Conn {
	return &Conn{rw: rw, client: client, limit: handshakeLimit, th: sha256.New()}
}

// Chunk is the negotiated chunk size: the most file bytes one frame carries.
func (c *Conn) Chunk() int { return c.chunk }

// Close closes the underlying link.
func (c *Conn) Close() error { return c.rw.Close() }

// Link returns the underlying link, for deadlines.
func (c *Conn) Link() link.Conn { return c.rw }

func (c *Conn) headerSize() int {
	if c.client {
		return frame.RequestHeaderSize
	}
	return frame.ResponseHeaderSize
}

// sealedSize is the payload size on the wire for n plaintext bytes.
func (c *Conn) sealedSize(n int) int {
	if c.seal == nil {
		return n
	}
	return n + TagSize
}

// grow makes sure b has capacity n, reusing it when it does.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// ChunkBuf returns the buffer the next WriteChunk sends from: fill up to
// Chunk() bytes of it. It is valid until the next write on c.
func (c *Conn) ChunkBuf() []byte {
	hs := c.headerSize()
	c.wbuf = grow(c.wbuf, hs+c.chunk+TagSize)
	return c.wbuf[hs : hs+c.chunk]
}

// WriteChunk sends the first n bytes of ChunkBuf as a request with the given
// code, without copying them.
func (c *Conn) WriteChunk(id frame.ClientID, code frame.Code, n int) error {
	if n > c.chunk {
		panic("crypt: internal error: chunk larger than negotiated")
	}
	return c.writeFrame(id, code, n)
}

// WriteRequest sends a request (client side only). payload is copied.
func (c *Conn) WriteRequest(id frame.ClientID, code frame.Code, payload []byte) error {
	if !c.client {
		panic("crypt: internal error: server writing a request")
	}
	hs := c.headerSize()
	c.wbuf = grow(c.wbuf, hs+len(payload)+TagSize)
	copy(c.wbuf[hs:], payload)
	return c.writeFrame(id, code, len(payload))
}

// WriteResponse sends a response (server side only). payload is copied.
func (c *Conn) WriteResponse(code frame.Code, payload []byte) error {
	if c.client {
		panic("crypt: internal error: client writing a response")
	}
	hs := c.headerSize()
	c.wbuf = grow(c.wbuf, hs+len(payload)+TagSize)
	copy(c.wbuf[hs:], payload)
	return c.writeFrame(frame.ClientID{}, code, len(payload))
}

// writeFrame puts the header in front of the n payload bytes already in
// wbuf, seals them if the session has keys, and writes the frame.
func (c *Conn) writeFrame(id frame.ClientID, code frame.Code, n int) error {
	hs := c.headerSize()
	size := uint32(c.sealedSize(n))
	if c.client {
		h := frame.Request{ClientID: id, Version: frame.VersionSecure, Code: code, Size: size}
		h.Put((*[frame.RequestHeaderSize]byte)(c.wbuf[:hs]))
	} else {
		h := frame.Response{Version: frame.VersionSecure, Code: code, Size: size}
		h.Put((*[frame.ResponseHeaderSize]byte)(c.wbuf[:hs]))
	}
	if c.seal != nil {
		c.seal.Seal(c.wbuf[hs:hs], c.wbuf[hs:hs+n], c.wbuf[:hs])
	}
	out := c.wbuf[:hs+int(size)]
	if c.th != nil {
		c.th.Write(out)
	}
	if _, err := c.rw.Write(out); err != nil {
		return fmt.Errorf("crypt: write %v: %w", code, err)
	}
	return nil
}

// ReadRequest reads the next request (server side only). The payload is
// valid until the next read on c.
func (c *Conn) ReadRequest() (frame.Request, []byte, error) {
	hb := &c.hbuf
	if err := c.readHeader(hb[:]); err != nil {
		return frame.Request{}, nil, err
	}
	h, err := frame.ParseRequest(hb, c.limit)
	if err != nil {
		return h, nil, fmt.Errorf("crypt: request header: %w", err)
	}
	if h.Version != frame.VersionSecure {
		return h, nil, fmt.Errorf("crypt: request of protocol version %d on a version 4 connection: %w", h.Version, frame.ErrVersion)
	}
	p, err := c.readPayload(hb[:], h.Size)
	return h, p, err
}

// ReadResponse reads the next response (client side only). The payload is
// valid until the next read on c.
func (c *Conn) ReadResponse() (frame.Response, []byte, error) {
	hb := (*[frame.ResponseHeaderSize]byte)(c.hbuf[:frame.ResponseHeaderSize])
	if err := c.readHeader(hb[:]); err != nil {
		return frame.Response{}, nil, err
	}
	h, err := frame.ParseResponse(hb, c.limit)
	if err != nil {
		return h, nil, fmt.Errorf("crypt: response header: %w", err)
	}
	if h.Version != frame.VersionSecure {
		return h, nil, fmt.Errorf("crypt: response of protocol version %d on a version 4 connection: %w", h.Version, frame.ErrVersion)
	}
	p, err := c.readPayload(hb[:], h.Size)
	return h, p, err
}

func (c *Conn) readHeader(hb []byte) error {
	if _, err := io.ReadFull(c.rw, hb); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrClosedByPeer
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return ErrTruncated
		}
		return fmt.Errorf("crypt: read header: %w", err)
	}
	return nil
}

// readPayload reads size bytes after the header hb and opens them.
func (c *Conn) readPayload(hb []byte, size uint32) ([]byte, error) {
	hs := len(hb)
	if c.open != nil && size < TagSize {
		return nil, fmt.Errorf("crypt: sealed frame of %d bytes is shorter than its tag: %w", size, ErrOpen)
	}
	c.rbuf = grow(c.rbuf, hs+int(size))
	copy(c.rbuf, hb)
	if _, err := io.ReadFull(c.rw, c.rbuf[hs:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		return nil, fmt.Errorf("crypt: read payload: %w", err)
	}
	if c.th != nil {
		c.th.Write(c.rbuf)
	}
	if c.open == nil {
		return c.rbuf[hs:], nil
	}
	return c.open.Open(c.rbuf[hs:hs], c.rbuf[hs:], c.rbuf[:hs])
}
