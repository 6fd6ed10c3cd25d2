package server

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"ferry/crypt"
	"ferry/frame"
	"ferry/fsstore"
	"ferry/xfer"
)

// Session errors, reported to the client in a 2107 before the link closes.
var (
	ErrProtocol = errors.New("server: protocol violation")
	ErrNotAuth  = errors.New("server: request before registration or reconnection")
)

// session is the state of one authenticated conversation.
type session struct {
	srv *Server
	*crypt.Session
	client  fsstore.Client
	authed  bool
	send    xfer.Sender                // the batch buffer of downloads, reused
	recv    xfer.Receiver              // uploads, reused: one frame buffer per session, not per file
	pending map[string]*fsstore.Upload // resumable uploads opened by a query, awaiting their put
	denials int                        // refused authentications
	pressed bool                       // the server ran out of file descriptors during an operation
	failed  bool                       // an operation failed since the start, or since a bye refused
	peer    string                     // for the log
	files   int                        // files moved in the session, for the log
	bytes   int64
}

func (h *session) who() string {
	if h.authed {
		return fmt.Sprintf("%q (%s)", h.client.Name, frame.ClientID(h.client.ID))
	}
	return "unauthenticated"
}

// read waits up to the idle timeout for the next request, after writing
// the answers kept back unless the client has already sent that request:
// the server never waits for the client with answers unwritten.
func (h *session) read() (frame.Request, []byte, error) {
	if !h.Ahead() {
		if err := h.Flush(); err != nil {
			return frame.Request{}, nil, err
		}
	}
	h.Link().SetReadDeadline(time.Now().Add(h.srv.cfg.IdleTimeout))
	return h.ReadRequest()
}

// run serves requests until the client says goodbye or something fails; a
// failure is reported to the client with a 2107 and ends the session.
func (h *session) run() error {
	defer h.keepAll()
	for {
		req, p, err := h.read()
		if err != nil {
			return err
		}
		done, err := h.handle(req, p)
		if err != nil {
			h.fail(err)
			return err
		}
		if done {
			return nil
		}
	}
}

// fail reports err in a 2107: its text when it is the client's doing (a
// protocol violation, a refused name or size), which names no server path;
// a fixed reason otherwise, the detail staying in the log.
func (h *session) fail(err error) {
	msg := "internal server error (see the server's log)"
	for _, public := range []error{ErrProtocol, ErrNotAuth, ErrTooBig, fsstore.ErrBadName, xfer.ErrProtocol, xfer.ErrTooLarge, crypt.ErrOpen, crypt.ErrClientAuth} {
		if errors.Is(err, public) {
			msg = err.Error()
		}
	}
	if fsstore.IsDiskFull(err) {
		msg = "server disk full"
	}
	if len(msg) > frame.MaxReasonSize {
		msg = msg[:frame.MaxReasonSize]
	}
	h.WriteResponse(frame.CodeError, []byte(msg))
}

func (h *session) handle(req frame.Request, p []byte) (done bool, err error) {
	switch req.Code {
	case frame.CodeRegister, frame.CodeReconnect:
		if h.authed {
			return false, fmt.Errorf("%w: %v in a session already authenticated", ErrProtocol, req.Code)
		}
		if req.Code == frame.CodeRegister {
			return false, h.register(p)
		}
		return false, h.reconnect(req.ClientID, p)
	}
	if !h.authed {
		return false, fmt.Errorf("%w: %v", ErrNotAuth, req.Code)
	}
	if req.ClientID != h.client.ID {
		return false, fmt.Errorf("%w: request for client %s in the session of %s", ErrProtocol, req.ClientID, frame.ClientID(h.client.ID))
	}
	switch req.Code {
	case frame.CodeSendFile:
		return false, h.receive(p)
	case frame.CodeBye:
		if len(p) == 0 || len(p) == 1 && p[0] == frame.ByeIfDone && h.Features.Has(crypt.FeatureShort) {
			return h.bye(len(p) == 1)
		}
		// any other payload: a protocol error, below
	case frame.CodeKeepalive:
		if !h.Features.Has(crypt.FeatureKeepalive) || len(p) != 0 {
			return false, fmt.Errorf("%w: %v without keepalive negotiated, or with a payload", ErrProtocol, req.Code)
		}
		return false, nil // reading it moved the idle deadline
	}
	if op, ok := ops[req.Code]; ok {
		need := crypt.FeatureOps
		if req.Code == frame.CodeResumeQuery || req.Code == frame.CodeGetFrom {
			need |= crypt.FeatureResume
		}
		if !h.Features.Has(need) {
			return false, fmt.Errorf("%w: %v without its feature negotiated", ErrProtocol, req.Code)
		}
		return false, op(h, p)
	}
	return false, fmt.Errorf("%w: unexpected %v", ErrProtocol, req.Code)
}

// ops are the handlers of the operations, one file each: method
// expressions, so that dispatching a request allocates nothing (a map of
// method values built per request cost 12 allocations and 0.46 µs per
// request: per file of send -r).
var ops = map[frame.Code]func(*session, []byte) error{
	frame.CodePut: (*session).put, frame.CodeGet: (*session).get, frame.CodeList: (*session).list,
	frame.CodeRemove: (*session).remove, frame.CodeRename: (*session).rename, frame.CodeMkdir: (*session).mkdir,
	frame.CodeUsage: (*session).usage, frame.CodeResumeQuery: (*session).resumeQuery, frame.CodeGetFrom: (*session).getFrom,
}

// register handles 1025. A name already registered with the same key is
// answered with its existing ID, so a client that lost the 2100 can retry.
func (h *session) register(p []byte) error {
	r, err := frame.ParseRegister(p, h.Features.Has(crypt.FeatureShort))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	pub := ed25519.PublicKey(r.PublicKey[:])
	if err := crypt.VerifyRegister(pub, h.Transcript, r.Signature[:]); err != nil {
		return err
	}
	st := h.srv.cfg.Store
	now := time.Now()
	c, err := st.Register(r.Name, fsstore.KeyEd25519, pub, now)
	if errors.Is(err, fsstore.ErrNameTaken) {
		old, ok := st.ClientByName(r.Name)
		if !ok || old.KeyKind != fsstore.KeyEd25519 || !pub.Equal(ed25519.PublicKey(old.PublicKey)) {
			h.srv.cfg.Logf("registration of %q refused: name taken", r.Name)
			return h.WriteResponse(frame.CodeNameTaken, nil)
		}
		if old.Disabled {
			h.srv.cfg.Logf("registration of %q (%s) refused: the client is disabled", r.Name, frame.ClientID(old.ID))
			return h.WriteResponse(frame.CodeDenied, nil)
		}
		c, err = old, st.Touch(old.ID, now)
	}
	if err != nil {
		return err
	}
	h.authenticated(c)
	h.srv.cfg.Logf("client %s registered", h.who())
	return h.WriteResponse(frame.CodeRegistered, h.authAnswer(c))
}

// maxDenials is how many refused authentications a session may have: an
// honest client retries once (it registers after a denial); a peer trying
// names and keys is cut off.
const maxDenials = 3

// errDenials ends a session with too many refused authentications.
var errDenials = fmt.Errorf("%w: %d refused authentications", ErrProtocol, maxDenials)

// deny answers a refused reconnection with 2106, and ends the session at
// the maxDenials-th.
func (h *session) deny(id frame.ClientID) error {
	if h.denials++; h.denials >= maxDenials {
		return errDenials
	}
	return h.WriteResponse(frame.CodeDenied, id[:])
}

// authenticated records the client of the session; from now on its read
// buffers may grow to the largest frame (before, a frame at a time: many
// idle unauthenticated sessions hold little memory), and with feature
// short the requests after the answer, which the client reads before it
// writes another, come compact (PROTOCOL.md §2), read with this ID.
func (h *session) authenticated(c fsstore.Client) {
	h.client, h.authed = c, true
	h.GrowReads()
	h.Authenticated(c.ID)
}

// reconnect handles 1027: the client proves it holds the registered key.
func (h *session) reconnect(id frame.ClientID, p []byte) error {
	r, err := frame.ParseReconnect(p, h.Features.Has(crypt.FeatureShort))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	st := h.srv.cfg.Store
	c, ok := st.Client(id)
	if !ok || c.KeyKind != fsstore.KeyEd25519 || c.Name != r.Name ||
		crypt.VerifyReconnect(ed25519.PublicKey(c.PublicKey), h.Transcript, id, r.Signature[:]) != nil {
		h.srv.cfg.Logf("reconnection of %q as %s denied", r.Name, id)
		return h.deny(id)
	}
	if c.Disabled {
		h.srv.cfg.Logf("reconnection of %q as %s refused: the client is disabled", r.Name, id)
		return h.WriteResponse(frame.CodeDenied, id[:])
	}
	if err := st.Touch(c.ID, time.Now()); err != nil {
		return err
	}
	h.authenticated(c)
	h.srv.cfg.Logf("client %s reconnected", h.who())
	return h.WriteResponse(frame.CodeReconnected, h.authAnswer(c))
}

// authAnswer is the payload of 2100 and 2105: the client's ID and, with
// feature short, a flags byte whose bit 0 says that partial uploads of the
// client are kept (without it the client asks no resume questions) and
// whose bit 1 says that a bye may come ahead of the answers.
func (h *session) authAnswer(c fsstore.Client) []byte {
	if !h.Features.Has(crypt.FeatureShort) {
		return c.ID[:]
	}
	flags := byte(frame.AuthByeIfDone)
	if h.srv.cfg.Store.HasPartials(c.ID) {
		flags |= frame.AuthPartials
	}
	return append(c.ID[:], flags)
}

// bye ends the session with a thanks. A bye that came ahead of the
// answers to the requests before it (ifDone: ByeIfDone, after an auth
// answer with AuthByeIfDone) ends it only if they all succeeded: after a
// failure the client may want to send a file again, so the bye is refused
// and the session goes on.
func (h *session) bye(ifDone bool) (bool, error) {
	if ifDone && h.failed {
		err := h.failOp("bye", "", &opError{reason: frame.FailGoOn, text: "a request failed: the session goes on"})
		h.failed = false
		return false, err
	}
	return true, h.WriteResponse(frame.CodeThanks, h.client.ID[:])
}
