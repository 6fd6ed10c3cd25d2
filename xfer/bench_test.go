package xfer

import (
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"ferry/crypt"
)

// tcpPair is pair over loopback TCP, the link of bench/ops: a real socket
// with its buffers rather than a synchronous pipe.
func tcpPair(t testing.TB, chunk int) (*crypt.Session, *crypt.Session) {
	t.Helper()
	ca, err := crypt.NewCA("test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, err := ca.Issue([]string{"localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := make(chan *crypt.Session, 1)
	go func() {
		defer close(srv)
		b, err := l.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { b.Close() })
		s, err := crypt.Server(b, &crypt.ServerConfig{Identity: id, MaxChunk: chunk, Features: crypt.AllFeatures})
		if err != nil {
			t.Error(err)
		}
		srv <- s
	}()
	a, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	c, err := crypt.Client(a, &crypt.ClientConfig{Chunk: chunk, Features: crypt.AllFeatures,
		Verify: func([]*x509.Certificate) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	s := <-srv
	if s == nil {
		t.FailNow()
	}
	c.GrowReads()
	s.GrowReads()
	return c, s
}

// BenchmarkDownload streams files of 16 MiB from a server's Sender to a
// client's Receiver over loopback TCP, both ends in this process (CPU time
// and allocations count both), with the chunk sizes a server chooses: 64
// KiB (the first release, routers) and 256 KiB (serve's default), the
// receiver a frame at a time (the client) and pipelined (the server's
// uploads). allocs/chunk must stay 0: a file allocates the same whatever
// its size (TestSendAllocs, TestReceiveAllocs check it).
func BenchmarkDownload(b *testing.B) {
	const size = 16 << 20
	for _, chunk := range []int{64 << 10, 256 << 10} {
		for _, pipelined := range []bool{false, true} {
			b.Run(fmt.Sprintf("chunk=%dK/pipelined=%v", chunk>>10, pipelined), func(b *testing.B) {
				c, s := tcpPair(b, chunk)
				var snd Sender
				rc := Receiver{}
				if pipelined {
					rc.Pool = NewPool(1)
				}
				errc := make(chan error, 1)
				b.SetBytes(size)
				b.ReportAllocs()
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				for b.Loop() {
					go func() {
						_, _, err := snd.Send(s, &File{Codes: Download, Size: size, End: true}, zeroReader{})
						errc <- err
					}()
					res, err := rc.ReceiveFile(c, &Content{Codes: Download, Size: size}, io.Discard)
					if err != nil || <-errc != nil || !res.OK() {
						b.Fatalf("ok %v, %v", res.OK(), err)
					}
				}
				runtime.ReadMemStats(&m1)
				b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N*size/chunk), "allocs/chunk")
			})
		}
	}
}

// TestReceiveAllocs checks the receiver's steady state, a frame at a time
// and pipelined: a file allocates the same whatever its number of chunks,
// so a chunk allocates nothing.
func TestReceiveAllocs(t *testing.T) {
	const chunk = 16 << 10
	for _, pipelined := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipelined=%v", pipelined), func(t *testing.T) {
			c, s := tcpPair(t, chunk)
			var snd Sender
			rc := Receiver{}
			if pipelined {
				rc.Pool = NewPool(1)
			}
			receive := func(chunks int) float64 {
				size := int64(chunks * chunk)
				errc := make(chan error, 1)
				return testing.AllocsPerRun(10, func() {
					go func() {
						_, _, err := snd.Send(s, &File{Codes: Download, Size: size, End: true}, zeroReader{})
						errc <- err
					}()
					res, err := rc.ReceiveFile(c, &Content{Codes: Download, Size: size}, io.Discard)
					if err != nil || <-errc != nil || !res.OK() {
						t.Fatalf("ok %v, %v", res.OK(), err)
					}
				})
			}
			// 2 chunks: a file of one is received a frame at a time even
			// with a pool (nothing to overlap)
			small, large := receive(2), receive(100)
			// the sender's goroutine and its file end are counted too, the
			// same for any size; a chunk that allocated would add 98
			if large > small+1 {
				t.Errorf("a file of 100 chunks allocates %v times, one of 2 chunks %v: want the same", large, small)
			}
		})
	}
}
