package crypt

import (
	"crypto/ed25519"
	"errors"

	"ferry/frame"
)

// ErrClientAuth means a client's signature over the transcript does not
// verify with the key it registered or offered.
var ErrClientAuth = errors.New("crypt: client signature does not verify")

// SignatureSize is the size of a client's Ed25519 signature.
const SignatureSize = ed25519.SignatureSize

// SignRegister is a new client's proof that it holds priv, bound to this
// session: Ed25519 over the register label and the transcript hash.
func SignRegister(priv ed25519.PrivateKey, transcript [32]byte) []byte {
	return ed25519.Sign(priv, append([]byte(labelRegister), transcript[:]...))
}

// VerifyRegister checks a SignRegister signature.
func VerifyRegister(pub ed25519.PublicKey, transcript [32]byte, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, append([]byte(labelRegister), transcript[:]...), sig) {
		return ErrClientAuth
	}
	return nil
}

// SignReconnect is a registered client's proof of its key, bound to this
// session and to its ID.
func SignReconnect(priv ed25519.PrivateKey, transcript [32]byte, id frame.ClientID) []byte {
	return ed25519.Sign(priv, reconnectMessage(transcript, id))
}

// VerifyReconnect checks a SignReconnect signature.
func VerifyReconnect(pub ed25519.PublicKey, transcript [32]byte, id frame.ClientID, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, reconnectMessage(transcript, id), sig) {
		return ErrClientAuth
	}
	return nil
}

func reconnectMessage(transcript [32]byte, id frame.ClientID) []byte {
	m := append([]byte(labelReconnect), transcript[:]...)
	return append(m, id[:]...)
}
