package progress

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWidth checks that no line is wider than the terminal less a column,
// and that one with a name fills it, so the fields stay in place.
func TestWidth(t *testing.T) {
	names := []string{"a", "holiday-2026-photo-of-the-whole-family-at-the-beach.jpg", "写真写真写真写真写真写真写真写真写真.jpg"}
	for cols := 1; cols <= 200; cols++ {
		for _, name := range names {
			for _, o := range []Options{{}, {Files: 100}, {Files: 3, Total: 1 << 40}} {
				for _, resumed := range []int64{0, 450} {
					for _, size := range []int64{-1, 1000} {
						o.Terminal, o.Width = true, cols
						p, c, r := newTest(o)
						p.Start(name, size, resumed)
						run(p, c, time.Second, func(time.Duration) { p.Add(100) })
						lines, _ := r.draws()
						for _, l := range lines {
							n := columns(l)
							if n > max(cols-1, 0) {
								t.Fatalf("%d columns: line of %d: %q", cols, n, l)
							}
							if strings.Contains(l, "...") && n != cols-1 {
								t.Fatalf("%d columns: shortened name but line of %d: %q", cols, n, l)
							}
						}
					}
				}
			}
		}
	}
}

// TestNarrow: without room for the name, whole fields go from the right.
func TestNarrow(t *testing.T) {
	tests := []struct {
		cols int
		want string
	}{
		{48, " 50%      500 B/1000 B      500 B/s  ETA  0:01"},
		{47, " 50%      500 B/1000 B      500 B/s  ETA  0:01"},
		{46, " 50%      500 B/1000 B      500 B/s"},
		{36, " 50%      500 B/1000 B      500 B/s"},
		{35, " 50%      500 B/1000 B"},
		{23, " 50%      500 B/1000 B"},
		{22, " 50%"},
		{5, " 50%"},
		{4, ""},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.cols), func(t *testing.T) {
			p, c, r := newTest(Options{Terminal: true, Width: tt.cols})
			p.Start("image.bin", 1000, 0)
			run(p, c, time.Second, func(time.Duration) { p.Add(125) })
			w := r.writes[len(r.writes)-1]
			if l := w[1 : len(w)-3]; l != tt.want {
				t.Errorf("line %q, want %q", l, tt.want)
			}
		})
	}
}

func TestGauge(t *testing.T) {
	p, c, r := newTest(Options{Terminal: true, Width: 120})
	p.Start("image.bin", 1000, 0)
	run(p, c, time.Second, func(time.Duration) { p.Add(125) })
	lines, _ := r.draws()
	want := "image.bin" + strings.Repeat(" ", 30-9) + // the name's column
		" [" + strings.Repeat("=", 19) + ">" + strings.Repeat(" ", 19) + "] " + // 41 columns of gauge
		" 50%      500 B/1000 B      500 B/s  ETA  0:01" // the fields
	if l := lines[len(lines)-1]; l != want {
		t.Errorf("line\n%q, want\n%q", l, want)
	}
}
