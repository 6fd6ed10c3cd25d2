//go:build !amd64

package frame

// reverseBits stores in dst the bytes of src with the order of the bits in
// each byte reversed; dst is at least as long as src.
func reverseBits(dst, src []byte) { reverseBitsGeneric(dst, src) }
