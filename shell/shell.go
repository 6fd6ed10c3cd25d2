// Package shell is ferry's interactive shell and batch runner (ferry
// shell): one authenticated session that reads commands (ls, cd, get, put,
// rm, mv, mkdir, df, lcd, lls, ...) and runs each by calling the client
// methods the one-shot commands call. It parses lines and keeps the remote
// and local folders; it holds no protocol code, and it does not dial: the
// command gives it a way to open sessions (Config.Dial).
//
// A line goes through it in this order:
//
//	read:     a terminal (line editing, history, completion) or a script
//	split:    words, with sh's quotes and backslashes (Split)
//	parse:    the command table: name, flags, arguments (parseCall)
//	run:      holding the session (one mutex, shared with the keepalive
//	          ticker and completion); Ctrl-C abandons the session
//	after:    an interrupted or lost session is replaced by a new one, in
//	          the same folder (interactive), or ends the batch
//
// Output rules: results go to Config.Out, errors and notices to
// Config.Err, both prefixed "ferry: "; on a terminal everything goes to the
// terminal. Not safe for concurrent use, except Interrupt.
package shell

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"ferry/client"
	"ferry/safe"
)

// Client is the part of a session (*client.Client) the shell uses.
type Client interface {
	List(p string, recursive bool) ([]client.Entry, error)
	Get(items []client.GetItem, done func(client.GetResult)) error
	Put(items []client.PutItem, done func(client.PutResult)) error
	Remove(p string, recursive bool) (int, error)
	Rename(oldPath, newPath string, noClobber bool) (replaced bool, err error)
	Mkdir(p string, parents bool) error
	Usage() (client.Usage, error)
	Keepalive() error
	Close() error
}

var _ Client = (*client.Client)(nil)

// Meter shows the progress of transfers. The session reports the bytes
// to it (client.Config.Progress); the shell says when a command's
// transfers begin, when each file ends and when the command ends.
// Notices written to it during a transfer appear above the bar.
type Meter interface {
	// Start begins a command's transfers. tty, when not nil, is the
	// terminal the shell runs on, width columns wide; nil means not
	// interactive: the meter's owner chooses where the bar goes.
	Start(tty io.Writer, width int)
	Done(err error)
	Finish()
	io.Writer
}

// Config is what the shell needs from its command.
type Config struct {
	// Dial opens a session with the command's flags: the shell's second
	// and later ones, after Ctrl-C or a lost link. Notices (a new server
	// key) go to w.
	Dial func(w io.Writer) (Client, error)
	// Abort ends the session c at once, without a goodbye, so that the
	// method running on it returns: it closes c's link. It is called from
	// another goroutine than the one running the method.
	Abort func(c Client)
	// Server names the server in the prompt: "ferry router:/logs> ".
	Server string
	// Meter shows transfers; nil shows nothing.
	Meter Meter
	// Format is ls's line for an entry listed in dir; nil prints the
	// names (folders ending in /).
	Format func(e *client.Entry, dir string, long, recursive bool) string
	// Explain is what the user is told of an error; nil: its text.
	Explain func(error) string
	// Verbose prints a line per file moved.
	Verbose bool
	// KeepaliveEvery is how often the idle shell sends a keepalive; 0 is
	// client.KeepaliveEvery.
	KeepaliveEvery time.Duration
	// Out takes results and Err errors and notices, in a batch; a
	// terminal takes both.
	Out, Err io.Writer
	// Once is a session that cannot be opened again (-stdio: the pipe
	// closes with it): after an interruption or a lost link the shell
	// ends with ErrOnce instead of reconnecting.
	Once bool
}

// Shell is a session with a current remote folder and a local one.
type Shell struct {
	cfg      Config
	out, err io.Writer
	tty      io.Writer // the terminal, when interactive
	width    func() int

	// mu is held by whatever uses the session: a command, a completion,
	// a keepalive. The session is not safe for concurrent use.
	mu    sync.Mutex
	cl    Client
	lost  error                     // the session failed (a keepalive): replace it before the next command
	cache map[string][]client.Entry // remote folders listed, for completion; cleared by any change

	cwd string // the remote folder, in client.CleanPath form ("" is the top)
	lwd string // the local folder, absolute

	guard guard
}

// New returns a shell on the session c, in the remote top folder and the
// process's working folder.
func New(cfg Config, c Client) *Shell {
	if cfg.KeepaliveEvery <= 0 {
		cfg.KeepaliveEvery = client.KeepaliveEvery
	}
	if cfg.Meter == nil {
		cfg.Meter = noMeter{cfg.Err}
	}
	lwd, err := os.Getwd()
	if err != nil {
		lwd = "."
	}
	s := &Shell{cfg: cfg, out: cfg.Out, err: cfg.Err, cl: c, lwd: lwd, width: func() int { return 0 }}
	s.guard.abort = cfg.Abort
	return s
}

// noMeter is the Meter of a shell given none.
type noMeter struct{ w io.Writer }

func (noMeter) Start(io.Writer, int) {}
func (noMeter) Done(error)           {}
func (noMeter) Finish()              {}
func (m noMeter) Write(b []byte) (int, error) {
	if m.w == nil {
		return len(b), nil
	}
	return m.w.Write(b)
}

// Errors of a command that say what became of the session.
var (
	// ErrInterrupted is a command abandoned by Ctrl-C: its session was
	// closed, and nothing partial was left (a download is written to a
	// temporary file, renamed into place only when complete).
	ErrInterrupted = errors.New("interrupted; the transfer was abandoned")
	// ErrOnce ends a shell whose session is gone and cannot be opened
	// again (Config.Once).
	ErrOnce = errors.New("the session is over and cannot be opened again (over -stdio its pipe closed with it): the shell ends")
)

// LostError is a command that failed because its session did (the link
// broke, the server went silent): the shell needs a new session.
type LostError struct{ Err error }

func (e *LostError) Error() string { return e.Err.Error() }
func (e *LostError) Unwrap() error { return e.Err }

// lost marks the error of a client method as the session's, unless it is
// an operation the server refused or one it does not speak.
func lost(err error) error {
	if err == nil || isOpError(err) || errors.Is(err, client.ErrNoOps) {
		return err
	}
	return &LostError{err}
}

// isOpError reports whether err is an operation the server refused.
func isOpError(err error) bool {
	_, ok := errors.AsType[*client.OpError](err)
	return ok
}

// needsSession reports whether err left the shell without a usable
// session.
func needsSession(err error) bool {
	_, isLost := errors.AsType[*LostError](err)
	return errors.Is(err, ErrInterrupted) || isLost
}

// Exec runs one command line. A remote command holds the session, and
// Interrupt abandons it while it runs.
func (s *Shell) Exec(line string) error {
	words, err := Split(line)
	if err != nil || len(words) == 0 {
		return err
	}
	c, err := parseCall(words)
	if err != nil {
		return err
	}
	if !c.cmd.remote {
		return c.cmd.run(s, c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost != nil {
		return &LostError{s.lost}
	}
	s.guard.begin(s.cl)
	err = c.cmd.run(s, c)
	if s.guard.end() {
		err = fmt.Errorf("%s: %w", c.cmd.name, ErrInterrupted)
	}
	if needsSession(err) {
		s.lost = err
	}
	return err
}

// Interrupt abandons the command running, if a remote one is (Ctrl-C):
// it closes the session, so that the command returns ErrInterrupted. It
// is safe to call from any goroutine, and does nothing between commands.
func (s *Shell) Interrupt() { s.guard.interrupt() }

// guard knows the session a command runs on, for Interrupt.
type guard struct {
	mu      sync.Mutex
	running Client // nil between commands
	hit     bool   // interrupted
	abort   func(Client)
}

func (g *guard) begin(c Client) {
	g.mu.Lock()
	g.running, g.hit = c, false
	g.mu.Unlock()
}

// end reports whether the command was interrupted.
func (g *guard) end() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running = nil
	return g.hit
}

// interrupted reports whether the command running was interrupted.
func (g *guard) interrupted() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.hit
}

func (g *guard) interrupt() {
	g.mu.Lock()
	c := g.running
	if c == nil || g.hit || g.abort == nil {
		g.mu.Unlock()
		return
	}
	g.hit = true
	g.mu.Unlock()
	g.abort(c) // outside the lock: closing a link may wait a moment
}

// Reconnect replaces a session that was interrupted or lost with a new
// one, and goes back to the same remote folder (the top, if it is gone).
func (s *Shell) Reconnect() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Abort != nil {
		s.cfg.Abort(s.cl) // it may be open still (lost on our side only)
	}
	s.cache, s.lost = nil, nil
	if s.cfg.Once {
		return ErrOnce
	}
	fmt.Fprintf(s.err, "ferry: reconnecting to %s\n", s.cfg.Server)
	c, err := s.cfg.Dial(s.err)
	if err != nil {
		return err
	}
	s.cl = c
	if _, err := s.listDir(s.cwd); err != nil {
		if _, ok := errors.AsType[*LostError](err); ok {
			return err
		}
		fmt.Fprintf(s.err, "ferry: %s; back at the top\n", s.tell(err))
		s.cwd = ""
	}
	fmt.Fprintf(s.err, "ferry: reconnected; in %s\n", safe.Text(display(s.cwd)))
	return nil
}

// Close says goodbye to the server, or only closes a lost session.
func (s *Shell) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost != nil {
		if s.cfg.Abort != nil {
			s.cfg.Abort(s.cl)
		}
		return nil
	}
	return s.cl.Close()
}

// keepalive sends a keepalive every KeepaliveEvery until stop closes,
// holding the session as a command would, so never during one. A failure
// marks the session lost.
func (s *Shell) keepalive(stop <-chan struct{}) {
	t := time.NewTicker(s.cfg.KeepaliveEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		if s.lost == nil {
			if err := s.cl.Keepalive(); err != nil {
				s.lost = err
			}
		}
		s.mu.Unlock()
	}
}

// startKeepalive starts the keepalive ticker and returns what stops it.
func (s *Shell) startKeepalive() func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		s.keepalive(stop)
	}()
	return func() {
		close(stop)
		<-done
	}
}

// prompt is "ferry router:/logs> ".
func (s *Shell) prompt() string {
	return fmt.Sprintf("ferry %s:%s> ", safe.Text(s.cfg.Server), safe.Text(display(s.cwd)))
}

// report prints a command's error.
func (s *Shell) report(err error) {
	fmt.Fprintf(s.err, "ferry: %s\n", s.tell(err))
}

// explain is what the user is told of err (Config.Explain).
func (s *Shell) explain(err error) string {
	if s.cfg.Explain != nil {
		return s.cfg.Explain(err)
	}
	return err.Error()
}

// tell is explain, safe to print: an error may carry a server's words.
func (s *Shell) tell(err error) string { return safe.Text(s.explain(err)) }
