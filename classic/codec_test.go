package classic

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"ferry/frame"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	vecID   = frame.ClientID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	vecFile = mustName("report.txt")
)

func mustName(s string) Name {
	n, err := MakeName(s)
	if err != nil {
		panic(err)
	}
	return n
}

// garbageName is "alice", a NUL, then bytes a sloppy client left behind.
func garbageName() Name {
	n := mustName("alice")
	copy(n[6:], "\xcc\xcc\xccgarbage")
	return n
}

// testKeyPub is the public key of testdata/priv.key as 1026 carries it.
func testKeyPub(t *testing.T) [PublicKeySize]byte {
	t.Helper()
	id := testIdentity(t)
	pub, err := MarshalPublicKey(&id.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func testIdentity(t *testing.T) *Identity {
	t.Helper()
	id, err := loadIdentity("testdata")
	if err != nil || id == nil {
		t.Fatalf("testdata/me.info: %v", err)
	}
	return id
}

type reqVector struct {
	name    string
	comment string
	req     Request
	content []byte // the ciphertext of a 1028
}

func requestVectors(t *testing.T) []reqVector {
	up := loadUploadVector(t)
	hdr := func(code frame.Code, id frame.ClientID) frame.Request {
		h := frame.Request{ClientID: id, Version: frame.VersionClassic, Code: code}
		n := BodySize(code)
		if code == frame.CodeSendFile {
			n += len(up.ciphertext)
		}
		h.Size = uint32(n)
		return h
	}
	return []reqVector{
		{"register", "1025: client ID (ignored), name \"alice\" NUL-padded to 255", Request{Header: hdr(frame.CodeRegister, frame.ClientID{}), Name: mustName("alice")}, nil},
		{"register-garbage", "1025: name \"alice\", NUL, then garbage: the name is \"alice\"", Request{Header: hdr(frame.CodeRegister, frame.ClientID{}), Name: garbageName()}, nil},
		{"register-full-name", "1025: a 255-byte name of 'a' that fills the field, no NUL", Request{Header: hdr(frame.CodeRegister, frame.ClientID{}), Name: fullName('a')}, nil},
		{"public-key", "1026: name \"alice\", the SPKI of testdata/priv.key (160 bytes, e = 17)", Request{Header: hdr(frame.CodePublicKey, vecID), Name: mustName("alice"), PublicKey: testKeyPub(t)}, nil},
		{"reconnect", "1027: name \"alice\"", Request{Header: hdr(frame.CodeReconnect, vecID), Name: mustName("alice")}, nil},
		{"send-file", "1028: content size, file name \"report.txt\", the ciphertext of testdata/upload.txt", Request{Header: hdr(frame.CodeSendFile, vecID), Name: vecFile, ContentSize: uint32(len(up.ciphertext))}, up.ciphertext},
		{"send-file-full-name", "1028: a 255-byte file name of 'f' that fills the field, no NUL, the ciphertext of testdata/upload.txt", Request{Header: hdr(frame.CodeSendFile, vecID), Name: fullName('f'), ContentSize: uint32(len(up.ciphertext))}, up.ciphertext},
		{"checksum-ok", "1029: file name \"report.txt\"", Request{Header: hdr(frame.CodeChecksumOK, vecID), Name: vecFile}, nil},
		{"checksum-bad", "1030: file name \"report.txt\"", Request{Header: hdr(frame.CodeChecksumBad, vecID), Name: vecFile}, nil},
		{"give-up", "1031: file name \"report.txt\"", Request{Header: hdr(frame.CodeGiveUp, vecID), Name: vecFile}, nil},
	}
}

type respVector struct {
	name    string
	comment string
	resp    Response
}

func responseVectors(t *testing.T) []respVector {
	up := loadUploadVector(t)
	return []respVector{
		{"registered", "2100: client ID", Response{Code: frame.CodeRegistered, ClientID: vecID}},
		{"name-taken", "2101: empty", Response{Code: frame.CodeNameTaken}},
		{"key-accepted", "2102: client ID, the AES key of testdata/upload.txt RSA-OAEP-SHA-1 encrypted to testdata/priv.key", Response{Code: frame.CodeKeyAccepted, ClientID: vecID, EncryptedKey: up.encryptedKey}},
		{"file-received", "2103: client ID, content size, file name \"report.txt\", cksum of the plaintext of testdata/upload.txt", Response{Code: frame.CodeFileReceived, ClientID: vecID, ContentSize: uint32(len(up.ciphertext)), FileName: vecFile, Cksum: up.cksum}},
		{"thanks", "2104: client ID", Response{Code: frame.CodeThanks, ClientID: vecID}},
		{"reconnected", "2105: client ID, encrypted AES key as in 2102", Response{Code: frame.CodeReconnected, ClientID: vecID, EncryptedKey: up.encryptedKey}},
		{"denied", "2106: client ID", Response{Code: frame.CodeDenied, ClientID: vecID}},
		{"error", "2107: empty", Response{Code: frame.CodeError}},
	}
}

// goldenLines reads "name hex" lines, skipping comments and blank lines.
func goldenLines(tb testing.TB, path string) map[string][]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, h, ok := strings.Cut(line, " ")
		b, err := hex.DecodeString(strings.TrimSpace(h))
		if !ok || err != nil {
			tb.Fatalf("%s: bad line %q", path, line)
		}
		out[name] = b
	}
	return out
}

func writeGolden(t *testing.T, path, head string, lines [][3]string) {
	var b strings.Builder
	b.WriteString(head)
	for _, l := range lines {
		fmt.Fprintf(&b, "\n# %s\n%s %s\n", l[1], l[0], l[2])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const messagesHead = `# Version 3 messages, one a line: name, then the whole frame in hex (header
# and payload). Built from the wire facts of docs/CLASSIC.md; checked by
# TestRequestVectors and TestResponseVectors; rewritten with -update.
# Client ID 00112233445566778899aabbccddeeff unless said otherwise.
`

func TestRequestVectors(t *testing.T) {
	vs := requestVectors(t)
	path := "testdata/requests.txt"
	if *update {
		var lines [][3]string
		for _, v := range vs {
			lines = append(lines, [3]string{v.name, v.comment, hex.EncodeToString(append(v.req.Append(nil), v.content...))})
		}
		writeGolden(t, path, messagesHead, lines)
	}
	golden := goldenLines(t, path)
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			want, ok := golden[v.name]
			if !ok {
				t.Fatal("no golden vector")
			}
			if got := append(v.req.Append(nil), v.content...); !bytes.Equal(got, want) {
				t.Fatalf("encoded\n%x\nwant\n%x", got, want)
			}
			var hb [frame.RequestHeaderSize]byte
			copy(hb[:], want)
			h, err := ParseRequestHeader(&hb, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			rest := want[frame.RequestHeaderSize:]
			req, err := ParseRequestBody(h, rest[:BodySize(h.Code)])
			if err != nil {
				t.Fatal(err)
			}
			if req != v.req {
				t.Fatalf("decoded %+v\nwant %+v", req, v.req)
			}
			if !bytes.Equal(rest[BodySize(h.Code):], v.content) {
				t.Fatal("content differs")
			}
		})
	}
	if n := garbageName(); n.String() != "alice" {
		t.Errorf("name with garbage decodes to %q", n.String())
	}
}

func TestResponseVectors(t *testing.T) {
	vs := responseVectors(t)
	path := "testdata/responses.txt"
	if *update {
		var lines [][3]string
		for _, v := range vs {
			lines = append(lines, [3]string{v.name, v.comment, hex.EncodeToString(v.resp.Append(nil))})
		}
		writeGolden(t, path, messagesHead, lines)
	}
	golden := goldenLines(t, path)
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			want, ok := golden[v.name]
			if !ok {
				t.Fatal("no golden vector")
			}
			if got := v.resp.Append(nil); !bytes.Equal(got, want) {
				t.Fatalf("encoded\n%x\nwant\n%x", got, want)
			}
			var hb [frame.ResponseHeaderSize]byte
			copy(hb[:], want)
			h, err := ParseResponseHeader(&hb)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ParseResponseBody(h, want[frame.ResponseHeaderSize:])
			if err != nil {
				t.Fatal(err)
			}
			if resp != v.resp {
				t.Fatalf("decoded %+v\nwant %+v", resp, v.resp)
			}
		})
	}
}

// rawFrame builds a request frame field by field, right or wrong.
func rawFrame(version uint8, code frame.Code, size uint32, body []byte) []byte {
	var hb [frame.RequestHeaderSize]byte
	(&frame.Request{ClientID: vecID, Version: version, Code: code, Size: size}).Put(&hb)
	return append(hb[:], body...)
}

// nameField is a 255-byte name field holding s as is, NUL-padded.
func nameField(s string) []byte {
	b := make([]byte, NameSize)
	copy(b, s)
	return b
}

// badRequests are frames the decoder must refuse, each on its own; the
// server answers every one of them with 2107.
func badRequests() [][3]string {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	fileHead := func(contentSize uint32) []byte { return binary.LittleEndian.AppendUint32(nil, contentSize) }
	sendFile := func(contentSize uint32, payload int) []byte {
		body := cat(fileHead(contentSize), nameField("report.txt"), make([]byte, payload-FileHeaderSize))
		return rawFrame(3, frame.CodeSendFile, uint32(payload), body)
	}
	alice := nameField("alice")
	vs := []struct {
		name, comment string
		raw           []byte
	}{
		{"short-header", "10 bytes, then the connection ends", rawFrame(3, frame.CodeRegister, NameSize, nil)[:10]},
		{"version-2", "1025 with version 2", rawFrame(2, frame.CodeRegister, NameSize, alice)},
		{"version-4", "1025 with version 4 (ferry's secure protocol) on the classic port", rawFrame(4, frame.CodeRegister, NameSize, alice)},
		{"unknown-code", "code 1099", rawFrame(3, 1099, NameSize, alice)},
		{"response-code", "code 2100 sent as a request", rawFrame(3, frame.CodeRegistered, NameSize, alice)},
		{"v4-code", "code 1000 (version 4 hello) with version 3", rawFrame(3, frame.CodeHello, NameSize, alice)},
		{"register-size-254", "1025 declaring and carrying 254 bytes", rawFrame(3, frame.CodeRegister, NameSize-1, alice[:NameSize-1])},
		{"register-size-256", "1025 declaring and carrying 256 bytes", rawFrame(3, frame.CodeRegister, NameSize+1, append(alice, 0))},
		{"register-cut", "1025 declaring 255 bytes, carrying 100", rawFrame(3, frame.CodeRegister, NameSize, alice[:100])},
		{"register-empty-name", "1025 with 255 NUL", rawFrame(3, frame.CodeRegister, NameSize, nameField(""))},
		{"register-control", "1025 with a tab in the name", rawFrame(3, frame.CodeRegister, NameSize, nameField("al\tice"))},
		{"register-non-ascii", "1025 with UTF-8 in the name", rawFrame(3, frame.CodeRegister, NameSize, nameField("al\xc3\xa9"))},
		{"public-key-garbage", "1026 whose 160 key bytes do not parse", rawFrame(3, frame.CodePublicKey, PublicKeyPayload, cat(alice, bytes.Repeat([]byte{0x30}, PublicKeySize)))},
		{"public-key-162", "1026 with 162 key bytes (RSA-1024, e = 65537)", rawFrame(3, frame.CodePublicKey, PublicKeyPayload+2, cat(alice, make([]byte, PublicKeySize+2)))},
		{"send-file-no-content", "1028 with no ciphertext", sendFile(0, FileHeaderSize)},
		{"send-file-size-mismatch", "1028: content size 32, 48 bytes of ciphertext", sendFile(32, FileHeaderSize+48)},
		{"send-file-not-blocks", "1028: 33 bytes of ciphertext", sendFile(33, FileHeaderSize+33)},
		{"give-up-size-0", "1031 with no payload", rawFrame(3, frame.CodeGiveUp, 0, nil)},
	}
	var out [][3]string
	for _, v := range vs {
		out = append(out, [3]string{v.name, v.comment, hex.EncodeToString(v.raw)})
	}
	return out
}

const badHead = `# Version 3 request frames a server must refuse (2107, then close), one a
# line: name, the frame in hex. Each stands alone on a fresh connection.
# Checked by TestBadRequests and TestServerRefuses; rewritten with -update.
`

// TestBadRequests checks that the decoder refuses every frame of
// testdata/bad-requests.txt.
func TestBadRequests(t *testing.T) {
	if *update {
		writeGolden(t, "testdata/bad-requests.txt", badHead, badRequests())
	}
	golden := goldenLines(t, "testdata/bad-requests.txt")
	if len(golden) != len(badRequests()) {
		t.Fatalf("%d vectors, want %d", len(golden), len(badRequests()))
	}
	for name, raw := range golden {
		t.Run(name, func(t *testing.T) {
			if err := decodeFrame(raw, 1<<20); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// decodeFrame runs the server's decoder over one whole frame.
func decodeFrame(raw []byte, maxContent int64) error {
	var hb [frame.RequestHeaderSize]byte
	if copy(hb[:], raw) < len(hb) {
		return errShort
	}
	h, err := ParseRequestHeader(&hb, maxContent)
	if err != nil {
		return err
	}
	rest := raw[len(hb):]
	if len(rest) != int(h.Size) {
		return errShort
	}
	req, err := ParseRequestBody(h, rest[:BodySize(h.Code)])
	if err != nil {
		return err
	}
	if h.Code == frame.CodePublicKey {
		_, err = ParsePublicKey(req.PublicKey[:])
	}
	return err
}

var errShort = errors.New("short frame")

func TestMakeName(t *testing.T) {
	for _, s := range []string{"", strings.Repeat("a", NameSize+1), "tab\there", "nul\x00", "é", "\x7f"} {
		if _, err := MakeName(s); err == nil {
			t.Errorf("MakeName(%q) accepted", s)
		}
	}
	for _, s := range []string{"a", strings.Repeat("z", NameSize-1), strings.Repeat("z", NameSize), "My file (1).txt", "~!@#$%^&*"} {
		n, err := MakeName(s)
		if err != nil || n.String() != s {
			t.Errorf("MakeName(%q) = %q, %v", s, n.String(), err)
		}
	}
}

func TestCodecAllocs(t *testing.T) {
	vs := requestVectors(t)
	var buf [maxResponseLength + PublicKeyPayload]byte
	resp := Response{Code: frame.CodeFileReceived, ClientID: vecID, FileName: vecFile}
	n := testing.AllocsPerRun(100, func() {
		for i := range vs {
			b := vs[i].req.Append(buf[:0])
			var hb [frame.RequestHeaderSize]byte
			copy(hb[:], b)
			h, err := ParseRequestHeader(&hb, 1<<20)
			if err != nil {
				panic(err)
			}
			if _, err := ParseRequestBody(h, b[len(hb):]); err != nil {
				panic(err)
			}
		}
		resp.Append(buf[:0])
	})
	if n != 0 {
		t.Errorf("codec allocates %v times per round, want 0", n)
	}
}

// FuzzDecodeRequest feeds arbitrary bytes to the server's decoder: it must
// not panic, and whatever it accepts must encode back to the same bytes.
func FuzzDecodeRequest(f *testing.F) {
	for _, raw := range goldenLines(f, "testdata/requests.txt") {
		f.Add(raw)
	}
	for _, raw := range goldenLines(f, "testdata/bad-requests.txt") {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var hb [frame.RequestHeaderSize]byte
		if copy(hb[:], raw) < len(hb) {
			return
		}
		h, err := ParseRequestHeader(&hb, 1<<16)
		if err != nil {
			return
		}
		rest := raw[len(hb):]
		n := BodySize(h.Code)
		if len(rest) < n {
			return
		}
		req, err := ParseRequestBody(h, rest[:n])
		if err != nil {
			return
		}
		if got := req.Append(nil); !bytes.Equal(got, raw[:len(hb)+n]) {
			t.Fatalf("round trip\n%x\nwant\n%x", got, raw[:len(hb)+n])
		}
		if req.Name.String() == "" || strings.ContainsRune(req.Name.String(), 0) {
			t.Fatalf("accepted name %q", req.Name.String())
		}
	})
}

// FuzzDecodeResponse does the same for the client's decoder.
func FuzzDecodeResponse(f *testing.F) {
	for _, raw := range goldenLines(f, "testdata/responses.txt") {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var hb [frame.ResponseHeaderSize]byte
		if copy(hb[:], raw) < len(hb) {
			return
		}
		h, err := ParseResponseHeader(&hb)
		if err != nil || len(raw) < len(hb)+int(h.Size) {
			return
		}
		resp, err := ParseResponseBody(h, raw[len(hb):len(hb)+int(h.Size)])
		if err != nil {
			t.Fatalf("header accepted, body refused: %v", err)
		}
		if n, _ := responseSize(h.Code); int(h.Size) != n {
			if !anyPayload(h.Code) {
				t.Fatalf("%s with %d bytes accepted", h.Code, h.Size)
			}
			return // a refusal with a payload: taken, not reproduced
		}
		if got := resp.Append(nil); !bytes.Equal(got, raw[:len(hb)+int(h.Size)]) {
			t.Fatalf("round trip\n%x\nwant\n%x", got, raw[:len(hb)+int(h.Size)])
		}
	})
}

// TestRefusalsWithPayload: 2101 and 2107 are taken with a payload (some
// servers send the client ID or a message in them); any other code with a
// payload size not its own is still malformed.
func TestRefusalsWithPayload(t *testing.T) {
	for _, tt := range []struct {
		code frame.Code
		size uint32
		ok   bool
	}{
		{frame.CodeError, frame.IDSize, true},
		{frame.CodeNameTaken, 5, true},
		{frame.CodeError, FileReceivedSize, true},
		{frame.CodeError, FileReceivedSize + 1, false},
		{frame.CodeRegistered, frame.IDSize + 1, false},
		{frame.CodeThanks, 0, false},
	} {
		var hb [frame.ResponseHeaderSize]byte
		(&frame.Response{Version: frame.VersionClassic, Code: tt.code, Size: tt.size}).Put(&hb)
		h, err := ParseResponseHeader(&hb)
		if (err == nil) != tt.ok {
			t.Errorf("%s with %d bytes: %v, want ok=%v", tt.code, tt.size, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		if r, err := ParseResponseBody(h, make([]byte, tt.size)); err != nil || r.Code != tt.code {
			t.Errorf("%s with %d bytes: body %+v, %v", tt.code, tt.size, r, err)
		}
	}
}
