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
