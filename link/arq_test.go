package link

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"io"
	"testing"
	"time"

	"ferry/link/linktest"
)

var long = flag.Bool("link.long", false, "run the long link tests (256 KiB at 115200 baud)")

// transfer dials over a and accepts over b, sends data from the client,
// and returns the received bytes, the elapsed time and the client's stats.
func transfer(t *testing.T, a, b io.ReadWriteCloser, cfg PortConfig, data []byte) ([]byte, time.Duration, Stats) {
	t.Helper()
	start := time.Now()
	l, err := ListenPort(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
			got <- nil
			return
		}
		buf, err := io.ReadAll(c)
		if err != nil {
			t.Error("server read:", err)
		}
		c.Write([]byte("ok"))
		c.Close()
		got <- buf
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := DialPort(ctx, a, cfg)
	if err != nil {
		t.Fatal("dial:", err)
	}
	if _, err := c.Write(data); err != nil {
		t.Fatal("write:", err)
	}
	if err := c.(*session).CloseWrite(); err != nil {
		t.Fatal("half close:", err)
	}
	reply, err := io.ReadAll(c)
	if err != nil || string(reply) != "ok" {
		t.Errorf("reply %q, %v", reply, err)
	}
	st := c.(*session).Stats()
	if err := c.Close(); err != nil {
		t.Error("close:", err)
	}
	buf := <-got
	el := time.Since(start)
	t.Logf("%d bytes in %v: efficiency %.1f%%; %+v", len(data), el.Round(time.Millisecond), efficiency(len(data), el, cfg.Baud), st)
	return buf, el, st
}

func efficiency(n int, d time.Duration, baud int) float64 {
	if baud == 0 {
		return 0
	}
	return 100 * float64(n) / (d.Seconds() * float64(baud) / 10)
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestTransfer(t *testing.T) {
	size := 48 << 10
	if *long {
		size = 256 << 10
	}
	tests := []struct {
		name    string
		line    linktest.Config
		minEff  float64
		garbage []byte
	}{
		{"pipe", linktest.Config{}, 0, nil},
		{"clean", linktest.Config{Baud: 115200}, 95, nil},
		{"ber1e-5", linktest.Config{Baud: 115200, BER: 1e-5}, 99, nil}, // FEC repairs nearly every frame (99.7% measured)
		{"ber1e-4", linktest.Config{Baud: 115200, BER: 1e-4}, 60, nil},
		{"drop1e-4", linktest.Config{Baud: 115200, Drop: 1e-4}, 80, nil},
		{"burst", linktest.Config{Baud: 115200, BurstEvery: time.Second, BurstLen: 20 * time.Millisecond}, 50, nil},
		{"banner", linktest.Config{Baud: 115200}, 90, []byte("\r\nUbuntu 24.04 LTS pi ttyS0\r\n\r\npi login: \x9e\x00\x10\x9e garbage")},
		{"fast-noisy", linktest.Config{Baud: 921600, BER: 1e-5, Drop: 1e-5}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.line.Baud > 0 {
				t.Skip("paced line: seconds of line time")
			}
			line := linktest.NewLine(tc.line)
			defer line.Close()
			a, b := line.End(0), line.End(1)
			if tc.garbage != nil {
				a.Write(tc.garbage)
				b.Write(tc.garbage)
			}
			data := random(size)
			cfg := PortConfig{Baud: tc.line.Baud}
			got, el, _ := transfer(t, a, b, cfg, data)
			if !bytes.Equal(got, data) {
				t.Fatalf("received %d bytes, not the %d sent", len(got), len(data))
			}
			if eff := efficiency(size, el, tc.line.Baud); *long && eff < tc.minEff {
				t.Errorf("efficiency %.1f%% < %.0f%%", eff, tc.minEff)
			}
		})
	}
}

// shortWriter takes at most max bytes a write and reports no error, as a
// tty write interrupted by a signal does.
type shortWriter struct {
	io.ReadWriteCloser
	max int
}

func (w shortWriter) Write(p []byte) (int, error) {
	return w.ReadWriteCloser.Write(p[:min(len(p), w.max)])
}

// A port that takes part of a frame is written to again until the frame is
// out: on a clean line nothing is lost and nothing resent.
func TestShortWrites(t *testing.T) {
	line := linktest.NewLine(linktest.Config{Baud: 921600})
	defer line.Close()
	a, b := shortWriter{line.End(0), 2048}, shortWriter{line.End(1), 2048} // Linux's tty chunk
	data := random(96 << 10)                                               // frames grow to 8 KiB
	got, _, st := transfer(t, a, b, PortConfig{Baud: 921600, PeerTimeout: 5 * time.Second}, data)
	if !bytes.Equal(got, data) {
		t.Fatalf("received %d bytes, not the %d sent", len(got), len(data))
	}
	if st.Retransmits+st.Timeouts > 0 {
		t.Errorf("clean line, short writes: %d frames resent, %d after a timeout", st.Retransmits, st.Timeouts)
	}
}

func TestDialNoAnswer(t *testing.T) {
	a, _ := linktest.Pipe(linktest.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := DialPort(ctx, a, PortConfig{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
}
