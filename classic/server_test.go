package classic

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"ferry/frame"
)

// errorFrame is 2107 as the server sends it.
var errorFrame = (&Response{Code: frame.CodeError}).Append(nil)

// exchange sends raw on a fresh connection, closes the sending side when
// closeWrite is set, and returns everything the server sent until it
// closed the connection.
func exchange(t *testing.T, addr string, raw []byte, closeWrite bool) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		c.(*net.TCPConn).CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return got
}

// sendGood checks that the server still serves a well-behaved client.
func sendGood(t *testing.T, ts *testServer) {
	t.Helper()
	p, data := writeTestFile(t, t.TempDir(), "good.bin", 500, 11)
	res, err := Send(context.Background(), ClientConfig{Addr: ts.addr, Name: "good-" + filepath.Base(t.TempDir()), Dir: t.TempDir()}, p)
	if err != nil {
		t.Fatalf("good client after bad input: %v", err)
	}
	ts.checkStored(t, res.ClientID, "good.bin", data)
}

// TestServerRefuses sends every frame of testdata/bad-requests.txt on its
// own connection: each gets 2107 and a closed connection, and the server
// keeps serving.
func TestServerRefuses(t *testing.T) {
	ts := startServer(t, nil)
	for name, raw := range goldenLines(t, "testdata/bad-requests.txt") {
		t.Run(name, func(t *testing.T) {
			if got := exchange(t, ts.addr, raw, true); !bytes.Equal(got, errorFrame) {
				t.Fatalf("answer %x, want %x", got, errorFrame)
			}
		})
	}
	sendGood(t, ts)
}

// session registers a client on a fresh connection and returns it with its
// AES key in place, ready for crafted requests.
func session(t *testing.T, ts *testServer, name string) *clientConn {
	t.Helper()
	cc := &clientConn{ctx: context.Background(), cfg: ClientConfig{Addr: ts.addr, Name: name, Dir: t.TempDir(), Timeout: 10 * time.Second}}
	if err := cc.redial(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.close)
	if _, err := cc.register(name, testIdentity(t).Key); err != nil {
		t.Fatal(err)
	}
	return cc
}

// refusedAfter writes raw on cc and expects 2107 then the end of the
// connection, without closing the sending side: the server must answer
// what it has seen.
func refusedAfter(t *testing.T, cc *clientConn, raw []byte) {
	t.Helper()
	if err := cc.write(raw); err != nil {
		t.Fatal(err)
	}
	cc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(cc.r)
	if err != nil || !bytes.Equal(got, errorFrame) {
		t.Fatalf("answer %x, %v; want %x then EOF", got, err, errorFrame)
	}
}

// TestServerRefusesInSession covers bad input that needs a registered
// client: each gets 2107, and the server keeps serving.
func TestServerRefusesInSession(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.MaxFileSize = 1000 })
	name := mustName("f.txt")
	fileFrame := func(cc *clientConn, plain []byte, contentSize uint32) []byte {
		ct := bytes.Clone(plain) // no padding added: plain decides it
		newEncrypter(&cc.key).CryptBlocks(ct, ct)
		req := Request{Header: frame.Request{ClientID: cc.id, Code: frame.CodeSendFile}, Name: name, ContentSize: contentSize}
		return append(req.Append(nil), ct...)
	}
	block := func(last ...byte) []byte {
		b := bytes.Repeat([]byte{'x'}, 32)
		copy(b[32-len(last):], last)
		return b
	}
	tests := []struct {
		name  string
		frame func(cc *clientConn) []byte
	}{
		{"padding 0", func(cc *clientConn) []byte { return fileFrame(cc, block(0), 32) }},
		{"padding 17", func(cc *clientConn) []byte { return fileFrame(cc, block(17), 32) }},
		{"padding uneven", func(cc *clientConn) []byte { return fileFrame(cc, block(1, 3, 3), 32) }},
		{"over the size limit", func(cc *clientConn) []byte {
			// Only the fixed part is sent: the refusal must come before the content.
			return fileFrame(cc, nil, uint32(MaxContent(1000)+16))
		}},
		{"plaintext over the limit", func(cc *clientConn) []byte {
			// 1005 bytes and 3 of padding fit the 1008 bytes of ciphertext
			// a 1000-byte file may take; the plaintext is refused at the end.
			p := append(bytes.Repeat([]byte{'y'}, 1005), 3, 3, 3)
			return fileFrame(cc, p, uint32(len(p)))
		}},
		{"checksum ok without a file", func(cc *clientConn) []byte {
			return (&Request{Header: frame.Request{ClientID: cc.id, Code: frame.CodeChecksumOK}, Name: name}).Append(nil)
		}},
		{"file under an ID without a key", func(cc *clientConn) []byte {
			raw := fileFrame(cc, block(16), 32)
			copy(raw[0:16], bytes.Repeat([]byte{0xee}, 16))
			return raw
		}},
		{"public key garbage", func(cc *clientConn) []byte {
			req := Request{Header: frame.Request{ClientID: cc.id, Code: frame.CodePublicKey}, Name: mustName(cc.cfg.Name)}
			copy(req.PublicKey[:], bytes.Repeat([]byte{0x30}, PublicKeySize))
			return req.Append(nil)
		}},
		{"public key of someone else's ID", func(cc *clientConn) []byte {
			other := session(t, ts, cc.cfg.Name+"-victim")
			pub, _ := MarshalPublicKey(&testIdentity(t).Key.PublicKey)
			req := Request{Header: frame.Request{ClientID: other.id, Code: frame.CodePublicKey}, Name: mustName(other.cfg.Name), PublicKey: pub}
			return req.Append(nil)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := session(t, ts, fmt.Sprintf("client-%d", i))
			refusedAfter(t, cc, tt.frame(cc))
		})
	}
	sendGood(t, ts)
}

// TestServerRegisterOnly checks the answers that keep the connection open:
// 2101 for a taken name and 2106 for an unknown reconnection.
func TestServerRegisterOnly(t *testing.T) {
	ts := startServer(t, nil)
	cc := session(t, ts, "dave")
	for _, tt := range []struct {
		req  Request
		want frame.Code
	}{
		{Request{Header: frame.Request{Code: frame.CodeRegister}, Name: mustName("dave")}, frame.CodeNameTaken},
		{Request{Header: frame.Request{ClientID: frame.ClientID{9}, Code: frame.CodeReconnect}, Name: mustName("dave")}, frame.CodeDenied},
		{Request{Header: frame.Request{ClientID: cc.id, Code: frame.CodeReconnect}, Name: mustName("mallory")}, frame.CodeDenied},
		{Request{Header: frame.Request{ClientID: cc.id, Code: frame.CodeReconnect}, Name: mustName("dave")}, frame.CodeReconnected},
	} {
		if err := cc.send(&tt.req); err != nil {
			t.Fatal(err)
		}
		resp, err := cc.receive(tt.want)
		if err != nil {
			t.Fatalf("%s: %v", tt.req.Header.Code, err)
		}
		if tt.want == frame.CodeDenied && resp.ClientID != tt.req.Header.ClientID {
			t.Fatalf("2106 carries %s, want %s", resp.ClientID, tt.req.Header.ClientID)
		}
	}
}

// TestServerRegisterWithoutKey: a client that registered but never sent
// its key (1026) is denied a reconnection, registers again and gets its ID
// back, sends its key and uploads; a name with a key stays taken.
func TestServerRegisterWithoutKey(t *testing.T) {
	ts := startServer(t, nil)
	name := mustName("half")
	first := &clientConn{ctx: context.Background(), cfg: ClientConfig{Addr: ts.addr, Timeout: 10 * time.Second}}
	if err := first.redial(); err != nil {
		t.Fatal(err)
	}
	first.send(&Request{Header: frame.Request{Code: frame.CodeRegister}, Name: name})
	resp, err := first.receive(frame.CodeRegistered)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.ClientID
	first.close() // gone before 1026
	waitUnclaimed(t, ts, "half")

	cc := &clientConn{ctx: context.Background(), cfg: ClientConfig{Addr: ts.addr, Name: "half", Dir: t.TempDir(), Timeout: 10 * time.Second}}
	if err := cc.redial(); err != nil {
		t.Fatal(err)
	}
	defer cc.close()
	cc.send(&Request{Header: frame.Request{ClientID: id, Code: frame.CodeReconnect}, Name: name})
	if _, err := cc.receive(frame.CodeDenied); err != nil {
		t.Fatal("reconnection without a key:", err)
	}
	again, err := cc.register("half", testIdentity(t).Key)
	if err != nil {
		t.Fatal("registering again:", err)
	}
	if again.ID != id {
		t.Errorf("registered again as %s, want the first ID %s", again.ID, id)
	}
	cc.close()
	p, data := writeTestFile(t, t.TempDir(), "good.bin", 500, 12)
	res, err := Send(context.Background(), cc.cfg, p) // reconnects with the me.info register wrote
	if err != nil || res.Registered || res.ClientID != id {
		t.Fatalf("upload after registering again: %+v, %v", res, err)
	}
	ts.checkStored(t, id, "good.bin", data)

	other := session(t, ts, "other")
	other.send(&Request{Header: frame.Request{Code: frame.CodeRegister}, Name: name})
	if _, err := other.receive(frame.CodeNameTaken); err != nil {
		t.Fatal("a name with a key:", err)
	}
}

// dialRaw opens a connection for hand-built requests.
func dialRaw(t *testing.T, ts *testServer) *clientConn {
	t.Helper()
	cc := &clientConn{ctx: context.Background(), cfg: ClientConfig{Addr: ts.addr, Timeout: 10 * time.Second}}
	if err := cc.redial(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.close)
	return cc
}

// registerRaw sends a 1025 for name and returns the answer, 2100 or 2101.
func registerRaw(cc *clientConn, name string) (Response, error) {
	if err := cc.send(&Request{Header: frame.Request{Code: frame.CodeRegister}, Name: mustName(name)}); err != nil {
		return Response{}, err
	}
	return cc.receive(frame.CodeRegistered, frame.CodeNameTaken)
}

// waitUnclaimed waits until no connection is registering name: the server
// notices a connection's end a moment after the client closed it.
func waitUnclaimed(t *testing.T, ts *testServer, name string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		ts.mu.Lock()
		_, held := ts.registering[name]
		ts.mu.Unlock()
		if !held {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q still being registered after its connection closed", name)
		}
	}
}

// TestServerConcurrentRegister: two clients registering one name at the
// same moment. While the first is between 2100 and its 1026, on a live
// connection, the second's 1025 gets 2101, not the first's ID; once the
// first connection ended without a key, the ID is handed out again.
func TestServerConcurrentRegister(t *testing.T) {
	ts := startServer(t, nil)
	t.Run("between 2100 and 1026", func(t *testing.T) {
		first, second := dialRaw(t, ts), dialRaw(t, ts)
		resp, err := registerRaw(first, "twin")
		if err != nil || resp.Code != frame.CodeRegistered {
			t.Fatalf("first 1025: %s, %v", resp.Code, err)
		}
		first.id = resp.ClientID
		if resp, err := registerRaw(second, "twin"); err != nil || resp.Code != frame.CodeNameTaken {
			t.Fatalf("second 1025 while the first registers: %s %s, %v; want 2101", resp.Code, resp.ClientID, err)
		}
		pub := testKeyPub(t)
		first.send(&Request{Header: frame.Request{ClientID: first.id, Code: frame.CodePublicKey}, Name: mustName("twin"), PublicKey: pub})
		if _, err := first.receive(frame.CodeKeyAccepted); err != nil {
			t.Fatal("first 1026:", err)
		}
		if resp, err := registerRaw(second, "twin"); err != nil || resp.Code != frame.CodeNameTaken {
			t.Fatalf("second 1025 after the first's key: %s, %v; want 2101", resp.Code, err)
		}
	})
	t.Run("after the first connection ended", func(t *testing.T) {
		first := dialRaw(t, ts)
		resp, err := registerRaw(first, "gone")
		if err != nil || resp.Code != frame.CodeRegistered {
			t.Fatalf("first 1025: %s, %v", resp.Code, err)
		}
		first.close()
		waitUnclaimed(t, ts, "gone")
		again, err := registerRaw(dialRaw(t, ts), "gone")
		if err != nil || again.Code != frame.CodeRegistered || again.ClientID != resp.ClientID {
			t.Fatalf("1025 after the first left without a key: %s %s, %v; want 2100 %s", again.Code, again.ClientID, err, resp.ClientID)
		}
	})
	t.Run("at the same moment", func(t *testing.T) {
		const pairs = 16
		var conns [2 * pairs]*clientConn
		for i := range conns {
			conns[i] = dialRaw(t, ts)
		}
		var answers [2 * pairs]Response
		var errs [2 * pairs]error
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, cc := range conns {
			wg.Go(func() {
				<-start
				answers[i], errs[i] = registerRaw(cc, fmt.Sprintf("pair-%d", i/2))
			})
		}
		close(start)
		wg.Wait()
		for i := 0; i < len(conns); i += 2 {
			a, b := answers[i].Code, answers[i+1].Code
			if errs[i] != nil || errs[i+1] != nil || a == b || a != frame.CodeRegistered && b != frame.CodeRegistered {
				t.Errorf("pair-%d: %s %s (%v) and %s %s (%v), want one 2100 and one 2101",
					i/2, a, answers[i].ClientID, errs[i], b, answers[i+1].ClientID, errs[i+1])
			}
		}
	})
}

// TestServerSlowFirstHeader: a 1025 whose zero client ID comes on its own,
// the rest of it well after paddingWait, is a request, not padding.
func TestServerSlowFirstHeader(t *testing.T) {
	ts := startServer(t, nil)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := Request{Header: frame.Request{Code: frame.CodeRegister}, Name: mustName("slow")}
	raw := req.Append(nil)
	c.Write(raw[:frame.IDSize])
	time.Sleep(2 * paddingWait)
	c.Write(raw[frame.IDSize:])
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hb [frame.ResponseHeaderSize]byte
	if _, err := io.ReadFull(c, hb[:]); err != nil {
		t.Fatal("no answer:", err)
	}
	if h, err := ParseResponseHeader(&hb); err != nil || h.Code != frame.CodeRegistered {
		t.Fatalf("answer %x (%v), want 2100", hb, err)
	}
}

// TestLargeFile moves a large file and checks that it is stored as sent,
// and that neither side allocated anything near its size.
func TestLargeFile(t *testing.T) {
	size := 50 << 20
	if testing.Short() || raceEnabled {
		size = 16 << 20
	}
	ts := startServer(t, nil)
	cfg := ClientConfig{Addr: ts.addr, Name: "erin", Dir: t.TempDir()}
	small, _ := writeTestFile(t, t.TempDir(), "small.bin", 10, 5)
	if _, err := Send(context.Background(), cfg, small); err != nil { // register: RSA key generation allocates
		t.Fatal(err)
	}
	p, data := writeTestFile(t, t.TempDir(), "big.bin", size+5, 5)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := Send(context.Background(), cfg, p)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("moving %d bytes allocated %d bytes on both sides", size, alloc)
	if alloc > 2<<20 {
		t.Errorf("moving %d bytes allocated %d bytes on both sides, want under 2 MiB", size, alloc)
	}
	ts.checkStored(t, res.ClientID, "big.bin", data)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkUpload measures a reconnect and an 8 MiB upload over loopback
// TCP into a real store, both sides in this process.
func BenchmarkUpload(b *testing.B) {
	ts := startServer(b, nil)
	cfg := ClientConfig{Addr: ts.addr, Name: "bench", Dir: b.TempDir()}
	p, _ := writeTestFile(b, b.TempDir(), "bench.bin", 8<<20, 1)
	if _, err := Send(context.Background(), cfg, p); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(8 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Send(context.Background(), cfg, p); err != nil {
			b.Fatal(err)
		}
	}
}
