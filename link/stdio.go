package link

import (
	"io"
	"os"
)

// Stdio returns standard input and output as a raw port, for ferry at the
// far end of a pipe, ssh or a console. If standard input is a terminal it
// is switched to raw mode (no echo, no line editing, no signals, no flow
// control characters) until Close.
func Stdio() io.ReadWriteCloser {
	return &stdio{in: os.Stdin, out: os.Stdout, restore: makeRaw(os.Stdin)}
}

type stdio struct {
	in, out *os.File
	restore func()
}

func (s *stdio) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s *stdio) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s *stdio) Name() string                { return "stdio" }

// Close restores the terminal and closes both streams, so that the other
// end of a pipe sees EOF.
func (s *stdio) Close() error {
	s.restore()
	err := s.out.Close()
	s.in.Close()
	return err
}
