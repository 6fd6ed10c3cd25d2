package client

import (
	"bytes"
	"testing"
)

// FuzzStateFile: any state file parses without panicking, and what parses
// encodes to a file that parses to the same.
func FuzzStateFile(f *testing.F) {
	f.Add([]byte("name old-pi\nid 8ffaf8b5113efbfa374b4556b29650a2\ned25519_seed " + string(bytes.Repeat([]byte("ab"), 32)) + "\n"))
	f.Add([]byte("name x\ned25519_seed 00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := parseStateFile(data)
		if err != nil {
			return
		}
		again, err := parseStateFile(sf.marshal())
		if err != nil || again != sf {
			t.Fatalf("round trip of %+v: %+v, %v", sf, again, err)
		}
	})
}
