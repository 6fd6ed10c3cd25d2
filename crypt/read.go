package crypt

// The reading half of a Conn: a frame's header from what was read ahead,
// its payload opened in place, and the buffers that grow with the session.

import (
	"errors"
	"fmt"
	"io"

	"ferry/frame"
)

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
	if len(hb) == frame.ResponseHeaderSize {
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
