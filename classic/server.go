package classic

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"ferry/frame"
	"ferry/fsstore"
	"ferry/link"
)

// DefaultMaxFileSize is the largest plaintext a Server accepts unless
// configured: the most a 1028 can carry, whose sizes are 32-bit.
const DefaultMaxFileSize = 1<<32 - 1 - FileHeaderSize - 16

// Server answers classic clients, writing into an fsstore. Set its fields
// before the first call to Serve or ServeConn and leave them alone after;
// then it is safe for concurrent use. It prints nothing.
type Server struct {
	// Store receives registrations and files. Required.
	Store *fsstore.Store
	// MaxFileSize bounds the plaintext of one file; a 1028 declaring more
	// ciphertext than such a file needs gets 2107 before its content is
	// read. 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// Timeout bounds every read (so also the idle time between requests)
	// and every write. 0 means DefaultTimeout.
	Timeout time.Duration
	// Logf, if set, receives one line per refused request or failed
	// connection.
	Logf func(format string, args ...any)
	// AckResend answers 1030 with 2104, as some deployed servers do, for
	// clients that wait for an answer; the seed says nothing comes.
	AckResend bool

	// sumHook, set by tests, alters the checksum sent in 2103.
	sumHook func(uint32) uint32

	mu          sync.Mutex
	keys        map[frame.ClientID][AESKeySize]byte // the AES key last sent to each client
	pending     map[frame.ClientID]*pendingFile     // the file awaiting each client's verdict
	registering map[string]*conn                    // names being registered on a live connection, no key yet
}

// Serve accepts connections on l and serves each in its own goroutine until
// ctx is done or l is closed; it then closes l, waits for the connections
// it started (which end with ctx, or when their client leaves or idles out),
// discards files still awaiting a verdict and returns nil. Other errors of
// Accept (out of file descriptors) are logged and retried after a pause, as
// net/http does.
func (s *Server) Serve(ctx context.Context, l link.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	defer l.Close()
	defer s.abortPending()
	var wg sync.WaitGroup
	defer wg.Wait()
	pause := time.Duration(0)
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, link.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			s.logf("classic: accept on %s: %v; retrying in %v", l.Addr(), err, pause)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(pause):
			}
			continue
		}
		pause = 0
		wg.Go(func() {
			if err := s.ServeConn(ctx, c); err != nil && ctx.Err() == nil {
				s.logf("%v", err)
			}
		})
	}
}

// ServeConn serves one client connection until the client closes it or
// ends its last request with padding, ctx is done, a read times out or a
// request is refused: bad input gets 2107 and the connection is closed. It
// closes c. It returns nil when the client left cleanly.
//
// A file received on c may get its verdict (1029-1031) on a later
// connection of the same client; it is discarded when none comes within
// the timeout.
func (s *Server) ServeConn(ctx context.Context, c link.Conn) error {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	sc := &conn{srv: s, c: c, r: bufio.NewReaderSize(c, chunkSize), buf: make([]byte, chunkSize)}
	for {
		err := sc.serveOne()
		if err == nil {
			sc.served = true
			continue
		}
		s.unclaim(sc) // before the client can see the end: it may register again at once
		switch {
		case err == io.EOF:
			c.Close()
			return nil
		case err == errPadding:
			sc.lingerClose()
			return nil
		case err != nil && ctx.Err() != nil:
			c.Close()
			return ctx.Err()
		case err != nil:
			sc.refuse()
			sc.lingerClose()
			return err
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Server) maxFile() int64 {
	if s.MaxFileSize > 0 {
		return min(s.MaxFileSize, DefaultMaxFileSize)
	}
	return DefaultMaxFileSize
}

func (s *Server) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

// conn is the state of one connection. Not safe for concurrent use.
type conn struct {
	srv *Server
	c   link.Conn
	r   *bufio.Reader
	buf []byte // chunkSize bytes of ciphertext, then plaintext, reused

	registered frame.ClientID // registered on this connection, may send 1026
	hasReg     bool
	claimed    string // the name this connection is registering, held in Server.registering
	served     bool   // a request was answered: zeros may be its padding

	hb  [frame.RequestHeaderSize]byte
	out [maxResponseLength]byte
}

// refused is the error of a refused request; it says what was refused.
func refused(h frame.Request, why string) error {
	return fmt.Errorf("%w: %s from %s: %s", ErrMalformed, h.Code, h.ClientID, why)
}

// serveOne reads one request and answers it. io.EOF means the client left
// cleanly between requests, errPadding that it padded its last request.
func (sc *conn) serveOne() error {
	if err := sc.readHeader(); err != nil {
		return err
	}
	h, err := ParseRequestHeader(&sc.hb, MaxContent(sc.srv.maxFile()))
	if err != nil {
		return fmt.Errorf("%w: header %x", err, sc.hb[:])
	}
	body := sc.buf[:BodySize(h.Code)]
	if err := sc.read(body); err != nil {
		return err
	}
	req, err := ParseRequestBody(h, body)
	if err != nil {
		return refused(h, "bad payload")
	}
	switch h.Code {
	case frame.CodeRegister:
		return sc.register(&req)
	case frame.CodePublicKey:
		return sc.publicKey(&req)
	case frame.CodeReconnect:
		return sc.reconnect(&req)
	case frame.CodeSendFile:
		return sc.receive(&req)
	default: // 1029, 1030, 1031
		return sc.finish(&req)
	}
}

// errPadding means zero bytes came where a request header should start.
var errPadding = errors.New("classic: padding after the last request")

// paddingWait is how long a few zero bytes may wait for the rest of a
// header before they count as padding.
const paddingWait = 300 * time.Millisecond

// readHeader reads the next request header into sc.hb. The deployed
// clients' template sends every request in packets of a fixed size, the
// last one padded with zeros, then waits for the server to close the
// connection. A header starts with a client ID that may be zero, but its
// version byte never is: zeros through the version byte are padding, and
// so are fewer zeros followed by a pause after a request was answered.
// The first header of a connection is never padding: a 1025 starts with a
// zero ID, which a client may write on its own before the rest.
func (sc *conn) readHeader() error {
	wait := sc.srv.timeout()
	for n := 0; n < len(sc.hb); {
		sc.c.SetReadDeadline(time.Now().Add(wait))
		m, err := sc.r.Read(sc.hb[n:])
		n += m
		zeros := n > 0 && allZero(sc.hb[:n])
		switch {
		case zeros && (n > versionOffset || err != nil):
			return errPadding
		case err == io.EOF && n == 0:
			return io.EOF
		case err == io.EOF:
			return fmt.Errorf("%w: short header %x", ErrMalformed, sc.hb[:n])
		case err != nil:
			return fmt.Errorf("classic: read request: %w", err)
		case zeros && sc.served:
			wait = paddingWait
		}
	}
	return nil
}

// versionOffset is where the version byte sits in a request header.
const versionOffset = frame.IDSize

func allZero(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}

// read fills p from the connection, with a fresh deadline.
func (sc *conn) read(p []byte) error {
	sc.c.SetReadDeadline(time.Now().Add(sc.srv.timeout()))
	_, err := io.ReadFull(sc.r, p)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: frame cut short", ErrMalformed)
	case err != nil:
		return fmt.Errorf("classic: read request: %w", err)
	}
	return nil
}

// send writes one response.
func (sc *conn) send(r *Response) error {
	sc.c.SetWriteDeadline(time.Now().Add(sc.srv.timeout()))
	if _, err := sc.c.Write(r.Append(sc.out[:0])); err != nil {
		return fmt.Errorf("classic: send %s: %w", r.Code, err)
	}
	return nil
}

// refuse sends 2107; errors are ignored, the connection closes next.
func (sc *conn) refuse() {
	sc.send(&Response{Code: frame.CodeError})
}

// Bounds of lingerClose.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 1 << 20
)

// lingerClose ends the connection so that the client reads everything
// sent: it shuts the sending side, which the template's clients wait for,
// then reads what the client still sends (padding, the rest of a refused
// file) for a while before closing. Closing with unread input would reset
// the connection, and the client could lose the last response.
func (sc *conn) lingerClose() {
	if cw, ok := sc.c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		sc.c.SetReadDeadline(time.Now().Add(lingerTime))
		for n := 0; n < lingerBytes; {
			m, err := sc.r.Read(sc.buf)
			if err != nil {
				break
			}
			n += m
		}
	}
	sc.c.Close()
}
