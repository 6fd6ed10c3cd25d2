package crypt

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"ferry/frame"
)

// pieceConn is a memConn whose reads return at most max bytes each (0:
// as many as asked) and are counted.
type pieceConn struct {
	memConn
	max   int
	reads int
}

func (p *pieceConn) Read(b []byte) (int, error) {
	p.reads++
	if p.max > 0 && len(b) > p.max {
		b = b[:p.max]
	}
	return p.memConn.Read(b)
}

// recorded writes frames of the given payload sizes from c (each payload
// filled with its index) and returns the bytes on the wire.
func recorded(t *testing.T, c *Session, sizes []int) []byte {
	t.Helper()
	w := &memConn{}
	c.rw = w
	for i, n := range sizes {
		if err := c.WriteMsg(frame.CodeList, bytes.Repeat([]byte{byte(i)}, n)); err != nil {
			t.Fatal(err)
		}
	}
	return w.w.Bytes()
}

// TestReadAhead: after GrowReads, small frames that came together are
// read with one read of the link (a put, its chunk and its file end: one
// read per file of a tree, not three), and frames of every size, however
// the link cuts the stream, are read back whole and in order.
func TestReadAhead(t *testing.T) {
	c, s := sealedPair(t, nil)
	s.GrowReads()
	files := recorded(t, c, []int{65, 1024, 29, 65, 1024, 29, 65, 1024, 29}) // put, chunk, file end of 1 KiB files
	p := &pieceConn{memConn: memConn{r: bytes.NewReader(files)}}
	s.rw = p
	for i := range 9 {
		if _, _, err := s.ReadMsg(); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if p.reads > 1 {
		t.Errorf("3 files of 3 small frames (%d bytes) took %d reads, want 1", len(files), p.reads)
	}

	sizes := []int{0, 1, 100, 3000, 4096 - 40, 4096 - 23, 4096, 4097, 3, c.Chunk(), 7, c.Chunk(), c.Chunk() - 1, 2, 5000, 1}
	for _, piece := range []int{0, 1, 7, 23, 24, 100, 4095, 4096, 5000} {
		t.Run(fmt.Sprintf("reads of %d", piece), func(t *testing.T) {
			wire := recorded(t, c, sizes) // sealed anew: the same frames again would be replays
			s.rw = &pieceConn{memConn: memConn{r: bytes.NewReader(wire)}, max: piece}
			for i, n := range sizes {
				var p []byte
				var err error
				if i%2 == 0 {
					_, p, err = s.ReadMsg()
				} else {
					_, p, err = s.ReadMsgInto(make([]byte, s.ReadBufSize()))
				}
				if err != nil || !bytes.Equal(p, bytes.Repeat([]byte{byte(i)}, n)) {
					t.Fatalf("frame %d of %d bytes: got %d bytes, %v", i, n, len(p), err)
				}
			}
			if _, _, err := s.ReadMsg(); err != ErrClosedByPeer {
				t.Fatalf("after the last frame: %v, want ErrClosedByPeer", err)
			}
		})
	}
}

// TestCompactHeader: after compactRequests a client's requests carry the
// 7-byte header (PROTOCOL.md §2: a 16 KiB chunk is `04 0804 10400000`),
// the server reads them with the ID it set, and a tampered compact header
// fails to open like any other.
func TestCompactHeader(t *testing.T) {
	c, s := sealedPair(t, nil)
	id := frame.ClientID{7, 7}
	c.compactRequests()
	s.compactRequests()
	s.SetClientID(id)
	w := &memConn{}
	c.rw = w
	content := bytes.Repeat([]byte{1}, 16<<10)
	if err := c.WriteRequest(frame.ClientID{9}, frame.CodeChunk, content); err != nil {
		t.Fatal(err)
	}
	wire := w.w.Bytes()
	if got := fmt.Sprintf("%x", wire[:frame.ResponseHeaderSize]); got != "04080410400000" || len(wire) != 7+16<<10+TagSize {
		t.Fatalf("compact header %s, frame of %d bytes", got, len(wire))
	}
	s.rw = &memConn{r: bytes.NewReader(wire)}
	h, p, err := s.ReadMsg()
	if err != nil || h.ClientID != id || h.Code != frame.CodeChunk || !bytes.Equal(p, content) {
		t.Fatalf("read back %v %v %d bytes, %v", h.ClientID, h.Code, len(p), err)
	}
	c2, s2 := sealedPair(t, nil)
	c2.compactRequests()
	s2.compactRequests()
	w2 := &memConn{}
	c2.rw = w2
	c2.WriteRequest(id, frame.CodeChunk, content)
	tampered := w2.w.Bytes()
	tampered[1] ^= 1 // the code: 1033, a last chunk
	s2.rw = &memConn{r: bytes.NewReader(tampered)}
	if _, _, err := s2.ReadMsg(); !errors.Is(err, ErrOpen) {
		t.Fatalf("a compact header with another code: %v, want ErrOpen", err)
	}
}
