package crypt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// Identity is a server's certificate chain (leaf first, DER) and the private
// key of the leaf.
type Identity struct {
	Chain [][]byte
	Leaf  *x509.Certificate
	Key   crypto.Signer
}

// sign signs msg with the identity's key: Ed25519 over msg itself, ECDSA
// (ASN.1) and RSA-PSS over its SHA-256.
func (id *Identity) sign(msg []byte) ([]byte, error) {
	switch id.Key.(type) {
	case ed25519.PrivateKey:
		return id.Key.Sign(rand.Reader, msg, crypto.Hash(0))
	case *ecdsa.PrivateKey:
		d := sha256.Sum256(msg)
		return id.Key.Sign(rand.Reader, d[:], crypto.SHA256)
	case *rsa.PrivateKey:
		d := sha256.Sum256(msg)
		return id.Key.Sign(rand.Reader, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	}
	return nil, fmt.Errorf("crypt: unsupported server key type %T", id.Key)
}

// verifySignature checks a signature made by Identity.sign.
func verifySignature(pub any, msg, sig []byte) error {
	ok := false
	switch k := pub.(type) {
	case ed25519.PublicKey:
		ok = ed25519.Verify(k, msg, sig)
	case *ecdsa.PublicKey:
		d := sha256.Sum256(msg)
		ok = ecdsa.VerifyASN1(k, d[:], sig)
	case *rsa.PublicKey:
		d := sha256.Sum256(msg)
		ok = rsa.VerifyPSS(k, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	default:
		return fmt.Errorf("crypt: unsupported server key type %T", pub)
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}

// LoadIdentity reads a PEM certificate chain (leaf first, intermediates
// after it; a root may be left out) and a PEM private key (PKCS#8, or the
// PKCS#1 and SEC 1 forms openssl writes) that matches the leaf. A CA
// certificate is refused as the leaf: clients refuse it too (CAVerifier).
func LoadIdentity(certFile, keyFile string) (*Identity, error) {
	id, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if id.Leaf.IsCA {
		return nil, fmt.Errorf("crypt: %s is a CA certificate; a server needs one the CA issues for it: "+
			"ferry cert -ca-cert %s -ca-key %s -hostname NAME -out PREFIX, then serve with -cert PREFIX.pem -key PREFIX.key",
			certFile, certFile, keyFile)
	}
	return id, nil
}

// loadKeyPair reads a PEM certificate chain and the private key of its
// first certificate.
func loadKeyPair(certFile, keyFile string) (*Identity, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("crypt: read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("crypt: read key: %w", err)
	}
	id := &Identity{}
	id.Chain = pemBlocks(certPEM, "CERTIFICATE")
	if len(id.Chain) == 0 {
		return nil, fmt.Errorf("crypt: %s holds no CERTIFICATE block", certFile)
	}
	if len(id.Chain) > maxCerts {
		return nil, fmt.Errorf("crypt: %s holds %d certificates, at most %d are sent", certFile, len(id.Chain), maxCerts)
	}
	if id.Leaf, err = x509.ParseCertificate(id.Chain[0]); err != nil {
		return nil, fmt.Errorf("crypt: parse %s: %w", certFile, err)
	}
	if id.Key, err = ParsePrivateKey(keyPEM); err != nil {
		return nil, fmt.Errorf("crypt: %s: %w", keyFile, err)
	}
	if !publicKeysEqual(id.Key.Public(), id.Leaf.PublicKey) {
		return nil, fmt.Errorf("crypt: the key in %s does not match the certificate in %s", keyFile, certFile)
	}
	return id, nil
}

func publicKeysEqual(a, b any) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

func pemBlocks(data []byte, typ string) [][]byte {
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		if b.Type == typ {
			out = append(out, b.Bytes)
		}
	}
}

// ParsePrivateKey reads the first private key in PEM data: PKCS#8 ("PRIVATE
// KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY").
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM private key found")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", k)
		}
		return s, nil
	}
}

// CA is a certificate authority that issues server certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCA makes a self-signed Ed25519 CA valid for ten years.
func NewCA(name string, now time.Time) (*CA, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: priv}, nil
}

// LoadCA reads a CA certificate and key in PEM, as written by NewCA's
// callers or by openssl.
func LoadCA(certFile, keyFile string) (*CA, error) {
	id, err := loadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if !id.Leaf.IsCA {
		return nil, fmt.Errorf("crypt: %s is not a CA certificate (basicConstraints CA:FALSE)", certFile)
	}
	return &CA{Cert: id.Leaf, Key: id.Key}, nil
}

// Issue makes an Ed25519 server certificate for hosts (DNS names or IP
// addresses), valid for two years, with the server-auth extended key usage.
func (ca *CA) Issue(hosts []string, now time.Time) (*Identity, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "ferry server"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if len(hosts) > 0 {
		tmpl.Subject.CommonName = hosts[0]
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("crypt: issue certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Identity{Chain: [][]byte{der}, Leaf: leaf, Key: priv}, nil
}

func randomSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// CertPEM encodes DER certificates as PEM.
func CertPEM(ders ...[]byte) []byte {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return out
}

// KeyPEM encodes a private key as PKCS#8 PEM.
func KeyPEM(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Fingerprint is the SHA-256 of a certificate's SubjectPublicKeyInfo, in the
// form "SHA256:" + unpadded base64, as OpenSSH prints host keys.
func Fingerprint(cert *x509.Certificate) string {
	return fingerprintSPKI(cert.RawSubjectPublicKeyInfo)
}
