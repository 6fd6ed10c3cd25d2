package client

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"ferry/frame"
)

// fakeConn is a chunkConn that "seals" by writing the code and the length
// in front of the chunk and a 16-byte trailer after it, and records or
// discards what is written. failAfter > 0 makes that write fail.
type fakeConn struct {
	chunk     int
	out       bytes.Buffer
	discard   bool
	writes    int
	failAfter int
}

var errWrite = errors.New("test: write failed")

func (f *fakeConn) ChunkFrameSize() int            { return frame.RequestHeaderSize + f.chunk + 16 }
func (f *fakeConn) ChunkPayload(buf []byte) []byte { return buf[frame.RequestHeaderSize:][:f.chunk] }
func (f *fakeConn) SealChunk(buf []byte, id frame.ClientID, code frame.Code, n int) []byte {
	binary.LittleEndian.PutUint16(buf[17:], uint16(code))
	binary.LittleEndian.PutUint32(buf[19:], uint32(n))
	return buf[:frame.RequestHeaderSize+n+16]
}
func (f *fakeConn) WriteSealed(b []byte) error {
	f.writes++
	if f.writes == f.failAfter {
		return errWrite
	}
	if !f.discard {
		f.out.Write(b)
	}
	return nil
}

// content parses the recorded frames back into the file content, checking
// that exactly the final frame is a last-chunk.
func (f *fakeConn) content(t *testing.T) []byte {
	var got []byte
	b := f.out.Bytes()
	for len(b) > 0 {
		code := frame.Code(binary.LittleEndian.Uint16(b[17:]))
		n := int(binary.LittleEndian.Uint32(b[19:]))
		got = append(got, b[frame.RequestHeaderSize:][:n]...)
		b = b[frame.RequestHeaderSize+n+16:]
		if (code == frame.CodeLastChunk) != (len(b) == 0) {
			t.Fatalf("%v with %d bytes after it", code, len(b))
		}
	}
	return got
}

func TestPipeSend(t *testing.T) {
	var p pipe
	for _, size := range []int{0, 1, 100, 4096, 4097, 3*4096*batchFrames + 5, 40 * 4096} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rand.Uint32())
		}
		fc := &fakeConn{chunk: 4096}
		var last int64 = -1
		sum, err := p.send(fc, frame.ClientID{}, bytes.NewReader(data), int64(size), func(n int64) { last = n })
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		want := frame.NewCksum()
		want.Write(data)
		if sum != want.Sum32() || last != int64(size) || !bytes.Equal(fc.content(t), data) {
			t.Fatalf("%d bytes: sum %d want %d, progress %d, content equal %v", size, sum, want.Sum32(), last, bytes.Equal(fc.content(t), data))
		}
	}
}

// countingReader counts the reads of an endless file, to see when the
// filler has stopped.
type countingReader struct{ reads chan struct{} }

func (r *countingReader) Read(p []byte) (int, error) {
	r.reads <- struct{}{}
	return len(p), nil
}

// TestPipeSendWriteFails checks that a failed write ends the upload with
// that error and stops the filler: it reads nothing once send returned.
func TestPipeSendWriteFails(t *testing.T) {
	before := runtime.NumGoroutine()
	var p pipe
	r := &countingReader{reads: make(chan struct{}, 1<<10)}
	fc := &fakeConn{chunk: 4096, discard: true, failAfter: 3}
	_, err := p.send(fc, frame.ClientID{}, r, 1<<30, nil)
	if !errors.Is(err, errWrite) {
		t.Fatalf("got %v, want the write error", err)
	}
	n := len(r.reads)
	time.Sleep(20 * time.Millisecond)
	if len(r.reads) != n {
		t.Fatal("the filler goes on reading after send returned")
	}
	waitGoroutines(t, before)
}

// TestPipeSendShortFile checks that a file shorter than declared ends the
// upload with an error, without leaking the filler.
func TestPipeSendShortFile(t *testing.T) {
	before := runtime.NumGoroutine()
	var p pipe
	fc := &fakeConn{chunk: 4096, discard: true}
	_, err := p.send(fc, frame.ClientID{}, bytes.NewReader(make([]byte, 50000)), 100000, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want unexpected EOF", err)
	}
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	for range 100 {
		if runtime.NumGoroutine() <= want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d goroutines, want %d", runtime.NumGoroutine(), want)
}

// zeroReader is an endless file of zeros.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestPipeSendAllocs checks the steady state: an upload allocates the same
// whatever its number of chunks, so a chunk allocates nothing.
func TestPipeSendAllocs(t *testing.T) {
	var p pipe
	fc := &fakeConn{chunk: 16 << 10, discard: true}
	upload := func(chunks int) float64 {
		return testing.AllocsPerRun(10, func() {
			if _, err := p.send(fc, frame.ClientID{}, zeroReader{}, int64(chunks*fc.chunk), nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := upload(1), upload(100)
	if large != small {
		t.Errorf("an upload of 100 chunks allocates %v times, one of 1 chunk %v: want the same", large, small)
	}
	t.Logf("%v allocations per upload, 0 per chunk", small)
}
