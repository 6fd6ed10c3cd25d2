//go:build linux

package link

import (
	"testing"

	"ferry/link/linktest"
)

// The real serial path: two pseudo-terminals joined by a simulated line,
// opened with OpenSerial as devices, at standard and non-standard rates.
func TestPTY(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of line time")
	}
	for _, baud := range []int{115200, 250000, 921600} {
		t.Run(itoa(baud), func(t *testing.T) {
			line := linktest.NewLine(linktest.Config{Baud: baud, BER: 1e-5})
			defer line.Close()
			var paths [2]string
			for side := range paths {
				p, err := linktest.OpenPTY()
				if err != nil {
					t.Fatal("pseudo-terminals are needed for the serial path:", err)
				}
				defer p.Close()
				p.Attach(line.End(side))
				paths[side] = p.SlavePath
			}
			cfg := PortConfig{Baud: baud}
			a, err := OpenSerial(paths[0], cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := OpenSerial(paths[1], cfg)
			if err != nil {
				t.Fatal(err)
			}
			data := random(32 << 10)
			got, _, _ := transfer(t, a, b, cfg, data)
			if string(got) != string(data) {
				t.Fatalf("received %d bytes, not the %d sent", len(got), len(data))
			}
		})
	}
}

func itoa(n int) string {
	b := []byte{}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
