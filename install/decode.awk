# decode.awk: the device side of package install's text encoding. Reads
# lines of base-85 digits (the alphabet A below, 5 digits for 4 bytes, big
# endian; a last group of k+1 digits holds k bytes) and writes the bytes as
# a printf(1) format: printable ASCII as itself, everything else as a
# 3-digit octal escape, never "%" or a bare backslash. The shell turns it
# into bytes: printf "$(awk -f decode.awk FILE)". The text has been checked
# (sha256) before it is decoded: there is nothing but digits.
BEGIN {
	A = "!&()*+,-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}"
	for (i = 0; i < 85; i++) d[substr(A, i + 1, 1)] = i
	for (i = 0; i < 256; i++) e[i] = sprintf("\\%o%o%o", int(i / 64), int(i / 8) % 8, i % 8)
	for (i = 32; i < 127; i++) if (i != 37 && i != 92) e[i] = sprintf("%c", i)
}
{
	n = split($0, c, "")
	for (i = 1; i + 4 <= n; i += 5) {
		v = (((d[c[i]] * 85 + d[c[i + 1]]) * 85 + d[c[i + 2]]) * 85 + d[c[i + 3]]) * 85 + d[c[i + 4]]
		out(v, 4)
	}
	if (n - i > 0) {
		v = 0
		for (j = 0; j < 5; j++) v = v * 85 + (i + j <= n ? d[c[i + j]] : 84)
		out(v, n - i)
	}
}
function out(v, k,    b0, b1, b2, b3) {
	b3 = v % 256; v = (v - b3) / 256
	b2 = v % 256; v = (v - b2) / 256
	b1 = v % 256; b0 = (v - b1) / 256
	if (k == 4) printf "%s%s%s%s", e[b0], e[b1], e[b2], e[b3]
	else if (k == 3) printf "%s%s%s", e[b0], e[b1], e[b2]
	else if (k == 2) printf "%s%s", e[b0], e[b1]
	else printf "%s", e[b0]
}
