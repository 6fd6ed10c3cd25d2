// Package link carries ferry's protocol over a byte stream: TCP, a serial
// line or stdio. Every transport yields a Conn, a reliable, ordered, full
// duplex byte stream with deadlines. TCP is one already; serial lines and
// stdio get there through the ARQ of this package (see docs/PROTOCOL.md,
// "Link layer"). The package knows nothing of ferry's frames or keys.
package link

import (
	"context"
	"errors"
	"io"
	"net"
	"time"
)

// Conn is a reliable, ordered byte stream. Read and Write may be called
// concurrently with each other; Close unblocks both. A deadline that passes
// makes the blocked call return an error for which errors.Is(err,
// os.ErrDeadlineExceeded) is true. net.Conn satisfies Conn.
type Conn interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// Listener yields the server side of new sessions: one per TCP connection,
// one per link session on a serial line or stdio.
type Listener interface {
	// Accept waits for the next session.
	Accept() (Conn, error)
	// Close stops the listener; a blocked Accept returns ErrClosed.
	Close() error
	// Addr names what the listener listens on, for logs.
	Addr() string
}

// ErrClosed is returned by Accept on a closed Listener.
var ErrClosed = errors.New("link: listener closed")

// Dial connects to a ferry server over TCP.
func Dial(ctx context.Context, addr string) (Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tuneTCP(c)
	return c, nil
}

// Listen listens for ferry clients on a TCP address.
func Listen(addr string) (Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return tcpListener{l}, nil
}

type tcpListener struct{ l net.Listener }

func (t tcpListener) Accept() (Conn, error) {
	c, err := t.l.Accept()
	if errors.Is(err, net.ErrClosed) {
		return nil, ErrClosed
	}
	if err != nil {
		return nil, err
	}
	tuneTCP(c)
	return c, nil
}

func (t tcpListener) Close() error { return t.l.Close() }
func (t tcpListener) Addr() string { return t.l.Addr().String() }

// tuneTCP turns on keepalives so that a peer that vanished is noticed even
// between deadlines.
func tuneTCP(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetKeepAlive(true)
		tc.SetKeepAlivePeriod(30 * time.Second)
	}
}
