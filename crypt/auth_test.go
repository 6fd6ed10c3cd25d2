package crypt

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"ferry/frame"
)

// A reconnection proof is bound to its session (transcript) and to its ID.
func TestReconnectProofBinding(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tr1, tr2 := [32]byte{1}, [32]byte{2}
	idA, idB := frame.ClientID{0xa}, frame.ClientID{0xb}
	sig := SignReconnect(priv, tr1, idA)
	if err := VerifyReconnect(pub, tr1, idA, sig); err != nil {
		t.Fatalf("genuine proof refused: %v", err)
	}
	if VerifyReconnect(pub, tr2, idA, sig) == nil {
		t.Error("proof from another session (transcript) accepted")
	}
	if VerifyReconnect(pub, tr1, idB, sig) == nil {
		t.Error("proof for another client ID accepted")
	}
	if VerifyRegister(pub, tr2, SignRegister(priv, tr1)) == nil {
		t.Error("registration proof from another session accepted")
	}
}
