package classic

import (
	"bytes"
	"crypto/rsa"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"ferry/frame"
)

// packetSize is the packet of the deployed clients' template: every
// request goes out in packets of this size, the last one zero-padded.
const packetSize = 1024

// templateClient behaves like the course's C++ client template: a
// connection per request, the request padded to whole packets, then a read
// of one packet that ends early only when the server closes the connection.
type templateClient struct {
	t    *testing.T
	addr string
	id   frame.ClientID
	key  [AESKeySize]byte
	priv *rsa.PrivateKey
}

// exchange sends one request and returns the response, nil if the server
// closed the connection without one.
func (tc *templateClient) exchange(raw []byte) *Response {
	tc.t.Helper()
	c, err := net.Dial("tcp", tc.addr)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	padded := append(bytes.Clone(raw), make([]byte, (packetSize-len(raw)%packetSize)%packetSize)...)
	if _, err := c.Write(padded); err != nil {
		tc.t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(io.LimitReader(c, packetSize))
	if err != nil {
		tc.t.Fatalf("%x...: %v", raw[:23], err)
	}
	if d := time.Since(start); d > 2*time.Second {
		tc.t.Errorf("request %x... took %v: the server did not end the exchange", raw[:23], d)
	}
	if len(got) == 0 {
		return nil
	}
	var hb [frame.ResponseHeaderSize]byte
	copy(hb[:], got)
	h, err := ParseResponseHeader(&hb)
	if err != nil || len(got) != len(hb)+int(h.Size) {
		tc.t.Fatalf("response %x: %v", got, err)
	}
	resp, err := ParseResponseBody(h, got[len(hb):])
	if err != nil {
		tc.t.Fatal(err)
	}
	return &resp
}

func (tc *templateClient) want(resp *Response, code frame.Code) *Response {
	tc.t.Helper()
	if resp == nil || resp.Code != code {
		tc.t.Fatalf("got %+v, want %s", resp, code)
	}
	return resp
}

func (tc *templateClient) sendFile(name Name, data []byte) *Response {
	ct := pad(bytes.Clone(data))
	newEncrypter(&tc.key).CryptBlocks(ct, ct)
	req := Request{Header: frame.Request{ClientID: tc.id, Code: frame.CodeSendFile}, Name: name, ContentSize: uint32(len(ct))}
	return tc.exchange(append(req.Append(nil), ct...))
}

func (tc *templateClient) notice(code frame.Code, name Name) *Response {
	return tc.exchange((&Request{Header: frame.Request{ClientID: tc.id, Code: code}, Name: name}).Append(nil))
}

func (tc *templateClient) takeKey(resp *Response) {
	k, err := decryptKey(tc.priv, &resp.EncryptedKey)
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.key = k
}

// TestTemplateClient runs a whole session of the template's client against
// the server: every request on its own connection, padded, including a
// file whose padding is shorter than a header's client ID.
func TestTemplateClient(t *testing.T) {
	var mu sync.Mutex
	failNext := false
	ts := startServer(t, func(s *Server) {
		s.sumHook = func(sum uint32) uint32 {
			mu.Lock()
			defer mu.Unlock()
			if failNext {
				failNext = false
				return ^sum
			}
			return sum
		}
	})
	tc := &templateClient{t: t, addr: ts.addr, priv: testIdentity(t).Key}
	user := mustName("grace")
	tc.id = tc.want(tc.exchange((&Request{Header: frame.Request{Code: frame.CodeRegister}, Name: user}).Append(nil)), frame.CodeRegistered).ClientID
	pub, _ := MarshalPublicKey(&tc.priv.PublicKey)
	// Some clients leave the client ID out of 1026: the name tells.
	resp := tc.want(tc.exchange((&Request{Header: frame.Request{Code: frame.CodePublicKey}, Name: user, PublicKey: pub}).Append(nil)), frame.CodeKeyAccepted)
	if resp.ClientID != tc.id {
		t.Fatalf("2102 for %s, want %s", resp.ClientID, tc.id)
	}
	tc.takeKey(resp)

	// 730 bytes: 282 + 736 = 1018, 6 bytes of padding.
	for _, size := range []int{5000, 730} {
		_, data := writeTestFile(t, t.TempDir(), "x", size, uint64(size))
		name := mustName("t.bin")
		tc.want(tc.sendFile(name, data), frame.CodeFileReceived)
		tc.want(tc.notice(frame.CodeChecksumOK, name), frame.CodeThanks)
		ts.checkStored(t, tc.id, "t.bin", data)
	}

	// Reconnect, one checksum failure: 1030 gets no answer, the resend is verified.
	tc.takeKey(tc.want(tc.exchange((&Request{Header: frame.Request{ClientID: tc.id, Code: frame.CodeReconnect}, Name: user}).Append(nil)), frame.CodeReconnected))
	mu.Lock()
	failNext = true
	mu.Unlock()
	_, data := writeTestFile(t, t.TempDir(), "y", 3000, 8)
	name := mustName("u.bin")
	tc.want(tc.sendFile(name, data), frame.CodeFileReceived)
	if resp := tc.notice(frame.CodeChecksumBad, name); resp != nil {
		t.Fatalf("1030 answered with %+v", resp)
	}
	tc.want(tc.sendFile(name, data), frame.CodeFileReceived)
	tc.want(tc.notice(frame.CodeChecksumOK, name), frame.CodeThanks)
	ts.checkStored(t, tc.id, "u.bin", data)

	// A file given up on is not stored.
	tc.want(tc.sendFile(mustName("v.bin"), data), frame.CodeFileReceived)
	tc.want(tc.notice(frame.CodeGiveUp, mustName("v.bin")), frame.CodeThanks)
	if _, ok := ts.store.File(tc.id, "v.bin"); ok {
		t.Fatal("abandoned file stored")
	}
	sendGood(t, ts)
}

// TestPendingExpires checks that a file without a verdict is discarded
// after the timeout.
func TestPendingExpires(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.Timeout = 200 * time.Millisecond })
	cc := session(t, ts, "heidi")
	p, _ := writeTestFile(t, t.TempDir(), "w.bin", 100, 1)
	cc.buf = make([]byte, chunkSize+16)
	if _, err := cc.sendFile(&Result{Size: 100, Attempts: 1}, mustOpen(t, p), mustName("w.bin")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	ts.mu.Lock()
	n := len(ts.pending)
	ts.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d files still pending", n)
	}
}
