package link

// Forward error correction for keyed frames (docs/LINK.md section 1.1).
//
// A serial line at BER 1e-5 corrupts a third of all 4 KiB frames and half
// of all 8 KiB ones, nearly always in one to four bits; ARQ alone then
// resends that much of the data. Sessions that negotiate it append 8 bytes
// of parity of a shortened binary BCH code to every keyed frame: it
// corrects up to fecT flipped bits anywhere in the frame (header, payload,
// CRC-32C and parity), and lets DATA frames grow to MaxLongPayload. The
// code:
//
//	field      GF(2^16), primitive polynomial x^16+x^12+x^3+x+1 (0x1100B)
//	generator  g(x) = m1(x)·m3(x)·m5(x)·m7(x), degree 64: x^64 + fecGenerator
//	codeword   the frame's bytes, most significant bit first, then the
//	           parity: the remainder of frame(x)·x^64 modulo g(x), 8 bytes
//	           big-endian, so that the whole is a multiple of g(x)
//
// The receiver does no work on a frame whose CRC-32C passes. On a failure
// it computes the syndromes, finds the error locator (Berlekamp-Massey)
// and its roots (Chien search), flips those bits, and keeps the result
// only if the CRC-32C then passes: the CRC still guards against a wrong
// correction of five or more errors. No security rests on any of it; the
// crypt layer authenticates everything above the link.

import "sync"

const (
	fecParity    = 8 // parity bytes: 64 bits, 4 syndromes of 16 bits
	fecT         = 4 // bit errors corrected in a frame
	fecGFPoly    = 0x1100B
	fecGFOrder   = 65535                 // multiplicative order of the field
	fecGenerator = 0x1A1B_3E49_549C_8405 // g(x) - x^64, g = m1·m3·m5·m7 over GF(2); TestFECGenerator derives it
	fecMaxBits   = fecGFOrder            // longest codeword, bits
)

// fecTable[b] is b(x)·x^64 mod g(x): the byte-at-a-time remainder step.
var fecTable = func() (t [256]uint64) {
	for b := range t {
		r := uint64(b) << 56
		for range 8 {
			top := r >> 63
			r = r<<1 ^ -top&fecGenerator // x^64 = fecGenerator mod g(x)
		}
		t[b] = r
	}
	return t
}()

// fecRemainder returns the remainder of data(x)·x^64 modulo g(x), starting
// from remainder r.
func fecRemainder(r uint64, data []byte) uint64 {
	for _, b := range data {
		r = r<<8 ^ fecTable[byte(r>>56)^b]
	}
	return r
}

// fecEncode returns the parity of msg.
func fecEncode(msg []byte) (p [fecParity]byte) {
	r := fecRemainder(0, msg)
	for i := range p {
		p[i] = byte(r >> (56 - 8*i))
	}
	return p
}

// The log and antilog tables of GF(2^16), made on the first correction
// (384 KiB that a clean line never touches): gfOnce.Do(gfTables).
var (
	gfOnce sync.Once
	gfExp  [2 * fecGFOrder]uint16
	gfLog  [fecGFOrder + 1]uint16
)

func gfTables() {
	x := uint32(1)
	for i := range fecGFOrder {
		gfExp[i], gfExp[i+fecGFOrder] = uint16(x), uint16(x)
		gfLog[x] = uint16(i)
		x <<= 1
		if x&0x10000 != 0 {
			x ^= fecGFPoly
		}
	}
}

func gfMul(a, b uint16) uint16 {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// fecLocate finds the flipped bits of codeword w (a frame and its
// parity): it returns their bit offsets (bit 0 is the most significant
// bit of w[0]) in pos and how many there are, 0 if w is a codeword, or -1
// if more than fecT bits are wrong as far as the code can tell.
func fecLocate(w []byte, pos *[fecT]int) int {
	nbits := 8 * len(w)
	if nbits > fecMaxBits || len(w) < fecParity {
		return -1
	}
	r := fecRemainder(0, w) // w(x)·x^64 mod g(x)
	if r == 0 {
		return 0
	}
	gfOnce.Do(gfTables)
	var s [2*fecT + 1]uint16 // s[j] = w(α^j) = r(α^j)·α^(-64j)
	for j := 1; j <= 2*fecT; j++ {
		v := uint16(0)
		for i := 63; i >= 0; i-- {
			v = gfMul(v, gfExp[j])
			if r>>i&1 != 0 {
				v ^= 1
			}
		}
		s[j] = gfMul(v, gfExp[fecGFOrder-64*j])
	}
	// Berlekamp-Massey: the error locator σ(x) of the syndromes, of
	// degree l.
	var sigma, b [fecT + 2]uint16
	sigma[0], b[0] = 1, 1
	l, m, bd := 0, 1, uint16(1)
	for n := range 2 * fecT {
		d := s[n+1]
		for i := 1; i <= min(l, fecT+1); i++ {
			d ^= gfMul(sigma[i], s[n+1-i])
		}
		if d == 0 {
			m++
			continue
		}
		t := sigma
		f := gfMul(d, gfExp[fecGFOrder-int(gfLog[bd])])
		for i := 0; i+m < len(sigma); i++ {
			sigma[i+m] ^= gfMul(f, b[i])
		}
		if 2*l <= n {
			l, b, bd, m = n+1-l, t, d, 1
		} else {
			m++
		}
	}
	if l < 1 || l > fecT || sigma[fecT+1] != 0 {
		return -1 // more errors than the code can see
	}
	// Chien search: the roots α^(-e) of σ for bit degrees e < nbits, with
	// t[k] = σ_k·α^(-k·e); l distinct roots there, or the word is beyond
	// repair.
	t := sigma
	found := 0
	for e := range nbits {
		v := t[0]
		for k := 1; k <= fecT; k++ {
			v ^= t[k]
			t[k] = gfMul(t[k], gfExp[fecGFOrder-k])
		}
		if v == 0 {
			if found == fecT {
				return -1
			}
			pos[found] = nbits - 1 - e
			found++
		}
	}
	if found != l {
		return -1
	}
	return l
}
