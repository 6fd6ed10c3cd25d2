package link

import (
	"bytes"
	"math"
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

// clmul multiplies polynomials over GF(2) of degree below 64: the
// product's high and low 64 coefficients.
func clmul(a, b uint64) (hi, lo uint64) {
	for i := range 64 {
		if b>>i&1 != 0 {
			lo ^= a << i
			if i > 0 {
				hi ^= a >> (64 - i)
			}
		}
	}
	return hi, lo
}

// TestFECGenerator derives g(x) = m1·m3·m5·m7 and compares it with the
// constant the encoder uses: the coefficients below x^64, whose own is 1.
func TestFECGenerator(t *testing.T) {
	gfOnce.Do(gfTables)
	var m [4]uint64
	for i, j := range []int{1, 3, 5, 7} {
		if m[i] = minimalPoly(t, j); m[i]>>16 != 1 {
			t.Fatalf("m%d(x) = %#x has not degree 16", j, m[i])
		}
	}
	_, m13 := clmul(m[0], m[1])
	_, m57 := clmul(m[2], m[3])
	hi, g := clmul(m13, m57) // degrees 32 and 32
	if hi != 1 {
		t.Fatalf("g(x) = %#x·x^64 + %#x has not degree 64", hi, g)
	}
	if g != fecGenerator {
		t.Fatalf("g(x) = x^64 + %#x, fecGenerator = %#x", g, uint64(fecGenerator))
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

// TestFECBeyondT checks that five or more flipped bits are never taken for
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
		for range fecT + 1 + rng.IntN(4) {
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
		t.Fatalf("gave up on only %d of 200 words with 5-8 errors", gaveUp)
	}
}

func BenchmarkFECEncode(b *testing.B) {
	msg := make([]byte, MaxFrame-fecParity)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		fecEncode(msg)
	}
}

func BenchmarkFECCorrect4(b *testing.B) {
	msg := make([]byte, MaxFrame-fecParity)
	p := fecEncode(msg)
	w := append(msg, p[:]...)
	w[10] ^= 1
	w[2000] ^= 4
	w[4000] ^= 0x80
	w[8000] ^= 0x10
	var pos [fecT]int
	for b.Loop() {
		if fecLocate(w, &pos) != 4 {
			b.Fatal("not located")
		}
	}
}

// fecGoodput is what a frame of payload n carries at bit error rate ber
// with parity: n/(n+h) × P(at most fecT flipped bits in the frame).
func fecGoodput(n int, ber float64) float64 {
	const h = Overhead + FECSize
	l := 8 * float64(n+h) * ber
	term, ok := 1.0, 1.0
	for k := 1; k <= fecT; k++ {
		term *= l / float64(k)
		ok += term
	}
	return float64(n) / float64(n+h) * ok * math.Exp(-l)
}

// TestFECSizes derives the rates of fecRates, where each size of fecSizes
// is as good as the next, and checks that the sizer's choice is within 2%
// of the best payload at every rate from 1e-8 to 1e-2.
func TestFECSizes(t *testing.T) {
	if len(fecSizes) != len(fecRates) || fecSizes[0] != MaxLongPayload {
		t.Fatal("tables of different lengths, or not from MaxLongPayload")
	}
	for i := range fecRates {
		next := sizerMin
		if i+1 < len(fecSizes) {
			next = int(fecSizes[i+1])
		}
		lo, hi := 1e-9, 1e-1
		for range 100 {
			mid := math.Sqrt(lo * hi)
			if fecGoodput(int(fecSizes[i]), mid) >= fecGoodput(next, mid) {
				lo = mid
			} else {
				hi = mid
			}
		}
		if want := math.Round(lo * 1e7); math.Abs(want-float64(fecRates[i])) > 0.005*want+1 {
			t.Errorf("fecRates[%d] = %d, the sizes %d and %d cross at %.0f", i, fecRates[i], fecSizes[i], next, want)
		}
	}
	for i := range 300 {
		ber := math.Pow(10, -8+6*float64(i)/300)
		z := sizer{max: MaxLongPayload, min: sizerMin, h: Overhead + FECSize, bytes: 1e9, flips: 8e9 * ber} // the prior negligible
		got := z.fecOptimum()
		best := 0.0
		for n := sizerMin; n <= MaxLongPayload; n += 4 {
			best = max(best, fecGoodput(n, ber))
		}
		if g := fecGoodput(got, ber); g < 0.98*best {
			t.Errorf("BER %.2g: payload %d carries %.4f, the best %.4f", ber, got, g, best)
		}
	}
}
