package crypt

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

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
// sealed after it. It works the same in either role, as tls.Conn does: a
// Conn writes messages in its own direction (requests with the 23-byte
// header on a client, responses with the 7-byte one on a server) and reads
// the peer's. One goroutine may read while another writes; two readers or
// two writers at once are not allowed.
type Conn struct {
	rw     link.Conn
	client bool
	id     frame.ClientID // put in request headers (client side); compact requests are read with it (server)
	seal   *Sealer
	open   *Opener
	limit  uint32                        // largest payload accepted, sealed size
	chunk  int                           // negotiated chunk size, 0 before the handshake
	th     hash.Hash                     // transcript hash, nil once the handshake is over
	wbuf   []byte                        // header + payload + tag of the frame being written
	rbuf   []byte                        // payload of the frame last read, + room to read ahead
	hbuf   [frame.RequestHeaderSize]byte // header being read; in the struct so that it does not escape per call
	small  [frame.RequestHeaderSize]byte // ahead before GrowReads
	ahead  []byte                        // bytes read from the link ahead of the frame being read: small, then aheadSize
	ar, aw int                           // the unread bytes are ahead[ar:aw]
	held   []byte                        // sealed messages kept by Hold, written before the next frame
	// WriteTimeout, when not 0, bounds each write: a peer that stops
	// reading cannot hold the writer (and its session) forever.
	WriteTimeout time.Duration
	full         bool // read buffers may grow to the largest frame at once (GrowReads)
	compact      bool // requests carry the 7-byte header (CompactRequests)
}

// aheadSize is how much a Conn reads ahead after GrowReads: small frames
// that came together (a put, its chunk and its file end; a run of dones)
// are read with one read of the link, not one each.
const aheadSize = 4 << 10

// GrowReads lets the read buffer grow by doubling, up to the largest
// frame, so that the steady state never allocates, and reads up to
// aheadSize bytes ahead. Before it (a peer not yet authenticated), the
// buffer fits each frame as it comes and at most a header is read ahead,
// so that many idle sessions past the handshake hold little memory.
func (c *Conn) GrowReads() {
	c.full = true
	if len(c.ahead) < aheadSize {
		b := make([]byte, aheadSize)
		c.ar, c.aw, c.ahead = 0, copy(b, c.ahead[c.ar:c.aw]), b
	}
}

// Header is a decoded frame header of either direction. ClientID is zero in
// responses, which carry none.
type Header struct {
	ClientID frame.ClientID
	Code     frame.Code
	Size     uint32 // payload size on the wire (sealed: plaintext + tag)
}

func newConn(rw link.Conn, client bool) *Conn {
	c := &Conn{rw: rw, client: client, limit: handshakeLimit, th: sha256.New()}
	c.ahead = c.small[:]
	return c
}

// Chunk is the negotiated chunk size: the most file bytes one frame carries.
func (c *Conn) Chunk() int { return c.chunk }

// IsClient reports the role: true when c writes requests.
func (c *Conn) IsClient() bool { return c.client }

// SetClientID sets the client ID that requests written from now on carry
// (client side; a server's responses carry none), or, on a server, the
// one compact requests are read with (CompactRequests).
func (c *Conn) SetClientID(id frame.ClientID) { c.id = id }

// Close closes the underlying link.
func (c *Conn) Close() error { return c.rw.Close() }

// Link returns the underlying link, for deadlines.
func (c *Conn) Link() link.Conn { return c.rw }

// SetReadDeadline sets the deadline of the next reads on the link.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.rw.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of the next writes on the link.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.rw.SetWriteDeadline(t) }

// CompactRequests makes the requests written (client) or read (server)
// from now on carry the 7-byte header of a response, without the client
// ID: with feature short, once the client is authenticated (PROTOCOL.md
// §2, "Compact requests"), the session's keys say whose the requests are.
// A server's requests then carry the ID set by SetClientID, the session's.
func (c *Conn) CompactRequests() { c.compact = true }

// headerSize is the size of the headers c writes.
func (c *Conn) headerSize() int {
	if c.client && !c.compact {
		return frame.RequestHeaderSize
	}
	return frame.ResponseHeaderSize
}

// peerHeaderSize is the size of the headers c reads.
func (c *Conn) peerHeaderSize() int {
	if c.client || c.compact {
		return frame.ResponseHeaderSize
	}
	return frame.RequestHeaderSize
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

// WriteChunk sends the first n bytes of ChunkBuf as a message with the
// given code, without copying them. id is ignored on a server.
func (c *Conn) WriteChunk(id frame.ClientID, code frame.Code, n int) error {
	if n > c.chunk {
		panic("crypt: internal error: chunk larger than negotiated")
	}
	return c.writeFrame(id, code, n)
}

// ChunkFrameSize is the most bytes a sealed chunk frame that c writes
// takes: header, chunk, tag. A writer that keeps several chunks in flight
// gives each a buffer of this size, or packs several frames into one
// buffer and writes them with one WriteSealed.
func (c *Conn) ChunkFrameSize() int {
	return c.headerSize() + c.chunk + TagSize
}

// ChunkPayload is the part of a frame buffer (at least ChunkFrameSize
// bytes) that carries the chunk: Chunk() bytes after the header.
func (c *Conn) ChunkPayload(buf []byte) []byte {
	hs := c.headerSize()
	return buf[hs : hs+c.chunk]
}

// SealChunk makes buf, a frame buffer whose ChunkPayload holds n bytes,
// into a sealed frame with the given code and c's client ID, in place, and
// returns the frame: the first header+n+TagSize bytes of buf. Sealing takes
// the next sequence number: frames must be written with WriteSealed in the
// order they were sealed, and no other frame may be written in between.
// SealChunk and WriteSealed may run on two goroutines; two SealChunks at
// once may not. Either role, after the handshake.
func (c *Conn) SealChunk(buf []byte, code frame.Code, n int) []byte {
	if c.seal == nil || n > c.chunk || len(buf) < c.headerSize()+n+TagSize {
		panic("crypt: internal error: SealChunk without keys or larger than the chunk")
	}
	return c.seal1(buf, c.id, code, n)
}

// MsgFrameSize is the room SealMsg needs for a payload of n bytes.
func (c *Conn) MsgFrameSize(n int) int { return c.headerSize() + n + TagSize }

// SealMsg seals a message with the given code and payload into buf (at
// least MsgFrameSize(len(payload)) bytes) and returns the frame, with the
// ordering rules of SealChunk. It lets a writer pack small messages with
// chunks into one write.
func (c *Conn) SealMsg(buf []byte, code frame.Code, payload []byte) []byte {
	if c.seal == nil || len(buf) < c.MsgFrameSize(len(payload)) || len(payload) > int(c.limit)-TagSize {
		panic("crypt: internal error: SealMsg without keys or without room")
	}
	copy(buf[c.headerSize():], payload)
	return c.seal1(buf, c.id, code, len(payload))
}

// Hold seals a message as WriteMsg would send it but keeps it, to be
// written with the next frame or Flush: a server answers the requests
// that are already waiting with one write. Writer side only.
func (c *Conn) Hold(code frame.Code, payload []byte) {
	n, hs := len(c.held), c.headerSize()
	c.held = append(c.held, make([]byte, hs+c.sealedSize(len(payload)))...)
	copy(c.held[n+hs:], payload)
	c.seal1(c.held[n:], c.id, code, len(payload))
}

// Held is how many bytes Hold keeps.
func (c *Conn) Held() int { return len(c.held) }

// Ahead reports whether the whole header of the peer's next frame has
// already been read: the peer sent it without waiting for an answer.
func (c *Conn) Ahead() bool { return c.aw-c.ar >= c.peerHeaderSize() }

// Flush writes what Hold kept.
func (c *Conn) Flush() error {
	if len(c.held) == 0 {
		return nil
	}
	f := c.held
	c.held = c.held[:0]
	return c.WriteSealed(f)
}

// WriteSealed writes frames that SealChunk or SealMsg returned, one or
// several back to back in sealing order, with one write (after what Hold
// kept).
func (c *Conn) WriteSealed(f []byte) error {
	if err := c.Flush(); err != nil {
		return err
	}
	if c.WriteTimeout > 0 {
		c.rw.SetWriteDeadline(time.Now().Add(c.WriteTimeout))
	}
	if _, err := c.rw.Write(f); err != nil {
		return fmt.Errorf("crypt: write: %w", err)
	}
	return nil
}

// WriteMsg sends a message in c's direction: a request carrying c's client
// ID on a client, a response on a server. payload is copied.
func (c *Conn) WriteMsg(code frame.Code, payload []byte) error {
	return c.write(c.id, code, payload)
}

// WriteRequest sends a request with the given client ID (client side only).
// payload is copied.
func (c *Conn) WriteRequest(id frame.ClientID, code frame.Code, payload []byte) error {
	if !c.client {
		panic("crypt: internal error: server writing a request")
	}
	return c.write(id, code, payload)
}

// WriteResponse sends a response (server side only). payload is copied.
func (c *Conn) WriteResponse(code frame.Code, payload []byte) error {
	if c.client {
		panic("crypt: internal error: client writing a response")
	}
	return c.write(frame.ClientID{}, code, payload)
}

func (c *Conn) write(id frame.ClientID, code frame.Code, payload []byte) error {
	hs := c.headerSize()
	c.wbuf = grow(c.wbuf, hs+len(payload)+TagSize)
	copy(c.wbuf[hs:], payload)
	return c.writeFrame(id, code, len(payload))
}

// writeFrame puts the header in front of the n payload bytes already in
// wbuf, seals them if the session has keys, and writes the frame.
func (c *Conn) writeFrame(id frame.ClientID, code frame.Code, n int) error {
	out := c.seal1(c.wbuf, id, code, n)
	if len(c.held) > 0 { // sealed after them: one write, in order
		c.held = append(c.held, out...)
		return c.Flush()
	}
	if c.WriteTimeout > 0 {
		c.rw.SetWriteDeadline(time.Now().Add(c.WriteTimeout))
	}
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
	if c.client && !c.compact {
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

// ReadMsg reads the peer's next message: a request on a server, a response
// on a client. The payload is valid until the next read on c.
func (c *Conn) ReadMsg() (Header, []byte, error) {
	return c.readMsg(nil)
}

// ReadBufSize is the least room ReadMsgInto needs: the largest sealed
// payload accepted and one header read ahead. After the handshake.
func (c *Conn) ReadBufSize() int {
	return int(c.limit) + frame.RequestHeaderSize
}

// ReadMsgInto is ReadMsg reading the payload to the start of buf, which
// has at least ReadBufSize bytes; the header is not stored there. The
// payload stays valid until buf is reused, whatever c reads in the
// meantime, and the tag that followed it is no longer needed: a reader
// that keeps several frames in flight can read the next one at
// buf[len(payload):] and so have their contents back to back.
func (c *Conn) ReadMsgInto(buf []byte) (Header, []byte, error) {
	if len(buf) < c.ReadBufSize() {
		panic("crypt: internal error: ReadMsgInto with less than ReadBufSize bytes")
	}
	return c.readMsg(buf)
}

// readMsg reads the peer's next message into buf, or into rbuf when buf is
// nil.
func (c *Conn) readMsg(buf []byte) (Header, []byte, error) {
	hb := c.hbuf[:c.peerHeaderSize()]
	if err := c.readHeader(hb); err != nil {
		return Header{}, nil, err
	}
	var h Header
	var version uint8
	var err error
	if c.client || c.compact {
		var r frame.Response
		r, err = frame.ParseResponse((*[frame.ResponseHeaderSize]byte)(hb), c.limit)
		h, version = Header{Code: r.Code, Size: r.Size}, r.Version
		if !c.client {
			h.ClientID = c.id // a compact request: the session's
		}
	} else {
		var r frame.Request
		r, err = frame.ParseRequest((*[frame.RequestHeaderSize]byte)(hb), c.limit)
		h, version = Header{ClientID: r.ClientID, Code: r.Code, Size: r.Size}, r.Version
	}
	if err != nil {
		return h, nil, fmt.Errorf("crypt: %s header: %w", c.peerKind(), err)
	}
	if version != frame.VersionSecure {
		return h, nil, fmt.Errorf("crypt: %s of protocol version %d on a version 4 connection: %w", c.peerKind(), version, frame.ErrVersion)
	}
	p, err := c.readPayload(buf, hb, h.Size)
	return h, p, err
}

func (c *Conn) peerKind() string {
	if c.client {
		return "response"
	}
	return "request"
}

// ReadRequest reads the next request (server side only). The payload is
// valid until the next read on c.
func (c *Conn) ReadRequest() (frame.Request, []byte, error) {
	if c.client {
		panic("crypt: internal error: client reading a request")
	}
	h, p, err := c.ReadMsg()
	return frame.Request{ClientID: h.ClientID, Version: frame.VersionSecure, Code: h.Code, Size: h.Size}, p, err
}

// ReadResponse reads the next response (client side only). The payload is
// valid until the next read on c.
func (c *Conn) ReadResponse() (frame.Response, []byte, error) {
	if !c.client {
		panic("crypt: internal error: server reading a response")
	}
	h, p, err := c.ReadMsg()
	return frame.Response{Version: frame.VersionSecure, Code: h.Code, Size: h.Size}, p, err
}

// readHeader fills hb from the bytes read ahead, reading more from the
// link when they fall short.
func (c *Conn) readHeader(hb []byte) error {
	if c.aw-c.ar < len(hb) {
		err := c.fill(len(hb))
		if err != nil && !errors.Is(err, ErrClosedByPeer) && !errors.Is(err, ErrTruncated) {
			err = fmt.Errorf("crypt: read header: %w", err)
		}
		if err != nil {
			return err
		}
	}
	c.ar += copy(hb, c.ahead[c.ar:c.aw])
	return nil
}

// fill reads from the link until ahead holds at least need bytes (at most
// len(ahead)), taking what else has come, up to the end of ahead: it never
// waits for more than need. The error is ErrClosedByPeer, ErrTruncated or
// the link's, as it is.
func (c *Conn) fill(need int) error {
	c.aw = copy(c.ahead, c.ahead[c.ar:c.aw])
	c.ar = 0
	n, err := io.ReadAtLeast(c.rw, c.ahead[c.aw:], need-c.aw)
	had := c.aw
	c.aw += n
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF) && had == 0:
		return ErrClosedByPeer
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return ErrTruncated
	}
	return err
}

// readPayload reads the size bytes that follow the header hb to the start
// of buf (rbuf when buf is nil) and opens them in place, with hb as the
// associated data. What was read ahead comes first; a rest smaller than
// ahead is read through it (with whatever follows, so that a stream of
// small frames costs one read for several), a larger one straight into
// buf, with up to one header more kept ahead: one read per large frame,
// and no copy of it.
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
	got := copy(buf[:end], c.ahead[c.ar:c.aw])
	c.ar += got
	if rest := end - got; rest > 0 && rest < len(c.ahead) {
		if err := c.fill(rest); err != nil {
			return nil, payloadError(err)
		}
		c.ar += copy(buf[got:end], c.ahead[:rest])
	} else if rest > 0 {
		n, err := io.ReadAtLeast(c.rw, buf[got:min(len(buf), end+hs)], rest)
		if err != nil {
			return nil, payloadError(err)
		}
		c.ar, c.aw = 0, copy(c.ahead, buf[end:got+n])
	}
	if c.th != nil {
		c.th.Write(hb)
		c.th.Write(buf[:end])
	}
	if c.open == nil {
		return buf[:end], nil
	}
	return c.open.Open(buf[:0], buf[:end], hb)
}

// payloadError is what a failed read inside a payload returns: the stream
// ended inside a frame, or the link failed.
func payloadError(err error) error {
	switch {
	case errors.Is(err, ErrClosedByPeer), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrTruncated
	case errors.Is(err, ErrTruncated):
		return err
	}
	return fmt.Errorf("crypt: read payload: %w", err)
}

// growRead makes rbuf hold at least n bytes. Before GrowReads it fits each
// frame as it comes; after, it at least doubles, up to the largest frame,
// so that the steady state never allocates (a session's largest message
// costs a few allocations, then none) while a session that exchanges only
// small messages holds little whatever the chunk size: file content is
// read into the Receiver's buffers (ReadMsgInto), not here.
func (c *Conn) growRead(n int) {
	if cap(c.rbuf) >= n {
		c.rbuf = c.rbuf[:cap(c.rbuf)]
		return
	}
	if c.open != nil && c.full {
		n = min(max(n, 2*cap(c.rbuf)), frame.RequestHeaderSize+int(c.limit))
	}
	c.rbuf = make([]byte, n)
}
