package frame

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

type vector struct {
	kind    string
	raw     []byte
	id      ClientID
	version uint8
	code    Code
	size    uint32
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/headers.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 6 {
			t.Fatalf("bad vector line %q", line)
		}
		v := vector{kind: fs[0], raw: mustHex(t, fs[1])}
		if fs[2] != "-" {
			copy(v.id[:], mustHex(t, fs[2]))
		}
		v.version = uint8(mustUint(t, fs[3]))
		v.code = Code(mustUint(t, fs[4]))
		v.size = uint32(mustUint(t, fs[5]))
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	return vs
}

func mustHex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustUint(t *testing.T, s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHeaderVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.kind+"-"+v.code.String(), func(t *testing.T) {
			switch v.kind {
			case "request":
				var b [RequestHeaderSize]byte
				if copy(b[:], v.raw) != RequestHeaderSize || len(v.raw) != RequestHeaderSize {
					t.Fatalf("vector is %d bytes", len(v.raw))
				}
				h, err := ParseRequest(&b, MaxPayload)
				if err != nil {
					t.Fatal(err)
				}
				want := Request{v.id, v.version, v.code, v.size}
				if h != want {
					t.Fatalf("parsed %+v, want %+v", h, want)
				}
				var out [RequestHeaderSize]byte
				want.Put(&out)
				if out != b {
					t.Fatalf("encoded %x, want %x", out, b)
				}
			case "response":
				var b [ResponseHeaderSize]byte
				if copy(b[:], v.raw) != ResponseHeaderSize || len(v.raw) != ResponseHeaderSize {
					t.Fatalf("vector is %d bytes", len(v.raw))
				}
				h, err := ParseResponse(&b, MaxPayload)
				if err != nil {
					t.Fatal(err)
				}
				want := Response{v.version, v.code, v.size}
				if h != want {
					t.Fatalf("parsed %+v, want %+v", h, want)
				}
				var out [ResponseHeaderSize]byte
				want.Put(&out)
				if out != b {
					t.Fatalf("encoded %x, want %x", out, b)
				}
			default:
				t.Fatalf("unknown kind %q", v.kind)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		version uint8
		size    uint32
		max     uint32
		want    error
	}{
		{"version 0", 0, 10, 100, ErrVersion},
		{"version 2", 2, 10, 100, ErrVersion},
		{"version 5", 5, 10, 100, ErrVersion},
		{"size over limit", VersionSecure, 101, 100, ErrTooLarge},
		{"size 4 GiB", VersionClassic, 0xffffffff, MaxPayload, ErrTooLarge},
		{"size at limit", VersionSecure, 100, 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rb [RequestHeaderSize]byte
			(&Request{Version: tt.version, Code: CodeChunk, Size: tt.size}).Put(&rb)
			if _, err := ParseRequest(&rb, tt.max); !errors.Is(err, tt.want) {
				t.Errorf("request: got %v, want %v", err, tt.want)
			}
			var sb [ResponseHeaderSize]byte
			(&Response{Version: tt.version, Code: CodeThanks, Size: tt.size}).Put(&sb)
			if _, err := ParseResponse(&sb, tt.max); !errors.Is(err, tt.want) {
				t.Errorf("response: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHeaderAllocs(t *testing.T) {
	var rb [RequestHeaderSize]byte
	var sb [ResponseHeaderSize]byte
	req := Request{ClientID: ClientID{1, 2, 3}, Version: VersionSecure, Code: CodeChunk, Size: 65536}
	resp := Response{Version: VersionSecure, Code: CodeThanks, Size: 16}
	n := testing.AllocsPerRun(100, func() {
		req.Put(&rb)
		if _, err := ParseRequest(&rb, MaxPayload); err != nil {
			t.Fatal(err)
		}
		resp.Put(&sb)
		if _, err := ParseResponse(&sb, MaxPayload); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("header encode+decode allocates %v times, want 0", n)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add(bytes.Repeat([]byte{4}, RequestHeaderSize), uint32(MaxPayload))
	f.Add(make([]byte, RequestHeaderSize), uint32(0))
	f.Fuzz(func(t *testing.T, data []byte, max uint32) {
		var b [RequestHeaderSize]byte
		if copy(b[:], data) < RequestHeaderSize {
			return
		}
		h, err := ParseRequest(&b, max)
		if err == nil && (h.Size > max || (h.Version != 3 && h.Version != 4)) {
			t.Fatalf("accepted %+v with max %d", h, max)
		}
		var out [RequestHeaderSize]byte
		h.Put(&out)
		if out != b {
			t.Fatalf("round trip %x != %x", out, b)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add(bytes.Repeat([]byte{3}, ResponseHeaderSize), uint32(MaxPayload))
	f.Fuzz(func(t *testing.T, data []byte, max uint32) {
		var b [ResponseHeaderSize]byte
		if copy(b[:], data) < ResponseHeaderSize {
			return
		}
		h, err := ParseResponse(&b, max)
		if err == nil && (h.Size > max || (h.Version != 3 && h.Version != 4)) {
			t.Fatalf("accepted %+v with max %d", h, max)
		}
		var out [ResponseHeaderSize]byte
		h.Put(&out)
		if out != b {
			t.Fatalf("round trip %x != %x", out, b)
		}
	})
}
