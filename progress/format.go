package progress

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The formatters come in two forms: Format* returns a string for callers,
// append* appends to a buffer so that a redraw reuses the line buffer.

// FormatBytes formats n bytes in binary units: "512 B", "1.0 KiB",
// "3.4 MiB", "1.2 GiB", "2.0 TiB", with one decimal above bytes. A value
// that would round to 1024.0 of a unit is given in the next one ("1.0 MiB",
// never "1024.0 KiB"). Negative values get a minus sign.
func FormatBytes(n int64) string { return string(appendBytes(nil, n)) }

// FormatRate formats a rate in bytes per second as FormatBytes does, with
// "/s": "1.6 MiB/s". A negative, infinite or NaN rate is unknown: "-- B/s".
func FormatRate(perSecond float64) string { return string(appendRate(nil, perSecond)) }

// FormatETA formats a remaining time, rounded up to the second, as "m:ss"
// under an hour and "h:mm:ss" from one ("0:07", "12:34", "1:02:03"). A
// negative time, or one of 100 hours or more, is unknown: "--:--".
func FormatETA(d time.Duration) string { return string(appendETA(nil, d)) }

// units are the binary prefixes after bytes.
var units = [...]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

func appendBytes(dst []byte, n int64) []byte {
	u := uint64(n)
	if n < 0 {
		dst = append(dst, '-')
		u = uint64(-n) // also right for math.MinInt64
	}
	if u < 1024 {
		dst = strconv.AppendUint(dst, u, 10)
		return append(dst, " B"...)
	}
	return appendUnits(dst, float64(u))
}

// appendUnits appends v, at least 1024, in the largest unit that keeps it
// under 1023.95 (which would print as 1024.0).
func appendUnits(dst []byte, v float64) []byte {
	i := 0
	for v /= 1024; v >= 1023.95 && i < len(units)-1; i++ {
		v /= 1024
	}
	dst = strconv.AppendFloat(dst, v, 'f', 1, 64)
	dst = append(dst, ' ')
	return append(dst, units[i]...)
}

func appendRate(dst []byte, r float64) []byte {
	switch {
	case r != r || r < 0 || r > 1<<62: // NaN, negative, infinite or absurd
		dst = append(dst, "-- B"...)
	case r < 1023.5:
		dst = strconv.AppendInt(dst, int64(r+0.5), 10)
		dst = append(dst, " B"...)
	default:
		dst = appendUnits(dst, r)
	}
	return append(dst, "/s"...)
}

func appendETA(dst []byte, d time.Duration) []byte {
	if d < 0 || d >= 100*time.Hour {
		return append(dst, "--:--"...)
	}
	s := int((d + time.Second - 1) / time.Second) // under 360000: int arithmetic even on 32 bits
	if s >= 3600 {
		dst = strconv.AppendInt(dst, int64(s/3600), 10)
		dst = append(dst, ':')
		dst = append2(dst, s/60%60)
	} else {
		dst = strconv.AppendInt(dst, int64(s/60), 10)
	}
	dst = append(dst, ':')
	return append2(dst, s%60)
}

// append2 appends v, under 100, as two digits.
func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// appendElapsed formats the time a command or file took: "2.1 s" under a
// minute, else as FormatETA does.
func appendElapsed(dst []byte, d time.Duration) []byte {
	if d < time.Minute {
		dst = strconv.AppendFloat(dst, d.Seconds(), 'f', 1, 64)
		return append(dst, " s"...)
	}
	return appendETA(dst, d)
}

// appendPercent appends done as a whole percentage of total, rounded
// down so that 100% means finished; a total of 0 is 100%.
func appendPercent(dst []byte, done, total int64) []byte {
	p := int64(100)
	if total > 0 {
		p = int64(float64(max(done, 0)) * 100 / float64(total))
	}
	dst = strconv.AppendInt(dst, min(p, 100), 10)
	return append(dst, '%')
}

// ellipsis marks where a name was shortened.
const ellipsis = "..."

// appendName appends name in at most cols columns. A name that does not
// fit keeps its start and its end (where the extension is) around "...".
// Control characters and invalid UTF-8 become '?' so that a name from the
// network cannot move the cursor or retitle the terminal. It returns the
// columns used.
func appendName(dst []byte, name string, cols int) ([]byte, int) {
	n := columns(name)
	if n <= cols {
		return appendClean(dst, name), n
	}
	if cols <= len(ellipsis) {
		return dst, 0
	}
	keep := cols - len(ellipsis)
	head, headCols := prefix(name, keep-keep/2)
	tail, tailCols := suffix(name, keep-headCols)
	dst = appendClean(dst, head)
	dst = append(dst, ellipsis...)
	return appendClean(dst, tail), headCols + len(ellipsis) + tailCols
}

// runeCols is the columns a rune is given: 2 from U+1100, where the wide
// East Asian scripts start, else 1. It overestimates some runes (combining
// marks, narrow symbols), which only shortens a name a little more, and
// never underestimates, so that the bar never wraps onto a second line.
// utf8.RuneError is printed as '?', one column.
func runeCols(r rune) int {
	if r >= 0x1100 && r != utf8.RuneError {
		return 2
	}
	return 1
}

// columns returns the columns s takes.
func columns(s string) int {
	n := 0
	for _, r := range s {
		n += runeCols(r)
	}
	return n
}

// prefix returns the longest start of s within cols columns.
func prefix(s string, cols int) (string, int) {
	used := 0
	for i, r := range s {
		if used+runeCols(r) > cols {
			return s[:i], used
		}
		used += runeCols(r)
	}
	return s, used
}

// suffix returns the longest end of s within cols columns.
func suffix(s string, cols int) (string, int) {
	used, i := 0, len(s)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if used+runeCols(r) > cols {
			break
		}
		used += runeCols(r)
		i -= size
	}
	return s[i:], used
}

// appendClean appends s with each control character (C0, DEL, C1) and each
// invalid byte replaced by '?', one for one so that the column count holds.
func appendClean(dst []byte, s string) []byte {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == utf8.RuneError {
			r = '?'
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// padLeft right-aligns the field written to dst since offset from in
// width bytes, by moving it right behind spaces.
func padLeft(dst []byte, from, width int) []byte {
	n := width - (len(dst) - from)
	if n <= 0 {
		return dst
	}
	dst = spaces(dst, n)
	copy(dst[from+n:], dst[from:len(dst)-n])
	for i := from; i < from+n; i++ {
		dst[i] = ' '
	}
	return dst
}

// spaces appends n spaces.
func spaces(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, ' ')
	}
	return dst
}
