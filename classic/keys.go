package classic

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// PublicExponent is the RSA public exponent of the deployed clients, the
// default of Crypto++'s InvertibleRSAFunction. With it the SPKI DER of a
// 1024-bit key is exactly PublicKeySize bytes; with 65537 it is 162.
const PublicExponent = 17

// keyBits is the modulus size of the classic RSA keys.
const keyBits = 1024

// ErrBadKey means a public key does not parse as an RSA-1024 SPKI of
// PublicKeySize bytes, or an encrypted AES key does not decrypt to 16 bytes.
var ErrBadKey = errors.New("classic: bad RSA key or encrypted AES key")

// GenerateKey returns a new RSA-1024 key with public exponent 17, as the
// deployed clients use. crypto/rsa.GenerateKey always picks 65537, so the
// primes are drawn here, with p-1 and q-1 prime to 17.
func GenerateKey() (*rsa.PrivateKey, error) {
	e := big.NewInt(PublicExponent)
	one := big.NewInt(1)
	for {
		p, err := rand.Prime(rand.Reader, keyBits/2)
		if err != nil {
			return nil, fmt.Errorf("classic: generate RSA prime: %w", err)
		}
		q, err := rand.Prime(rand.Reader, keyBits/2)
		if err != nil {
			return nil, fmt.Errorf("classic: generate RSA prime: %w", err)
		}
		n := new(big.Int).Mul(p, q)
		if p.Cmp(q) == 0 || n.BitLen() != keyBits {
			continue
		}
		pm1, qm1 := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
		gcd := new(big.Int).GCD(nil, nil, pm1, qm1)
		lambda := new(big.Int).Div(new(big.Int).Mul(pm1, qm1), gcd)
		d := new(big.Int).ModInverse(e, lambda)
		if d == nil { // 17 divides p-1 or q-1
			continue
		}
		if p.Cmp(q) < 0 { // PKCS#1 order as Crypto++ writes it does not matter; keep p > q
			p, q = q, p
		}
		key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: PublicExponent}, D: d, Primes: []*big.Int{p, q}}
		key.Precompute()
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("classic: internal error: generated key: %w", err)
		}
		return key, nil
	}
}

// MarshalPublicKey encodes the public half of key as the 1026 request
// carries it: X.509 SubjectPublicKeyInfo DER, exactly PublicKeySize bytes.
func MarshalPublicKey(key *rsa.PublicKey) ([PublicKeySize]byte, error) {
	var out [PublicKeySize]byte
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return out, fmt.Errorf("classic: encode public key: %w", err)
	}
	if len(der) != PublicKeySize {
		return out, fmt.Errorf("classic: public key encodes to %d bytes, want %d (RSA-1024, e = 17): %w", len(der), PublicKeySize, ErrBadKey)
	}
	copy(out[:], der)
	return out, nil
}

// ParsePublicKey decodes a 1026 public key: an RSA SPKI DER of a 1024-bit
// modulus filling all PublicKeySize bytes.
func ParsePublicKey(der []byte) (*rsa.PublicKey, error) {
	if len(der) != PublicKeySize {
		return nil, ErrBadKey
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, ErrBadKey
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() != keyBits {
		return nil, ErrBadKey
	}
	return pub, nil
}

// encryptKey wraps an AES key for a 2102 or 2105: RSA-OAEP with SHA-1 and
// MGF1-SHA-1, no label, as Crypto++'s RSAES_OAEP_SHA_Encryptor.
func encryptKey(pub *rsa.PublicKey, key *[AESKeySize]byte) ([EncryptedKeySize]byte, error) {
	var out [EncryptedKeySize]byte
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, key[:], nil)
	if err != nil {
		return out, fmt.Errorf("classic: encrypt AES key: %w", err)
	}
	if len(ct) != EncryptedKeySize {
		return out, ErrBadKey
	}
	copy(out[:], ct)
	return out, nil
}

// decryptKey unwraps the AES key of a 2102 or 2105.
func decryptKey(priv *rsa.PrivateKey, ct *[EncryptedKeySize]byte) ([AESKeySize]byte, error) {
	var key [AESKeySize]byte
	pt, err := rsa.DecryptOAEP(sha1.New(), nil, priv, ct[:], nil)
	if err != nil || len(pt) != AESKeySize {
		return key, ErrBadKey
	}
	copy(key[:], pt)
	return key, nil
}

// newAESKey draws a fresh session key.
func newAESKey() (k [AESKeySize]byte) {
	if _, err := io.ReadFull(rand.Reader, k[:]); err != nil {
		panic("classic: internal error: crypto/rand: " + err.Error())
	}
	return k
}
