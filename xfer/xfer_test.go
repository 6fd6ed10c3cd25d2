package xfer

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"ferry/crypt"
	"ferry/frame"
)

// pair returns the two ends of a sealed session over a pipe with the given
// chunk size: the client and the server.
func pair(t testing.TB, chunk int) (*crypt.Session, *crypt.Session) {
	t.Helper()
	ca, err := crypt.NewCA("test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, err := ca.Issue([]string{"localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	srv := make(chan *crypt.Session, 1)
	go func() {
		s, err := crypt.Server(b, &crypt.ServerConfig{Identity: id, MaxChunk: chunk, Features: crypt.AllFeatures})
		if err != nil {
			t.Error(err)
		}
		srv <- s
	}()
	c, err := crypt.Client(a, &crypt.ClientConfig{Chunk: chunk, Features: crypt.AllFeatures,
		Verify: func([]*x509.Certificate) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	s := <-srv
	if s == nil {
		t.FailNow()
	}
	return c, s
}

func random(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}

func cksum(b []byte) uint32 {
	c := frame.NewCksum()
	c.Write(b)
	return c.Sum32()
}

// direction is one way content moves: who sends, who receives, with which
// codes.
type direction struct {
	name     string
	codes    Codes
	sendSide func(c, s *crypt.Session) (tx, rx *crypt.Session)
}

var directions = []direction{
	{"upload", Upload, func(c, s *crypt.Session) (*crypt.Session, *crypt.Session) { return c, s }},
	{"download", Download, func(c, s *crypt.Session) (*crypt.Session, *crypt.Session) { return s, c }},
}

// TestRoundTrip sends files of many sizes each way, pipelined and not,
// with a known size and as a stream, and checks content, cksum, file end,
// progress and that the session is in step for the next message.
func TestRoundTrip(t *testing.T) {
	const chunk = 4096
	sizes := []int{0, 1, 100, chunk - 1, chunk, chunk + 1, 3*chunk*batchFrames(chunk) + 5, 40 * chunk}
	for _, d := range directions {
		for _, pipelined := range []bool{true, false} {
			t.Run(d.name, func(t *testing.T) {
				c, s := pair(t, chunk)
				tx, rx := d.sendSide(c, s)
				var snd Sender
				rc := Receiver{Idle: 10 * time.Second}
				if pipelined {
					rc.Pool = NewPool(1)
				}
				for _, size := range sizes {
					for _, stream := range []bool{false, true} {
						data := random(size)
						declared := int64(size)
						if stream {
							declared = -1
						}
						var last int64 = -1
						errc := make(chan error, 1)
						go func() {
							_, _, err := snd.Send(tx, &File{Codes: d.codes, HeadCode: d.codes.Chunk - 1, Head: []byte("head"),
								Size: declared, End: true, Progress: func(n int64) { last = n }}, bytes.NewReader(data))
							errc <- err
						}()
						h, p, err := rx.ReadMsg()
						if err != nil || h.Code != d.codes.Chunk-1 || string(p) != "head" {
							t.Fatalf("%d bytes: head %v %q %v", size, h.Code, p, err)
						}
						var got bytes.Buffer
						res, err := rc.ReceiveFile(rx, &Content{Codes: d.codes, Size: declared}, &got)
						if err != nil || <-errc != nil {
							t.Fatalf("%d bytes stream=%v: %v", size, stream, err)
						}
						if !res.OK() || res.Sum != cksum(data) || !bytes.Equal(got.Bytes(), data) || last != int64(size) {
							t.Fatalf("%d bytes stream=%v: ok %v sum %d want %d, equal %v, progress %d",
								size, stream, res.OK(), res.Sum, cksum(data), bytes.Equal(got.Bytes(), data), last)
						}
					}
				}
			})
		}
	}
}

// failingReader returns its data, then an error.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

var errRead = errors.New("test: read failed")

// TestSourceFails checks that a source that fails (or shrinks) ends the
// content early with a file end saying so: the receiver discards it, the
// session stays in step, and the next file arrives whole.
func TestSourceFails(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			c, s := pair(t, 4096)
			tx, rx := d.sendSide(c, s)
			var snd Sender
			rc := Receiver{Pool: NewPool(1)}
			for _, declared := range []int64{100000, -1} {
				errc := make(chan error, 1)
				go func() {
					_, _, err := snd.Send(tx, &File{Codes: d.codes, Size: declared, End: true}, &failingReader{bytes.NewReader(random(50000)), errRead})
					if err == nil {
						err = errors.New("no error")
					}
					if !errors.Is(err, ErrSource) {
						errc <- err
						return
					}
					_, _, err = snd.Send(tx, &File{Codes: d.codes, Size: 10, End: true}, bytes.NewReader([]byte("0123456789")))
					errc <- err
				}()
				res, err := rc.ReceiveFile(rx, &Content{Codes: d.codes, Size: declared}, io.Discard)
				if err != nil || res.OK() || !res.Changed() {
					t.Fatalf("size %d: err %v ok %v changed %v, want a changed file", declared, err, res.OK(), res.Changed())
				}
				var got bytes.Buffer
				res, err = rc.ReceiveFile(rx, &Content{Codes: d.codes, Size: 10}, &got)
				if err != nil || !res.OK() || got.String() != "0123456789" {
					t.Fatalf("next file: %v %v %q", err, res.OK(), got.String())
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// failWriter fails every write: a full disk.
type failWriter struct{}

var errDisk = errors.New("test: disk full")

func (failWriter) Write(p []byte) (int, error) { return 0, errDisk }

// TestSinkFails checks that a receiver that cannot store reads the file to
// its end and reports ErrSink, with the session in step.
func TestSinkFails(t *testing.T) {
	for _, pipelined := range []bool{true, false} {
		c, s := pair(t, 4096)
		var snd Sender
		rc := Receiver{}
		if pipelined {
			rc.Pool = NewPool(1)
		}
		go func() {
			snd.Send(c, &File{Codes: Upload, Size: 100000, End: true}, bytes.NewReader(random(100000)))
			snd.Send(c, &File{Codes: Upload, Size: 3, End: true}, bytes.NewReader([]byte("abc")))
		}()
		_, err := rc.ReceiveFile(s, &Content{Codes: Upload, Size: 100000}, failWriter{})
		if !errors.Is(err, ErrSink) || !errors.Is(err, errDisk) {
			t.Fatalf("got %v, want ErrSink wrapping the write error", err)
		}
		var got bytes.Buffer
		if res, err := rc.ReceiveFile(s, &Content{Codes: Upload, Size: 3}, &got); err != nil || !res.OK() || got.String() != "abc" {
			t.Fatalf("next file: %v %q", err, got.String())
		}
	}
}

// TestProtocolViolations: another message inside a file, more content
// than declared, a stream over its limit, a missing file end.
func TestProtocolViolations(t *testing.T) {
	cases := []struct {
		name string
		send func(c *crypt.Session)
		want error
		size int64
		lim  int64
	}{
		{"other code", func(c *crypt.Session) { c.WriteMsg(frame.CodeBye, nil) }, ErrProtocol, 10, 0},
		{"too much", func(c *crypt.Session) { c.WriteMsg(frame.CodeLastChunk, make([]byte, 11)) }, ErrProtocol, 10, 0},
		{"short", func(c *crypt.Session) {
			c.WriteMsg(frame.CodeLastChunk, make([]byte, 9))
			end := make([]byte, frame.FileEndSize)
			(&frame.FileEnd{Size: 9, Cksum: cksum(make([]byte, 9))}).Put(end)
			c.WriteMsg(frame.CodeFileEnd, end)
		}, ErrProtocol, 10, 0},
		{"over limit", func(c *crypt.Session) { c.WriteMsg(frame.CodeChunk, make([]byte, 4096)) }, ErrTooLarge, -1, 100},
		{"no file end", func(c *crypt.Session) {
			c.WriteMsg(frame.CodeLastChunk, make([]byte, 10))
			c.WriteMsg(frame.CodeBye, nil)
		}, ErrProtocol, 10, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, s := pair(t, 4096)
			go tc.send(c)
			rc := Receiver{Pool: NewPool(1)}
			_, err := rc.ReceiveFile(s, &Content{Codes: Upload, Size: tc.size, Limit: tc.lim}, io.Discard)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestWriteFailsEndsSend checks that a failed link write ends Send with
// that error and leaks no goroutine.
func TestWriteFailsEndsSend(t *testing.T) {
	before := runtime.NumGoroutine()
	c, s := pair(t, 4096)
	go func() { // read a little, then close
		buf := make([]byte, 50000)
		io.ReadFull(s.Link(), buf)
		s.Close()
	}()
	var snd Sender
	_, _, err := snd.Send(c, &File{Codes: Upload, Size: 1 << 30, End: true}, zeroReader{})
	if err == nil || errors.Is(err, ErrSource) {
		t.Fatalf("got %v, want the link's write error", err)
	}
	c.Close()
	for range 100 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d goroutines, want %d", runtime.NumGoroutine(), before)
}

// zeroReader is an endless file of zeros.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestSendAllocs checks the steady state: a file allocates the same
// whatever its number of chunks, so a chunk allocates nothing.
func TestSendAllocs(t *testing.T) {
	c, _ := pair(t, 16<<10)
	var snd Sender
	send := func(chunks int) float64 {
		return testing.AllocsPerRun(10, func() {
			f := File{Codes: Upload, Size: int64(chunks * (16 << 10)), End: true}
			if _, _, err := snd.Send(sinkSession{c}, &f, zeroReader{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := send(1), send(100)
	if large != small {
		t.Errorf("a file of 100 chunks allocates %v times, one of 1 chunk %v: want the same", large, small)
	}
}

// sinkSession is a session whose writes go nowhere.
type sinkSession struct{ *crypt.Session }

func (sinkSession) WriteSealed([]byte) error { return nil }

// text is compressible content.
func text(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d: the quick brown fox jumps over the lazy dog\n", i%977)
	}
	return b.Bytes()[:n]
}

// TestCompressedRoundTrip: text and random data, each direction, with
// compression on at both ends: the content arrives whole, text shrinks on
// the wire, random data is sent raw.
func TestCompressedRoundTrip(t *testing.T) {
	for _, d := range directions {
		for name, data := range map[string][]byte{"text": text(300000), "random": random(300000), "empty": nil} {
			t.Run(d.name+"/"+name, func(t *testing.T) {
				c, s := pair(t, 16384)
				tx, rx := d.sendSide(c, s)
				counter := &countingLink{}
				snd := Sender{Compress: LevelSlowLink}
				rc := Receiver{Pool: NewPool(1), Compressed: true}
				errc := make(chan error, 1)
				go func() {
					_, _, err := snd.Send(sendVia{tx, counter}, &File{Codes: d.codes, Size: int64(len(data)), End: true}, bytes.NewReader(data))
					errc <- err
				}()
				var got bytes.Buffer
				res, err := rc.ReceiveFile(rx, &Content{Codes: d.codes, Size: int64(len(data))}, &got)
				if err != nil || <-errc != nil || !res.OK() || !bytes.Equal(got.Bytes(), data) {
					t.Fatalf("%v ok %v equal %v", err, res.OK(), bytes.Equal(got.Bytes(), data))
				}
				wire := counter.n.Load()
				switch name {
				case "text":
					if wire > int64(len(data))/3 {
						t.Fatalf("text: %d bytes on the wire for %d", wire, len(data))
					}
				case "random":
					if wire > int64(len(data))+int64(len(data)/16384+2)*64 {
						t.Fatalf("random: %d bytes on the wire for %d", wire, len(data))
					}
				}
			})
		}
	}
}

// countingLink counts the bytes of sealed frames written.
type countingLink struct {
	n atomic.Int64
}

// sendVia writes a session's sealed frames through a counting link.
type sendVia struct {
	*crypt.Session
	l *countingLink
}

func (s sendVia) WriteSealed(f []byte) error {
	s.l.n.Add(int64(len(f)))
	return s.Session.WriteSealed(f)
}

// TestCompressionBomb: a compressed chunk that inflates past the chunk
// size is refused before anything is written, and compressed chunks
// without compression negotiated are a protocol error.
func TestCompressionBomb(t *testing.T) {
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(make([]byte, 1<<20)) // 1 MiB of zeros: about 1 KiB compressed
	w.Close()
	c, s := pair(t, 4096)
	go c.WriteMsg(frame.CodeLastChunkZ, z.Bytes())
	var got bytes.Buffer
	rc := Receiver{Compressed: true}
	_, err := rc.Receive(s, &Content{Codes: Upload, Size: -1}, &got)
	if !errors.Is(err, ErrBomb) || got.Len() != 0 {
		t.Fatalf("bomb: %v, %d bytes written", err, got.Len())
	}
	c, s = pair(t, 4096)
	go c.WriteMsg(frame.CodeLastChunkZ, z.Bytes())
	rc = Receiver{}
	if _, err := rc.Receive(s, &Content{Codes: Upload, Size: -1}, &got); !errors.Is(err, ErrProtocol) {
		t.Fatalf("compressed chunk without compression: %v", err)
	}
}
