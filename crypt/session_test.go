package crypt

import (
	"bytes"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"ferry/frame"
)

// sealedPair returns a client and server session joined through a relay
// that applies c2s to every sealed frame from the client (frame index 0 is
// the first frame after the handshake).
func sealedPair(t *testing.T, c2s func(i int, f []byte) [][]byte) (*Session, *Session) {
	t.Helper()
	ca := newCA(t)
	id := issue(t, ca, "localhost")
	after := func(i int, f []byte) [][]byte {
		if i < 1 || c2s == nil { // frame 0 is the client hello
			return [][]byte{f}
		}
		return c2s(i-1, f)
	}
	c, s := handshake(t, &ClientConfig{Verify: CAVerifier(pool(ca), "localhost")}, &ServerConfig{Identity: id}, relayFrames(nil, after))
	if c.err != nil || s.err != nil {
		t.Fatalf("handshake: %v %v", c.err, s.err)
	}
	return c.s, s.s
}

func sendThree(c *Session) {
	for _, p := range []string{"one", "two", "three"} {
		if c.WriteRequest(frame.ClientID{1}, frame.CodeChunk, []byte(p)) != nil {
			return
		}
	}
}

func TestTamperedFrames(t *testing.T) {
	var held []byte
	cases := map[string]func(i int, f []byte) [][]byte{
		"payload bit": func(i int, f []byte) [][]byte { f[frame.RequestHeaderSize] ^= 4; return [][]byte{f} },
		"tag bit":     func(i int, f []byte) [][]byte { f[len(f)-1] ^= 1; return [][]byte{f} },
		"header code": func(i int, f []byte) [][]byte { f[17] ^= 1; return [][]byte{f} },
		"header id":   func(i int, f []byte) [][]byte { f[0] ^= 1; return [][]byte{f} },
		"header version": func(i int, f []byte) [][]byte {
			f[16] = frame.VersionClassic
			return [][]byte{f}
		},
		"dropped": func(i int, f []byte) [][]byte {
			if i == 0 {
				return nil
			}
			return [][]byte{f}
		},
		"duplicated": func(i int, f []byte) [][]byte { return [][]byte{f, f} },
		"reordered": func(i int, f []byte) [][]byte {
			if i == 0 {
				held = f
				return nil
			}
			if i == 1 {
				return [][]byte{f, held}
			}
			return [][]byte{f}
		},
		"truncated tag": func(i int, f []byte) [][]byte {
			g := append([]byte(nil), f[:len(f)-3]...)
			g[19] -= 3 // keep the header consistent with the shorter payload
			return [][]byte{g}
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			c, s := sealedPair(t, tamper)
			go sendThree(c)
			var err error
			got := 0
			for got < 3 && err == nil {
				var p []byte
				_, p, err = s.ReadRequest()
				if err == nil {
					if want := []string{"one", "two", "three"}[got]; string(p) != want {
						t.Fatalf("frame %d opened as %q, want %q", got, p, want)
					}
					got++
				}
			}
			if err == nil {
				t.Fatal("tampered stream read without error")
			}
			if !errors.Is(err, ErrOpen) && !errors.Is(err, frame.ErrVersion) {
				t.Fatalf("got %v, want ErrOpen", err)
			}
			c.Close()
			s.Close()
		})
	}
}

func TestTruncatedStream(t *testing.T) {
	c, s := sealedPair(t, func(i int, f []byte) [][]byte {
		if i == 1 {
			return [][]byte{f[:len(f)/2]}
		}
		return [][]byte{f}
	})
	go func() {
		sendThree(c)
		c.Close()
	}()
	if _, _, err := s.ReadRequest(); err != nil {
		t.Fatal(err)
	}
	// the relay forwards half of frame 1 and then closes once the client has
	_, _, err := s.ReadRequest()
	if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrOpen) {
		t.Fatalf("got %v, want ErrTruncated", err)
	}
}

func TestSealAllocs(t *testing.T) {
	key := make([]byte, KeySize)
	for _, suite := range []Suite{SuiteAES256GCM, SuiteChaCha20Poly1305} {
		s, _ := NewSealer(suite, key)
		o, _ := NewOpener(suite, key)
		buf := make([]byte, 23+DefaultChunk+TagSize)
		ad, pt := buf[:23], buf[23:23+DefaultChunk]
		n := testing.AllocsPerRun(50, func() {
			ct := s.Seal(pt[:0], pt, ad)
			if _, err := o.Open(ct[:0], ct, ad); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%v: seal+open allocate %v times per chunk, want 0", suite, n)
		}
	}
}

// memConn is a link.Conn over memory: writes go to w, reads come from r.
type memConn struct {
	r *bytes.Reader
	w bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error)       { return m.r.Read(p) }
func (m *memConn) Write(p []byte) (int, error)      { return m.w.Write(p) }
func (m *memConn) Close() error                     { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// TestChunkAllocs checks the steady state of an upload: writing sealed
// chunks on the client and reading them on the server allocate nothing.
func TestChunkAllocs(t *testing.T) {
	c, s := sealedPair(t, nil)
	const runs = 50
	cw := &memConn{}
	cw.w.Grow((runs + 2) * (c.Chunk() + 64))
	c.rw = cw
	n := testing.AllocsPerRun(runs, func() {
		buf := c.ChunkBuf()
		if err := c.WriteChunk(frame.ClientID{1}, frame.CodeChunk, len(buf)); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("WriteChunk allocates %v times per chunk, want 0", n)
	}
	s.rw = &memConn{r: bytes.NewReader(cw.w.Bytes())}
	s.ReadRequest() // the first read sizes the buffer
	n = testing.AllocsPerRun(runs-1, func() {
		if _, p, err := s.ReadRequest(); err != nil || len(p) != c.Chunk() {
			t.Fatalf("read %d bytes: %v", len(p), err)
		}
	})
	if n != 0 {
		t.Errorf("ReadRequest allocates %v times per chunk, want 0", n)
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

var _ net.Conn // net is used by the helpers in handshake_test.go
