package frame

import (
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

// reverseBitsSSSE3 reverses the bits of each byte of src[:len(src)&^15]
// into dst, 16 bytes at a time with PSHUFB. dst is at least as long as src.
//
//go:noescape
func reverseBitsSSSE3(dst, src []byte)

var haveSSSE3 = cpu.X86.HasSSSE3

// foldCLMUL folds p, whose length is a multiple of 64 and at least 64,
// into a 128-bit polynomial hi·x^64 + lo congruent modulo the cksum
// polynomial to p with crc added to its first 32 bits (cksum_amd64.s).
//
//go:noescape
func foldCLMUL(crc uint32, p []byte) (hi, lo uint64)

// haveCLMUL: foldCLMUL runs here.
var haveCLMUL = cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSSE3

// cksumWide is the MSB-first CRC of an input of at least cksumReflectMin
// bytes: by carry-less multiplication where the CPU has it, in one pass
// over the data (about twice the speed of the bit-reversal path, which
// makes two), else by bit reversal.
func cksumWide(crc uint32, p []byte, blk *[cksumBlock]byte) uint32 {
	if !haveCLMUL || len(p) < 64 {
		return cksumReflected(crc, p, blk)
	}
	return cksumCLMUL(crc, p)
}

// cksumCLMUL folds the 64-byte blocks of p, then finishes with the table:
// the CRC from 0 of the 16-byte fold is the CRC of those blocks from crc
// (they are congruent), and the tail of fewer than 64 bytes follows it.
func cksumCLMUL(crc uint32, p []byte) uint32 {
	n := len(p) &^ 63
	hi, lo := foldCLMUL(crc, p[:n])
	var t [16]byte
	binary.BigEndian.PutUint64(t[:8], hi)
	binary.BigEndian.PutUint64(t[8:], lo)
	return cksumSliced(cksumSliced(0, t[:]), p[n:])
}

// reverseBits stores in dst the bytes of src with the order of the bits in
// each byte reversed; dst is at least as long as src.
func reverseBits(dst, src []byte) {
	if !haveSSSE3 {
		reverseBitsGeneric(dst, src)
		return
	}
	dst = dst[:len(src)]
	n := len(src) &^ 15
	reverseBitsSSSE3(dst[:n], src[:n])
	reverseBitsGeneric(dst[n:], src[n:])
}
