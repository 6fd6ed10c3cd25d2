package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

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
	p, _ := r.Marshal()
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
	p, _ = rc.Marshal()
	s2.WriteRequest(id, frame.CodeReconnect, p)
	if h, _, err := s2.ReadResponse(); err != nil || h.Code != frame.CodeDenied {
		t.Fatalf("replayed proof: got %v %v, want 2106", h.Code, err)
	}
}
