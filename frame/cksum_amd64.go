package frame

import "golang.org/x/sys/cpu"

// reverseBitsSSSE3 reverses the bits of each byte of src[:len(src)&^15]
// into dst, 16 bytes at a time with PSHUFB. dst is at least as long as src.
//
//go:noescape
func reverseBitsSSSE3(dst, src []byte)

var haveSSSE3 = cpu.X86.HasSSSE3

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
