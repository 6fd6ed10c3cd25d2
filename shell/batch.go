package shell

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"ferry/safe"
)

// Batch runs the commands of r, one a line, as sftp -b does: it stops at
// the first command that fails, with an error that gives its line number
// ("line 7: get x: no such file or folder"), unless the line starts with
// "-", whose failure is only reported. Blank lines and # comments are
// skipped; exit and quit end the batch. A lost session always stops it.
// Ctrl-C (SIGINT) during a remote command abandons it and stops the batch;
// between commands it ends the process as usual. Batch says goodbye to
// the server at the end.
func (s *Shell) Batch(r io.Reader) error {
	defer s.startKeepalive()()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		optional := strings.HasPrefix(line, "-")
		if optional {
			line = line[1:]
		}
		if s.cfg.Verbose && strings.TrimSpace(line) != "" {
			fmt.Fprintf(s.err, "%s%s\n", s.prompt(), safe.Text(line))
		}
		err := s.execSignals(line)
		switch {
		case errors.Is(err, errExit):
			return s.Close()
		case err == nil:
		case optional && !needsSession(err):
			fmt.Fprintf(s.err, "ferry: line %d: %s (ignored)\n", n, s.tell(err))
		default:
			s.Close()
			return &LineError{Line: n, Err: err, explain: s.explain}
		}
	}
	if err := sc.Err(); err != nil {
		s.Close()
		return fmt.Errorf("reading the commands: %w", err)
	}
	return s.Close()
}

// execSignals runs a line with SIGINT taken as Interrupt.
func (s *Shell) execSignals(line string) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			s.Interrupt()
		case <-done:
		}
	}()
	err := s.Exec(line)
	signal.Stop(sigs)
	close(done)
	return err
}

// LineError is the command of a batch that failed, and its line: "line 7:
// get x: no such file or folder", told as Config.Explain tells errors.
type LineError struct {
	Line    int
	Err     error
	explain func(error) string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.explain(e.Err)) }
func (e *LineError) Unwrap() error { return e.Err }
