package server

import (
	"strings"
	"testing"
	"time"
)

// TestFormatTextRate: the text log gives a rate in the unit that suits
// it, so a serial line's upload is not "0.0 MB/s".
func TestFormatTextRate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bytes int64
		d     time.Duration
		want  string
	}{
		{"slow serial line", 1000, 10 * time.Second, " in 10s (100 B/s)"},
		{"115200 baud", 115200, 10 * time.Second, " in 10s (11.2 KiB/s)"},
		{"LAN", 48213, 12 * time.Millisecond, " in 12ms (3.8 MiB/s)"},
		{"no time", 5, 0, " in 0s (instant)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Event{Kind: "op", Op: "put", Path: "logs/x.log", Peer: "serial:/dev/ttyUSB0", Client: "pi",
				ClientID: "0123", Files: 1, Bytes: tc.bytes, Duration: tc.d, Result: "ok"}
			got := FormatText(&e)
			if !strings.HasSuffix(got, tc.want) {
				t.Errorf("FormatText = %q, want it to end %q", got, tc.want)
			}
		})
	}
	e := Event{Kind: "op", Op: "put", Path: "logs/x.log", Peer: "serial:/dev/ttyUSB0", Client: "pi", ClientID: "0123",
		Files: 1, Bytes: 1000, Duration: 10 * time.Second, Result: "ok"}
	const want = `op put "logs/x.log" client "pi" (0123) from serial:/dev/ttyUSB0: ok, 1 files, 1000 bytes in 10s (100 B/s)`
	if got := FormatText(&e); got != want {
		t.Errorf("FormatText =\n %q, want\n %q", got, want)
	}
}
