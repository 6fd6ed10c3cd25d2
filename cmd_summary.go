package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"ferry/client"
	"ferry/progress"
)

// summary counts what a command moved, for its last line and exit code.
// A line per file goes out with -v; without, a command that moved one
// file prints that file's line, and one that moved more a summary.
type summary struct {
	files, failed int
	bytes         int64
	saved         int64 // bytes not moved again thanks to resume
	checksum      bool  // a file failed its checksum every time
	verbose       bool
	out           io.Writer
	last          string // the line of the last file, when not verbose
}

// file reports one file moved, of which resumed bytes were there already.
func (s *summary) file(n, resumed int64, line string) {
	s.files++
	s.bytes += n
	s.saved += resumed
	if resumed > 0 {
		line += fmt.Sprintf(", resumed at %d bytes", resumed)
	}
	if s.verbose {
		fmt.Fprintln(s.out, line)
		return
	}
	s.last = line
}

func (s *summary) fail(err error) {
	s.failed++
	if errors.Is(err, client.ErrChecksum) {
		s.checksum = true
	}
}

// print writes the last line: the one file's, or the summary.
func (s *summary) print(verb string, d time.Duration) {
	if s.files == 1 && s.failed == 0 && !s.verbose {
		fmt.Fprintln(s.out, s.last)
		return
	}
	if s.files <= 1 && s.failed == 0 {
		return
	}
	line := fmt.Sprintf("%s %d files, %s in %v (%s)", verb, s.files, progress.FormatBytes(s.bytes), d.Round(time.Millisecond), rate(s.bytes, d))
	if s.failed > 0 {
		line += fmt.Sprintf("; %d failed", s.failed)
	}
	if s.saved > 0 {
		line += "; resume saved " + progress.FormatBytes(s.saved)
	}
	fmt.Fprintln(s.out, line)
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
	_, ok := errors.AsType[*client.OpError](err)
	return ok
}

// errText is a local error without Go's "op path:" prefix when it is a
// path error, which the caller already names.
func errText(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
