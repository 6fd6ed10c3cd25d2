package frame

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"math/bits"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// cksumSlow is the bytewise definition of cksum(1), the reference the
// sliced implementation is checked against.
func cksumSlow(p []byte) uint32 {
	var crc uint32
	step := func(b byte) {
		crc ^= uint32(b) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	for _, b := range p {
		step(b)
	}
	for n := len(p); n != 0; n >>= 8 {
		step(byte(n))
	}
	return ^crc
}

func TestCksumVectors(t *testing.T) {
	f, err := os.Open("testdata/cksum.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	count := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		in, wantStr, _ := strings.Cut(line, " ")
		if i := strings.LastIndexByte(line, ' '); i >= 0 {
			in, wantStr = line[:i], line[i+1:]
		}
		want, err := strconv.ParseUint(wantStr, 10, 32)
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		data := vectorInput(t, in)
		c := NewCksum()
		c.Write(data)
		if got := c.Sum32(); got != uint32(want) {
			t.Errorf("%s: got %d, want %d", in, got, want)
		}
		count++
	}
	if count < 5 {
		t.Fatalf("only %d vectors", count)
	}
}

func vectorInput(t *testing.T, in string) []byte {
	if s, ok := strings.CutPrefix(in, "text:"); ok {
		return []byte(s)
	}
	parts := strings.Split(in, ":")
	if len(parts) != 3 || parts[0] != "repeat" {
		t.Fatalf("bad input %q", in)
	}
	n, err := strconv.Atoi(parts[1])
	b, err2 := hex.DecodeString(parts[2])
	if err != nil || err2 != nil || len(b) != 1 {
		t.Fatalf("bad input %q", in)
	}
	return bytes.Repeat(b, n)
}

// TestCksumSplitWrites checks that any split of the input into writes, and
// any length, gives the bytewise reference value.
func TestCksumSplitWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		data := make([]byte, r.IntN(3000))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		c := NewCksum()
		for rest := data; len(rest) > 0; {
			n := r.IntN(len(rest) + 1)
			c.Write(rest[:n])
			rest = rest[n:]
		}
		if got, want := c.Sum32(), cksumSlow(data); got != want {
			t.Fatalf("len %d: got %08x, want %08x", len(data), got, want)
		}
		if c.Size() != int64(len(data)) {
			t.Fatalf("size %d, want %d", c.Size(), len(data))
		}
	}
}

func TestCksumAllocs(t *testing.T) {
	buf := make([]byte, 64<<10)
	c := NewCksum()
	if n := testing.AllocsPerRun(50, func() { c.Write(buf); _ = c.Sum32() }); n != 0 {
		t.Errorf("cksum allocates %v times per write, want 0", n)
	}
}

func BenchmarkCksum64K(b *testing.B) {
	buf := make([]byte, 64<<10)
	c := NewCksum()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		c.Write(buf)
	}
}

// TestCksumPaths checks that the sliced, the bit-reversal and the
// carry-less multiplication (cksumWide on amd64) paths agree for every
// length around their block boundaries, from any running state.
func TestCksumPaths(t *testing.T) {
	data := make([]byte, 3*4096+100)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	lengths := []int{0, 1, 15, 16, 17, 63, 4095, 4096, 4097, 8192, len(data)}
	for n := 64; n <= 400; n++ { // every tail and fold count of the carry-less path
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		for _, crc := range []uint32{0, 0xFFFFFFFF, 0x12345678} {
			if a, b := cksumSliced(crc, data[:n]), cksumReflected(crc, data[:n], new([cksumBlock]byte)); a != b {
				t.Errorf("len %d from %08x: sliced %08x, reflected %08x", n, crc, a, b)
			}
			if n >= cksumReflectMin {
				if a, b := cksumSliced(crc, data[:n]), cksumWide(crc, data[:n], new([cksumBlock]byte)); a != b {
					t.Errorf("len %d from %08x: sliced %08x, wide %08x", n, crc, a, b)
				}
			}
		}
	}
}

func BenchmarkCksumSliced64K(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	var crc uint32
	for b.Loop() {
		crc = cksumSliced(crc, buf)
	}
}

// TestReverseBits checks reverseBits (assembly where there is one) against
// math/bits for every length up to a few blocks and every byte value.
func TestReverseBits(t *testing.T) {
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i * 37)
	}
	for name, reverse := range map[string]func(dst, src []byte){"reverseBits": reverseBits, "generic": reverseBitsGeneric} {
		for n := range len(src) + 1 {
			dst := make([]byte, n)
			reverse(dst, src[:n])
			for i, b := range dst {
				if b != bits.Reverse8(src[i]) {
					t.Fatalf("%s: len %d: byte %d of %02x reversed to %02x", name, n, i, src[i], b)
				}
			}
		}
	}
}
