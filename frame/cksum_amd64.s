#include "textflag.h"

// rev4 maps a nibble to its bit reversal: the PSHUFB table.
DATA rev4<>+0(SB)/8, $0x0e060a020c040800
DATA rev4<>+8(SB)/8, $0x0f070b030d050901
GLOBL rev4<>(SB), RODATA|NOPTR, $16

DATA low4<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA low4<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL low4<>(SB), RODATA|NOPTR, $16

// func reverseBitsSSSE3(dst, src []byte)
// Reverses the bits of each byte of the first len(src)/16*16 bytes of src
// into dst: the two nibbles of every byte are looked up in rev4 with
// PSHUFB and swapped.
TEXT ·reverseBitsSSSE3(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $4, CX
	JZ   done
	MOVOU rev4<>(SB), X4
	MOVOU low4<>(SB), X5

loop:
	MOVOU  (SI), X0
	MOVO   X0, X1
	PAND   X5, X0     // low nibbles
	PSRLW  $4, X1
	PAND   X5, X1     // high nibbles
	MOVO   X4, X2
	PSHUFB X0, X2     // reversed low nibbles, to become the high ones
	PSLLW  $4, X2     // each byte is < 16: the shift stays inside it
	MOVO   X4, X3
	PSHUFB X1, X3     // reversed high nibbles, now low
	POR    X3, X2
	MOVOU  X2, (DI)
	ADDQ   $16, SI
	ADDQ   $16, DI
	DECQ   CX
	JNZ    loop

done:
	RET

// The MSB-first CRC by carry-less multiplication (Intel, "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction", 2009,
// the non-reflected case). Each 16-byte block, its bytes reversed with
// PSHUFB, is a polynomial of degree < 128 whose bit i is the coefficient
// of x^i, the first byte's top bit x^127. Four accumulators take every
// fourth block; folding one 512 bits forward multiplies its high and low
// halves by x^576 and x^512 mod P (the products have degree < 96) before
// the next block is added. The four are then folded into one, 128 bits at
// a time (x^192, x^128 mod P). What is returned is congruent, modulo P, to
// the data with the running CRC added to its first 32 bits; its CRC from 0
// (done in Go) is the CRC of the data from crc.

// bswap reverses the 16 bytes of a register: the PSHUFB mask.
DATA bswap<>+0(SB)/8, $0x08090a0b0c0d0e0f
DATA bswap<>+8(SB)/8, $0x0001020304050607
GLOBL bswap<>(SB), RODATA|NOPTR, $16

// x^512 mod P (for the low half), x^576 mod P (the high half).
DATA k512<>+0(SB)/8, $0xe6228b11
DATA k512<>+8(SB)/8, $0x8833794c
GLOBL k512<>(SB), RODATA|NOPTR, $16

// x^128 mod P, x^192 mod P.
DATA k128<>+0(SB)/8, $0xe8a45605
DATA k128<>+8(SB)/8, $0xc5b9cd4c
GLOBL k128<>(SB), RODATA|NOPTR, $16

// func foldCLMUL(crc uint32, p []byte) (hi, lo uint64)
// len(p) is a multiple of 64, at least 64.
TEXT ·foldCLMUL(SB), NOSPLIT, $0-48
	MOVL  crc+0(FP), AX
	MOVQ  p_base+8(FP), SI
	MOVQ  p_len+16(FP), CX
	MOVOU bswap<>(SB), X7
	MOVOU (SI), X1
	MOVOU 16(SI), X2
	MOVOU 32(SI), X3
	MOVOU 48(SI), X4
	PSHUFB X7, X1
	PSHUFB X7, X2
	PSHUFB X7, X3
	PSHUFB X7, X4
	MOVQ   AX, X9
	PSLLDQ $12, X9 // the running CRC onto the first 32 bits
	PXOR   X9, X1
	ADDQ   $64, SI
	SUBQ   $64, CX
	JZ     combine
	MOVOU  k512<>(SB), X0

loop:
	MOVO      X1, X5
	MOVO      X2, X6
	MOVO      X3, X8
	MOVO      X4, X10
	PCLMULQDQ $0x00, X0, X1
	PCLMULQDQ $0x00, X0, X2
	PCLMULQDQ $0x00, X0, X3
	PCLMULQDQ $0x00, X0, X4
	PCLMULQDQ $0x11, X0, X5
	PCLMULQDQ $0x11, X0, X6
	PCLMULQDQ $0x11, X0, X8
	PCLMULQDQ $0x11, X0, X10
	MOVOU     (SI), X11
	MOVOU     16(SI), X12
	MOVOU     32(SI), X13
	MOVOU     48(SI), X14
	PSHUFB    X7, X11
	PSHUFB    X7, X12
	PSHUFB    X7, X13
	PSHUFB    X7, X14
	PXOR      X5, X1
	PXOR      X6, X2
	PXOR      X8, X3
	PXOR      X10, X4
	PXOR      X11, X1
	PXOR      X12, X2
	PXOR      X13, X3
	PXOR      X14, X4
	ADDQ      $64, SI
	SUBQ      $64, CX
	JNZ       loop

combine:
	MOVOU     k128<>(SB), X0
	MOVO      X1, X5
	PCLMULQDQ $0x00, X0, X1
	PCLMULQDQ $0x11, X0, X5
	PXOR      X1, X2
	PXOR      X5, X2
	MOVO      X2, X5
	PCLMULQDQ $0x00, X0, X2
	PCLMULQDQ $0x11, X0, X5
	PXOR      X2, X3
	PXOR      X5, X3
	MOVO      X3, X5
	PCLMULQDQ $0x00, X0, X3
	PCLMULQDQ $0x11, X0, X5
	PXOR      X3, X4
	PXOR      X5, X4
	MOVQ      X4, AX
	MOVQ      AX, lo+40(FP)
	PSRLDQ    $8, X4
	MOVQ      X4, AX
	MOVQ      AX, hi+32(FP)
	RET
