package main

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"12MiB", 12 << 20, true},
		{"1GiB", 1 << 30, true},
		{"64KiB", 64 << 10, true},
		{"1000", 1000, true},
		{"1000B", 1000, true},
		{"12MB", 0, false},
		{"-1", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parseSize(%q) = %d, %v", tt.in, got, err)
		}
	}
	var m memLimit
	if m.Set("1MiB") == nil {
		t.Error("accepted a limit below 4MiB")
	}
}
