package classic

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"ferry/frame"
	"ferry/fsstore"
)

// scriptConn is a link.Conn that reads a fixed script and records what is
// written; deadlines are ignored.
type scriptConn struct {
	r   *bytes.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzServeConn feeds arbitrary request streams to a server over a real
// store: it must not panic, every answer must be a well-formed response,
// and a refused stream must end with 2107.
func FuzzServeConn(f *testing.F) {
	reqs := goldenLines(f, "testdata/requests.txt")
	f.Add(reqs["register"])
	f.Add(bytes.Join([][]byte{reqs["register"], reqs["register-garbage"], reqs["reconnect"]}, nil))
	f.Add(append(bytes.Clone(reqs["register"]), reqs["send-file"]...))
	for _, raw := range goldenLines(f, "testdata/bad-requests.txt") {
		f.Add(append(bytes.Clone(reqs["register"]), raw...))
	}
	store, err := fsstore.Open(filepath.Join(f.TempDir(), "store"), fsstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	s := &Server{Store: store, MaxFileSize: 1 << 16}
	f.Fuzz(func(t *testing.T, script []byte) {
		c := &scriptConn{r: bytes.NewReader(script)}
		err := s.ServeConn(context.Background(), c)
		out := c.out.Bytes()
		var last frame.Code
		for len(out) > 0 {
			var hb [frame.ResponseHeaderSize]byte
			if copy(hb[:], out) < len(hb) {
				t.Fatalf("truncated response %x", out)
			}
			h, perr := ParseResponseHeader(&hb)
			if perr != nil || len(out) < len(hb)+int(h.Size) {
				t.Fatalf("bad response %x: %v", out, perr)
			}
			last, out = h.Code, out[len(hb)+int(h.Size):]
		}
		if err != nil && last != frame.CodeError {
			t.Fatalf("refused (%v) without 2107", err)
		}
		if err == nil && last == frame.CodeError {
			t.Fatal("2107 without an error")
		}
	})
}
