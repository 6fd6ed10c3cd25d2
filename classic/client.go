package classic

import (
	"bufio"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"ferry/frame"
	"ferry/link"
)

// MaxSendSize is the largest file Send accepts: a 1028's payload size is
// 32-bit and holds the file header and the padded ciphertext.
const MaxSendSize = DefaultMaxFileSize

// maxAttempts is how often a file is sent before the client gives up: the
// first time and three resends.
const maxAttempts = 4

// Errors of the client. Callers branch on them with errors.Is.
var (
	// ErrNameTaken means the server refused the registration (2101).
	ErrNameTaken = errors.New("classic: the server refused the registration: name taken; pick another name")
	// ErrDenied means the server refused the reconnection (2106) and a new
	// registration was not possible either.
	ErrDenied = errors.New("classic: the server refused the reconnection")
	// ErrServer means the server answered 2107, its general error.
	ErrServer = errors.New("classic: the server reported an error (2107)")
	// ErrChecksum means the server's checksum did not match four times and
	// the file was abandoned (1031).
	ErrChecksum = errors.New("classic: checksum mismatch four times, upload abandoned")
)

// ClientConfig configures Send.
type ClientConfig struct {
	// Addr is the server's host:port.
	Addr string
	// Name is the name to register under when Dir holds no me.info.
	Name string
	// Dir holds the client's identity, me.info and priv.key, in the format
	// of the deployed clients: read when present (reconnect), written after
	// a registration. "" means the working directory.
	Dir string
	// Timeout bounds every read and write. 0 means DefaultTimeout.
	Timeout time.Duration
	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any)
}

// Result says what Send did.
type Result struct {
	ClientID   frame.ClientID
	Name       string // the client name used
	Registered bool   // a new registration; me.info and priv.key were written
	FileName   string // the file name sent
	Size       int64  // plaintext bytes
	Cksum      uint32 // POSIX cksum of the plaintext
	Attempts   int    // how many times the file was sent
	Verified   bool   // the server's checksum matched and the server confirmed
}

// Send uploads the file at path to a classic server: reconnect when Dir
// holds me.info (and register anew if the server denies it), register
// otherwise, then send the file, resending it up to three times while the
// checksums differ.
func Send(ctx context.Context, cfg ClientConfig, path string) (Result, error) {
	res := Result{FileName: filepath.Base(path)}
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("classic: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("classic: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > MaxSendSize {
		return res, fmt.Errorf("classic: %s: not a regular file of at most %d bytes", path, int64(MaxSendSize))
	}
	res.Size = fi.Size()
	fileName, err := MakeName(res.FileName)
	if err != nil {
		return res, err
	}
	id, err := loadIdentity(cfg.Dir)
	if err != nil {
		return res, err
	}
	cc := &clientConn{ctx: ctx, cfg: cfg, buf: make([]byte, chunkSize+16)}
	defer cc.close()
	if err := cc.handshake(&res, id); err != nil {
		return res, ctxErr(ctx, err)
	}
	return res, ctxErr(ctx, cc.upload(&res, f, fileName))
}

// ctxErr prefers the context's error: a cancelled Send closes the
// connection, and the I/O error that follows says less.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("classic: %w", ctx.Err())
	}
	return err
}

// clientConn is the client's side of a session: one connection, or a new
// one per request with servers that close it after every response.
type clientConn struct {
	ctx  context.Context // of the Send call it serves
	cfg  ClientConfig
	c    link.Conn
	stop func() bool
	r    *bufio.Reader
	used bool   // a request was answered on c
	buf  []byte // a chunk of the file and its padding, reused
	id   frame.ClientID
	key  [AESKeySize]byte
	hb   [frame.ResponseHeaderSize]byte
	pb   [FileReceivedSize]byte
}

// redial closes the connection, if any, and opens a new one, which closes
// when the context is done.
func (cc *clientConn) redial() error {
	cc.close()
	dctx, cancel := context.WithTimeout(cc.ctx, min(cc.timeout(), connectTimeout))
	defer cancel()
	c, err := link.Dial(dctx, cc.cfg.Addr)
	if err != nil {
		return fmt.Errorf("classic: connect to %s: %w", cc.cfg.Addr, err)
	}
	cc.c, cc.r, cc.used = c, bufio.NewReader(c), false
	cc.stop = context.AfterFunc(cc.ctx, func() { c.Close() })
	return nil
}

// connectTimeout bounds a connection attempt, below the OS's two minutes
// of SYN retries: a server that does not answer in that time is down.
const connectTimeout = 30 * time.Second

func (cc *clientConn) close() {
	if cc.c != nil {
		cc.stop()
		cc.c.Close()
		cc.c = nil
	}
}

// roundTrip sends a request with send and reads its response, which must
// have one of the codes want; with none, no response is read. Some
// deployed servers close the connection after every response: when a
// connection that served a request before turns out closed, the request is
// sent again, once, on a new one.
func (cc *clientConn) roundTrip(send func() error, want ...frame.Code) (Response, error) {
	// cc.c is nil when afterNotice saw the server close it.
	if cc.c == nil || len(want) == 0 && cc.used && cc.peerClosed(closeProbe) {
		if err := cc.redialClosed(); err != nil {
			return Response{}, err
		}
	}
	resp, err := cc.try(send, want)
	if err != nil && cc.used && closedByPeer(err) {
		if err := cc.redialClosed(); err != nil {
			return resp, err
		}
		resp, err = cc.try(send, want)
	}
	cc.used = cc.used || err == nil
	if err == nil && len(want) == 0 {
		err = cc.afterNotice()
	}
	return resp, err
}

// redialClosed connects again after the server closed the connection.
func (cc *clientConn) redialClosed() error {
	cc.logf("classic: %s closed the connection; connecting again", cc.cfg.Addr)
	return cc.redial()
}

// afterNotice follows a request sent without waiting for a response
// (1030): it takes the 2104 that some servers answer, and closes the
// connection if the server closes it (after every request, answered or
// not), so that the next request goes on a new one.
func (cc *clientConn) afterNotice() error {
	if cc.peerClosed(noticeProbe) {
		cc.close()
		return nil
	}
	if cc.r.Buffered() == 0 {
		return nil // silence: the server keeps the connection and answers nothing
	}
	if _, err := cc.receive(frame.CodeThanks); err != nil {
		return err
	}
	if cc.peerClosed(closeProbe) {
		cc.close()
	}
	return nil
}

// A request without response (1030) cannot find out from its own write
// that the server has closed the connection: the write succeeds into the
// socket, and the request is lost. Servers that close after every request
// close within a round trip, so the client waits that long for the end of
// the stream before such a request (the server may have closed after the
// last response) and after it (it may close after this one). Servers that
// keep the connection cost the wait: closeProbe+noticeProbe per failed
// checksum.
const (
	closeProbe  = 50 * time.Millisecond
	noticeProbe = 300 * time.Millisecond
)

// peerClosed reports whether the server ends the stream within d, without
// consuming anything it sends meanwhile.
func (cc *clientConn) peerClosed(d time.Duration) bool {
	if cc.r.Buffered() > 0 {
		return false
	}
	cc.c.SetReadDeadline(time.Now().Add(d))
	_, err := cc.r.Peek(1)
	cc.c.SetReadDeadline(time.Time{})
	return err != nil && closedByPeer(err)
}

func (cc *clientConn) try(send func() error, want []frame.Code) (Response, error) {
	err := send()
	if err != nil && len(want) > 0 {
		// A server that refuses a request before reading all of it (a file
		// over its limit) answers 2107 and closes: say that, not the reset.
		if _, rerr := cc.receiveBy(time.Now().Add(time.Second), want); errors.Is(rerr, ErrServer) {
			return Response{}, rerr
		}
	}
	if err != nil || len(want) == 0 {
		return Response{}, err
	}
	return cc.receive(want...)
}

// closedByPeer reports whether err says the server closed the connection.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// request returns a send function for a request without content.
func (cc *clientConn) request(r *Request) func() error {
	return func() error { return cc.send(r) }
}

func (cc *clientConn) logf(format string, args ...any) {
	if cc.cfg.Logf != nil {
		cc.cfg.Logf(format, args...)
	}
}

func (cc *clientConn) timeout() time.Duration {
	if cc.cfg.Timeout > 0 {
		return cc.cfg.Timeout
	}
	return DefaultTimeout
}

// handshake connects and reconnects with id, or registers when there is
// none or the server denies it, and leaves the session's AES key in cc.key.
// A new key is made before connecting: that takes a while on a small
// device, and servers time idle connections out. Some servers close the
// connection after a 2106, so registering after one starts on a new
// connection.
func (cc *clientConn) handshake(res *Result, id *Identity) error {
	name := cc.cfg.Name
	if id != nil {
		if err := cc.redial(); err != nil {
			return err
		}
		ok, err := cc.reconnect(id)
		if err != nil || ok {
			res.ClientID, res.Name = id.ID, id.Name
			return err
		}
		cc.logf("classic: the server does not know %s (%s): registering anew", id.Name, id.ID)
		name = id.Name
	}
	key, err := GenerateKey()
	if err != nil {
		return err
	}
	if err := cc.redial(); err != nil {
		return err
	}
	reg, err := cc.register(name, key)
	if err != nil && id != nil {
		return fmt.Errorf("%w; registering anew: %w", ErrDenied, err)
	}
	if err != nil {
		return err
	}
	res.ClientID, res.Name, res.Registered = reg.ID, reg.Name, true
	return nil
}

// reconnect sends 1027; ok is false when the server answers 2106.
func (cc *clientConn) reconnect(id *Identity) (ok bool, err error) {
	name, err := MakeName(id.Name)
	if err != nil {
		return false, err
	}
	cc.id = id.ID
	req := Request{Header: frame.Request{ClientID: id.ID, Code: frame.CodeReconnect}, Name: name}
	resp, err := cc.roundTrip(cc.request(&req), frame.CodeReconnected, frame.CodeDenied)
	if err != nil || resp.Code == frame.CodeDenied {
		return false, err
	}
	return true, cc.takeKey(id.Key, &resp)
}

// register sends 1025, stores the identity with key as soon as the server
// assigned an ID (as the deployed clients do), then sends the public key
// with 1026.
func (cc *clientConn) register(name string, key *rsa.PrivateKey) (*Identity, error) {
	n, err := MakeName(name)
	if err != nil {
		return nil, err
	}
	pub, err := MarshalPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	req := Request{Header: frame.Request{Code: frame.CodeRegister}, Name: n}
	resp, err := cc.roundTrip(cc.request(&req), frame.CodeRegistered, frame.CodeNameTaken)
	if err != nil {
		return nil, err
	}
	if resp.Code == frame.CodeNameTaken {
		return nil, fmt.Errorf("%w (%q)", ErrNameTaken, name)
	}
	id := &Identity{Name: name, ID: resp.ClientID, Key: key}
	if err := id.Save(cc.cfg.Dir); err != nil {
		return nil, err
	}
	cc.id = id.ID
	cc.logf("classic: registered %s as %s", name, id.ID)
	req = Request{Header: frame.Request{ClientID: id.ID, Code: frame.CodePublicKey}, Name: n, PublicKey: pub}
	if resp, err = cc.roundTrip(cc.request(&req), frame.CodeKeyAccepted); err != nil {
		return nil, err
	}
	return id, cc.takeKey(key, &resp)
}

// takeKey unwraps the AES key of a 2102 or 2105.
func (cc *clientConn) takeKey(priv *rsa.PrivateKey, resp *Response) error {
	if resp.ClientID != cc.id {
		return fmt.Errorf("%w: %s for client %s, we are %s", ErrMalformed, resp.Code, resp.ClientID, cc.id)
	}
	k, err := decryptKey(priv, &resp.EncryptedKey)
	if err != nil {
		return fmt.Errorf("classic: the server's AES key does not decrypt with our private key: %w", err)
	}
	cc.key = k
	return nil
}

// upload sends the file, then 1029, or 1030 and the file again, up to
// maxAttempts times, then 1031.
func (cc *clientConn) upload(res *Result, f *os.File, name Name) error {
	notice := func(code frame.Code, want ...frame.Code) error {
		req := Request{Header: frame.Request{ClientID: cc.id, Code: code}, Name: name}
		_, err := cc.roundTrip(cc.request(&req), want...)
		return err
	}
	for res.Attempts = 1; ; res.Attempts++ {
		resp, err := cc.sendFile(res, f, name)
		if err != nil {
			return err
		}
		if resp.Cksum == res.Cksum && resp.ContentSize == uint32(encryptedSize(res.Size)) {
			break
		}
		cc.logf("classic: %s: checksum mismatch (ours %d, server's %d), attempt %d of %d", res.FileName, res.Cksum, resp.Cksum, res.Attempts, maxAttempts)
		if res.Attempts == maxAttempts {
			if err := notice(frame.CodeGiveUp, frame.CodeThanks); err != nil {
				return err
			}
			return ErrChecksum
		}
		if err := notice(frame.CodeChecksumBad); err != nil {
			return err
		}
	}
	if err := notice(frame.CodeChecksumOK, frame.CodeThanks); err != nil {
		return err
	}
	res.Verified = true
	return nil
}

// sendFile sends the file with 1028 and returns the server's 2103; the
// file's cksum goes into res. After a 1030 some servers answer 2104, some
// nothing: one 2104 that came too late for afterNotice is allowed before
// the 2103.
func (cc *clientConn) sendFile(res *Result, f *os.File, name Name) (Response, error) {
	want := []frame.Code{frame.CodeFileReceived}
	if res.Attempts > 1 {
		want = append(want, frame.CodeThanks)
	}
	send := func() (err error) {
		res.Cksum, err = cc.writeFile(f, res.Size, name)
		return err
	}
	resp, err := cc.roundTrip(send, want...)
	if err == nil && resp.Code == frame.CodeThanks { // a late answer to the 1030
		resp, err = cc.receive(frame.CodeFileReceived)
		if err != nil && closedByPeer(err) { // closed after that answer, before the file
			if err := cc.redialClosed(); err != nil {
				return resp, err
			}
			resp, err = cc.try(send, want[:1])
		}
	}
	return resp, err
}

// writeFile writes a 1028: the header, then the file read, encrypted and
// written one chunk at a time. It returns the cksum of what it read.
func (cc *clientConn) writeFile(f *os.File, size int64, name Name) (uint32, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("classic: %w", err)
	}
	n := encryptedSize(size)
	req := Request{Header: frame.Request{ClientID: cc.id, Code: frame.CodeSendFile}, Name: name, ContentSize: uint32(n)}
	if err := cc.write(req.Append(cc.buf[:0])); err != nil {
		return 0, err
	}
	cbc := newEncrypter(&cc.key)
	sum := frame.NewCksum()
	for left := size; ; {
		p := cc.buf[:min(left, chunkSize)]
		if _, err := io.ReadFull(f, p); err != nil {
			return 0, fmt.Errorf("classic: read %s: %w (did it shrink?)", f.Name(), err)
		}
		sum.Write(p)
		left -= int64(len(p))
		if left == 0 {
			p = pad(p)
		}
		cbc.CryptBlocks(p, p)
		if err := cc.write(p); err != nil {
			return 0, err
		}
		if left == 0 {
			return sum.Sum32(), nil
		}
	}
}

func (cc *clientConn) write(p []byte) error {
	cc.c.SetWriteDeadline(time.Now().Add(cc.timeout()))
	if _, err := cc.c.Write(p); err != nil {
		return fmt.Errorf("classic: send to %s: %w", cc.cfg.Addr, err)
	}
	return nil
}

func (cc *clientConn) send(r *Request) error {
	var b [frame.RequestHeaderSize + PublicKeyPayload]byte
	return cc.write(r.Append(b[:0]))
}

// receive reads one response, which must have one of the codes want; 2107
// is ErrServer.
func (cc *clientConn) receive(want ...frame.Code) (Response, error) {
	return cc.receiveBy(time.Now().Add(cc.timeout()), want)
}

func (cc *clientConn) receiveBy(deadline time.Time, want []frame.Code) (Response, error) {
	cc.c.SetReadDeadline(deadline)
	if _, err := io.ReadFull(cc.r, cc.hb[:]); err != nil {
		return Response{}, fmt.Errorf("classic: read from %s: %w", cc.cfg.Addr, err)
	}
	h, err := ParseResponseHeader(&cc.hb)
	if err != nil {
		return Response{}, fmt.Errorf("%w: response header %x", err, cc.hb[:])
	}
	p := cc.pb[:h.Size]
	if _, err := io.ReadFull(cc.r, p); err != nil {
		return Response{}, fmt.Errorf("classic: read from %s: %w", cc.cfg.Addr, err)
	}
	resp, err := ParseResponseBody(h, p)
	if err != nil {
		return resp, err
	}
	if resp.Code == frame.CodeError {
		return resp, ErrServer
	}
	for _, c := range want {
		if resp.Code == c {
			return resp, nil
		}
	}
	return resp, fmt.Errorf("%w: got %s, want %v", ErrMalformed, resp.Code, want)
}
