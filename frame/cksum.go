package frame

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"

	"golang.org/x/sys/cpu"
)

// Cksum computes the checksum of POSIX cksum(1): CRC-32 with polynomial
// 0x04C11DB7, not reflected, initial value 0, over the data followed by its
// length in as few bytes as needed, least significant byte first, then
// complemented. "123456789" gives 930766865 (0x377A6011), the empty input
// 4294967295. It is the checksum of the seed protocol's 2103 response, kept
// for compatibility; integrity in version 4 comes from the AEAD.
//
// The zero value is ready to use. Not safe for concurrent use.
type Cksum struct {
	crc  uint32
	size int64
	blk  [cksumBlock]byte // scratch of the bit-reversal path, here so that it does not escape per call
}

// NewCksum returns a Cksum ready for writing.
func NewCksum() *Cksum { return new(Cksum) }

// Write adds p to the checksum. It never fails and never allocates.
func (c *Cksum) Write(p []byte) (int, error) {
	if cksumHardware && len(p) >= cksumReflectMin {
		c.crc = cksumWide(c.crc, p, &c.blk)
	} else {
		c.crc = cksumSliced(c.crc, p)
	}
	c.size += int64(len(p))
	return len(p), nil
}

// Size is the number of bytes written so far.
func (c *Cksum) Size() int64 { return c.size }

// Reset starts over.
func (c *Cksum) Reset() { c.crc, c.size = 0, 0 }

// Sum32 returns the cksum(1) value of everything written so far. The state
// is not changed, so writing may go on.
func (c *Cksum) Sum32() uint32 {
	crc := c.crc
	for n := uint64(c.size); n != 0; n >>= 8 {
		crc = crc<<8 ^ cksumTable[0][byte(crc>>24)^byte(n)]
	}
	return ^crc
}

// cksumTable holds the slicing-by-8 tables of the MSB-first CRC.
var cksumTable = func() (t [8][256]uint32) {
	const poly = 0x04C11DB7
	for i := range 256 {
		crc := uint32(i) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ poly
			} else {
				crc <<= 1
			}
		}
		t[0][i] = crc
	}
	for k := 1; k < 8; k++ {
		for i := range 256 {
			prev := t[k-1][i]
			t[k][i] = prev<<8 ^ t[0][prev>>24]
		}
	}
	return t
}()

// cksumHardware reports whether hash/crc32 computes the IEEE CRC with CPU
// instructions here (x86 PCLMULQDQ, ARMv8 CRC32): then the bit-reversal
// path below is about three times faster than slicing-by-8.
var cksumHardware = (cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41) || cpu.ARM64.HasCRC32

// Sizes of the bit-reversal path.
const (
	cksumReflectMin = 64   // shortest input worth it
	cksumBlock      = 4096 // bytes reversed at a time: in L1, and long enough to amortise a crc32 call
)

func cksumSliced(crc uint32, p []byte) uint32 {
	t := &cksumTable
	for len(p) >= 8 {
		one := binary.BigEndian.Uint32(p) ^ crc
		two := binary.BigEndian.Uint32(p[4:])
		crc = t[7][one>>24] ^ t[6][byte(one>>16)] ^ t[5][byte(one>>8)] ^ t[4][byte(one)] ^
			t[3][two>>24] ^ t[2][byte(two>>16)] ^ t[1][byte(two>>8)] ^ t[0][byte(two)]
		p = p[8:]
	}
	for _, b := range p {
		crc = crc<<8 ^ t[0][byte(crc>>24)^b]
	}
	return crc
}

// cksumReflected computes the MSB-first CRC with the hardware-accelerated
// IEEE CRC of hash/crc32, which is the same polynomial processed LSB first:
// the reflected CRC of the data with the bits of every byte reversed is the
// bit reversal of the MSB-first CRC. crc32.Update also complements its
// state on entry and exit, which the outer complements undo. The data is
// reversed a block at a time into blk.
func cksumReflected(crc uint32, p []byte, blk *[cksumBlock]byte) uint32 {
	r := ^bits.Reverse32(crc)
	for len(p) > 0 {
		n := min(len(p), len(blk))
		reverseBits(blk[:n], p[:n])
		r = crc32.Update(r, crc32.IEEETable, blk[:n])
		p = p[n:]
	}
	return bits.Reverse32(^r)
}

// reverseBitsGeneric is reverseBits in Go, for CPUs without an assembly
// version (cksum_amd64.s) and for the tail of a block. Two words a round
// keep both of the CPU's shift units busy.
func reverseBitsGeneric(dst, src []byte) {
	const m1, m2, m4 = 0x5555555555555555, 0x3333333333333333, 0x0f0f0f0f0f0f0f0f
	dst = dst[:len(src)]
	for len(src) >= 16 {
		x := binary.LittleEndian.Uint64(src)
		y := binary.LittleEndian.Uint64(src[8:])
		x = x>>1&m1 | x&m1<<1
		y = y>>1&m1 | y&m1<<1
		x = x>>2&m2 | x&m2<<2
		y = y>>2&m2 | y&m2<<2
		x = x>>4&m4 | x&m4<<4
		y = y>>4&m4 | y&m4<<4
		binary.LittleEndian.PutUint64(dst, x)
		binary.LittleEndian.PutUint64(dst[8:], y)
		src, dst = src[16:], dst[16:]
	}
	for i, b := range src {
		dst[i] = bits.Reverse8(b)
	}
}
