package main

import (
	"bytes"
	"strings"
	"testing"
	"text/tabwriter"
)

// TestPrintColumns: printColumns lays rows out as text/tabwriter does with
// padding 2 and spaces (what ferry ports used), without linking it.
func TestPrintColumns(t *testing.T) {
	rows := [][]string{
		{"PORT", "USB VID:PID", "SERIAL", "DESCRIPTION"},
		{"/dev/ttyUSB0", "0403:6001", "A50285BI", "FT232R USB UART"},
		{"/dev/ttyS0", "-", "-", "-"},
		{"/dev/ttyACM10", "2e8a:000a", "E6614C311B4C5A2F", "Pico – débogueur"},
	}
	var want, got bytes.Buffer
	w := tabwriter.NewWriter(&want, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		w.Write([]byte(strings.Join(r, "\t") + "\n"))
	}
	w.Flush()
	printColumns(&got, rows)
	if got.String() != want.String() {
		t.Errorf("got\n%s\nwant (tabwriter)\n%s", got.String(), want.String())
	}
}
