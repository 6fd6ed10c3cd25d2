package main

import (
	"context"
	"flag"

	"ferry/link"
)

// transportFlags select the link: TCP by default, a serial line or stdio.
type transportFlags struct {
	serial string
	baud   int
	rtscts bool
	stdio  bool
}

func (t *transportFlags) register(fs *flag.FlagSet) {}

func (t *transportFlags) serialOrStdio() bool { return t.serial != "" || t.stdio }

// dial opens the client's link and names the server for the state files.
func (t *transportFlags) dial(ctx context.Context, addr string) (link.Conn, string, error) {
	c, err := link.Dial(ctx, addr)
	return c, addr, err
}

// listen opens the server's listener.
func (t *transportFlags) listen(addr string) (link.Listener, error) {
	return link.Listen(addr)
}
