package progress

import (
	"math"
	"testing"
	"time"
)

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		want string
	}{
		{"zero", 0, "0 B"},
		{"bytes", 512, "512 B"},
		{"last byte count", 1023, "1023 B"},
		{"one KiB", 1024, "1.0 KiB"},
		{"half", 1536, "1.5 KiB"},
		{"rounds down", 1024 + 51, "1.0 KiB"},
		{"rounds up", 1024 + 52, "1.1 KiB"},
		{"largest KiB", 1023*1024 + 972, "1023.9 KiB"},
		{"rounds into MiB", 1<<20 - 1, "1.0 MiB"},
		{"MiB", 3565158, "3.4 MiB"},
		{"GiB", 5 << 30, "5.0 GiB"},
		{"TiB", 3 << 40, "3.0 TiB"},
		{"max", math.MaxInt64, "8.0 EiB"},
		{"negative", -2048, "-2.0 KiB"},
		{"min", math.MinInt64, "-8.0 EiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatBytes(tt.n); got != tt.want {
				t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestFormatRate(t *testing.T) {
	tests := []struct {
		name string
		r    float64
		want string
	}{
		{"zero", 0, "0 B/s"},
		{"bytes", 11.6, "12 B/s"},
		{"under a KiB", 1023.4, "1023 B/s"},
		{"rounds into KiB", 1023.6, "1.0 KiB/s"},
		{"115200 baud", 11520, "11.2 KiB/s"},
		{"MiB", 1.6 * (1 << 20), "1.6 MiB/s"},
		{"negative is unknown", -1, "-- B/s"},
		{"NaN is unknown", math.NaN(), "-- B/s"},
		{"infinity is unknown", math.Inf(1), "-- B/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatRate(tt.r); got != tt.want {
				t.Errorf("FormatRate(%v) = %q, want %q", tt.r, got, tt.want)
			}
		})
	}
}

func TestFormatETA(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"zero", 0, "0:00"},
		{"rounds up", 100 * time.Millisecond, "0:01"},
		{"seconds", 7 * time.Second, "0:07"},
		{"a minute", time.Minute, "1:00"},
		{"minutes", 12*time.Minute + 34*time.Second, "12:34"},
		{"under an hour", time.Hour - time.Second, "59:59"},
		{"an hour", time.Hour, "1:00:00"},
		{"hours", time.Hour + 2*time.Minute + 3*time.Second, "1:02:03"},
		{"longest", 100*time.Hour - time.Second, "99:59:59"},
		{"too long is unknown", 100 * time.Hour, "--:--"},
		{"negative is unknown", -1, "--:--"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatETA(tt.d); got != tt.want {
				t.Errorf("FormatETA(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestAppendElapsed(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.0 s"},
		{2100 * time.Millisecond, "2.1 s"},
		{59 * time.Second, "59.0 s"},
		{90 * time.Second, "1:30"},
		{25*time.Minute + 3*time.Second, "25:03"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := string(appendElapsed(nil, tt.d)); got != tt.want {
				t.Errorf("appendElapsed(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestAppendPercent(t *testing.T) {
	tests := []struct {
		name        string
		done, total int64
		want        string
	}{
		{"start", 0, 1000, "0%"},
		{"rounds down", 999, 1000, "99%"},
		{"end", 1000, 1000, "100%"},
		{"empty file", 0, 0, "100%"},
		{"past the end", 2000, 1000, "100%"},
		{"huge", 1 << 62, 1<<62 + 1<<61, "66%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendPercent(nil, tt.done, tt.total)); got != tt.want {
				t.Errorf("appendPercent(%d, %d) = %q, want %q", tt.done, tt.total, got, tt.want)
			}
		})
	}
}

func TestAppendName(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		cols     int
		want     string
		wantCols int
	}{
		{"fits", "photo.jpg", 20, "photo.jpg", 9},
		{"exactly", "photo.jpg", 9, "photo.jpg", 9},
		{"keeps both ends", "holiday-2026-photo.jpg", 13, "holid...o.jpg", 13},
		{"even split", "abcdefghij", 9, "abc...hij", 9},
		{"odd split", "abcdefghij", 8, "abc...ij", 8},
		{"no room", "abcdefghij", 3, "", 0},
		{"zero", "abcdefghij", 0, "", 0},
		{"multibyte counted as runes", "ÄÖÜäöüß.txt", 9, "ÄÖÜ...txt", 9},
		{"wide runes take two", "写真写真写真.jpg", 10, "写真...jpg", 10},
		{"wide rune not split", "写真写真写真.jpg", 9, "写....jpg", 9},
		{"control characters", "a\rb\x1b[2Jc\x7f\u0085", 20, "a?b?[2Jc??", 10},
		{"invalid UTF-8", "a\xffb", 20, "a?b", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cols := appendName(nil, tt.in, tt.cols)
			if string(got) != tt.want || cols != tt.wantCols {
				t.Errorf("appendName(%q, %d) = %q, %d; want %q, %d", tt.in, tt.cols, got, cols, tt.want, tt.wantCols)
			}
		})
	}
}

func TestPadLeft(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"ab", 5, "x   ab"},
		{"abcde", 5, "xabcde"},
		{"abcdef", 5, "xabcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b := append([]byte("x"), tt.in...)
			if got := string(padLeft(b, 1, tt.width)); got != tt.want {
				t.Errorf("padLeft(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
			}
		})
	}
}
