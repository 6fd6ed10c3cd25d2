package classic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ferry/frame"
	"ferry/fsstore"
	"ferry/link"
)

// testServer is a Server on loopback TCP with a real fsstore in a temporary
// directory.
type testServer struct {
	*Server
	addr  string
	store *fsstore.Store
	dir   string
	logs  *logBuf
}

type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func startServer(t testing.TB, configure func(*Server)) *testServer {
	t.Helper()
	dir := t.TempDir()
	store, err := fsstore.Open(filepath.Join(dir, "store"), fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := link.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: &Server{Store: store, Timeout: 5 * time.Second}, addr: l.Addr(), store: store, dir: dir, logs: &logBuf{}}
	ts.Logf = ts.logs.logf
	if configure != nil {
		configure(ts.Server)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Serve(ctx, l) }()
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range ts.logs.lines {
				t.Log(l)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		store.Close()
	})
	return ts
}

// writeFile writes n pseudo-random bytes into dir/name.
func writeTestFile(t testing.TB, dir, name string, n int, seed uint64) (string, []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data
}

// checkStored checks that the store holds data, verified and classic, for
// client id under name.
func (ts *testServer) checkStored(t *testing.T, id frame.ClientID, name string, data []byte) {
	t.Helper()
	f, ok := ts.store.File(id, name)
	if !ok {
		t.Fatalf("no file %q for %s in the store", name, id)
	}
	if !f.Verified || !f.Classic || f.Size != int64(len(data)) {
		t.Fatalf("stored %+v, want verified classic file of %d bytes", f, len(data))
	}
	got, err := os.ReadFile(filepath.Join(ts.store.Dir(), f.Path))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("stored file differs from the one sent (%d vs %d bytes)", len(got), len(data))
	}
	ck := frame.NewCksum()
	ck.Write(data)
	if f.Cksum != ck.Sum32() {
		t.Fatalf("stored cksum %d, want %d", f.Cksum, ck.Sum32())
	}
}

func TestRegisterUploadReconnect(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	home := t.TempDir()
	cfg := ClientConfig{Addr: ts.addr, Name: "alice", Dir: home}

	for i, size := range []int{0, 1, 15, 16, 17, 100_000, chunkSize, chunkSize + 1} {
		p, data := writeTestFile(t, t.TempDir(), "report.bin", size, uint64(i))
		res, err := Send(ctx, cfg, p)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !res.Verified || res.Attempts != 1 || res.Registered != (i == 0) || res.Name != "alice" {
			t.Fatalf("size %d: result %+v", size, res)
		}
		ts.checkStored(t, res.ClientID, "report.bin", data)
		c, ok := ts.store.Client(res.ClientID)
		if !ok || c.Name != "alice" || c.KeyKind != fsstore.KeyRSA || len(c.PublicKey) != PublicKeySize {
			t.Fatalf("client record %+v", c)
		}
	}
	// A second client under another name, and the first name refused.
	p, data := writeTestFile(t, t.TempDir(), "b.txt", 1000, 9)
	res, err := Send(ctx, ClientConfig{Addr: ts.addr, Name: "bob", Dir: t.TempDir()}, p)
	if err != nil || !res.Registered {
		t.Fatalf("bob: %+v, %v", res, err)
	}
	ts.checkStored(t, res.ClientID, "b.txt", data)
	_, err = Send(ctx, ClientConfig{Addr: ts.addr, Name: "alice", Dir: t.TempDir()}, p)
	if !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second alice: %v, want ErrNameTaken", err)
	}
}

// TestResends forces checksum mismatches on the server side: up to three
// resends succeed, a fourth failure ends with 1031 and nothing stored.
func TestResends(t *testing.T) {
	for i, failures := range []int{1, 3, 4, 2} {
		ack := i == 3 // and once with a server that answers 1030 with 2104
		t.Run(fmt.Sprintf("failures=%d,ack=%v", failures, ack), func(t *testing.T) {
			var mu sync.Mutex
			bad := 0
			ts := startServer(t, func(s *Server) {
				s.AckResend = ack
				s.sumHook = func(sum uint32) uint32 {
					mu.Lock()
					defer mu.Unlock()
					if bad < failures {
						bad++
						return ^sum
					}
					return sum
				}
			})
			p, data := writeTestFile(t, t.TempDir(), "x.dat", 70_000, 3)
			res, err := Send(context.Background(), ClientConfig{Addr: ts.addr, Name: "carol", Dir: t.TempDir()}, p)
			if failures < maxAttempts {
				if err != nil || !res.Verified || res.Attempts != failures+1 {
					t.Fatalf("%d failures: %+v, %v", failures, res, err)
				}
				ts.checkStored(t, res.ClientID, "x.dat", data)
				return
			}
			if !errors.Is(err, ErrChecksum) || res.Verified || res.Attempts != maxAttempts {
				t.Fatalf("%d failures: %+v, %v, want ErrChecksum", failures, res, err)
			}
			if f, ok := ts.store.File(res.ClientID, "x.dat"); ok {
				t.Fatalf("abandoned file stored: %+v", f)
			}
		})
	}
}

// TestReconnectDenied: a me.info the server does not know gets 2106, and
// the client registers anew under the name it holds; when that name is
// taken, it says both.
func TestReconnectDenied(t *testing.T) {
	ts := startServer(t, nil)
	home := t.TempDir()
	if err := testIdentity(t).Save(home); err != nil {
		t.Fatal(err)
	}
	p, data := writeTestFile(t, t.TempDir(), "d.bin", 100, 2)
	res, err := Send(context.Background(), ClientConfig{Addr: ts.addr, Dir: home}, p)
	if err != nil || !res.Registered || res.Name != "alice" || res.ClientID == vecID {
		t.Fatalf("%+v, %v", res, err)
	}
	ts.checkStored(t, res.ClientID, "d.bin", data)
	id, err := loadIdentity(home)
	if err != nil || id.ID != res.ClientID || id.Key.Equal(testIdentity(t).Key) {
		t.Fatalf("me.info after registering anew: %+v, %v", id, err)
	}

	other := t.TempDir()
	if err := testIdentity(t).Save(other); err != nil {
		t.Fatal(err)
	}
	_, err = Send(context.Background(), ClientConfig{Addr: ts.addr, Dir: other}, p)
	if !errors.Is(err, ErrDenied) || !errors.Is(err, ErrNameTaken) {
		t.Fatalf("got %v, want ErrDenied and ErrNameTaken", err)
	}
}

// TestRunInfoFiles runs the info-file mode twice in one directory: it
// registers and writes me.info and priv.key as the deployed clients do,
// then reconnects with them.
func TestRunInfoFiles(t *testing.T) {
	ts := startServer(t, nil)
	dir := t.TempDir()
	_, data := writeTestFile(t, dir, "notes.txt", 3000, 4)
	info := ts.addr + "\nfrank\nnotes.txt\n"
	if err := os.WriteFile(filepath.Join(dir, TransferInfo), []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := RunInfoFiles(context.Background(), dir)
	if err != nil || !res.Registered || res.Name != "frank" {
		t.Fatalf("%+v, %v", res, err)
	}
	ts.checkStored(t, res.ClientID, "notes.txt", data)
	me, _ := os.ReadFile(filepath.Join(dir, MeInfo))
	priv, _ := os.ReadFile(filepath.Join(dir, PrivKey))
	wantHead := fmt.Sprintf("frank\n%X\n", res.ClientID[:])
	if !bytes.HasPrefix(me, []byte(wantHead)) || !bytes.Equal(me[len(wantHead):], priv) {
		t.Fatalf("me.info\n%s\npriv.key\n%s", me, priv)
	}
	again, err := RunInfoFiles(context.Background(), dir)
	if err != nil || again.Registered || again.ClientID != res.ClientID || !again.Verified {
		t.Fatalf("second run: %+v, %v", again, err)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestFileOverLimit: a file over the server's limit is refused before its
// content is read, and the client reports the server's refusal.
func TestFileOverLimit(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.MaxFileSize = 1 << 20 })
	p, _ := writeTestFile(t, t.TempDir(), "huge.bin", 16<<20, 1)
	_, err := Send(context.Background(), ClientConfig{Addr: ts.addr, Name: "ivan", Dir: t.TempDir()}, p)
	if !errors.Is(err, ErrServer) {
		t.Fatalf("got %v, want ErrServer", err)
	}
	sendGood(t, ts)
}
