package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ferry/client"
	"ferry/crypt"
	"ferry/frame"
	"ferry/fsstore"
	"ferry/link"
)

type fixture struct {
	t     testing.TB
	store *fsstore.Store
	data  string
	cfg   Config
	roots *x509.CertPool
	addr  string
	srv   *Server
}

func newFixture(t testing.TB, tweak func(*Config)) *fixture {
	t.Helper()
	return newFixtureWith(t, tweak, nil)
}

// newFixtureWith is newFixture with setup run on the Server before it serves.
func newFixtureWith(t testing.TB, tweak func(*Config), setup func(*Server)) *fixture {
	t.Helper()
	data := t.TempDir()
	st, err := fsstore.Open(data, fsstore.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ca, err := crypt.NewCA("test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, err := ca.Issue([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: st, data: data, roots: x509.NewCertPool()}
	f.roots.AddCert(ca.Cert)
	f.cfg = Config{Identity: id, Store: st, IdleTimeout: 5 * time.Second, Logf: t.Logf}
	if tweak != nil {
		tweak(&f.cfg)
	}
	l, err := link.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	f.srv = New(f.cfg)
	if setup != nil {
		setup(f.srv)
	}
	go func() { done <- f.srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return f
}

func (f *fixture) connect(state, name string) (*client.Client, error) {
	return f.connectWith(state, name, nil)
}

func (f *fixture) connectWith(state, name string, tweak func(*client.Config)) (*client.Client, error) {
	c, err := link.Dial(context.Background(), f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	cfg := client.Config{
		State: client.State{Dir: state}, Server: f.addr, Name: name,
		Verify: crypt.CAVerifier(f.roots, "127.0.0.1"), Chunk: 4096, Timeout: 5 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	return client.Connect(c, cfg)
}

func randomFile(t testing.TB, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(t.TempDir(), "src.bin")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// stored returns the verified content stored for (id, name).
func (f *fixture) stored(id frame.ClientID, name string) ([]byte, bool) {
	rec, ok := f.store.File(id, name)
	if !ok || !rec.Verified {
		return nil, false
	}
	b, err := os.ReadFile(filepath.Join(f.data, filepath.FromSlash(rec.Path)))
	if err != nil {
		f.t.Fatalf("listed file unreadable: %v", err)
	}
	return b, true
}

func TestRegisterUploadReconnect(t *testing.T) {
	f := newFixture(t, nil)
	state := t.TempDir()
	for i, size := range []int{0, 1, 4096, 3*4096 + 17} {
		c, err := f.connect(state, "pi-zero")
		if err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		path, want := randomFile(t, size)
		name := "file" + string(rune('a'+i))
		res, err := c.Upload(path, name)
		if err != nil {
			t.Fatalf("upload %d bytes: %v", size, err)
		}
		sum := frame.NewCksum()
		sum.Write(want)
		if res.Size != int64(size) || res.Cksum != sum.Sum32() || res.Resends != 0 {
			t.Fatalf("result %+v", res)
		}
		got, ok := f.stored(c.ID(), name)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("stored copy of %d bytes differs (found %v)", size, ok)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
	cl, ok := f.store.ClientByName("pi-zero")
	if !ok || cl.LastSeen.IsZero() {
		t.Fatalf("client record %+v", cl)
	}
}

func TestChecksumResends(t *testing.T) {
	var bad atomic.Int32
	f := newFixture(t, func(c *Config) {
		c.corrupt = func(s uint32) uint32 {
			if bad.Add(-1) >= 0 {
				return s ^ 1
			}
			return s
		}
	})
	path, want := randomFile(t, 10000)
	c, err := f.connect(t.TempDir(), "flaky")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bad.Store(3) // three bad checksums, the third resend matches
	res, err := c.Upload(path, "x")
	if err != nil || res.Resends != 3 {
		t.Fatalf("upload: %+v, %v", res, err)
	}
	if got, ok := f.stored(c.ID(), "x"); !ok || !bytes.Equal(got, want) {
		t.Fatal("file not stored after resends")
	}
	bad.Store(4) // never matches: the client gives up with 1031
	_, err = c.Upload(path, "y")
	if !errors.Is(err, client.ErrChecksum) {
		t.Fatalf("got %v, want ErrChecksum", err)
	}
	if _, ok := f.store.File(c.ID(), "y"); ok {
		t.Fatal("a file whose checksum never matched is listed")
	}
	assertNoTemp(t, f.data)
}

// assertNoTemp checks that no temporary upload file was left behind.
func assertNoTemp(t *testing.T, data string) {
	t.Helper()
	filepath.WalkDir(filepath.Join(data, "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".ferry-tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
	// uploads in progress live in DATA/tmp (fsstore.TempDir)
	if ents, _ := os.ReadDir(filepath.Join(data, fsstore.TempDir)); len(ents) > 0 {
		t.Errorf("temporary files left in %s: %d", fsstore.TempDir, len(ents))
	}
}

func TestHostileNames(t *testing.T) {
	f := newFixture(t, nil)
	path, _ := randomFile(t, 10)
	c, err := f.connect(t.TempDir(), "h")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"..", "../etc/passwd", "a/b", `a\b`, ".ferry-tmp-x", "/abs"} {
		_, err := c.Upload(path, name)
		if err == nil {
			t.Fatalf("%q accepted", name)
		}
		if !errors.Is(err, client.ErrServer) {
			t.Fatalf("%q: %v, want the server's refusal", name, err)
		}
		// the server closed the session; open a new one
		if c, err = f.connect(filepath.Dir(path)+"/st", "h2"); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
}

func TestNameTakenAndIdempotentRegistration(t *testing.T) {
	f := newFixture(t, nil)
	a := t.TempDir()
	c, err := f.connect(a, "dup")
	if err != nil {
		t.Fatal(err)
	}
	id := c.ID()
	c.Close()
	// another key under the same name is refused
	if _, err := f.connect(t.TempDir(), "dup"); !errors.Is(err, client.ErrNameTaken) {
		t.Fatalf("got %v, want ErrNameTaken", err)
	}
	// the same key registering again (its 2100 was lost) gets the same ID
	st := client.State{Dir: a}
	ident, _ := st.Load(f.addr, "dup")
	ident.Registered = false
	st.Save(f.addr, ident)
	c, err = f.connect(a, "dup")
	if err != nil || c.ID() != id {
		t.Fatalf("re-registration: %v, id %s want %s", err, c.ID(), frame.ClientID(id))
	}
	c.Close()
}

func TestReconnectWrongKeyDenied(t *testing.T) {
	f := newFixture(t, nil)
	a, b := t.TempDir(), t.TempDir()
	c, err := f.connect(a, "victim")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// b claims victim's ID with its own key
	sa := client.State{Dir: a}
	victim, _ := sa.Load(f.addr, "victim")
	sb := client.State{Dir: b}
	thief, _ := sb.Load(f.addr, "victim")
	thief.ID, thief.Registered = victim.ID, true
	sb.Save(f.addr, thief)
	if _, err := f.connect(b, "victim"); !errors.Is(err, client.ErrDenied) {
		t.Fatalf("got %v, want ErrDenied", err)
	}
}

// TestTruncatedUpload cuts the stream before the last chunk: the server
// stores nothing and keeps serving.
func TestTruncatedUpload(t *testing.T) {
	f := newFixture(t, nil)
	cc, err := f.connect(t.TempDir(), "cut")
	if err != nil {
		t.Fatal(err)
	}
	sess := cc.Session()
	sf := frame.SendFile{Size: 3 * 4096, Name: "partial"}
	p, _ := sf.Marshal()
	sess.WriteRequest(cc.ID(), frame.CodeSendFile, p)
	for range 2 {
		buf := sess.ChunkBuf()
		sess.WriteChunk(cc.ID(), frame.CodeChunk, len(buf))
	}
	sess.Close()
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if _, ok := f.store.File(cc.ID(), "partial"); ok {
			t.Fatal("truncated upload listed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	assertNoTemp(t, f.data)
	// still serving
	c2, err := f.connect(t.TempDir(), "after")
	if err != nil {
		t.Fatalf("server stopped serving: %v", err)
	}
	c2.Close()
}

func TestRequestBeforeAuth(t *testing.T) {
	f := newFixture(t, nil)
	c, err := link.Dial(context.Background(), f.addr)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := crypt.Client(c, &crypt.ClientConfig{Verify: crypt.CAVerifier(f.roots, "127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := (&frame.SendFile{Size: 1, Name: "x"}).Marshal()
	sess.WriteRequest(frame.ClientID{1}, frame.CodeSendFile, p)
	h, reason, err := sess.ReadResponse()
	if err != nil || h.Code != frame.CodeError || !strings.Contains(string(reason), "before registration") {
		t.Fatalf("got %v %q %v", h.Code, reason, err)
	}
}

// TestGarbageClient sends junk instead of a handshake: the server answers
// or closes, and serves the next client.
func TestGarbageClient(t *testing.T) {
	f := newFixture(t, nil)
	for _, junk := range [][]byte{
		[]byte("GET / HTTP/1.0\r\n\r\n"),
		bytes.Repeat([]byte{0xff}, 100),
		append(make([]byte, 16), 4, 0xe8, 0x03, 0xff, 0xff, 0xff, 0x7f), // hello declaring 2 GiB
	} {
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(junk)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 64)
		c.Read(buf) // a 2107 or EOF; either way the session is over
		c.Close()
	}
	c, err := f.connect(t.TempDir(), "good")
	if err != nil {
		t.Fatalf("after garbage: %v", err)
	}
	c.Close()
}

// rawSession is an authenticated-handshake session with no client logic,
// for sending what a well-behaved client never would.
func (f *fixture) rawSession() *crypt.Session { return f.rawSessionWith(0) }

// rawSessionWith is rawSession offering features.
func (f *fixture) rawSessionWith(features crypt.Features) *crypt.Session {
	c, err := link.Dial(context.Background(), f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	sess, err := crypt.Client(c, &crypt.ClientConfig{Chunk: 4096, Verify: crypt.CAVerifier(f.roots, "127.0.0.1"), Features: features})
	if err != nil {
		f.t.Fatal(err)
	}
	return sess
}

func TestRegisterBadSignature(t *testing.T) {
	f := newFixture(t, nil)
	sess := f.rawSession()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	r := frame.Register{Name: "forger"}
	copy(r.PublicKey[:], pub)
	var other [32]byte // a signature over another transcript
	copy(r.Signature[:], crypt.SignRegister(priv, other))
	p, _ := r.Marshal(sess.Features.Has(crypt.FeatureShort))
	sess.WriteRequest(frame.ClientID{}, frame.CodeRegister, p)
	h, reason, err := sess.ReadResponse()
	if err != nil || h.Code != frame.CodeError || !strings.Contains(string(reason), "signature") {
		t.Fatalf("got %v %q %v, want 2107", h.Code, reason, err)
	}
	if _, ok := f.store.ClientByName("forger"); ok {
		t.Fatal("client with a bad proof registered")
	}
}

// TestShortUpload ends the content early with a last chunk: the server
// refuses it and stores nothing.
func TestShortUpload(t *testing.T) {
	f := newFixture(t, nil)
	c, err := f.connect(t.TempDir(), "short")
	if err != nil {
		t.Fatal(err)
	}
	sess := c.Session()
	p, _ := (&frame.SendFile{Size: 3 * 4096, Name: "short"}).Marshal()
	sess.WriteRequest(c.ID(), frame.CodeSendFile, p)
	buf := sess.ChunkBuf()
	sess.WriteChunk(c.ID(), frame.CodeLastChunk, len(buf))
	h, reason, err := sess.ReadResponse()
	if err != nil || h.Code != frame.CodeError || !strings.Contains(string(reason), "last chunk") {
		t.Fatalf("got %v %q %v, want 2107", h.Code, reason, err)
	}
	if _, ok := f.store.File(c.ID(), "short"); ok {
		t.Fatal("short upload listed")
	}
}
