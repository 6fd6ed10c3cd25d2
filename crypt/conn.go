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
	rbuf   []byte                        // payload of the frame last read, + room to read ahead
	hbuf   [frame.RequestHeaderSize]byte // header being read; in the struct so that it does not escape per call
	ahead  [frame.RequestHeaderSize]byte // start of the next frame, read with the last payload
	nahead int                           // bytes in ahead
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

// ChunkFrameSize is the most bytes a sealed chunk request frame takes:
// header, chunk, tag. A client that keeps several chunks in flight gives
// each a buffer of this size, or packs several frames into one buffer and
// writes them with one WriteSealed.
func (c *Conn) ChunkFrameSize() int {
	return frame.RequestHeaderSize + c.chunk + TagSize
}

// ChunkPayload is the part of a frame buffer (at least ChunkFrameSize
// bytes) that carries the chunk: Chunk() bytes after the header.
func (c *Conn) ChunkPayload(buf []byte) []byte {
	return buf[frame.RequestHeaderSize : frame.RequestHeaderSize+c.chunk]
}

// SealChunk makes buf, a frame buffer whose ChunkPayload holds n bytes of
// chunk, into a sealed request frame with the given code, in place, and
// returns the frame: the first hs+n+TagSize bytes of buf. Sealing takes the
// next sequence number: frames must be written with WriteSealed in the
// order they were sealed, and no other frame may be written in between.
// SealChunk and WriteSealed may run on two goroutines; two SealChunks at
// once may not. Client side, after the handshake.
func (c *Conn) SealChunk(buf []byte, id frame.ClientID, code frame.Code, n int) []byte {
	if c.seal == nil || !c.client || n > c.chunk || len(buf) < frame.RequestHeaderSize+n+TagSize {
		panic("crypt: internal error: SealChunk without keys, on a server, or larger than the chunk")
	}
	return c.seal1(buf, id, code, n)
}

// WriteSealed writes frames that SealChunk returned, one or several back to
// back in sealing order, with one write.
func (c *Conn) WriteSealed(f []byte) error {
	if _, err := c.rw.Write(f); err != nil {
		return fmt.Errorf("crypt: write chunk: %w", err)
	}
	return nil
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
	out := c.seal1(c.wbuf, id, code, n)
	if _, err := c.rw.Write(out); err != nil {
		return fmt.Errorf("crypt: write %v: %w", code, err)
	}
	return nil
}

// seal1 puts the header in front of the n payload bytes in buf, seals them
// if the session has keys, and returns the frame.
func (c *Conn) seal1(buf []byte, id frame.ClientID, code frame.Code, n int) []byte {
	hs := c.headerSize()
	size := uint32(c.sealedSize(n))
	if c.client {
		h := frame.Request{ClientID: id, Version: frame.VersionSecure, Code: code, Size: size}
		h.Put((*[frame.RequestHeaderSize]byte)(buf[:hs]))
	} else {
		h := frame.Response{Version: frame.VersionSecure, Code: code, Size: size}
		h.Put((*[frame.ResponseHeaderSize]byte)(buf[:hs]))
	}
	if c.seal != nil {
		c.seal.Seal(buf[hs:hs], buf[hs:hs+n], buf[:hs])
	}
	out := buf[:hs+int(size)]
	if c.th != nil {
		c.th.Write(out)
	}
	return out
}

// ReadRequest reads the next request (server side only). The payload is
// valid until the next read on c.
func (c *Conn) ReadRequest() (frame.Request, []byte, error) {
	return c.readRequest(nil)
}

// ReadBufSize is the least room ReadRequestInto needs: the largest sealed
// payload accepted and one header read ahead. Server side, after the
// handshake.
func (c *Conn) ReadBufSize() int {
	return int(c.limit) + frame.RequestHeaderSize
}

// ReadRequestInto is ReadRequest reading the payload to the start of buf,
// which has at least ReadBufSize bytes; the header is not stored there. The
// payload stays valid until buf is reused, whatever c reads in the
// meantime, and the tag that followed it is no longer needed: a server that
// keeps several frames in flight can read the next one at buf[len(payload):]
// and so have their contents back to back.
func (c *Conn) ReadRequestInto(buf []byte) (frame.Request, []byte, error) {
	if len(buf) < c.ReadBufSize() {
		panic("crypt: internal error: ReadRequestInto with less than ReadBufSize bytes")
	}
	return c.readRequest(buf)
}

// readRequest reads a request into buf, or into rbuf when buf is nil.
func (c *Conn) readRequest(buf []byte) (frame.Request, []byte, error) {
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
	p, err := c.readPayload(buf, hb[:], h.Size)
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
	p, err := c.readPayload(nil, hb[:], h.Size)
	return h, p, err
}

// readHeader fills hb, first with the bytes read ahead with the last
// payload, then from the link.
func (c *Conn) readHeader(hb []byte) error {
	have := copy(hb, c.ahead[:c.nahead])
	c.nahead = 0
	if have == len(hb) {
		return nil
	}
	if _, err := io.ReadFull(c.rw, hb[have:]); err != nil {
		if errors.Is(err, io.EOF) && have == 0 {
			return ErrClosedByPeer
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ErrTruncated
		}
		return fmt.Errorf("crypt: read header: %w", err)
	}
	return nil
}

// readPayload reads the size bytes that follow the header hb to the start
// of buf (rbuf when buf is nil) and opens them in place, with hb as the
// associated data. It asks the link for up to one header more than the
// payload and keeps what comes in ahead, so that a stream of frames costs
// one read each rather than two; it never waits for those extra bytes.
func (c *Conn) readPayload(buf, hb []byte, size uint32) ([]byte, error) {
	hs := len(hb)
	if c.open != nil && size < TagSize {
		return nil, fmt.Errorf("crypt: sealed frame of %d bytes is shorter than its tag: %w", size, ErrOpen)
	}
	end := int(size)
	if buf == nil {
		c.growRead(end + hs)
		buf = c.rbuf
	}
	n, err := io.ReadAtLeast(c.rw, buf[:min(len(buf), end+hs)], end)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		return nil, fmt.Errorf("crypt: read payload: %w", err)
	}
	c.nahead = copy(c.ahead[:], buf[end:n])
	if c.th != nil {
		c.th.Write(hb)
		c.th.Write(buf[:end])
	}
	if c.open == nil {
		return buf[:end], nil
	}
	return c.open.Open(buf[:0], buf[:end], hb)
}

// growRead makes rbuf hold at least n bytes; after the handshake it grows
// straight to the largest frame, so that the steady state never allocates.
func (c *Conn) growRead(n int) {
	if cap(c.rbuf) >= n {
		c.rbuf = c.rbuf[:cap(c.rbuf)]
		return
	}
	if c.open != nil {
		n = max(n, frame.RequestHeaderSize+int(c.limit))
	}
	c.rbuf = make([]byte, n)
}
