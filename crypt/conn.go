package crypt

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
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
	compact      bool // requests carry the 7-byte header (compactRequests)
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
// one compact requests are read with (compactRequests).
func (c *Conn) SetClientID(id frame.ClientID) { c.id = id }

// Close closes the underlying link.
func (c *Conn) Close() error { return c.rw.Close() }

// Link returns the underlying link, for deadlines.
func (c *Conn) Link() link.Conn { return c.rw }

// SetReadDeadline sets the deadline of the next reads on the link.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.rw.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of the next writes on the link.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.rw.SetWriteDeadline(t) }

// compactRequests makes the requests written (client) or read (server)
// from now on carry the 7-byte header of a response, without the client
// ID (Session.Authenticated). A server's requests then carry the ID set by
// SetClientID, the session's.
func (c *Conn) compactRequests() { c.compact = true }

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
	if hs == frame.RequestHeaderSize {
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
