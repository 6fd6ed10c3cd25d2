package classic

import (
	"bufio"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
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

	// sumHook, set by tests, alters the checksum sent in 2103.
	sumHook func(uint32) uint32

	mu   sync.Mutex
	keys map[frame.ClientID][AESKeySize]byte // the AES key last sent to each client
}

// Serve accepts connections on l and serves each in its own goroutine until
// ctx is done or l is closed; it then closes l, waits for the connections
// it started (which end with ctx, or when their client leaves or idles out)
// and returns nil. Other errors of Accept (out of file descriptors) are
// logged and retried after a pause, as net/http does.
func (s *Server) Serve(ctx context.Context, l link.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	defer l.Close()
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
			time.Sleep(pause)
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

// ServeConn serves one client connection until the client closes it, ctx
// is done, a read times out or a request is refused: bad input gets 2107
// and the connection is closed. It closes c and aborts a file not yet
// confirmed. It returns nil when the client closed the connection between
// requests.
func (s *Server) ServeConn(ctx context.Context, c link.Conn) error {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	sc := &conn{srv: s, c: c, r: bufio.NewReaderSize(c, chunkSize), buf: make([]byte, chunkSize)}
	defer sc.close()
	for {
		err := sc.serveOne()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			sc.refuse()
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

// setKey remembers the AES key sent to a client. Keys live in memory only,
// server-wide, so that a client may use a new connection for the upload.
func (s *Server) setKey(id frame.ClientID, k [AESKeySize]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = make(map[frame.ClientID][AESKeySize]byte)
	}
	s.keys[id] = k
}

func (s *Server) key(id frame.ClientID) ([AESKeySize]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	return k, ok
}

// conn is the state of one connection. Not safe for concurrent use.
type conn struct {
	srv *Server
	c   link.Conn
	r   *bufio.Reader
	buf []byte // chunkSize bytes of ciphertext, then plaintext, reused

	registered frame.ClientID // registered on this connection, may send 1026
	hasReg     bool

	up     *fsstore.Upload // the file received, awaiting 1029, 1030 or 1031
	upName string          // its name as the client sent it
	upID   frame.ClientID
	resend bool // 1030 seen: the next 1028 refills up

	hb  [frame.RequestHeaderSize]byte
	out [maxResponseLength]byte
}

// refused is the error of a refused request; it says what was refused.
func refused(h frame.Request, why string) error {
	return fmt.Errorf("%w: %s from %s: %s", ErrMalformed, h.Code, h.ClientID, why)
}

// serveOne reads one request and answers it. io.EOF means the client left
// cleanly between requests.
func (sc *conn) serveOne() error {
	sc.c.SetReadDeadline(time.Now().Add(sc.srv.timeout()))
	if _, err := io.ReadFull(sc.r, sc.hb[:]); err != nil {
		switch err {
		case io.EOF:
			return err
		case io.ErrUnexpectedEOF:
			return fmt.Errorf("%w: short header", ErrMalformed)
		}
		return fmt.Errorf("classic: read request: %w", err)
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

// close aborts a file not yet confirmed and closes the connection.
func (sc *conn) close() {
	sc.drop()
	sc.c.Close()
}

func (sc *conn) drop() {
	if sc.up != nil {
		sc.up.Abort()
		sc.up, sc.upName, sc.resend = nil, "", false
	}
}

// register answers 1025. The header's client ID is ignored.
func (sc *conn) register(req *Request) error {
	c, err := sc.srv.Store.Register(req.Name.String(), fsstore.KeyNone, nil, time.Now())
	if errors.Is(err, fsstore.ErrNameTaken) {
		return sc.send(&Response{Code: frame.CodeNameTaken})
	}
	if err != nil {
		return fmt.Errorf("classic: register %q: %w", req.Name.String(), err)
	}
	sc.registered, sc.hasReg = c.ID, true
	return sc.send(&Response{Code: frame.CodeRegistered, ClientID: c.ID})
}

// publicKey answers 1026: it records the client's RSA key and sends it a
// fresh AES key. Only a client without a key may send one, or the client
// registered on this very connection: a known ID alone does not let anyone
// replace a key.
func (sc *conn) publicKey(req *Request) error {
	h := &req.Header
	c, ok := sc.srv.Store.Client(h.ClientID)
	if !ok || c.Name != req.Name.String() {
		return refused(*h, "unknown client or name")
	}
	if c.KeyKind != fsstore.KeyNone && !(sc.hasReg && sc.registered == c.ID) {
		return refused(*h, "client has a key already")
	}
	pub, err := ParsePublicKey(req.PublicKey[:])
	if err != nil {
		return refused(*h, "public key does not parse")
	}
	if err := sc.srv.Store.SetKey(c.ID, fsstore.KeyRSA, req.PublicKey[:]); err != nil {
		return fmt.Errorf("classic: store key of %s: %w", h.ClientID, err)
	}
	return sc.sendKey(frame.CodeKeyAccepted, c.ID, pub)
}

// reconnect answers 1027 with a fresh AES key, or 2106 when the ID and name
// do not name a client with an RSA key.
func (sc *conn) reconnect(req *Request) error {
	h := &req.Header
	c, ok := sc.srv.Store.Client(h.ClientID)
	var pub *rsa.PublicKey
	if ok && c.Name == req.Name.String() && c.KeyKind == fsstore.KeyRSA {
		pub, _ = ParsePublicKey(c.PublicKey)
	}
	if pub == nil {
		sc.srv.logf("classic: reconnect of %q as %s denied", req.Name.String(), h.ClientID)
		return sc.send(&Response{Code: frame.CodeDenied, ClientID: h.ClientID})
	}
	return sc.sendKey(frame.CodeReconnected, c.ID, pub)
}

// sendKey draws an AES key for the client and sends it wrapped in pub.
func (sc *conn) sendKey(code frame.Code, id frame.ClientID, pub *rsa.PublicKey) error {
	k := newAESKey()
	ct, err := encryptKey(pub, &k)
	if err != nil {
		return err
	}
	sc.srv.setKey(id, k)
	sc.srv.Store.Touch(id, time.Now())
	return sc.send(&Response{Code: code, ClientID: id, EncryptedKey: ct})
}

// storeName is the name a file is stored under: the last element of the
// path a client may have sent.
func storeName(name string) string {
	name = name[strings.LastIndexByte(name, '\\')+1:]
	return path.Base(name)
}

// receive answers 1028: it decrypts the ciphertext chunk by chunk straight
// into an upload, then sends 2103 with the plaintext's cksum.
func (sc *conn) receive(req *Request) error {
	h := &req.Header
	key, ok := sc.srv.key(h.ClientID)
	if !ok {
		return refused(*h, "no AES key sent to this client")
	}
	name := req.Name.String()
	if sc.up != nil && !(sc.resend && sc.upName == name && sc.upID == h.ClientID) {
		sc.drop() // a new file replaces one never confirmed
	}
	if sc.up == nil {
		up, err := sc.srv.Store.NewUpload(h.ClientID, storeName(name))
		if err != nil {
			return refused(*h, fmt.Sprintf("file name %q: %v", name, err))
		}
		sc.up, sc.upName, sc.upID = up, name, h.ClientID
	}
	sc.resend = false
	if err := sc.decrypt(sc.up, &key, req.ContentSize); err != nil {
		sc.drop()
		return err
	}
	sum := sc.up.Sum()
	if sc.srv.sumHook != nil {
		sum = sc.srv.sumHook(sum)
	}
	sc.srv.Store.Touch(h.ClientID, time.Now())
	return sc.send(&Response{Code: frame.CodeFileReceived, ClientID: h.ClientID,
		ContentSize: req.ContentSize, FileName: req.Name, Cksum: sum})
}

// decrypt reads n bytes of ciphertext and writes their plaintext to w, one
// chunk at a time; the padding is checked at the end.
func (sc *conn) decrypt(w *fsstore.Upload, key *[AESKeySize]byte, n uint32) error {
	cbc := newDecrypter(key)
	for left := int64(n); left > 0; {
		p := sc.buf[:min(left, int64(len(sc.buf)))]
		if err := sc.read(p); err != nil {
			return err
		}
		cbc.CryptBlocks(p, p)
		left -= int64(len(p))
		if left == 0 {
			var err error
			if p, err = unpad(p); err != nil {
				return fmt.Errorf("%w: bad padding", err)
			}
		}
		if _, err := w.Write(p); err != nil {
			return fmt.Errorf("classic: write upload: %w", err)
		}
	}
	if w.Size() > sc.srv.maxFile() {
		return ErrTooLarge
	}
	return nil
}

// finish answers 1029 (commit, 2104), 1030 (reset for the 1028 that
// follows, no answer) and 1031 (abort, 2104).
func (sc *conn) finish(req *Request) error {
	h := &req.Header
	if sc.up == nil || sc.resend || sc.upID != h.ClientID || sc.upName != req.Name.String() {
		return refused(*h, "no such file awaiting a verdict")
	}
	sc.srv.Store.Touch(h.ClientID, time.Now())
	switch h.Code {
	case frame.CodeChecksumOK:
		_, err := sc.up.Commit(true, time.Now())
		sc.up, sc.upName = nil, ""
		if err != nil {
			return fmt.Errorf("classic: commit %q of %s: %w", req.Name.String(), h.ClientID, err)
		}
	case frame.CodeChecksumBad:
		if err := sc.up.Reset(); err != nil {
			return fmt.Errorf("classic: reset %q of %s: %w", req.Name.String(), h.ClientID, err)
		}
		sc.resend = true
		return nil
	default:
		sc.drop()
	}
	return sc.send(&Response{Code: frame.CodeThanks, ClientID: h.ClientID})
}
