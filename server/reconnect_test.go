package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"ferry/crypt"
	"ferry/frame"
)

// TestReconnectReplayDenied replays a genuine reconnection proof from an
// earlier session: the server answers 2106.
func TestReconnectReplayDenied(t *testing.T) {
	f := newFixture(t, nil)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	s1 := f.rawSession()
	r := frame.Register{Name: "victim"}
	copy(r.PublicKey[:], pub)
	copy(r.Signature[:], crypt.SignRegister(priv, s1.Transcript))
	p, _ := r.Marshal(s1.Features.Has(crypt.FeatureShort))
	s1.WriteRequest(frame.ClientID{}, frame.CodeRegister, p)
	h, idb, err := s1.ReadResponse()
	if err != nil || h.Code != frame.CodeRegistered {
		t.Fatalf("register: %v %v", h.Code, err)
	}
	id := frame.ClientID(idb)
	// A genuine proof of the first session, as a log or a compromised
	// earlier peer might have kept it, is worthless in a new one.
	old := crypt.SignReconnect(priv, s1.Transcript, id)
	s1.Close()

	s2 := f.rawSession()
	rc := frame.Reconnect{Name: "victim"}
	copy(rc.Signature[:], old)
	p, _ = rc.Marshal(s2.Features.Has(crypt.FeatureShort))
	s2.WriteRequest(id, frame.CodeReconnect, p)
	if h, _, err := s2.ReadResponse(); err != nil || h.Code != frame.CodeDenied {
		t.Fatalf("replayed proof: got %v %v, want 2106", h.Code, err)
	}
}

// TestShortAuth: in a session with feature short, register and reconnect
// carry the name unpadded (PROTOCOL.md §4.6), and the first release's
// padded form is a protocol error there.
func TestShortAuth(t *testing.T) {
	f := newFixture(t, nil)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	s1 := f.rawSessionWith(crypt.FeatureShort)
	if !s1.Features.Has(crypt.FeatureShort) {
		t.Fatal("feature short not accepted")
	}
	r := frame.Register{Name: "short"}
	copy(r.PublicKey[:], pub)
	copy(r.Signature[:], crypt.SignRegister(priv, s1.Transcript))
	p, _ := r.Marshal(true)
	s1.WriteRequest(frame.ClientID{}, frame.CodeRegister, p)
	h, idb, err := s1.ReadResponse()
	if err != nil || h.Code != frame.CodeRegistered || len(idb) != frame.IDSize+1 || idb[frame.IDSize] != frame.AuthByeIfDone {
		t.Fatalf("short register: %v %x %v, want the ID and flag bye-if-done", h.Code, idb, err)
	}
	s1.Close()
	id := frame.ClientID(idb)
	// A partial upload kept for resume: the next answer says so.
	up, err := f.store.NewResumable(id, "big.img", 1<<20, time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write(make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	if err := up.Keep(); err != nil {
		t.Fatal(err)
	}

	s2 := f.rawSessionWith(crypt.FeatureShort)
	rc := frame.Reconnect{Name: "short"}
	copy(rc.Signature[:], crypt.SignReconnect(priv, s2.Transcript, id))
	p, _ = rc.Marshal(true)
	s2.WriteRequest(id, frame.CodeReconnect, p)
	if h, b, err := s2.ReadResponse(); err != nil || h.Code != frame.CodeReconnected || !bytes.Equal(b, append(id[:], frame.AuthPartials|frame.AuthByeIfDone)) {
		t.Fatalf("short reconnect: %v %x %v, want the ID and flags partials, bye-if-done", h.Code, b, err)
	}
	s2.Close()

	s3 := f.rawSessionWith(crypt.FeatureShort)
	defer s3.Close()
	copy(rc.Signature[:], crypt.SignReconnect(priv, s3.Transcript, id))
	p, _ = rc.Marshal(false)
	s3.WriteRequest(id, frame.CodeReconnect, p)
	if h, _, err := s3.ReadResponse(); err != nil || h.Code != frame.CodeError {
		t.Fatalf("padded reconnect in a short session: %v %v, want 2107", h.Code, err)
	}
}
