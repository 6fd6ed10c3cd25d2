package main

import (
	"flag"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
)

// memLimit is the -memlimit flag: a soft limit for the Go heap, in the
// syntax of GOMEMLIMIT ("12MiB", "64MiB", "1GiB", or bytes).
type memLimit struct{ bytes int64 }

func registerMemLimit(fs *flag.FlagSet) *memLimit {
	m := &memLimit{}
	fs.Var(m, "memlimit", "soft memory `limit` of the Go runtime, e.g. 12MiB (default: GOMEMLIMIT, else the board profile's)")
	return m
}

func (m *memLimit) String() string {
	if m == nil || m.bytes == 0 {
		return ""
	}
	return strconv.FormatInt(m.bytes, 10) + "B"
}

func (m *memLimit) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	if n < 4<<20 {
		return fmt.Errorf("%s is below 4MiB, too little for the Go runtime", s)
	}
	m.bytes = n
	return nil
}

// apply sets the limit if the flag was given; main has already applied
// GOMEMLIMIT or the board default.
func (m *memLimit) apply() {
	if m.bytes > 0 {
		debug.SetMemoryLimit(m.bytes)
	}
}

// parseSize reads "123", "123B", "64KiB", "12MiB" or "1GiB".
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}}
	mult := int64(1)
	num := s
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q: want bytes or a number with B, KiB, MiB or GiB", s)
	}
	return n * mult, nil
}
