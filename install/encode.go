package install

import (
	_ "embed"
	"strings"
)

// The text form of a piece. A console carries printable ASCII safely and
// little else: a control character is a signal (^C, ^Z), an end of file
// (^D), a line kill (^U) or flow control (^S) to the device's terminal. So
// pieces travel as lines of base-85 digits, 4 bytes in 5 digits (1.25
// characters a byte, where printf octal escapes take about 2.9), and the
// device turns them back into bytes with awk and printf (decode.awk):
//
//	line  = ":" digits "\n"          at most lineGroups groups of 5 digits
//	group = 5 digits                 4 bytes, big endian, most significant digit first
//	last  = k+1 digits               a last group of k = 1..3 bytes: padded
//	                                 with zero bytes, only k+1 digits sent
//
// The ":" prefix tells the capturing sed on the device which lines are
// data; a line of the shell's own noise never starts with it. The alphabet
// leaves out the characters that mean something to a shell or to awk in
// quotes (" $ ' \ `), the end line's "#", the reply's "=", and % and ~.
const (
	alphabet   = "!&()*+,-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}"
	lineGroups = 100            // groups on a line: 500 digits, 400 bytes
	lineBytes  = 4 * lineGroups // bytes of a full line
	linePrefix = ':'            // first character of every data line
	endLine    = "#E"           // ends a piece; a comment if a shell reads it
)

// ending follows every piece: ^Q restarts the device's output if noise
// looked like ^S (a terminal with IXON swallows it; without, it is a line
// that sed skips), then the end line twice: busybox sed reads a line ahead
// (to know the last one) and acts on the first end line only when the
// second has come. The second is read ahead, or is a comment for the shell.
const ending = "\x11\n" + endLine + "\n" + endLine + "\n"

// decodeAWK is the device's decoder (see the top of the file).
//
//go:embed decode.awk
var decodeAWK string

// encodedLen returns the characters encode writes for n bytes, newlines
// and prefixes included.
func encodedLen(n int) int {
	full, rest := n/lineBytes, n%lineBytes
	size := full * (5*lineGroups + 2)
	if rest > 0 {
		size += rest/4*5 + 2
		if rest%4 > 0 {
			size += rest%4 + 1
		}
	}
	return size
}

// encode appends the text form of p to dst: lines of at most lineGroups
// groups, each with its prefix and a newline.
func encode(dst []byte, p []byte) []byte {
	for len(p) > 0 {
		n := min(len(p), lineBytes)
		dst = append(dst, linePrefix)
		dst = appendDigits(dst, p[:n])
		dst = append(dst, '\n')
		p = p[n:]
	}
	return dst
}

// appendDigits appends the digits of p, 4 bytes to 5 digits.
func appendDigits(dst, p []byte) []byte {
	for len(p) > 0 {
		var g [4]byte
		k := copy(g[:], p)
		p = p[k:]
		v := uint32(g[0])<<24 | uint32(g[1])<<16 | uint32(g[2])<<8 | uint32(g[3])
		var d [5]byte
		for i := 4; i >= 0; i-- {
			d[i] = alphabet[v%85]
			v /= 85
		}
		dst = append(dst, d[:k+1]...)
	}
	return dst
}

// decode is the inverse of encode, for tests and for checking the device's
// decoder: it reads digits line by line and ignores prefixes and anything
// else outside the alphabet. A malformed last group (one digit) is dropped.
func decode(text []byte) []byte {
	var out []byte
	for _, line := range strings.Split(string(text), "\n") {
		var g []byte
		for i := 0; i < len(line); i++ {
			if j := strings.IndexByte(alphabet, line[i]); j >= 0 && (i > 0 || line[i] != linePrefix) {
				g = append(g, byte(j))
			}
		}
		for len(g) > 1 {
			k := min(len(g), 5)
			var v uint64
			for i := range 5 {
				d := uint64(84)
				if i < k {
					d = uint64(g[i])
				}
				v = v*85 + d
			}
			b := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
			out = append(out, b[:k-1]...)
			g = g[k:]
		}
	}
	return out
}
