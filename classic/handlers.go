package classic

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"ferry/frame"
	"ferry/fsstore"
)

// register answers 1025. The header's client ID is ignored.
//
// A name registered without ever getting its key (the client lost the
// connection, or died, between 2100 and 1026) is not held: such a client
// reconnects in vain (2106, it has no key) and registers again, and gets
// the same ID back instead of 2101, so that it is not locked out for good.
// No key was ever bound to the name, so nothing is taken from anyone. But
// while another connection that got 2100 for the name is open and has not
// sent its key, the name is taken (see registering.go): the name is
// claimed before the store is asked, so that of two 1025s at once only
// one can get 2100.
func (sc *conn) register(req *Request) error {
	name := req.Name.String()
	if !sc.srv.claim(sc, name) {
		sc.srv.logf("classic: %q is being registered on another connection: name taken", name)
		return sc.send(&Response{Code: frame.CodeNameTaken})
	}
	c, err := sc.srv.Store.Register(name, fsstore.KeyNone, nil, time.Now())
	if errors.Is(err, fsstore.ErrNameTaken) {
		if old, ok := sc.srv.Store.ClientByName(name); ok && old.KeyKind == fsstore.KeyNone {
			sc.srv.logf("classic: %q registers again; its key never came", old.Name)
			return sc.send(&Response{Code: frame.CodeRegistered, ClientID: old.ID})
		}
		sc.srv.unclaim(sc)
		return sc.send(&Response{Code: frame.CodeNameTaken})
	}
	if err != nil {
		return fmt.Errorf("classic: register %q: %w", name, err)
	}
	sc.registered, sc.hasReg = c.ID, true
	return sc.send(&Response{Code: frame.CodeRegistered, ClientID: c.ID})
}

// publicKey answers 1026: it records the client's RSA key and sends it a
// fresh AES key. Only a client without a key may send one, or the client
// registered on this very connection: a known ID alone does not let anyone
// replace a key.
//
// A zero client ID in the header is taken to mean the client registered
// under the name, for clients that leave the ID out of 1026.
func (sc *conn) publicKey(req *Request) error {
	h := &req.Header
	c, ok := sc.srv.Store.Client(h.ClientID)
	if h.ClientID == (frame.ClientID{}) {
		c, ok = sc.srv.Store.ClientByName(req.Name.String())
	}
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
	if sc.claimed == c.Name {
		sc.srv.unclaim(sc) // registered: the key holds the name from now on
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
// path a client may have sent, without one surrounding pair of double
// quotes. A deployed client writes the name with std::filesystem::path's
// operator<<, which quotes it (and doubles its backslashes); '"' cannot
// occur in a Windows file name, so the quotes are never part of it.
func storeName(name string) string {
	if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
		name = name[1 : len(name)-1]
	}
	name = name[strings.LastIndexByte(name, '\\')+1:]
	return path.Base(name)
}

// receive answers 1028: it decrypts the ciphertext chunk by chunk straight
// into an upload, leaves the upload to await the client's verdict and
// sends 2103 with the plaintext's cksum and the name field exactly as the
// client sent it (quotes, bytes after the NUL and all), which some clients
// compare with their own.
func (sc *conn) receive(req *Request) error {
	h := &req.Header
	key, ok := sc.srv.key(h.ClientID)
	if !ok {
		return refused(*h, "no AES key sent to this client")
	}
	name := req.Name.String()
	p := sc.srv.takePending(h.ClientID)
	if p != nil && !(p.resend && p.name == name) {
		p.up.Abort() // a new file replaces one never confirmed
		p = nil
	}
	if p == nil {
		up, err := sc.srv.Store.NewUpload(h.ClientID, storeName(name))
		if err != nil {
			return refused(*h, fmt.Sprintf("file name %q: %v", name, err))
		}
		p = &pendingFile{up: up, name: name}
	}
	p.resend = false
	if err := sc.decrypt(p.up, &key, req.ContentSize); err != nil {
		p.up.Abort()
		return err
	}
	sum := p.up.Sum()
	if sc.srv.sumHook != nil {
		sum = sc.srv.sumHook(sum)
	}
	sc.srv.putPending(h.ClientID, p)
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
// follows, no answer unless AckResend) and 1031 (abort, 2104).
func (sc *conn) finish(req *Request) error {
	h := &req.Header
	p := sc.srv.takePending(h.ClientID)
	if p == nil || p.resend || p.name != req.Name.String() {
		if p != nil {
			sc.srv.putPending(h.ClientID, p) // not this one's to end
		}
		return refused(*h, "no such file awaiting a verdict")
	}
	sc.srv.Store.Touch(h.ClientID, time.Now())
	switch h.Code {
	case frame.CodeChecksumOK:
		if _, err := p.up.Commit(true, time.Now()); err != nil {
			return fmt.Errorf("classic: commit %q of %s: %w", p.name, h.ClientID, err)
		}
	case frame.CodeChecksumBad:
		if err := p.up.Reset(); err != nil {
			p.up.Abort()
			return fmt.Errorf("classic: reset %q of %s: %w", p.name, h.ClientID, err)
		}
		p.resend = true
		sc.srv.putPending(h.ClientID, p)
		if !sc.srv.AckResend {
			return nil
		}
	default:
		p.up.Abort()
	}
	return sc.send(&Response{Code: frame.CodeThanks, ClientID: h.ClientID})
}
