package link

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestGFPrimitive checks that 0x1100B generates the whole field: α has
// order 65535, so every nonzero element has a logarithm.
func TestGFPrimitive(t *testing.T) {
	gfOnce.Do(gfTables)
	seen := make([]bool, fecGFOrder+1)
	for i := range fecGFOrder {
		x := gfExp[i]
		if x == 0 || seen[x] {
			t.Fatalf("α^%d = %#x repeats: the polynomial is not primitive", i, x)
		}
		seen[x] = true
		if int(gfLog[x]) != i {
			t.Fatalf("log(α^%d) = %d", i, gfLog[x])
		}
	}
}

// minimalPoly returns the minimal polynomial over GF(2) of α^j as a bit
// polynomial: the product of (x + α^(j·2^k)) over the conjugates.
func minimalPoly(t *testing.T, j int) uint64 {
	p := []uint16{1} // coefficients in GF(2^16), p[i] of x^i
	e := j % fecGFOrder
	for {
		root := gfExp[e]
		q := make([]uint16, len(p)+1)
		for i, c := range p {
			q[i+1] ^= c
			q[i] ^= gfMul(c, root)
		}
		p = q
		e = 2 * e % fecGFOrder
		if e == j%fecGFOrder {
			break
		}
	}
	var m uint64
	for i, c := range p {
		if c > 1 {
			t.Fatalf("minimal polynomial of α^%d has coefficient %#x", j, c)
		}
		m |= uint64(c) << i
	}
	return m
}

func clmul(a, b uint64) (r uint64) {
	for i := range 64 {
		if b>>i&1 != 0 {
			r ^= a << i
		}
	}
	return r
}

// TestFECGenerator derives g(x) = m1·m3·m5 and compares it with the
// constant the encoder uses.
func TestFECGenerator(t *testing.T) {
	gfOnce.Do(gfTables)
	g := clmul(clmul(minimalPoly(t, 1), minimalPoly(t, 3)), minimalPoly(t, 5))
	if g != fecGenerator {
		t.Fatalf("g(x) = %#x, fecGenerator = %#x", g, uint64(fecGenerator))
	}
	if g>>48 != 1 {
		t.Fatalf("g(x) = %#x has not degree 48", g)
	}
}

// TestFECCorrects flips up to fecT random bits anywhere in frames of every
// size and checks that the decoder finds exactly them.
func TestFECCorrects(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 60, 1000, MaxFrame - fecParity} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		p := fecEncode(msg)
		w := append(append([]byte(nil), msg...), p[:]...)
		var pos [fecT]int
		if got := fecLocate(w, &pos); got != 0 {
			t.Fatalf("n=%d: a codeword has %d errors", n, got)
		}
		for flips := 1; flips <= fecT; flips++ {
			for range 20 {
				bad := bytes.Clone(w)
				want := map[int]bool{}
				for len(want) < flips {
					want[rng.IntN(8*len(w))] = true
				}
				for b := range want {
					bad[b/8] ^= 0x80 >> (b % 8)
				}
				got := fecLocate(bad, &pos)
				if got != flips {
					t.Fatalf("n=%d, %d flips at %v: located %d", n, flips, want, got)
				}
				for _, b := range pos[:got] {
					if !want[b] {
						t.Fatalf("n=%d: located bit %d, flipped %v", n, b, want)
					}
				}
				for _, b := range pos[:got] {
					bad[b/8] ^= 0x80 >> (b % 8)
				}
				if !bytes.Equal(bad, w) {
					t.Fatalf("n=%d, %d flips: not repaired", n, flips)
				}
			}
		}
	}
}

// TestFECBeyondT checks that four or more flipped bits are never taken for
// a codeword: the decoder either gives up or proposes a correction (which
// the CRC-32C then refuses), and never reports 0 errors.
func TestFECBeyondT(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	msg := make([]byte, 4000)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	p := fecEncode(msg)
	w := append(msg, p[:]...)
	gaveUp := 0
	for range 200 {
		bad := bytes.Clone(w)
		for range 4 + rng.IntN(4) {
			b := rng.IntN(8 * len(w))
			bad[b/8] ^= 0x80 >> (b % 8)
		}
		if bytes.Equal(bad, w) {
			continue
		}
		var pos [fecT]int
		switch n := fecLocate(bad, &pos); {
		case n == 0:
			t.Fatal("a corrupted word passed as a codeword")
		case n < 0:
			gaveUp++
		}
	}
	if gaveUp < 150 {
		t.Fatalf("gave up on only %d of 200 words with 4-7 errors", gaveUp)
	}
}

func BenchmarkFECEncode(b *testing.B) {
	msg := make([]byte, MaxFrame-fecParity)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		fecEncode(msg)
	}
}

func BenchmarkFECCorrect3(b *testing.B) {
	msg := make([]byte, MaxFrame-fecParity)
	p := fecEncode(msg)
	w := append(msg, p[:]...)
	w[10] ^= 1
	w[2000] ^= 4
	w[4000] ^= 0x80
	var pos [fecT]int
	for b.Loop() {
		if fecLocate(w, &pos) != 3 {
			b.Fatal("not located")
		}
	}
}
