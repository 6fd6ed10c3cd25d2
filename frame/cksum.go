package frame

import "encoding/binary"

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
}

// NewCksum returns a Cksum ready for writing.
func NewCksum() *Cksum { return new(Cksum) }

// Write adds p to the checksum. It never fails and never allocates.
func (c *Cksum) Write(p []byte) (int, error) {
	c.crc = cksumUpdate(c.crc, p)
	c.size += int64(len(p))
	return len(p), nil
}

// Size is the number of bytes written so far.
func (c *Cksum) Size() int64 { return c.size }

// Reset starts over.
func (c *Cksum) Reset() { *c = Cksum{} }

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

func cksumUpdate(crc uint32, p []byte) uint32 {
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
