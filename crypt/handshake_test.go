package crypt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"ferry/frame"
)

var now = time.Now()

func newCA(t *testing.T) *CA {
	t.Helper()
	ca, err := NewCA("test CA", now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func issue(t *testing.T, ca *CA, hosts ...string) *Identity {
	t.Helper()
	id, err := ca.Issue(hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func pool(ca *CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

type result struct {
	s   *Session
	err error
}

// handshake runs both sides over pipes, with relay (if not nil) between
// them, and returns both results.
func handshake(t *testing.T, ccfg *ClientConfig, scfg *ServerConfig, relay func(c, s net.Conn)) (client, server result) {
	t.Helper()
	cc, sc := net.Pipe()
	if relay != nil {
		var rc, rs net.Conn
		cc, rc = net.Pipe()
		rs, sc = net.Pipe()
		go relay(rc, rs)
	}
	done := make(chan result, 1)
	go func() {
		s, err := Server(sc, scfg)
		if err != nil {
			sc.Close()
		}
		done <- result{s, err}
	}()
	s, err := Client(cc, ccfg)
	if err != nil {
		cc.Close()
	}
	client = result{s, err}
	select {
	case server = <-done:
	case <-time.After(5 * time.Second):
		cc.Close()
		sc.Close()
		server = <-done
	}
	return client, server
}

func TestHandshakeSuitesAndKeys(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "localhost", "127.0.0.1")
	for _, suite := range []Suite{SuiteAES256GCM, SuiteChaCha20Poly1305} {
		t.Run(suite.String(), func(t *testing.T) {
			ccfg := &ClientConfig{Suites: []Suite{suite}, Chunk: 4096, Verify: CAVerifier(pool(ca), "127.0.0.1")}
			c, s := handshake(t, ccfg, &ServerConfig{Identity: id, MaxChunk: 1 << 20}, nil)
			if c.err != nil || s.err != nil {
				t.Fatalf("client %v, server %v", c.err, s.err)
			}
			if c.s.Suite != suite || s.s.Suite != suite {
				t.Fatalf("suites %v %v", c.s.Suite, s.s.Suite)
			}
			if c.s.Chunk() != 4096 || s.s.Chunk() != 4096 {
				t.Fatalf("chunk %d %d, want the smaller offer 4096", c.s.Chunk(), s.s.Chunk())
			}
			if c.s.Transcript != s.s.Transcript {
				t.Fatal("transcripts differ")
			}
			exchange(t, c.s, s.s)
		})
	}
}

// exchange sends a request and a response through the sealed session.
func exchange(t *testing.T, c, s *Session) {
	t.Helper()
	id := frame.ClientID{7}
	go c.WriteRequest(id, frame.CodeChunk, []byte("hello server"))
	h, p, err := s.ReadRequest()
	if err != nil || h.ClientID != id || h.Code != frame.CodeChunk || string(p) != "hello server" {
		t.Fatalf("server read %+v %q %v", h, p, err)
	}
	if h.Size != uint32(len("hello server")+TagSize) {
		t.Fatalf("sealed size %d", h.Size)
	}
	go s.WriteResponse(frame.CodeThanks, []byte("hello client"))
	rh, rp, err := c.ReadResponse()
	if err != nil || rh.Code != frame.CodeThanks || string(rp) != "hello client" {
		t.Fatalf("client read %+v %q %v", rh, rp, err)
	}
}

func TestServerKeyTypes(t *testing.T) {
	ca := newCA(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, key := range map[string]crypto.Signer{"ecdsa": ecKey, "rsa": rsaKey} {
		t.Run(name, func(t *testing.T) {
			tmpl := &x509.Certificate{
				SerialNumber: randomSerial(), Subject: pkix.Name{CommonName: "x"},
				NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: []string{"x"},
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
			if err != nil {
				t.Fatal(err)
			}
			leaf, _ := x509.ParseCertificate(der)
			id := &Identity{Chain: [][]byte{der}, Leaf: leaf, Key: key}
			c, s := handshake(t, &ClientConfig{Verify: CAVerifier(pool(ca), "x")}, &ServerConfig{Identity: id}, nil)
			if c.err != nil || s.err != nil {
				t.Fatalf("client %v, server %v", c.err, s.err)
			}
		})
	}
}

func TestCertificateFromAnotherCA(t *testing.T) {
	trusted, other := newCA(t), newCA(t)
	id := issue(t, other, "localhost")
	c, _ := handshake(t, &ClientConfig{Verify: CAVerifier(pool(trusted), "localhost")}, &ServerConfig{Identity: id}, nil)
	if !errors.Is(c.err, ErrUntrusted) {
		t.Fatalf("client got %v, want ErrUntrusted", c.err)
	}
}

func TestCertificateForAnotherName(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "other.example")
	c, _ := handshake(t, &ClientConfig{Verify: CAVerifier(pool(ca), "localhost")}, &ServerConfig{Identity: id}, nil)
	if !errors.Is(c.err, ErrUntrusted) {
		t.Fatalf("client got %v, want ErrUntrusted", c.err)
	}
}

// relayFrames forwards whole frames, letting tamper rewrite those from the
// server (s2c) or the client (c2s). tamper returns the frames to forward in
// place of the one given.
func relayFrames(s2c, c2s func(i int, f []byte) [][]byte) func(c, s net.Conn) {
	return func(c, s net.Conn) {
		go pump(s, c, frame.ResponseHeaderSize, s2c)
		pump(c, s, frame.RequestHeaderSize, c2s)
	}
}

func pump(from, to net.Conn, hs int, tamper func(int, []byte) [][]byte) {
	defer to.Close()
	defer from.Close()
	for i := 0; ; i++ {
		h := make([]byte, hs)
		if _, err := io.ReadFull(from, h); err != nil {
			return
		}
		n := int(h[hs-4]) | int(h[hs-3])<<8 | int(h[hs-2])<<16 | int(h[hs-1])<<24
		f := make([]byte, hs+n)
		copy(f, h)
		if _, err := io.ReadFull(from, f[hs:]); err != nil {
			return
		}
		out := [][]byte{f}
		if tamper != nil {
			out = tamper(i, f)
		}
		for _, o := range out {
			if _, err := to.Write(o); err != nil {
				return
			}
		}
	}
}

func TestWrongTranscriptSignature(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "localhost")
	cases := map[string]func(int, []byte) [][]byte{
		// a flipped bit in the signature itself
		"signature bit": func(i int, f []byte) [][]byte {
			if i == 1 {
				f[len(f)-1] ^= 1
			}
			return [][]byte{f}
		},
		// the server nonce changed: the signature is over another transcript
		"server nonce": func(i int, f []byte) [][]byte {
			if i == 0 {
				f[frame.ResponseHeaderSize] ^= 0x80
			}
			return [][]byte{f}
		},
		// the server's key share swapped: a man in the middle's own share
		"key share": func(i int, f []byte) [][]byte {
			if i == 0 {
				f[frame.ResponseHeaderSize+NonceLen+3] ^= 0x01
			}
			return [][]byte{f}
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			c, _ := handshake(t, &ClientConfig{Verify: CAVerifier(pool(ca), "localhost")}, &ServerConfig{Identity: id}, relayFrames(tamper, nil))
			if !errors.Is(c.err, ErrBadSignature) {
				t.Fatalf("client got %v, want ErrBadSignature", c.err)
			}
		})
	}
	t.Run("client nonce", func(t *testing.T) {
		// the client's hello altered on the way: the server signs what it
		// saw, which is not what the client sent
		tamper := func(i int, f []byte) [][]byte {
			if i == 0 {
				f[frame.RequestHeaderSize+5] ^= 0x10
			}
			return [][]byte{f}
		}
		c, _ := handshake(t, &ClientConfig{Verify: CAVerifier(pool(ca), "localhost")}, &ServerConfig{Identity: id}, relayFrames(nil, tamper))
		if !errors.Is(c.err, ErrBadSignature) {
			t.Fatalf("client got %v, want ErrBadSignature", c.err)
		}
	})
}

// TestReplayedHandshake records a genuine server's hello and signature and
// plays them to a later client: the signature covers the earlier client's
// nonce and key share, so the client refuses.
func TestReplayedHandshake(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "localhost")
	var recorded [][]byte
	record := func(i int, f []byte) [][]byte {
		recorded = append(recorded, bytes.Clone(f))
		return [][]byte{f}
	}
	ccfg := &ClientConfig{Verify: CAVerifier(pool(ca), "localhost")}
	c, s := handshake(t, ccfg, &ServerConfig{Identity: id}, relayFrames(record, nil))
	if c.err != nil || s.err != nil || len(recorded) != 2 {
		t.Fatalf("recording session: %v %v, %d frames", c.err, s.err, len(recorded))
	}
	cc, fake := net.Pipe()
	go func() {
		io.ReadFull(fake, make([]byte, frame.RequestHeaderSize+71))
		for _, f := range recorded {
			fake.Write(f)
		}
	}()
	_, err := Client(cc, ccfg)
	if !errors.Is(err, ErrBadSignature) {
		t.Fatalf("replayed handshake: client got %v, want ErrBadSignature", err)
	}
}

func TestPinning(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "localhost")
	kh := KnownHosts{Path: filepath.Join(t.TempDir(), "known_hosts")}
	run := func(accept bool, ident *Identity) error {
		c, _ := handshake(t, &ClientConfig{Verify: PinVerifier(kh, Pin{Name: "srv:1", AcceptNew: accept})}, &ServerConfig{Identity: ident}, nil)
		return c.err
	}
	if err := run(false, id); !errors.Is(err, ErrUnknownHost) {
		t.Fatalf("first use without -trust-new: %v", err)
	}
	if err := run(true, id); err != nil {
		t.Fatalf("first use with -trust-new: %v", err)
	}
	if fp, _ := kh.Lookup("srv:1"); fp != Fingerprint(id.Leaf) {
		t.Fatalf("pinned %q", fp)
	}
	if err := run(false, id); err != nil {
		t.Fatalf("second use: %v", err)
	}
	other := issue(t, ca, "localhost")
	if err := run(true, other); !errors.Is(err, ErrHostKeyChanged) {
		t.Fatalf("changed key, even with -trust-new: %v", err)
	}
}

func TestNoCommonSuite(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "localhost")
	c, s := handshake(t, &ClientConfig{Suites: []Suite{SuiteChaCha20Poly1305}, Verify: CAVerifier(pool(ca), "localhost")},
		&ServerConfig{Identity: id, Suites: []Suite{SuiteAES256GCM}}, nil)
	if !errors.Is(s.err, ErrNoSuite) || c.err == nil {
		t.Fatalf("client %v, server %v", c.err, s.err)
	}
}

func TestLoadIdentityMismatch(t *testing.T) {
	ca := newCA(t)
	a, b := issue(t, ca, "a"), issue(t, ca, "b")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.pem"), CertPEM(a.Chain...))
	kb, _ := KeyPEM(b.Key)
	write(t, filepath.Join(dir, "b.key"), kb)
	if _, err := LoadIdentity(filepath.Join(dir, "a.pem"), filepath.Join(dir, "b.key")); err == nil {
		t.Fatal("loaded a certificate with another certificate's key")
	}
	ka, _ := KeyPEM(a.Key)
	write(t, filepath.Join(dir, "a.key"), ka)
	got, err := LoadIdentity(filepath.Join(dir, "a.pem"), filepath.Join(dir, "a.key"))
	if err != nil || Fingerprint(got.Leaf) != Fingerprint(a.Leaf) {
		t.Fatalf("load: %v", err)
	}
}
