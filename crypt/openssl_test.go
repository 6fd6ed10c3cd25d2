package crypt

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The PKI in testdata/openssl is made by openssl alone (gen.sh there): CAs
// with ECDSA, RSA and Ed25519 keys in the three PEM key forms openssl
// writes, and a whole server certificate.

func opensslFile(name string) string { return filepath.Join("testdata", "openssl", name) }

func opensslPool(t *testing.T, name string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(opensslFile(name + ".pem"))
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		t.Fatalf("%s.pem: no certificate", name)
	}
	return p
}

// ferry cert issues from a CA made by openssl, whatever its key type.
func TestIssueFromOpensslCA(t *testing.T) {
	for _, name := range []string{"ca-ec", "ca-rsa", "ca-ed"} {
		t.Run(name, func(t *testing.T) {
			ca, err := LoadCA(opensslFile(name+".pem"), opensslFile(name+".key"))
			if err != nil {
				t.Fatal(err)
			}
			id := issue(t, ca, "localhost")
			c, s := handshake(t, &ClientConfig{Verify: CAVerifier(opensslPool(t, name), "localhost")}, &ServerConfig{Identity: id}, nil)
			if c.err != nil || s.err != nil {
				t.Fatalf("client %v, server %v", c.err, s.err)
			}
			other := "ca-ec"
			if name == other {
				other = "ca-ed"
			}
			c, _ = handshake(t, &ClientConfig{Verify: CAVerifier(opensslPool(t, other), "localhost")}, &ServerConfig{Identity: id}, nil)
			if !errors.Is(c.err, ErrUntrusted) {
				t.Fatalf("trusting %s only: client got %v, want ErrUntrusted", other, c.err)
			}
		})
	}
}

// ferry serve -cert/-key takes a server certificate made by openssl.
func TestOpensslServerCertificate(t *testing.T) {
	id, err := LoadIdentity(opensslFile("server.pem"), opensslFile("server.key"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1"} {
		c, s := handshake(t, &ClientConfig{Verify: CAVerifier(opensslPool(t, "ca-rsa"), name)}, &ServerConfig{Identity: id}, nil)
		if c.err != nil || s.err != nil {
			t.Fatalf("%s: client %v, server %v", name, c.err, s.err)
		}
	}
	c, _ := handshake(t, &ClientConfig{Verify: CAVerifier(opensslPool(t, "ca-rsa"), "router.example")}, &ServerConfig{Identity: id}, nil)
	if !errors.Is(c.err, ErrUntrusted) {
		t.Fatalf("another name: client got %v, want ErrUntrusted", c.err)
	}
	if _, err := LoadIdentity(opensslFile("server.pem"), opensslFile("ca-ec.key")); err == nil {
		t.Fatal("LoadIdentity accepted a key that is not the certificate's")
	}
}
