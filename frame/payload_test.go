package frame

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestNameField(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"report.txt", true},
		{"ünïcode ok", true},
		{strings.Repeat("a", 254), true},
		{strings.Repeat("a", 255), false}, // no room for the NUL
		{"", false},
		{"tab\there", false},
		{"nul\x00inside", false},
		{"del\x7f", false},
		{"bad utf8 \xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, NameSize)
			err := PutName(b, tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("PutName: %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrName) {
					t.Fatalf("error %v is not ErrName", err)
				}
				return
			}
			got, err := ParseName(b)
			if err != nil || got != tt.name {
				t.Fatalf("ParseName = %q, %v", got, err)
			}
		})
	}
}

func TestParseNameNeedsNUL(t *testing.T) {
	if _, err := ParseName(bytes.Repeat([]byte{'a'}, NameSize)); !errors.Is(err, ErrName) {
		t.Fatalf("a name field without NUL parsed: %v", err)
	}
	// garbage after the NUL is ignored, as the deployed clients need
	b := make([]byte, NameSize)
	copy(b, "ok\x00garbage")
	if s, err := ParseName(b); err != nil || s != "ok" {
		t.Fatalf("got %q, %v", s, err)
	}
}

func TestPayloadRoundTrips(t *testing.T) {
	r := Register{Name: "pi", PublicKey: [32]byte{1, 2}, Signature: [64]byte{3}}
	b, err := r.Marshal(false)
	if err != nil || len(b) != RegisterSize {
		t.Fatal(err, len(b))
	}
	if got, err := ParseRegister(b, false); err != nil || got != r {
		t.Fatalf("register: %+v %v", got, err)
	}
	rc := Reconnect{Name: "pi", Signature: [64]byte{9}}
	b, _ = rc.Marshal(false)
	if got, err := ParseReconnect(b, false); err != nil || got != rc || len(b) != ReconnectSize {
		t.Fatalf("reconnect: %+v %v", got, err)
	}
	sf := SendFile{Size: 1 << 40, Name: "big.img"}
	b, _ = sf.Marshal()
	if got, err := ParseSendFile(b); err != nil || got != sf || len(b) != SendFileSize {
		t.Fatalf("send-file: %+v %v", got, err)
	}
	fr := FileReceived{ClientID: ClientID{5}, Size: 12, Name: "x", Cksum: 930766865}
	b, _ = fr.Marshal()
	if got, err := ParseFileReceived(b); err != nil || got != fr || len(b) != FileReceivedSize {
		t.Fatalf("file-received: %+v %v", got, err)
	}
	for name, parse := range map[string]func([]byte) error{
		"register":      func(p []byte) error { _, err := ParseRegister(p, false); return err },
		"reconnect":     func(p []byte) error { _, err := ParseReconnect(p, false); return err },
		"send-file":     func(p []byte) error { _, err := ParseSendFile(p); return err },
		"file-received": func(p []byte) error { _, err := ParseFileReceived(p); return err },
	} {
		if parse(make([]byte, 10)) == nil {
			t.Errorf("%s: a 10-byte payload parsed", name)
		}
	}
}

// TestShortAuthPayloads: with feature short, register and reconnect carry
// the name last without its NUL padding (PROTOCOL.md §4.6), the bytes of
// the vectors below; a name the name field refuses is refused here too.
func TestShortAuthPayloads(t *testing.T) {
	r := Register{Name: "pi", PublicKey: [32]byte{1, 2}, Signature: [64]byte{3}}
	b, err := r.Marshal(true)
	want := "0102" + strings.Repeat("00", 30) + "03" + strings.Repeat("00", 63) + "7069"
	if err != nil || hex.EncodeToString(b) != want {
		t.Fatalf("short register: %x %v, want %s", b, err, want)
	}
	if got, err := ParseRegister(b, true); err != nil || got != r {
		t.Fatalf("short register: %+v %v", got, err)
	}
	rc := Reconnect{Name: "pi", Signature: [64]byte{9}}
	b, _ = rc.Marshal(true)
	if want := "09" + strings.Repeat("00", 63) + "7069"; hex.EncodeToString(b) != want {
		t.Fatalf("short reconnect: %x, want %s", b, want)
	}
	if got, err := ParseReconnect(b, true); err != nil || got != rc {
		t.Fatalf("short reconnect: %+v %v", got, err)
	}
	long, _ := rc.Marshal(false)
	sig := make([]byte, SignatureSize)
	for name, p := range map[string][]byte{
		"no name":          sig,
		"a NUL in it":      append(append([]byte{}, sig...), "p\x00i"...),
		"255 bytes":        append(append([]byte{}, sig...), strings.Repeat("n", NameSize)...),
		"the padded field": long,
	} {
		if _, err := ParseReconnect(p, true); err == nil {
			t.Errorf("short reconnect with %s parsed", name)
		}
	}
	if _, err := ParseReconnect(append(sig, strings.Repeat("n", NameSize-1)...), true); err != nil {
		t.Errorf("short reconnect with a 254-byte name: %v", err)
	}
	if _, err := (&Register{Name: "a\nb"}).Marshal(true); err == nil {
		t.Error("a name with a control character marshalled")
	}
}

func FuzzPayloads(f *testing.F) {
	sf := SendFile{Size: 7, Name: "a"}
	b, _ := sf.Marshal()
	f.Add(b)
	f.Fuzz(func(t *testing.T, p []byte) {
		if s, err := ParseSendFile(p); err == nil {
			out, err := s.Marshal()
			if err != nil || !bytes.Equal(out[:8], p[:8]) {
				t.Fatalf("round trip of %+v: %v", s, err)
			}
		}
		for _, short := range []bool{false, true} {
			if r, err := ParseRegister(p, short); err == nil {
				if out, err := r.Marshal(short); err != nil || (short && !bytes.Equal(out, p)) {
					t.Fatalf("register round trip of %x: %x %v", p, out, err)
				}
			}
			if r, err := ParseReconnect(p, short); err == nil {
				if out, err := r.Marshal(short); err != nil || (short && !bytes.Equal(out, p)) {
					t.Fatalf("reconnect round trip of %x: %x %v", p, out, err)
				}
			}
		}
		ParseFileReceived(p)
	})
}
