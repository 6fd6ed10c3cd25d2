package crypt

import (
	"errors"
	"os"
	"testing"
	"time"

	"ferry/frame"
)

// TestFeatures: peers of this release agree on features; a peer of the
// first release on either side (no feature IDs offered, or none
// understood) leaves them off and the handshake still succeeds.
func TestFeatures(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "localhost")
	cases := []struct {
		name           string
		client, server Features
		want           Features
	}{
		{"both new", AllFeatures, AllFeatures, AllFeatures},
		{"first-release client", 0, AllFeatures, 0},
		{"server without the feature", AllFeatures, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, s := handshake(t, &ClientConfig{Verify: CAVerifier(pool(ca), "localhost"), Features: tc.client},
				&ServerConfig{Identity: id, Features: tc.server}, nil)
			if c.err != nil || s.err != nil {
				t.Fatalf("handshake: %v %v", c.err, s.err)
			}
			if c.s.Features != tc.want || s.s.Features != tc.want {
				t.Fatalf("features: client %b server %b, want %b", c.s.Features, s.s.Features, tc.want)
			}
		})
	}
}

// TestFirstReleaseServerHello: a server of the first release skips the
// feature IDs and sends a server hello without the features field; a
// client of this release takes it as "no features". Its strict parser
// would refuse the field, which is why a server sends it only to clients
// that offered features.
func TestFirstReleaseServerHello(t *testing.T) {
	sh := &serverHello{suite: SuiteAES256GCM, chunk: 1, certs: [][]byte{{1}}}
	old := sh.marshal()
	got, err := parseServerHello(old, true)
	if err != nil || got.features != 0 || got.extended {
		t.Fatalf("first-release hello to a new client: %v %+v", err, got)
	}
	sh.extended, sh.features = true, FeatureOps
	if _, err := parseServerHello(sh.marshal(), false); !errors.Is(err, ErrHandshake) {
		t.Fatalf("a features field to a client that offered none: got %v, want ErrHandshake", err)
	}
	ch, err := parseClientHello((&clientHello{chunk: 1, suites: []Suite{SuiteAES256GCM, 77}, features: FeatureOps}).marshal())
	if err != nil || ch.features != FeatureOps || len(ch.suites) != 2 {
		t.Fatalf("client hello: %v %+v", err, ch)
	}
}

// TestFeatureDowngrade: an attacker who strips the feature IDs from the
// client hello (to push both sides back to the first release's messages)
// changes the signed transcript: the client refuses the server.
func TestFeatureDowngrade(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "localhost")
	strip := func(i int, f []byte) [][]byte {
		if i != 0 {
			return [][]byte{f}
		}
		p := f[frame.RequestHeaderSize:]
		n := int(p[68])
		kept := []byte{}
		for _, b := range p[69 : 69+n] {
			if b < featureID {
				kept = append(kept, b)
			}
		}
		out := append([]byte{}, f[:frame.RequestHeaderSize+68]...)
		out = append(out, byte(len(kept)))
		out = append(out, kept...)
		h := frame.Request{Version: frame.VersionSecure, Code: frame.CodeHello, Size: uint32(len(out) - frame.RequestHeaderSize)}
		h.Put((*[frame.RequestHeaderSize]byte)(out))
		return [][]byte{out}
	}
	c, _ := handshake(t, &ClientConfig{Verify: CAVerifier(pool(ca), "localhost"), Features: AllFeatures},
		&ServerConfig{Identity: id, Features: AllFeatures}, relayFrames(nil, strip))
	if !errors.Is(c.err, ErrBadSignature) && !errors.Is(c.err, ErrHandshake) {
		t.Fatalf("client got %v, want the downgrade refused", c.err)
	}
}

// TestWriteTimeout: a peer that stops reading cannot hold a writer: with
// WriteTimeout set, a write fails once it has waited that long.
func TestWriteTimeout(t *testing.T) {
	c, _ := sealedPair(t, nil) // the server side never reads from now on
	c.WriteTimeout = 200 * time.Millisecond
	done := make(chan error, 1)
	go func() {
		var err error
		for err == nil {
			err = c.WriteMsg(frame.CodeList, make([]byte, 1000))
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("got %v, want a deadline error", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a write to a peer that never reads is still blocked after 3 s")
	}
}

// TestReadBufferBeforeAuthentication: until GrowReads, the read buffer
// fits the frames that come, not the largest frame a session allows; after
// it, it grows by doubling up to the largest frame, and stays.
func TestReadBufferBeforeAuthentication(t *testing.T) {
	c, s := sealedPair(t, nil)
	go c.WriteMsg(frame.CodeRegister, make([]byte, 351))
	if _, _, err := s.ReadMsg(); err != nil {
		t.Fatal(err)
	}
	if cap(s.rbuf) > 4096 {
		t.Fatalf("read buffer of %d bytes for a 351-byte frame before authentication", cap(s.rbuf))
	}
	s.GrowReads() // from now on it grows by doubling, up to the largest frame
	for _, n := range []int{1000, 5000, int(s.limit) - TagSize} {
		go c.WriteMsg(frame.CodeList, make([]byte, n))
		if _, _, err := s.ReadMsg(); err != nil {
			t.Fatal(err)
		}
		if want := 2 * (n + TagSize + frame.RequestHeaderSize); cap(s.rbuf) > max(want, 8192) || cap(s.rbuf) > frame.RequestHeaderSize+int(s.limit) {
			t.Fatalf("read buffer of %d bytes after GrowReads and a frame of %d, want at most twice the frame and the largest frame", cap(s.rbuf), n)
		}
	}
	// then a frame of any size is read into the same buffer
	before := &s.rbuf[:1][0]
	go c.WriteMsg(frame.CodeList, make([]byte, 1000))
	if _, _, err := s.ReadMsg(); err != nil {
		t.Fatal(err)
	}
	if &s.rbuf[:1][0] != before {
		t.Fatal("the read buffer was allocated again for a frame that fits")
	}
}
