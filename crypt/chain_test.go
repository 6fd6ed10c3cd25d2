package crypt

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net"
	"testing"
)

// recordFrames relays both ways and keeps the size of every server frame.
func recordFrames(sizes *[]int, c2s func(int, []byte) [][]byte) func(c, s net.Conn) {
	return relayFrames(func(i int, f []byte) [][]byte {
		*sizes = append(*sizes, len(f))
		return [][]byte{f}
	}, c2s)
}

// TestKnownChain (feature chain, PROTOCOL.md §4.2.2): a client that names
// the chain it knows gets a server hello without it, verifies the chain it
// has as if sent, and still gets the chain whole when its cache is another
// server's.
func TestKnownChain(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "localhost")
	verify := CAVerifier(pool(ca), "localhost")
	var sizes []int
	c, s := handshake(t, &ClientConfig{Verify: verify, Features: AllFeatures}, &ServerConfig{Identity: id, Features: AllFeatures}, recordFrames(&sizes, nil))
	if c.err != nil || s.err != nil {
		t.Fatalf("first handshake: %v %v", c.err, s.err)
	}
	full := sizes[0]
	field := c.s.ChainField
	if !bytes.Equal(field, chainField(id.Chain)) || !c.s.Features.Has(FeatureChain) {
		t.Fatalf("chain field %x (features %b), want the server's chain", field, c.s.Features)
	}

	sizes = nil
	c, s = handshake(t, &ClientConfig{Verify: verify, Features: AllFeatures, KnownChain: field}, &ServerConfig{Identity: id, Features: AllFeatures}, recordFrames(&sizes, nil))
	if c.err != nil || s.err != nil {
		t.Fatalf("handshake with the chain known: %v %v", c.err, s.err)
	}
	if want := full - (len(field) - 1); sizes[0] != want {
		t.Errorf("server hello of %d bytes with the chain known, want %d (%d without it)", sizes[0], want, full)
	}
	if !c.s.PeerChain[0].Equal(id.Leaf) || !bytes.Equal(c.s.ChainField, field) {
		t.Error("the known chain was not the one verified")
	}

	// Another server's chain in the cache: the chain comes whole.
	other := issue(t, ca, "localhost")
	sizes = nil
	c, s = handshake(t, &ClientConfig{Verify: verify, Features: AllFeatures, KnownChain: chainField(other.Chain)}, &ServerConfig{Identity: id, Features: AllFeatures}, recordFrames(&sizes, nil))
	if c.err != nil || s.err != nil || sizes[0] != full {
		t.Fatalf("stale cache: %v %v, server hello of %d bytes, want %d", c.err, s.err, sizes[0], full)
	}
	if !c.s.PeerChain[0].Equal(id.Leaf) || !bytes.Equal(c.s.ChainField, field) {
		t.Error("with a stale cache the client did not take the chain sent")
	}

	// A server that does not take the feature ignores the hash.
	c, s = handshake(t, &ClientConfig{Verify: verify, Features: AllFeatures, KnownChain: field}, &ServerConfig{Identity: id, Features: FeatureOps}, nil)
	if c.err != nil || s.err != nil || !c.s.PeerChain[0].Equal(id.Leaf) || c.s.Features.Has(FeatureChain) {
		t.Fatalf("server without the feature: %v %v", c.err, s.err)
	}
}

// TestKnownChainAttacks: the hash is in the signed transcript, and a chain
// left out is verified with its own key: an attacker who alters the hash,
// or a server that claims the client's cached chain but holds another key,
// fails the signature.
func TestKnownChainAttacks(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "localhost")
	verify := CAVerifier(pool(ca), "localhost")
	field := chainField(id.Chain)

	flipHash := func(i int, f []byte) [][]byte {
		if i == 0 {
			f[len(f)-1] ^= 1 // the last byte of the hash that ends the hello
		}
		return [][]byte{f}
	}
	c, _ := handshake(t, &ClientConfig{Verify: verify, Features: AllFeatures, KnownChain: field}, &ServerConfig{Identity: id, Features: AllFeatures}, relayFrames(nil, flipHash))
	if !errors.Is(c.err, ErrBadSignature) {
		t.Fatalf("hash altered on the way: %v, want ErrBadSignature", c.err)
	}

	// An impostor that serves the genuine chain with its own key leaves
	// the chain out (its hash matches) and signs with the wrong key.
	impostor := issue(t, newCA(t), "localhost")
	impostor.Chain = id.Chain
	c, _ = handshake(t, &ClientConfig{Verify: verify, Features: AllFeatures, KnownChain: field}, &ServerConfig{Identity: impostor, Features: AllFeatures}, nil)
	if !errors.Is(c.err, ErrBadSignature) {
		t.Fatalf("impostor with the cached chain: %v, want ErrBadSignature", c.err)
	}
}

// TestKnownChainHello: the hash follows the suites only with the chain
// feature offered, and is exactly 32 bytes; a hello naming no chain gets
// the chain whole.
func TestKnownChainHello(t *testing.T) {
	sum := sha256.Sum256([]byte("chain"))
	ch := &clientHello{chunk: 1, suites: []Suite{SuiteAES256GCM}, features: FeatureOps | FeatureChain, known: sum[:]}
	p := ch.marshal()
	got, err := parseClientHello(p)
	if err != nil || !bytes.Equal(got.known, sum[:]) {
		t.Fatalf("hello with a known chain: %v %+v", err, got)
	}
	if _, err := parseClientHello(p[:len(p)-1]); !errors.Is(err, ErrHandshake) {
		t.Errorf("a 31-byte hash: %v, want ErrHandshake", err)
	}
	ch.features = FeatureOps
	if _, err := parseClientHello(ch.marshal()); !errors.Is(err, ErrHandshake) {
		t.Errorf("a hash without the chain feature: %v, want ErrHandshake", err)
	}
	// A server hello without certificates is refused by a client that
	// named no chain.
	sh := &serverHello{suite: SuiteAES256GCM, chunk: 1, features: FeatureChain, extended: true}
	got2, err := parseServerHello(sh.marshal(), true)
	if err != nil || len(got2.certs) != 0 {
		t.Fatalf("server hello without certificates: %v", err)
	}
	if _, err := parseServerHello(sh.marshal(), false); !errors.Is(err, ErrHandshake) {
		t.Errorf("no certificates to a client that offered no features: %v", err)
	}
}
