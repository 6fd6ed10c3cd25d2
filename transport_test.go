package main

import (
	"flag"
	"io"
	"testing"

	"ferry/boards"
)

func TestTransportFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantBaud int  // PortConfig.Baud
		badParse bool // flag.Parse fails
		badCheck bool // check fails
	}{
		{args: []string{"-stdio"}, wantBaud: 0},
		{args: []string{"-stdio", "-baud", "9600"}, wantBaud: 9600},
		{args: []string{"-serial", "/dev/ttyS1"}, wantBaud: boards.Current.Baud},
		{args: []string{"-serial", "/dev/ttyS1", "-baud", "921600"}, wantBaud: 921600},
		{args: []string{"-serial", "/dev/ttyS1", "-baud", "0"}, badCheck: true},
		{args: []string{"-stdio", "-baud", "-5"}, badCheck: true},
		{args: []string{"-serial", "/dev/ttyS1", "-stdio"}, badCheck: true},
		{args: []string{"-baud", "fast"}, badParse: true},
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
		if cfg, _ := tf.port(); cfg.Baud != tt.wantBaud {
			t.Errorf("%q: PortConfig.Baud = %d, want %d", tt.args, cfg.Baud, tt.wantBaud)
		}
	}
}
