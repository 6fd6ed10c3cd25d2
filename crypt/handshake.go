package crypt

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"ferry/frame"
	"ferry/link"
)

// Handshake wire sizes (see docs/PROTOCOL.md, "Handshake").
const (
	NonceLen        = 32 // fresh random nonce of each side
	ShareLen        = 32 // X25519 public key
	clientHelloMin  = NonceLen + ShareLen + 4 + 1 + 1
	maxSuites       = 8
	maxCerts        = 4
	serverHelloHead = NonceLen + ShareLen + 1 + 4 + 1 // nonce, share, suite, chunk, cert count
)

// Labels of the key schedule and of the signatures. Each ends in a NUL so
// that no label is a prefix of another.
const (
	labelServerSig = "ferry/4 server signature\x00"
	labelC2S       = "ferry/4 client to server"
	labelS2C       = "ferry/4 server to client"
	labelRegister  = "ferry/4 client register\x00"
	labelReconnect = "ferry/4 client reconnect\x00"
)

// Handshake errors. Each ends the session.
var (
	ErrHandshake    = errors.New("crypt: malformed handshake message")
	ErrNoSuite      = errors.New("crypt: no cipher suite in common")
	ErrBadSignature = errors.New("crypt: server signature over the handshake transcript does not verify")
	ErrRefused      = errors.New("crypt: server refused the handshake")
)

// Session is what a completed handshake yields.
type Session struct {
	*Conn
	Suite Suite
	// Transcript is SHA-256 over every handshake frame. Both sides hold the
	// same value; client signatures bind to it so they cannot be replayed
	// into another session.
	Transcript [32]byte
	// PeerChain is the server's certificate chain, leaf first (client side).
	PeerChain []*x509.Certificate
	// Features are the protocol features both sides agreed on in the
	// handshake (Feature* bits); 0 with a peer of the first release.
	Features Features
	// ChainField is the server's chain as its hello carries it (client
	// side): what ClientConfig.KnownChain takes the next time.
	ChainField []byte
}

// Authenticated follows a successful registration or reconnection of
// client id, on either side: with feature short the requests after its
// answer are compact (PROTOCOL.md §2, "Compact requests"), the session's
// keys saying whose they are. The client switches once it has read the
// answer, the server before it writes it (it reads nothing in between).
func (s *Session) Authenticated(id frame.ClientID) {
	s.SetClientID(id)
	if s.Features.Has(FeatureShort) {
		s.compactRequests()
	}
}

// Features is a set of protocol features, negotiated in the handshake: the
// client lists the ones it speaks as feature IDs among its suites (0x80+bit,
// which servers of the first release skip as unknown suites), and a server
// that knows them answers with the subset it accepts in a field appended to
// the server hello (see docs/PROTOCOL.md, "Features"). Both messages are in
// the signed transcript, so a downgrade is detected like any tampering.
type Features uint32

// Feature bits.
const (
	FeatureOps       Features = 1 << iota // get, list, remove, rename, mkdir, put with paths (1035-1041, 2108-2114)
	FeatureCompress                       // chunks deflated on their own (1042-1043, 2115-2116)
	FeatureKeepalive                      // keepalive (1044): a client idle at a prompt stays connected
	FeatureResume                         // resume interrupted puts and gets (1046, 1047, 2118)
	FeatureShort                          // register (1025) and reconnect (1027) carry the name last, unpadded
	FeatureChain                          // a client that knows the server's chain names it by hash; the server then leaves it out
)

// AllFeatures is every feature this build speaks.
const AllFeatures = FeatureOps | FeatureCompress | FeatureKeepalive | FeatureResume | FeatureShort | FeatureChain

// featureID is the suite-list ID that offers feature bit i.
const featureID = 0x80

// Has reports whether every feature of g is in f.
func (f Features) Has(g Features) bool { return f&g == g }

// ClientConfig configures the client side of the handshake.
type ClientConfig struct {
	Suites []Suite // in preference order; nil means PreferredSuites()
	Chunk  int     // the largest chunk the client wants; 0 means 64 KiB
	// Features to offer; a first-release client offers none.
	Features Features
	// Verify decides whether the server's chain (leaf first, signature over
	// the transcript already checked) is trusted. See CAVerifier and
	// PinVerifier. It must not be nil.
	Verify func(chain []*x509.Certificate) error
	// KnownChain is the chain field (Session.ChainField) of the server
	// last reached over this link, when it accepted FeatureChain: offered
	// with FeatureChain, the hello names it by hash and a server that has
	// that chain leaves it out. It is then verified exactly as if sent.
	KnownChain []byte
}

// ServerConfig configures the server side of the handshake.
type ServerConfig struct {
	Identity *Identity
	Suites   []Suite // acceptable suites; nil means all
	MaxChunk int     // the largest chunk the server accepts; 0 means 64 KiB
	// Features the server accepts when a client offers them.
	Features Features
}

// DefaultChunk is the chunk size when neither side asks for another.
const DefaultChunk = 64 << 10

// Client runs the client side of the handshake on rw.
func Client(rw link.Conn, cfg *ClientConfig) (*Session, error) {
	if cfg.Verify == nil {
		panic("crypt: internal error: ClientConfig without Verify")
	}
	c := newConn(rw, true)
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	ch := &clientHello{chunk: uint32(cmpOr(cfg.Chunk, DefaultChunk)), suites: cfg.Suites, features: cfg.Features}
	if ch.suites == nil {
		ch.suites = PreferredSuites()
	}
	if ch.features.Has(FeatureChain) && cfg.KnownChain != nil {
		sum := sha256.Sum256(cfg.KnownChain)
		ch.known = sum[:]
	}
	if len(ch.suites)+len(featureIDs(ch.features)) > maxSuites {
		panic("crypt: internal error: more suites and features than a hello holds")
	}
	rand.Read(ch.nonce[:])
	copy(ch.share[:], eph.PublicKey().Bytes())
	if err := c.WriteRequest(frame.ClientID{}, frame.CodeHello, ch.marshal()); err != nil {
		return nil, err
	}
	sh, chain, err := readServerHello(c, ch, cfg.KnownChain)
	if err != nil {
		return nil, err
	}
	th1 := c.th.Sum(nil)
	if err := readServerVerify(c, chain[0], th1); err != nil {
		return nil, err
	}
	if err := cfg.Verify(chain); err != nil {
		return nil, err
	}
	s, err := finish(c, eph, sh.share[:], sh.suite, int(sh.chunk))
	if err != nil {
		return nil, err
	}
	s.PeerChain = chain
	s.Features = sh.features & ch.features
	s.ChainField = cfg.KnownChain
	if len(sh.certs) > 0 {
		s.ChainField = chainField(sh.certs) // sh.certs are clones (readServerHello)
	}
	s.fitFeatures()
	return s, nil
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func readServerHello(c *Conn, ch *clientHello, known []byte) (*serverHello, []*x509.Certificate, error) {
	h, p, err := c.ReadResponse()
	if err != nil {
		return nil, nil, fmt.Errorf("crypt: waiting for server hello: %w", err)
	}
	if h.Code == frame.CodeError {
		return nil, nil, fmt.Errorf("%w: %q", ErrRefused, p)
	}
	if h.Code != frame.CodeServerHello {
		return nil, nil, fmt.Errorf("%w: expected server hello, got %v", ErrHandshake, h.Code)
	}
	sh, err := parseServerHello(p, ch.features != 0)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(ch.suites, sh.suite) {
		return nil, nil, fmt.Errorf("%w: server chose %v, not offered", ErrHandshake, sh.suite)
	}
	if sh.chunk == 0 || sh.chunk > ch.chunk {
		return nil, nil, fmt.Errorf("%w: server chose chunk size %d, over the %d offered", ErrHandshake, sh.chunk, ch.chunk)
	}
	ders := sh.certs
	if len(ders) == 0 {
		// Left out: the server has the chain the hello named (only then).
		if ch.known == nil || !sh.features.Has(FeatureChain) {
			return nil, nil, fmt.Errorf("%w: server hello without certificates", ErrHandshake)
		}
		if ders, _, err = parseChain(known, false); err != nil {
			return nil, nil, fmt.Errorf("crypt: the known chain: %w", err)
		}
	}
	chain := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		// Clone: the certificate keeps its bytes, and they live in the read
		// buffer that the next frame overwrites.
		der = bytes.Clone(der)
		if len(sh.certs) > 0 {
			sh.certs[i] = der
		}
		if chain[i], err = x509.ParseCertificate(der); err != nil {
			return nil, nil, fmt.Errorf("%w: server certificate %d: %v", ErrHandshake, i, err)
		}
	}
	return sh, chain, nil
}

func readServerVerify(c *Conn, leaf *x509.Certificate, th1 []byte) error {
	h, p, err := c.ReadResponse()
	if err != nil {
		return fmt.Errorf("crypt: waiting for server signature: %w", err)
	}
	if h.Code != frame.CodeServerVerify {
		return fmt.Errorf("%w: expected server verify, got %v", ErrHandshake, h.Code)
	}
	return verifySignature(leaf.PublicKey, signedTranscript(th1), p)
}

func signedTranscript(th1 []byte) []byte {
	return append([]byte(labelServerSig), th1...)
}

// finish derives the session keys from the X25519 exchange and the full
// transcript, and switches c to sealed frames.
func finish(c *Conn, eph *ecdh.PrivateKey, peerShare []byte, suite Suite, chunk int) (*Session, error) {
	pub, err := ecdh.X25519().NewPublicKey(peerShare)
	if err != nil {
		return nil, fmt.Errorf("%w: key share: %v", ErrHandshake, err)
	}
	secret, err := eph.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: key exchange: %v", ErrHandshake, err)
	}
	s := &Session{Conn: c, Suite: suite}
	copy(s.Transcript[:], c.th.Sum(nil))
	c.th = nil
	c2s, s2c, err := deriveKeys(secret, s.Transcript[:])
	if err != nil {
		return nil, err
	}
	sendKey, recvKey := s2c, c2s
	if c.client {
		sendKey, recvKey = c2s, s2c
	}
	if c.seal, err = NewSealer(suite, sendKey); err != nil {
		return nil, err
	}
	if c.open, err = NewOpener(suite, recvKey); err != nil {
		return nil, err
	}
	c.chunk = chunk
	c.limit = uint32(chunk + 1024 + TagSize)
	return s, nil
}

// deriveKeys is the key schedule: HKDF-SHA-256 with the X25519 secret as
// input keying material and the transcript hash as salt, one key expanded
// per direction.
func deriveKeys(secret, transcript []byte) (c2s, s2c []byte, err error) {
	prk, err := hkdf.Extract(sha256.New, secret, transcript)
	if err != nil {
		return nil, nil, err
	}
	if c2s, err = hkdf.Expand(sha256.New, prk, labelC2S, KeySize); err != nil {
		return nil, nil, err
	}
	s2c, err = hkdf.Expand(sha256.New, prk, labelS2C, KeySize)
	return c2s, s2c, err
}

// Server runs the server side of the handshake on rw.
func Server(rw link.Conn, cfg *ServerConfig) (*Session, error) {
	c := newConn(rw, false)
	h, p, err := c.ReadRequest()
	if err != nil {
		return nil, fmt.Errorf("crypt: waiting for client hello: %w", err)
	}
	if h.Code != frame.CodeHello {
		return nil, refuse(c, fmt.Errorf("%w: expected client hello, got %v", ErrHandshake, h.Code))
	}
	ch, err := parseClientHello(p)
	if err != nil {
		return nil, refuse(c, err)
	}
	suite, ok := chooseSuite(ch.suites, cfg.Suites)
	if !ok {
		return nil, refuse(c, ErrNoSuite)
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	sh := &serverHello{suite: suite, chunk: min(ch.chunk, uint32(cmpOr(cfg.MaxChunk, DefaultChunk))), certs: cfg.Identity.Chain,
		features: ch.features & cfg.Features, extended: ch.offered}
	if sh.features.Has(FeatureChain) && ch.known != nil {
		if sum := sha256.Sum256(chainField(sh.certs)); bytes.Equal(sum[:], ch.known) {
			sh.certs = nil // the client has it: left out
		}
	}
	rand.Read(sh.nonce[:])
	copy(sh.share[:], eph.PublicKey().Bytes())
	if err := c.WriteResponse(frame.CodeServerHello, sh.marshal()); err != nil {
		return nil, err
	}
	sig, err := cfg.Identity.sign(signedTranscript(c.th.Sum(nil)))
	if err != nil {
		return nil, err
	}
	if err := c.WriteResponse(frame.CodeServerVerify, sig); err != nil {
		return nil, err
	}
	s, err := finish(c, eph, ch.share[:], suite, int(sh.chunk))
	if err != nil {
		return nil, err
	}
	s.Features = sh.features
	s.fitFeatures()
	return s, nil
}

// opsMinLimit is the least plaintext room of a message once the operations
// are negotiated: a path of frame.MaxPath bytes with its fixed fields fits
// whatever the chunk size.
const opsMinLimit = 8 << 10

// fitFeatures raises the size limit of a session whose features carry
// paths, so that a long path fits even with a tiny chunk.
func (s *Session) fitFeatures() {
	if s.Features.Has(FeatureOps) {
		s.limit = uint32(max(s.chunk, opsMinLimit) + 1024 + TagSize)
	}
}

// refuse tells the client in clear why the handshake failed, then returns
// err for the caller.
func refuse(c *Conn, err error) error {
	c.WriteResponse(frame.CodeError, []byte(err.Error()))
	return err
}

// chooseSuite picks the client's most preferred suite that the server
// accepts.
func chooseSuite(offered, accepted []Suite) (Suite, bool) {
	for _, s := range offered {
		if s != SuiteAES256GCM && s != SuiteChaCha20Poly1305 {
			continue
		}
		if accepted == nil || slices.Contains(accepted, s) {
			return s, true
		}
	}
	return 0, false
}
