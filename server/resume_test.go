package server

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"ferry/client"
	"ferry/crypt"
	"ferry/link"
)

// cutLink is a link that fails (and closes) once limit bytes were written
// or read, like a pulled cable or a killed peer, and counts the bytes.
type cutLink struct {
	link.Conn
	limit         int64
	wrote, readIn atomic.Int64
	cutOnRead     bool
}

var errCut = errors.New("test: cable pulled")

func (c *cutLink) Write(p []byte) (int, error) {
	if !c.cutOnRead && c.limit > 0 && c.wrote.Load()+int64(len(p)) > c.limit {
		c.Conn.Close()
		return 0, errCut
	}
	c.wrote.Add(int64(len(p)))
	return c.Conn.Write(p)
}

func (c *cutLink) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.cutOnRead && c.limit > 0 && c.readIn.Add(int64(n)) > c.limit {
		c.Conn.Close()
		return 0, errCut
	}
	return n, err
}

// connectCut connects with a link cut after limit bytes (0: never).
func (f *fixture) connectCut(state string, limit int64, onRead bool) (*client.Client, *cutLink, error) {
	raw, err := link.Dial(context.Background(), f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	cl := &cutLink{Conn: raw, limit: limit, cutOnRead: onRead}
	c, err := client.Connect(cl, client.Config{
		State: client.State{Dir: state}, Server: f.addr, Name: "resumer",
		Verify: crypt.CAVerifier(f.roots, "127.0.0.1"), Chunk: 16 << 10, Timeout: 5 * time.Second,
	})
	return c, cl, err
}

// TestResumeUpload: a put cut off at about 60% leaves its bytes on the
// server; the same put again sends only the rest (counted on the wire),
// and the stored file is identical. A source changed meanwhile (same size
// and mtime, other bytes) is sent whole and stored right.
func TestResumeUpload(t *testing.T) {
	f := newFixture(t, nil)
	state := t.TempDir()
	src, want := randomFile(t, 1<<20)
	c, _, err := f.connectCut(state, 600<<10, false)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Put([]client.PutItem{{Local: src, Remote: "fw.bin"}}, func(client.PutResult) {})
	if err == nil {
		t.Fatal("the put went through a cut cable")
	}
	c.Close()
	time.Sleep(100 * time.Millisecond) // the server notices the cut and keeps the partial upload
	if ps := f.store.Partials(); len(ps) != 1 || ps[0].Have < 400<<10 {
		t.Fatalf("partial uploads after the cut: %+v", ps)
	}
	c, cut, err := f.connectCut(state, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	before := cut.wrote.Load()
	r := putAll(t, c, []client.PutItem{{Local: src, Remote: "fw.bin"}})[0]
	sent := cut.wrote.Load() - before
	if r.Err != nil || r.Resumed < 400<<10 {
		t.Fatalf("resumed put: %v, resumed at %d", r.Err, r.Resumed)
	}
	if rest := int64(len(want)) - r.Resumed; sent > rest+rest/50+64<<10 {
		t.Fatalf("sent %d bytes for the %d that were missing", sent, rest)
	}
	if got, ok := f.stored(c.ID(), "fw.bin"); !ok || !bytes.Equal(got, want) {
		t.Fatal("the resumed file differs")
	}
	if ps := f.store.Partials(); len(ps) != 0 {
		t.Fatalf("partial uploads left after the commit: %+v", ps)
	}
	c.Close()

	// cut again, then change the source's bytes but not its size or mtime
	c, _, _ = f.connectCut(state, 500<<10, false)
	src2 := filepath.Join(t.TempDir(), "fw2.bin")
	os.WriteFile(src2, want, 0o644)
	c.Put([]client.PutItem{{Local: src2, Remote: "fw2.bin"}}, func(client.PutResult) {})
	c.Close()
	time.Sleep(100 * time.Millisecond)
	st, _ := os.Stat(src2)
	changed := append([]byte{}, want...)
	changed[1000] ^= 0xff
	os.WriteFile(src2, changed, 0o644)
	os.Chtimes(src2, st.ModTime(), st.ModTime())
	c, _, _ = f.connectCut(state, 0, false)
	defer c.Close()
	r = putAll(t, c, []client.PutItem{{Local: src2, Remote: "fw2.bin"}})[0]
	if r.Err != nil || r.Resumed != 0 {
		t.Fatalf("changed source: %v, resumed at %d (want 0: sent whole)", r.Err, r.Resumed)
	}
	if got, ok := f.stored(c.ID(), "fw2.bin"); !ok || !bytes.Equal(got, changed) {
		t.Fatal("the changed source is stored wrong (spliced?)")
	}
}

// TestResumeDownload: a get cut off leaves a partial file beside the
// target (never the target itself); the next get fetches only the rest
// and the file is identical; a file changed on the server meanwhile comes
// whole.
func TestResumeDownload(t *testing.T) {
	f := newFixture(t, nil)
	state := t.TempDir()
	src, want := randomFile(t, 1<<20)
	c, _, err := f.connectCut(state, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, c, []client.PutItem{{Local: src, Remote: "img"}})
	c.Close()
	dst := t.TempDir()
	c, _, _ = f.connectCut(state, 500<<10, true)
	err = c.Get([]client.GetItem{{Remote: "img", Dir: dst, Name: "img"}}, func(client.GetResult) {})
	if err == nil {
		t.Fatal("the get went through a cut cable")
	}
	c.Close()
	if _, err := os.Stat(filepath.Join(dst, "img")); err == nil {
		t.Fatal("a cut download is at the target")
	}
	if st, err := os.Stat(filepath.Join(dst, ".ferry-part-img")); err != nil || st.Size() < 200<<10 {
		t.Fatalf("no partial download kept: %v", err)
	}
	c, cut, _ := f.connectCut(state, 0, false)
	var got []client.GetResult
	if err := c.Get([]client.GetItem{{Remote: "img", Dir: dst, Name: "img"}}, func(r client.GetResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Err != nil || got[0].Resumed < 200<<10 {
		t.Fatalf("resumed get: %+v", got)
	}
	if rest := int64(len(want)) - got[0].Resumed; cut.readIn.Load() > rest+rest/50+64<<10 {
		t.Fatalf("received %d bytes for the %d missing", cut.readIn.Load(), rest)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "img")); !bytes.Equal(b, want) {
		t.Fatal("the resumed download differs")
	}
	if left, _ := filepath.Glob(filepath.Join(dst, ".ferry-*")); len(left) != 0 {
		t.Fatalf("left beside the target: %v", left)
	}
	// cut again; then the server's file changes
	c.Close()
	c, _, _ = f.connectCut(state, 500<<10, true)
	c.Get([]client.GetItem{{Remote: "img", Dir: dst, Name: "img2"}}, func(client.GetResult) {})
	c.Close()
	src2, want2 := randomFile(t, 1<<20)
	c, _, _ = f.connectCut(state, 0, false)
	defer c.Close()
	putAll(t, c, []client.PutItem{{Local: src2, Remote: "img"}})
	got = nil
	if err := c.Get([]client.GetItem{{Remote: "img", Dir: dst, Name: "img2"}}, func(r client.GetResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Err != nil || got[0].Resumed != 0 {
		t.Fatalf("get of a changed file: %+v (want it whole)", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "img2")); !bytes.Equal(b, want2) {
		t.Fatal("the changed file comes back wrong")
	}
}
