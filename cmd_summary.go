package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"ferry/client"
)

// summary counts what a command moved, for its last line and exit code.
type summary struct {
	files, failed int
	bytes         int64
	checksum      bool // a file failed its checksum every time
}

func (s *summary) fail(err error) {
	s.failed++
	if errors.Is(err, client.ErrChecksum) {
		s.checksum = true
	}
}

// print writes the summary line when there is more than one file or a
// failure to sum up.
func (s *summary) print(w io.Writer, verb string, d time.Duration, always bool) {
	if !always {
		return
	}
	line := fmt.Sprintf("%s %d files, %d bytes in %v (%s)", verb, s.files, s.bytes, d.Round(time.Millisecond), rate(s.bytes, d))
	if s.failed > 0 {
		line += fmt.Sprintf("; %d failed", s.failed)
	}
	fmt.Fprintln(w, line)
}

// err is the command's result: nil when everything went.
func (s *summary) err() error {
	switch {
	case s.checksum:
		return fmt.Errorf("%w", client.ErrChecksum)
	case s.failed > 0:
		return errSome
	}
	return nil
}

func isOpError(err error) bool {
	var oe *client.OpError
	return errors.As(err, &oe)
}

// errText is a local error without Go's "op path:" prefix when it is a
// path error, which the caller already names.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
