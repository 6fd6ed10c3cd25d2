package client

import (
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"ferry/crypt"
	"ferry/frame"
)

// oldServer answers one hello as a server of the first release does: a
// hello with bytes after its suites is refused in clear. It returns the
// hello's payload.
func oldServer(t *testing.T, c net.Conn) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		defer c.Close()
		var hb [frame.RequestHeaderSize]byte
		if _, err := io.ReadFull(c, hb[:]); err != nil {
			got <- nil
			return
		}
		h, _ := frame.ParseRequest(&hb, 1<<16)
		p := make([]byte, h.Size)
		io.ReadFull(c, p)
		got <- p
		if n := int(p[68]); len(p) != 69+n {
			msg := []byte("crypt: malformed handshake message: client hello lists 8 suites in 109 bytes")
			r := frame.Response{Version: frame.VersionSecure, Code: frame.CodeError, Size: uint32(len(msg))}
			var rb [frame.ResponseHeaderSize]byte
			r.Put(&rb)
			c.Write(append(rb[:], msg...))
		}
	}()
	return got
}

// TestChainCacheOlderServer: a hello that names a cached chain, refused by
// a server of an earlier release, drops the cache and says to run the
// command again; the next hello is the first release's.
func TestChainCacheOlderServer(t *testing.T) {
	st := State{Dir: t.TempDir()}
	if err := st.SaveChain("stdio", []byte{1, 1, 0, 0x30}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{State: st, Link: "stdio", Timeout: 5 * time.Second,
		Verify: func([]*x509.Certificate) error { return nil }}
	cc, sc := net.Pipe()
	hello := oldServer(t, sc)
	_, err := Connect(cc, cfg)
	p := <-hello
	if n := int(p[68]); len(p) != 69+n+32 {
		t.Fatalf("hello of %d bytes with %d suites: no chain named", len(p), n)
	}
	if !errors.Is(err, crypt.ErrRefused) || !strings.Contains(err.Error(), "run the command again") {
		t.Fatalf("got %v, want the refusal and what to do", err)
	}
	if st.KnownChain("stdio") != nil {
		t.Fatal("the cached chain was kept")
	}
	cc, sc = net.Pipe()
	hello = oldServer(t, sc)
	Connect(cc, cfg)
	if p := <-hello; len(p) != 69+int(p[68]) {
		t.Fatalf("second hello of %d bytes still names a chain", len(p))
	}
}
