package crypt

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"ferry/frame"
	"ferry/link"
)

// TestPackedChunks checks the pipelined paths: chunk frames sealed into one
// buffer back to back and written with one WriteSealed are read back, one
// by one, with ReadRequestInto, each payload right after the one before;
// neither side allocates per chunk.
// The Conn is symmetric: a server streams chunks to a client the same way.
func TestPackedChunks(t *testing.T) {
	t.Run("request", func(t *testing.T) {
		c, s := sealedPair(t, nil)
		c.SetClientID(frame.ClientID{7})
		packedChunks(t, c.Conn, s.Conn, frame.ClientID{7})
	})
	t.Run("response", func(t *testing.T) {
		c, s := sealedPair(t, nil)
		packedChunks(t, s.Conn, c.Conn, frame.ClientID{})
	})
}

func packedChunks(t *testing.T, c, s *Conn, id frame.ClientID) {
	const frames = 3
	buf := make([]byte, frames*c.ChunkFrameSize())
	cw := &memConn{}
	cw.w.Grow(60 * len(buf))
	c.rw = cw
	var round byte
	n := testing.AllocsPerRun(20, func() {
		used := 0
		for i := range frames {
			p := c.ChunkPayload(buf[used:])
			size := len(p) - i // the last frame of a file may be short
			for j := range p[:size] {
				p[j] = round + byte(i)
			}
			used += len(c.SealChunk(buf[used:], frame.CodeChunk, size))
		}
		if err := c.WriteSealed(buf[:used]); err != nil {
			t.Fatal(err)
		}
		round++
	})
	if n != 0 {
		t.Errorf("SealChunk+WriteSealed allocate %v times per batch, want 0", n)
	}
	s.rw = &memConn{r: bytes.NewReader(cw.w.Bytes())}
	rb := make([]byte, 3*s.ReadBufSize())
	round = 0
	n = testing.AllocsPerRun(20, func() { // 21 rounds: AllocsPerRun warms up with one
		used := 0 // the payloads back to back, as the server's pipeline reads them
		for i := range frames {
			h, p, err := s.ReadMsgInto(rb[used:])
			if err != nil || h.ClientID != id || len(p) != c.Chunk()-i || p[0] != round+byte(i) || p[len(p)-1] != round+byte(i) {
				t.Fatalf("round %d frame %d: %d bytes, %v", round, i, len(p), err)
			}
			used += len(p)
		}
		if rb[used-1] != round+frames-1 || rb[0] != round {
			t.Fatalf("round %d: payloads not back to back", round)
		}
		round++
	})
	if n != 0 {
		t.Errorf("ReadMsgInto allocates %v times per batch, want 0", n)
	}
}

// BenchmarkSeal64K is the raw single-core speed of each suite sealing one
// 64 KiB chunk in place: the ceiling of ferry's throughput on one core.
func BenchmarkSeal64K(b *testing.B) {
	for _, suite := range []Suite{SuiteAES256GCM, SuiteChaCha20Poly1305} {
		b.Run(suite.String(), func(b *testing.B) {
			s, _ := NewSealer(suite, make([]byte, KeySize))
			buf := make([]byte, frame.RequestHeaderSize+DefaultChunk+TagSize)
			ad, pt := buf[:frame.RequestHeaderSize], buf[frame.RequestHeaderSize:][:DefaultChunk]
			b.SetBytes(DefaultChunk)
			b.ReportAllocs()
			for b.Loop() {
				s.Seal(pt[:0], pt, ad)
			}
		})
	}
}

// countConn counts the bytes that cross a connection both ways.
type countConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// BenchmarkHandshake runs whole handshakes over loopback TCP, both sides in
// this process (allocs/op counts both), and reports the bytes on the wire
// in both directions (wire-B/op) with an Ed25519 server certificate signed
// by a CA, the chain ferry serve uses.
func BenchmarkHandshake(b *testing.B) {
	ca, err := NewCA("bench", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	id, err := ca.Issue([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	roots := pool(ca)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var wire atomic.Int64
	b.ReportAllocs()
	for b.Loop() {
		done := make(chan error, 1)
		go func() {
			sc, err := l.Accept()
			if err != nil {
				done <- err
				return
			}
			defer sc.Close()
			_, err = Server(sc, &ServerConfig{Identity: id})
			done <- err
		}()
		nc, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		var cc link.Conn = countConn{nc, &wire}
		if _, err := Client(cc, &ClientConfig{Verify: CAVerifier(roots, "127.0.0.1")}); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		nc.Close()
	}
	b.ReportMetric(float64(wire.Load())/float64(b.N), "wire-B/op")
}
