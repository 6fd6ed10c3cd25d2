package main

import (
	"cmp"
	"flag"
	"io"
	"testing"
	"time"

	"ferry/boards"
)

func TestTransportFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantBaud int           // PortConfig.Baud
		wantPeer time.Duration // PortConfig.PeerTimeout; 0 = the default
		badParse bool          // flag.Parse fails
		badCheck bool          // check fails
	}{
		{args: []string{"-stdio"}, wantBaud: 0},
		{args: []string{"-stdio", "-baud", "9600"}, wantBaud: 9600},
		{args: []string{"-serial", "/dev/ttyS1"}, wantBaud: boards.Current.Baud},
		{args: []string{"-serial", "/dev/ttyS1", "-baud", "921600"}, wantBaud: 921600},
		{args: []string{"-serial", "/dev/ttyS1", "-baud", "0"}, badCheck: true},
		{args: []string{"-stdio", "-baud", "-5"}, badCheck: true},
		{args: []string{"-serial", "/dev/ttyS1", "-stdio"}, badCheck: true},
		{args: []string{"-baud", "fast"}, badParse: true},
		{args: []string{"-serial", "/dev/ttyS1", "-link-timeout", "5m"}, wantBaud: boards.Current.Baud, wantPeer: 5 * time.Minute},
		{args: []string{"-stdio", "-link-timeout", "3s"}, wantPeer: 3 * time.Second},
		{args: []string{"-stdio", "-link-timeout", "100ms"}, badCheck: true},
	}
	for _, tt := range tests {
		var tf transportFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		tf.register(fs)
		err := fs.Parse(tt.args)
		if (err != nil) != tt.badParse {
			t.Errorf("%q: parse error %v", tt.args, err)
			continue
		}
		if tt.badParse {
			continue
		}
		if err := tf.check(); (err != nil) != tt.badCheck {
			t.Errorf("%q: check error %v", tt.args, err)
			continue
		}
		if tt.badCheck {
			continue
		}
		cfg, _ := tf.port()
		if cfg.Baud != tt.wantBaud {
			t.Errorf("%q: PortConfig.Baud = %d, want %d", tt.args, cfg.Baud, tt.wantBaud)
		}
		if want := cmp.Or(tt.wantPeer, defaultLinkTimeout); cfg.PeerTimeout != want {
			t.Errorf("%q: PortConfig.PeerTimeout = %v, want %v", tt.args, cfg.PeerTimeout, want)
		}
	}
}

// -classic alone, with =ADDR, and with ADDR as the next argument, other
// flags after it still parsed.
func TestClassicFlag(t *testing.T) {
	tests := []struct {
		args     []string
		want     string
		wantData string
	}{
		{args: nil, want: ""},
		{args: []string{"-classic"}, want: defaultClassicAddr},
		{args: []string{"-classic", "-data", "d"}, want: defaultClassicAddr, wantData: "d"},
		{args: []string{"-classic=0.0.0.0:1357"}, want: "0.0.0.0:1357"},
		{args: []string{"-classic", "[::1]:99", "-data", "d"}, want: "[::1]:99", wantData: "d"},
	}
	for _, tt := range tests {
		f, err := parseServe(tt.args, io.Discard)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if f.classic != tt.want || tt.wantData != "" && f.data != tt.wantData {
			t.Errorf("%q: -classic %q, -data %q; want %q, %q", tt.args, f.classic, f.data, tt.want, tt.wantData)
		}
	}
	for _, args := range [][]string{{"-classic", "notanaddress"}, {"-classic=x:1", "y:2"}} {
		if _, err := parseServe(args, io.Discard); err != errUsage {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// The chunk a client asks for: 12 KiB on a serial line and on stdio at a
// line rate, the board's default elsewhere, -chunk over both.
func TestAskChunk(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"-server", "h"}, boards.Current.ChunkSize},
		{[]string{"-stdio"}, boards.Current.ChunkSize},
		{[]string{"-stdio", "-baud", "115200"}, slowChunk},
		{[]string{"-serial", "/dev/ttyS1"}, slowChunk},
		{[]string{"-serial", "/dev/ttyS1", "-chunk", "65536"}, 65536},
		{[]string{"-server", "h", "-chunk", "4096"}, 4096},
	}
	for _, tt := range tests {
		var f clientFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.register(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if got := f.askChunk(); got != tt.want {
			t.Errorf("%q: asks for %d, want %d", tt.args, got, tt.want)
		}
	}
}
