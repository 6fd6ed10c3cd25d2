package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"ferry/boards"
	"ferry/link"
)

// transportFlags select the link: TCP by default, a serial line or stdio.
type transportFlags struct {
	serial  string
	baud    int
	baudSet bool // -baud given: with -stdio, the rate of the line behind stdin/stdout
	rtscts  bool
	stdio   bool
	silence time.Duration // -link-timeout: the dead-peer timeout of the link
}

// baudValue is -baud, remembering whether it was given: a serial device
// always has a rate (the board's default), stdio has one only when the user
// names it (a console on a UART), and is otherwise treated as a fast pipe.
type baudValue struct{ t *transportFlags }

func (b baudValue) String() string {
	if b.t == nil {
		return ""
	}
	return strconv.Itoa(b.t.baud)
}

func (b baudValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not a number")
	}
	b.t.baud, b.t.baudSet = n, true
	return nil
}

func (t *transportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.serial, "serial", "", "use the serial line at this `device` (e.g. /dev/ttyUSB0) instead of TCP")
	t.baud = boards.Current.Baud
	fs.Var(baudValue{t}, "baud", "serial line `rate` (8N1; any rate the OS accepts); with -stdio, the rate of the line behind it, if any")
	fs.BoolVar(&t.rtscts, "rtscts", false, "use RTS/CTS hardware flow control on the serial line (only where it is wired)")
	fs.BoolVar(&t.stdio, "stdio", false, "speak the protocol on stdin/stdout (for ssh, a console, a pipe) instead of TCP")
	fs.DurationVar(&t.silence, "link-timeout", defaultLinkTimeout, "on -serial and -stdio: end the session when the other side is silent this `long` (a pulled cable, a dead peer); shorter outages are ridden out")
}

// defaultLinkTimeout is long enough to ride out a cable pulled and plugged
// back, or a board's console being reset, and short enough that a dead
// peer does not keep a user waiting for minutes.
const defaultLinkTimeout = 60 * time.Second

func (t *transportFlags) serialOrStdio() bool { return t.serial != "" || t.stdio }

// slow reports a line with a rate: a serial device, or stdio given -baud.
func (t *transportFlags) slow() bool { return t.serial != "" || (t.stdio && t.baudSet) }

func (t *transportFlags) check() error {
	if t.serial != "" && t.stdio {
		return errors.New("-serial and -stdio exclude each other")
	}
	if (t.serial != "" || t.baudSet) && t.baud <= 0 {
		return fmt.Errorf("-baud %d: must be positive", t.baud)
	}
	if t.silence < time.Second {
		return fmt.Errorf("-link-timeout %v: must be at least 1s (keepalives go every second)", t.silence)
	}
	return nil
}

// port opens the raw line of -serial or -stdio.
func (t *transportFlags) port() (link.PortConfig, func() (io.ReadWriteCloser, error)) {
	if t.stdio {
		cfg := link.PortConfig{PeerTimeout: t.silence} // a pipe: no pacing, timers learned from the round trip
		if t.baudSet {
			cfg.Baud = t.baud
		}
		return cfg, func() (io.ReadWriteCloser, error) { return link.Stdio(), nil }
	}
	cfg := link.PortConfig{Baud: t.baud, RTSCTS: t.rtscts, PeerTimeout: t.silence}
	return cfg, func() (io.ReadWriteCloser, error) { return link.OpenSerial(t.serial, cfg) }
}

// dial opens the client's link and names the server for the state files:
// the TCP address, "serial:DEVICE" or "stdio".
func (t *transportFlags) dial(ctx context.Context, addr string) (link.Conn, string, error) {
	if err := t.check(); err != nil {
		return nil, "", err
	}
	if !t.serialOrStdio() {
		c, err := link.Dial(ctx, addr)
		return c, addr, err
	}
	name := "stdio"
	if t.serial != "" {
		name = "serial:" + t.serial
	}
	cfg, open := t.port()
	p, err := open()
	if err != nil {
		return nil, "", err
	}
	c, err := link.DialPort(ctx, p, cfg)
	if err != nil {
		p.Close()
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	return c, name, nil
}

// listen opens the server's listener: TCP, or link sessions one after
// another on the serial line or stdio.
func (t *transportFlags) listen(addr string) (link.Listener, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if !t.serialOrStdio() {
		return link.Listen(addr)
	}
	cfg, open := t.port()
	p, err := open()
	if err != nil {
		return nil, err
	}
	l, err := link.ListenPort(p, cfg)
	if err != nil {
		p.Close()
		return nil, err
	}
	return l, nil
}
