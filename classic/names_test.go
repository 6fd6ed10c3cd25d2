package classic

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"ferry/frame"
)

// fullName is a name field filled to its 255 bytes with c, without a NUL.
func fullName(c byte) Name {
	var n Name
	for i := range n {
		n[i] = c
	}
	return n
}

// hexName is a name field holding the bytes of h (hex, spaces allowed),
// NUL-padded.
func hexName(t *testing.T, h string) Name {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil || len(b) > NameSize {
		t.Fatalf("name field %q: %v", h, err)
	}
	var n Name
	copy(n[:], b)
	return n
}

// rawSession registers name on a fresh connection with a hand-built 1025
// and 1026, as a deployed client sends them, and returns the connection
// with its AES key in place.
func rawSession(t *testing.T, ts *testServer, name Name) *clientConn {
	t.Helper()
	cc := &clientConn{ctx: context.Background(), cfg: ClientConfig{Addr: ts.addr, Timeout: 10 * time.Second}, buf: make([]byte, chunkSize+16)}
	if err := cc.redial(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.close)
	cc.send(&Request{Header: frame.Request{Code: frame.CodeRegister}, Name: name})
	resp, err := cc.receive(frame.CodeRegistered)
	if err != nil {
		t.Fatal("1025:", err)
	}
	cc.id = resp.ClientID
	cc.send(&Request{Header: frame.Request{ClientID: cc.id, Code: frame.CodePublicKey}, Name: name, PublicKey: testKeyPub(t)})
	if resp, err = cc.receive(frame.CodeKeyAccepted); err != nil {
		t.Fatal("1026:", err)
	}
	if err := cc.takeKey(testIdentity(t).Key, &resp); err != nil {
		t.Fatal(err)
	}
	return cc
}

// uploadAs sends a test file in a 1028 whose file name field is name,
// checks that 2103 echoes the field byte for byte with the right cksum,
// confirms with 1029 and returns the file's content.
func uploadAs(t *testing.T, cc *clientConn, name Name) []byte {
	t.Helper()
	p, data := writeTestFile(t, t.TempDir(), "up.bin", 1000, 21)
	sum, err := cc.writeFile(mustOpen(t, p), int64(len(data)), name)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cc.receive(frame.CodeFileReceived)
	if err != nil {
		t.Fatal("1028:", err)
	}
	if resp.FileName != name || resp.Cksum != sum {
		t.Fatalf("2103 carries name %x and cksum %d, want %x and %d", resp.FileName[:], resp.Cksum, name[:], sum)
	}
	cc.send(&Request{Header: frame.Request{ClientID: cc.id, Code: frame.CodeChecksumOK}, Name: name})
	if _, err := cc.receive(frame.CodeThanks); err != nil {
		t.Fatal("1029:", err)
	}
	return data
}

// TestServerFullNames: name fields of 255 bytes without a NUL, as a
// deployed client sends long file names, are 255-byte names: the client
// registers under one and stores a file under another.
func TestServerFullNames(t *testing.T) {
	ts := startServer(t, nil)
	cc := rawSession(t, ts, fullName('n'))
	if c, ok := ts.store.Client(cc.id); !ok || c.Name != strings.Repeat("n", NameSize) {
		t.Fatalf("client record %+v", c)
	}
	data := uploadAs(t, cc, fullName('f'))
	ts.checkStored(t, cc.id, strings.Repeat("f", NameSize), data)
}

// TestServerQuotedFileName: a deployed client writes the file name with
// std::filesystem::path's operator<<, which quotes it. The file is stored
// without the quotes, and 2103 echoes the field as sent, so that the
// client's own comparison matches.
func TestServerQuotedFileName(t *testing.T) {
	ts := startServer(t, nil)
	cc := rawSession(t, ts, mustName("quoting"))
	field := hexName(t, "22 70 61 79 6c 6f 61 64 2e 62 69 6e 22 00") // "payload.bin"
	data := uploadAs(t, cc, field)
	ts.checkStored(t, cc.id, "payload.bin", data)
	if f, ok := ts.store.File(cc.id, `"payload.bin"`); ok {
		t.Errorf("also stored with its quotes: %+v", f)
	}
}

func TestStoreName(t *testing.T) {
	for _, tt := range []struct{ sent, stored string }{
		{"payload.bin", "payload.bin"},
		{`"payload.bin"`, "payload.bin"},
		{`"C:\\Users\\me\\payload.bin"`, "payload.bin"}, // std::quoted doubles the backslashes
		{`C:\Users\me\payload.bin`, "payload.bin"},
		{"dir/payload.bin", "payload.bin"},
		{`""payload.bin""`, `"payload.bin"`}, // one pair only
		{`"payload.bin`, `"payload.bin`},
		{`payload.bin"`, `payload.bin"`},
		{`"`, `"`},
	} {
		if got := storeName(tt.sent); got != tt.stored {
			t.Errorf("storeName(%s) = %s, want %s", tt.sent, got, tt.stored)
		}
	}
}
