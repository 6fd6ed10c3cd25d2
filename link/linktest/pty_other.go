//go:build !linux

package linktest

import (
	"errors"
	"io"
	"os"
)

// PTY is a pseudo-terminal joined to a line; only on Linux.
type PTY struct {
	Master    *os.File
	SlavePath string
}

// OpenPTY fails on systems other than Linux.
func OpenPTY() (*PTY, error) { return nil, errors.New("linktest: pseudo-terminals only on Linux") }

// Attach does nothing.
func (p *PTY) Attach(io.ReadWriter) {}

// Close does nothing.
func (p *PTY) Close() error { return nil }
