//go:build !amd64

package frame

// reverseBits stores in dst the bytes of src with the order of the bits in
// each byte reversed; dst is at least as long as src.
func reverseBits(dst, src []byte) { reverseBitsGeneric(dst, src) }

// cksumWide is the MSB-first CRC of an input of at least cksumReflectMin
// bytes: by bit reversal (no carry-less multiplication path here).
func cksumWide(crc uint32, p []byte, blk *[cksumBlock]byte) uint32 {
	return cksumReflected(crc, p, blk)
}
