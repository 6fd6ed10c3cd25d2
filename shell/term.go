package shell

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/term"
)

// On a terminal the shell puts the tty in raw mode for its whole life and
// runs golang.org/x/term's Terminal on it: line editing, a history the up
// arrow recalls, completion (complete.go) and the prompt. In raw mode the
// tty sends no SIGINT: Ctrl-C is byte 3 on the input. One goroutine reads
// the input (keyboard.pump); at the prompt the Terminal takes what it
// reads, with Ctrl-C turned into "erase the line", and while a command
// runs a watcher takes it, and a Ctrl-C there abandons the command
// (Interrupt); other keys typed meanwhile wait for the next prompt. A
// SIGINT (kill -INT) does the same.

// Interactive runs the shell on the terminal in (its input) and out,
// until exit, quit or Ctrl-D, then says goodbye to the server.
func (s *Shell) Interactive(in, out *os.File) error {
	fd := int(in.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return fmt.Errorf("shell: raw mode: %w", err)
	}
	defer term.Restore(fd, old)
	kb := newKeyboard(in)
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{kb, out}, "")
	t.AutoCompleteCallback = s.complete
	s.out, s.err, s.tty = t, t, t
	s.width = func() int {
		w, _, err := term.GetSize(int(out.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			s.Interrupt()
		}
	}()
	defer s.startKeepalive()()
	for {
		if w, h, err := term.GetSize(int(out.Fd())); err == nil && w > 0 {
			t.SetSize(w, h)
		}
		t.SetPrompt(s.prompt())
		line, err := t.ReadLine()
		if err == io.EOF {
			out.Write([]byte("\r\n"))
			break
		}
		if err != nil && err != term.ErrPasteIndicator {
			return err
		}
		if err := s.revive(); err != nil {
			return err
		}
		stop := kb.watch(s.Interrupt)
		err = s.Exec(line)
		stop()
		if errors.Is(err, errExit) {
			break
		}
		if err != nil {
			s.report(err)
		}
		if needsSession(err) {
			if err := s.Reconnect(); err != nil {
				return err
			}
		}
	}
	return s.Close()
}

// revive replaces a session lost while idle (a keepalive failed).
func (s *Shell) revive() error {
	s.mu.Lock()
	err := s.lost
	s.mu.Unlock()
	if err == nil {
		return nil
	}
	fmt.Fprintf(s.err, "ferry: the session was lost: %s\n", s.tell(err))
	return s.Reconnect()
}

// keyboard is the terminal's input, read by one goroutine.
type keyboard struct {
	ch      chan chunk
	pending []byte // read and not yet taken
	err     error  // the input's end, once pending is taken
}

type chunk struct {
	b   []byte
	err error
}

func newKeyboard(r io.Reader) *keyboard {
	k := &keyboard{ch: make(chan chunk)}
	go k.pump(r)
	return k
}

// pump reads the input until it ends. It is blocked in a read when the
// shell returns, and ends with the process.
func (k *keyboard) pump(r io.Reader) {
	for {
		b := make([]byte, 256)
		n, err := r.Read(b)
		k.ch <- chunk{b[:n], err}
		if err != nil {
			return
		}
	}
}

const ctrlC = 3

// eraseLine is what Ctrl-C is at the prompt: ^E (to the end of the line),
// ^U (erase to its start), as a shell abandons the line.
var eraseLine = []byte{5, 21}

// Read is the Terminal's input.
func (k *keyboard) Read(p []byte) (int, error) {
	for len(k.pending) == 0 {
		if k.err != nil {
			return 0, k.err
		}
		c := <-k.ch
		k.pending = bytes.ReplaceAll(c.b, []byte{ctrlC}, eraseLine)
		k.err = c.err
	}
	n := copy(p, k.pending)
	k.pending = k.pending[n:]
	return n, nil
}

// watch reads the input while a command runs, calling interrupt on
// Ctrl-C (and dropping what was typed before it), keeping other keys for
// the prompt, until the function it returns is called.
func (k *keyboard) watch(interrupt func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for k.err == nil {
			select {
			case <-quit:
				return
			case c := <-k.ch:
				if i := bytes.LastIndexByte(c.b, ctrlC); i >= 0 {
					k.pending = append(k.pending[:0], c.b[i+1:]...)
					interrupt()
				} else {
					k.pending = append(k.pending, c.b...)
				}
				k.err = c.err
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
