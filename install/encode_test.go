package install

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// The vectors of testdata/encoding.txt, written by an independent
// implementation, encode and decode byte for byte.
func TestEncodingVectors(t *testing.T) {
	f, err := os.Open("testdata/encoding.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		h, text, ok := strings.Cut(l, " ")
		if !ok {
			t.Fatalf("bad vector line %q", l)
		}
		h, text = strings.TrimPrefix(h, "-"), strings.ReplaceAll(strings.TrimPrefix(text, "-"), `\n`, "\n")
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(encode(nil, b)); got != text {
			t.Errorf("encode(%x) = %q, want %q", b, got, text)
		}
		if got := decode([]byte(text)); !bytes.Equal(got, b) {
			t.Errorf("decode(%q) = %x, want %x", text, got, b)
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d vectors", n)
	}
}

// Every length round-trips, encodedLen is exact, lines are at most
// lineGroups groups, and only the alphabet appears after the prefix.
func TestEncodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lengths := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, lineBytes - 1, lineBytes, lineBytes + 1, lineBytes + 3, 3*lineBytes + 2, maxPiece}
	for _, n := range lengths {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		text := encode(nil, b)
		if len(text) != encodedLen(n) {
			t.Errorf("%d bytes: %d characters, encodedLen says %d", n, len(text), encodedLen(n))
		}
		if got := decode(text); !bytes.Equal(got, b) {
			t.Fatalf("%d bytes: round trip differs", n)
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
			if n == 0 {
				break
			}
			if l[0] != linePrefix || len(l) > 1+5*lineGroups {
				t.Fatalf("%d bytes: line %q", n, clip(l, 40))
			}
			if i := strings.IndexFunc(l[1:], func(r rune) bool { return !strings.ContainsRune(alphabet, r) }); i >= 0 {
				t.Fatalf("%d bytes: %q outside the alphabet", n, l[1+i])
			}
		}
	}
}

// The alphabet: 85 distinct printable characters, none that a shell or
// awk acts on in quotes, nor the end line's "#" nor the reply's "=".
func TestAlphabet(t *testing.T) {
	if len(alphabet) != 85 {
		t.Fatalf("%d characters", len(alphabet))
	}
	seen := map[rune]bool{}
	for _, r := range alphabet {
		if seen[r] || r <= ' ' || r > '~' || strings.ContainsRune("\"#$%'=\\`~", r) {
			t.Errorf("character %q", r)
		}
		seen[r] = true
	}
	// Single bit flips of the prefix make no end of file, line end or line
	// kill at the start of a line (^D, ^J, ^M, ^U).
	for bit := range 8 {
		switch c := linePrefix ^ 1<<bit; c {
		case 4, '\n', '\r', 0x15:
			t.Errorf("prefix %q flips into %q", linePrefix, c)
		}
	}
}

// Base-85 costs 1.25 characters a byte, plus 2 a line.
func TestEncodingDensity(t *testing.T) {
	n := 1 << 20
	if r := float64(encodedLen(n)) / float64(n); r > 1.26 {
		t.Errorf("%.3f characters a byte", r)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(":01fI.\n"))
	f.Add([]byte("zz"))
	f.Fuzz(func(t *testing.T, text []byte) {
		b := decode(text)
		if !bytes.Equal(decode(encode(nil, b)), b) {
			t.Fatal("round trip of a decoded text differs")
		}
	})
}
