package server

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"ferry/frame"
)

// fakeSource is a frameSource that serves the chunks of content and then,
// or after failAt frames, blocks until its read deadline is moved to the
// past, as a link does. It counts the frames read.
type fakeSource struct {
	content  []byte
	chunk    int
	code     frame.Code // when set, the code of every frame
	failAt   int
	read     atomic.Int64
	deadline chan struct{} // closed by a deadline in the past
	past     atomic.Bool
}

func newFakeSource(content []byte, chunk int) *fakeSource {
	return &fakeSource{content: content, chunk: chunk, deadline: make(chan struct{})}
}

func (s *fakeSource) SetReadDeadline(t time.Time) error {
	if !t.After(time.Now()) && s.past.CompareAndSwap(false, true) {
		close(s.deadline)
	}
	return nil
}

func (s *fakeSource) ReadRequestInto(buf []byte) (frame.Request, []byte, error) {
	i := int(s.read.Add(1)) - 1
	off := i * s.chunk
	if off > len(s.content) || i == s.failAt-1 {
		<-s.deadline
		return frame.Request{}, nil, os.ErrDeadlineExceeded
	}
	n := copy(buf, s.content[off:min(off+s.chunk, len(s.content))])
	req := frame.Request{Code: frame.CodeChunk}
	if off+n == len(s.content) {
		req.Code = frame.CodeLastChunk
	}
	if s.code != 0 {
		req.Code = s.code
	}
	return req, buf[:n], nil
}

// failWriter fails its failAt-th write.
type failWriter struct {
	bytes.Buffer
	writes, failAt int
}

var errDisk = errors.New("test: disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.writes++; w.writes == w.failAt {
		return 0, errDisk
	}
	return w.Buffer.Write(p)
}

func testRing(t testing.TB, size int) *ring {
	r := new(ring)
	r.fit(size)
	return r
}

func TestReceivePipelined(t *testing.T) {
	for _, size := range []int{0, 1, 4096, 4097, 4096*batchFrames*recvDepth + 1, 100000} {
		content := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, size/7+1)[:size]
		src := newFakeSource(content, 4096)
		var w bytes.Buffer
		if err := receivePipelined(src, testRing(t, 4096), &w, uint64(size), time.Second); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if !bytes.Equal(w.Bytes(), content) {
			t.Fatalf("%d bytes: content differs", size)
		}
		if want := max(1, (size+4095)/4096); src.read.Load() != int64(want) {
			t.Fatalf("%d bytes: %d frames read, want %d (nothing after the last chunk)", size, src.read.Load(), want)
		}
	}
}

// TestReceivePipelinedWriteFails checks that a failed file write ends the
// upload with that error and stops the reader, even one blocked on the
// link: the deadline moved to the past wakes it.
func TestReceivePipelinedWriteFails(t *testing.T) {
	before := runtime.NumGoroutine()
	content := make([]byte, 100*4096)
	src := newFakeSource(content, 4096)
	src.failAt = 3*batchFrames + 1 // this read blocks until the deadline passes
	w := &failWriter{failAt: 2}    // the second batch: before the reader blocks
	err := receivePipelined(src, testRing(t, 4096), w, uint64(len(content)), time.Minute)
	if !errors.Is(err, errDisk) {
		t.Fatalf("got %v, want the write error", err)
	}
	n := src.read.Load()
	time.Sleep(20 * time.Millisecond)
	if src.read.Load() != n || n > 3*batchFrames+1 {
		t.Fatalf("the reader read %d frames, and goes on after the upload ended", n)
	}
	waitGoroutines(t, before)
}

// TestReceivePipelinedReadFails checks that a link failure and a protocol
// violation end the upload with their error, nothing written after it.
func TestReceivePipelinedReadFails(t *testing.T) {
	before := runtime.NumGoroutine()
	content := make([]byte, 100*4096)
	src := newFakeSource(content, 4096)
	src.failAt = 10
	close(src.deadline) // the 10th read fails at once
	src.past.Store(true)
	var w bytes.Buffer
	err := receivePipelined(src, testRing(t, 4096), &w, uint64(len(content)), time.Minute)
	if !errors.Is(err, os.ErrDeadlineExceeded) || w.Len() > 9*4096 {
		t.Fatalf("got %v after %d bytes, want the read error after at most 9 chunks", err, w.Len())
	}
	src = newFakeSource(content, 4096)
	src.code = frame.CodeBye
	err = receivePipelined(src, testRing(t, 4096), &w, uint64(len(content)), time.Minute)
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("got %v, want ErrProtocol", err)
	}
	src = newFakeSource(content, 4096)
	err = receivePipelined(src, testRing(t, 4096), &w, uint64(len(content))-1, time.Minute)
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("more content than declared: got %v, want ErrProtocol", err)
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

// TestReceivePipelinedAllocs checks the steady state: receiving allocates
// the same whatever the number of chunks, so a chunk allocates nothing.
func TestReceivePipelinedAllocs(t *testing.T) {
	content := make([]byte, 100*4096)
	r := testRing(t, 4096)
	receive := func(chunks int) float64 {
		return testing.AllocsPerRun(10, func() {
			src := newFakeSource(content[:chunks*4096], 4096)
			if err := receivePipelined(src, r, io.Discard, uint64(chunks*4096), time.Minute); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := receive(1), receive(100)
	if large != small {
		t.Errorf("receiving 100 chunks allocates %v times, 1 chunk %v: want the same", large, small)
	}
}

// TestUploadWithoutPipeline takes every pipeline slot, as many concurrent
// uploads would, and checks that uploads then go a frame at a time, intact.
func TestUploadWithoutPipeline(t *testing.T) {
	var held []*ring
	for len(pipeSlots) > 0 {
		held = append(held, <-pipeSlots)
	}
	defer func() {
		for _, r := range held {
			putRing(r)
		}
	}()
	f := newFixture(t, nil)
	c, err := f.connect(t.TempDir(), "serial")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, size := range []int{0, 5000, 100000} {
		path, want := randomFile(t, size)
		if _, err := c.Upload(path, "s.bin"); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if got, ok := f.stored(c.ID(), "s.bin"); !ok || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: stored copy differs", size)
		}
	}
}
