package server

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"ferry/client"
	"ferry/crypt"
	"ferry/link"
)

// connectChunk is fixture.connect asking for chunk bytes, over c (a fresh
// TCP link when nil).
func (f *fixture) connectChunk(state, name string, chunk int, c link.Conn) (*client.Client, error) {
	if c == nil {
		var err error
		if c, err = link.Dial(context.Background(), f.addr); err != nil {
			f.t.Fatal(err)
		}
	}
	return client.Connect(c, client.Config{
		State: client.State{Dir: state}, Server: f.addr, Name: name,
		Verify: crypt.CAVerifier(f.roots, "127.0.0.1"), Chunk: chunk, Timeout: 5 * time.Second,
	})
}

// mallocs counts the allocations of f, in every goroutine of the process.
func mallocs(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.Mallocs - a.Mallocs
}

// TestUploadChunkAllocs checks the steady state of a real upload, client
// and server pipelines, sealing, opening and the file writes: a file of
// many more chunks costs no more allocations than a small one.
func TestUploadChunkAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 2 MiB several times")
	}
	f := newFixture(t, func(c *Config) { c.Logf = nil })
	const chunk = 16 << 10
	small, _ := randomFile(t, 4*chunk)
	large, _ := randomFile(t, 132*chunk)
	c, err := f.connectChunk(t.TempDir(), "allocs", chunk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	upload := func(path string) uint64 {
		best := uint64(1 << 62)
		for range 5 { // the least of a few runs: the runtime's own timers and GC allocate now and then
			best = min(best, mallocs(func() {
				if _, err := c.Upload(path, "a.bin"); err != nil {
					t.Fatal(err)
				}
			}))
		}
		return best
	}
	upload(large) // warm up: buffers sized, ring allocated
	s, l := upload(small), upload(large)
	perChunk := (float64(l) - float64(s)) / 128
	t.Logf("upload of 4 chunks: %d allocations, of 132 chunks: %d (%.3f per chunk)", s, l, perChunk)
	if perChunk >= 0.05 {
		t.Errorf("%.3f allocations per chunk, want 0", perChunk)
	}
}

// failConn is a link that fails every write after the first limit bytes.
type failConn struct {
	link.Conn
	left atomic.Int64
}

var errLinkDown = errors.New("test: link down")

func (c *failConn) Write(p []byte) (int, error) {
	if c.left.Add(-int64(len(p))) < 0 {
		c.Conn.Close()
		return 0, errLinkDown
	}
	return c.Conn.Write(p)
}

// TestUploadLinkFails cuts the client's link in the middle of an upload:
// the client returns the write error, the server stores nothing, and
// neither side leaves a goroutine behind.
func TestUploadLinkFails(t *testing.T) {
	f := newFixture(t, nil)
	path, _ := randomFile(t, 1<<20)
	before := runtime.NumGoroutine()
	nc, err := link.Dial(context.Background(), f.addr)
	if err != nil {
		t.Fatal(err)
	}
	fc := &failConn{Conn: nc}
	fc.left.Store(1 << 62)
	c, err := f.connectChunk(t.TempDir(), "cut", 16<<10, fc)
	if err != nil {
		t.Fatal(err)
	}
	fc.left.Store(300 << 10)
	if _, err := c.Upload(path, "cut.bin"); !errors.Is(err, errLinkDown) {
		t.Fatalf("got %v, want the link's error", err)
	}
	if _, ok := f.store.File(c.ID(), "cut.bin"); ok {
		t.Fatal("a file whose content did not all arrive is listed")
	}
	waitGoroutines(t, before)
	assertNoTemp(t, f.data)
}

// BenchmarkUploadChunk is BenchmarkUpload for several chunk sizes, over one
// session, with the allocations of the whole upload (both sides, per-file
// work included) divided by its chunks as allocs/chunk; the steady state
// alone allocates nothing (TestUploadChunkAllocs).
func BenchmarkUploadChunk(b *testing.B) {
	const size = 64 << 20
	path, _ := randomFile(b, size)
	for _, chunk := range []int{16 << 10, 64 << 10, 256 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dK", chunk>>10), func(b *testing.B) {
			f := newFixture(b, func(c *Config) { c.Logf = nil; c.MaxChunk = chunk })
			c, err := f.connectChunk(b.TempDir(), "bench", chunk, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetBytes(size)
			var n uint64
			for b.Loop() {
				n += mallocs(func() {
					if _, err := c.Upload(path, "bench.bin"); err != nil {
						b.Fatal(err)
					}
				})
			}
			b.ReportMetric(float64(n)/float64(b.N)/float64(size/chunk), "allocs/chunk")
		})
	}
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	for range 1000 { // 10 s: a loaded machine is slow to end the server's session
		if runtime.NumGoroutine() <= want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d goroutines, want %d", runtime.NumGoroutine(), want)
}
