// Package client is the client side of ferry's secure protocol (version 4):
// it runs the handshake over a link.Conn, registers or reconnects with the
// identity kept in a State directory, and uploads files in chunks, checking
// the server's checksum and resending up to three times. Memory use is a
// batch of chunk frames to send (256 KiB over TCP) and one frame received,
// whatever the file size. The classic protocol is in package classic.
package client

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"ferry/crypt"
	"ferry/frame"
	"ferry/link"
	"ferry/xfer"
)

// Errors a caller branches on.
var (
	ErrNameTaken = errors.New("client: the server has this name registered to another key; choose another -name")
	ErrDenied    = errors.New("client: the server refused this client")
	ErrChecksum  = errors.New("client: checksum still wrong after 3 resends; the file was not stored")
	ErrServer    = errors.New("client: the server reported an error")
)

// Config configures a client session.
type Config struct {
	State  State
	Server string // the name the identity is kept under, unless Identify gives one
	Name   string // name to register with when the state has none
	Verify func([]*x509.Certificate) error
	// Identify, if not nil, names the server for State once the handshake
	// has authenticated it (the chain, leaf first), replacing Server: the
	// identity is then chosen by the server's key or certificate rather
	// than by the link (see KeyID and CAID). It may adopt an identity kept
	// under an older name (State.Adopt).
	Identify func(chain []*x509.Certificate) (string, error)
	Suites   []crypt.Suite
	Chunk    int
	// Timeout bounds each wait for the server; default 2 min.
	Timeout time.Duration
	// Progress, if not nil, is called as content moves (total -1: a
	// stream of unknown size).
	Progress func(name string, sent, total int64)
	// FirstRelease makes the client speak as the first release did (no
	// features offered), to test that servers still serve it.
	FirstRelease bool
	// Omit is features not to offer, to test that servers serve a peer
	// without them (e.g. a client of another implementation that speaks
	// ops but not short).
	Omit crypt.Features
	// SlowLink says the link is a serial line (or stdio at a line rate):
	// content is written in small pieces, so that progress moves.
	SlowLink bool
	// NoResume makes every transfer start from zero, and keeps nothing of
	// an interrupted download for later.
	NoResume bool
	// ResumeMin is the smallest file that is resumable; default
	// DefaultResumeMin.
	ResumeMin int64
	// Resumed, if not nil, is called when a transfer goes on from where an
	// earlier one stopped: at bytes of total were there already.
	Resumed func(name string, at, total int64)
	// Compress offers compression (feature compress), at this flate level
	// (xfer.LevelSlowLink, xfer.LevelFast); 0 offers none.
	Compress int
	// Link names the link for the chain cache (State.KnownChain): the
	// alias, "host:port", "serial:DEV" or "stdio"; "" caches nothing.
	Link string
}

// Client is an authenticated session with a server. Not safe for
// concurrent use.
type Client struct {
	cfg  Config
	sess *crypt.Session
	id   *Identity
	send xfer.Sender   // uploads, reused: a batch of chunk frames
	recv xfer.Receiver // downloads, a frame at a time, reused: one frame
	// noPartials: the server said it keeps no partial upload of ours
	// (feature short), so no resume question is asked.
	noPartials bool
	// byeIfDone: the server honours a bye sent ahead of its answers
	// (frame.AuthByeIfDone); last: the next Put is the session's last
	// operation, so it sends one after its last file; byeDone: the server
	// answered that bye with thanks, and Close has nothing left to say.
	byeIfDone, last, byeDone bool
}

// slowPiece is the piece a slow link's content is written in: 1 KiB is
// about 90 ms at 115200 baud.
const slowPiece = 1 << 10

// Connect runs the handshake on c and authenticates: registration on first
// use of the server, reconnection afterwards.
func Connect(c link.Conn, cfg Config) (*Client, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	c.SetReadDeadline(time.Now().Add(cfg.Timeout))
	features := crypt.FeatureOps | crypt.FeatureKeepalive | crypt.FeatureResume | crypt.FeatureShort
	if cfg.Compress != 0 && xfer.Codec {
		features |= crypt.FeatureCompress
	}
	var known []byte
	if cfg.Link != "" {
		features |= crypt.FeatureChain
		known = cfg.State.KnownChain(cfg.Link)
	}
	if cfg.FirstRelease {
		features, known = 0, nil
	}
	features &^= cfg.Omit
	sess, err := crypt.Client(c, &crypt.ClientConfig{Suites: cfg.Suites, Chunk: cfg.Chunk, Verify: cfg.Verify, Features: features, KnownChain: known})
	if err != nil {
		c.Close()
		if known != nil {
			// Perhaps a server of an earlier release, which refuses a
			// hello naming a chain: the next hello will not.
			cfg.State.ForgetChain(cfg.Link)
			if errors.Is(err, crypt.ErrRefused) {
				err = fmt.Errorf("%w; the next attempt will not name the server's certificate chain by hash (an older ferry refuses that): run the command again", err)
			}
		}
		return nil, err
	}
	if sess.Features.Has(crypt.FeatureChain) && !bytes.Equal(sess.ChainField, known) {
		cfg.State.SaveChain(cfg.Link, sess.ChainField) // a cache: failing costs the chain on the line next time
	}
	// Only now, the server authenticated, is the identity chosen and
	// anything written: a failed connection leaves no state behind.
	id, err := identify(&cfg, sess.PeerChain)
	if err != nil {
		c.Close()
		return nil, err
	}
	cl := &Client{cfg: cfg, sess: sess, id: id}
	sess.WriteTimeout = cfg.Timeout
	sess.GrowReads()
	cl.send.Timeout = cfg.Timeout
	if cfg.SlowLink {
		cl.send.Piece = slowPiece
	}
	if sess.Features.Has(crypt.FeatureCompress) {
		cl.send.Compress = cfg.Compress
	}
	sess.SetClientID(id.ID)
	if err := cl.authenticate(); err != nil {
		c.Close()
		return nil, err
	}
	return cl, nil
}

// identify loads the identity kept for the authenticated server, setting
// cfg.Server to the name it is kept under.
func identify(cfg *Config, chain []*x509.Certificate) (*Identity, error) {
	if cfg.Identify != nil {
		server, err := cfg.Identify(chain)
		if err != nil {
			return nil, err
		}
		cfg.Server = server
	}
	return cfg.State.Load(cfg.Server, cfg.Name)
}

// ID is the client's ID on this server.
func (c *Client) ID() frame.ClientID { return c.id.ID }

// Session exposes the negotiated session (suite, chunk size, server chain).
func (c *Client) Session() *crypt.Session { return c.sess }

// authenticate registers or reconnects; with feature short, the requests
// after a successful answer are compact (PROTOCOL.md §2).
func (c *Client) authenticate() error {
	var err error
	if c.id.Registered {
		err = c.reconnect()
	} else {
		err = c.register()
	}
	if err == nil {
		c.sess.Authenticated(c.id.ID)
	}
	return err
}

// register saves the new identity before its key is used, so that a
// registration whose answer is lost can be retried with the same key, and
// forgets it again when the name is refused.
func (c *Client) register() error {
	if err := c.cfg.State.Save(c.cfg.Server, c.id); err != nil {
		return err
	}
	r := frame.Register{Name: c.id.Name}
	copy(r.PublicKey[:], c.id.Key.Public().(ed25519.PublicKey))
	copy(r.Signature[:], crypt.SignRegister(c.id.Key, c.sess.Transcript))
	p, err := r.Marshal(c.sess.Features.Has(crypt.FeatureShort))
	if err != nil {
		return fmt.Errorf("client: name %q: %w", c.id.Name, err)
	}
	if err := c.sess.WriteRequest(frame.ClientID{}, frame.CodeRegister, p); err != nil {
		return err
	}
	h, p, err := c.read()
	if err != nil {
		return err
	}
	switch {
	case h.Code == frame.CodeNameTaken:
		c.cfg.State.Remove(c.cfg.Server)
		return fmt.Errorf("%w (name %q)", ErrNameTaken, c.id.Name)
	case h.Code == frame.CodeDenied:
		return fmt.Errorf("%w: the server's operator disabled the client named %q; ask them to enable it (ferry clients -enable)", ErrDenied, c.id.Name)
	case h.Code != frame.CodeRegistered || !c.authAnswer(p):
		return fmt.Errorf("client: unexpected %v to registration", h.Code)
	}
	copy(c.id.ID[:], p)
	c.id.Registered = true
	return c.cfg.State.Save(c.cfg.Server, c.id)
}

func (c *Client) reconnect() error {
	r := frame.Reconnect{Name: c.id.Name}
	copy(r.Signature[:], crypt.SignReconnect(c.id.Key, c.sess.Transcript, c.id.ID))
	p, err := r.Marshal(c.sess.Features.Has(crypt.FeatureShort))
	if err != nil {
		return err
	}
	if err := c.sess.WriteRequest(c.id.ID, frame.CodeReconnect, p); err != nil {
		return err
	}
	h, p, err := c.read()
	if err != nil {
		return err
	}
	switch {
	case h.Code == frame.CodeReconnected && c.authAnswer(p):
		return nil
	case h.Code == frame.CodeDenied:
		return fmt.Errorf("%w: it does not know client %s named %q with this key, or its operator disabled it; if its data was reset, delete %s to register anew",
			ErrDenied, c.id.ID, c.id.Name, c.cfg.State.path(c.cfg.Server))
	}
	return fmt.Errorf("client: unexpected %v to reconnection", h.Code)
}

// authAnswer checks the payload of 2100 or 2105: the ID, and with feature
// short a flags byte, which says whether the server keeps partial uploads
// of ours.
func (c *Client) authAnswer(p []byte) bool {
	if !c.sess.Features.Has(crypt.FeatureShort) {
		return len(p) == frame.IDSize
	}
	if len(p) != frame.IDSize+1 {
		return false
	}
	c.noPartials = p[frame.IDSize]&frame.AuthPartials == 0
	c.byeIfDone = p[frame.IDSize]&frame.AuthByeIfDone != 0
	return true
}

// read waits for the next response; a 2107 becomes an ErrServer error
// carrying the server's reason.
func (c *Client) read() (frame.Response, []byte, error) {
	c.sess.Link().SetReadDeadline(time.Now().Add(c.cfg.Timeout))
	h, p, err := c.sess.ReadResponse()
	if err != nil {
		return h, nil, err
	}
	if h.Code == frame.CodeError {
		return h, nil, fmt.Errorf("%w: %s", ErrServer, p)
	}
	return h, p, nil
}

// Last says that the next Put ends the session: on a server that allows
// it, the goodbye goes right after its last file instead of a round trip
// after the last answer (on a line at 115200 baud, about 10 ms). Close is
// still to be called.
func (c *Client) Last() { c.last = true }

// Close says goodbye and closes the link.
func (c *Client) Close() error {
	defer c.sess.Close()
	if c.byeDone {
		return nil
	}
	if err := c.sess.WriteRequest(c.id.ID, frame.CodeBye, nil); err != nil {
		return err
	}
	h, _, err := c.read()
	if err != nil {
		return err
	}
	if h.Code != frame.CodeThanks {
		return fmt.Errorf("client: unexpected %v to goodbye", h.Code)
	}
	return nil
}
