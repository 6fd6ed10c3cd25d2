package crypt

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// caIdentity is a CA presenting itself as the server: its own certificate
// as the leaf, signed with its own key.
func caIdentity(ca *CA) *Identity {
	return &Identity{Chain: [][]byte{ca.Cert.Raw}, Leaf: ca.Cert, Key: ca.Key}
}

// intermediate returns an intermediate CA under ca, as an Identity.
func intermediate(t *testing.T, ca *CA) *Identity {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(), Subject: pkix.Name{CommonName: "intermediate"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &Identity{Chain: [][]byte{der}, Leaf: leaf, Key: priv}
}

// TestCALeafRefused: a CA certificate is never accepted as the server's
// own, by either policy, even where no host name is checked (serial and
// stdio links), and it is not pinned on first use.
func TestCALeafRefused(t *testing.T) {
	ca, err := NewCA("ferry CA\u202e\x1b[8m", now)
	if err != nil {
		t.Fatal(err)
	}
	kh := KnownHosts{Path: filepath.Join(t.TempDir(), "known_hosts")}
	for _, tc := range []struct {
		name   string
		id     *Identity
		verify func([]*x509.Certificate) error
	}{
		{"root as leaf, CA", caIdentity(ca), CAVerifier(pool(ca), "")},
		{"intermediate as leaf, CA", intermediate(t, ca), CAVerifier(pool(ca), "")},
		{"root as leaf, pinning with -trust-new", caIdentity(ca), PinVerifier(kh, Pin{Link: "serial:/dev/ttyUSB0", AcceptNew: true})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := handshake(t, &ClientConfig{Verify: tc.verify}, &ServerConfig{Identity: tc.id}, nil)
			if !errors.Is(c.err, ErrUntrusted) || !strings.Contains(c.err.Error(), "CA certificate") {
				t.Fatalf("client: %v, want ErrUntrusted naming a CA certificate", c.err)
			}
			t.Log(c.err)
			if strings.ContainsAny(c.err.Error(), "\x1b\u202e") {
				t.Errorf("certificate name not escaped: %q", c.err)
			}
		})
	}
	if name, _ := kh.Known(Fingerprint(caIdentity(ca).Leaf)); name != "" {
		t.Fatalf("a CA key was pinned under %s", name)
	}
	// A leaf the CA issued still passes on the same link.
	c, _ := handshake(t, &ClientConfig{Verify: CAVerifier(pool(ca), "")}, &ServerConfig{Identity: issue(t, ca, "x")}, nil)
	if c.err != nil {
		t.Fatalf("leaf certificate: %v", c.err)
	}
}

// TestUntrustedNamesEscaped: names from the server's certificate reach the
// error text escaped, and the error still unwraps to x509's.
func TestUntrustedNamesEscaped(t *testing.T) {
	ca := newCA(t)
	id := issue(t, ca, "evil\x1b]0;pwned\x07.example")
	c, _ := handshake(t, &ClientConfig{Verify: CAVerifier(pool(ca), "localhost")}, &ServerConfig{Identity: id}, nil)
	if !errors.Is(c.err, ErrUntrusted) {
		t.Fatalf("client: %v, want ErrUntrusted", c.err)
	}
	msg := c.err.Error()
	t.Log(msg)
	if strings.ContainsAny(msg, "\x1b\x07") || !strings.Contains(msg, `evil\x1b]0;pwned\x07.example`) {
		t.Errorf("names not escaped: %q", msg)
	}
	var he x509.HostnameError
	if !errors.As(c.err, &he) {
		t.Errorf("error does not unwrap to x509.HostnameError: %v", c.err)
	}
}

// TestLoadIdentityRefusesCA: serving with the CA's own certificate is
// refused at start, with what to do instead; LoadCA still takes it.
func TestLoadIdentityRefusesCA(t *testing.T) {
	ca := newCA(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ca.pem"), CertPEM(ca.Cert.Raw))
	k, _ := KeyPEM(ca.Key)
	write(t, filepath.Join(dir, "ca.key"), k)
	_, err := LoadIdentity(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key"))
	if err == nil || !strings.Contains(err.Error(), "ferry cert") {
		t.Fatalf("LoadIdentity of a CA: %v, want a refusal that says to issue a certificate", err)
	}
	if _, err := LoadCA(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")); err != nil {
		t.Fatalf("LoadCA: %v", err)
	}
}

// TestPinKeying: a pin is keyed by the server's key. The same key is one
// server under two addresses and on links with no name; two keys on the
// same unnamed link are two servers; another key under a pinned name or
// alias is refused, with -trust-new too; the first release's lines still
// count.
func TestPinKeying(t *testing.T) {
	ca := newCA(t)
	a, b := issue(t, ca, "a"), issue(t, ca, "b")
	dir := t.TempDir()
	kh := KnownHosts{Path: filepath.Join(dir, "known_hosts")}
	legacy := issue(t, ca, "old")
	write(t, kh.Path, []byte("# comment line\n127.0.0.1:17999 "+Fingerprint(legacy.Leaf)+"\n"))
	var notes []string
	run := func(p Pin, id *Identity) error {
		p.Notify = func(s string) { notes = append(notes, s) }
		c, _ := handshake(t, &ClientConfig{Verify: PinVerifier(kh, p)}, &ServerConfig{Identity: id}, nil)
		return c.err
	}
	for _, tc := range []struct {
		name string
		pin  Pin
		id   *Identity
		want error
	}{
		{"first release's line", Pin{Name: "127.0.0.1:17999"}, legacy, nil},
		{"new key on stdio", Pin{Link: "stdio"}, a, ErrUnknownHost},
		{"pinned on stdio", Pin{Link: "stdio", AcceptNew: true}, a, nil},
		{"second key on stdio", Pin{Link: "stdio"}, b, ErrUnknownHost},
		{"second key pinned on stdio", Pin{Link: "stdio", AcceptNew: true}, b, nil},
		{"both known on stdio", Pin{Link: "stdio"}, a, nil},
		{"known key on a serial line", Pin{Link: "serial:/dev/ttyB"}, b, nil},
		{"known key under a new address", Pin{Name: "localhost:7417"}, a, nil},
		{"known key under another address", Pin{Name: "127.0.0.1:7417"}, a, nil},
		{"other key under that address", Pin{Name: "127.0.0.1:7417", AcceptNew: true}, b, ErrHostKeyChanged},
		{"alias pinned", Pin{Name: "boardB", AcceptNew: true}, b, nil},
		{"alias on the other board", Pin{Name: "boardB", AcceptNew: true}, a, ErrHostKeyChanged},
		{"old line keeps binding", Pin{Name: "127.0.0.1:17999"}, a, ErrHostKeyChanged},
	} {
		err := run(tc.pin, tc.id)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if got, _ := kh.Has("localhost:7417", Fingerprint(a.Leaf)); !got {
		t.Error("a known key under a new address was not pinned under it")
	}
	if name, _ := kh.Known(Fingerprint(b.Leaf)); name != "(stdio)" {
		t.Errorf("b is known as %q, want stdio", name)
	}
	joined := strings.Join(notes, "\n")
	if !strings.Contains(joined, "localhost:7417 shows the key pinned for (stdio)") {
		t.Errorf("notes: %s", joined)
	}
	err := run(Pin{Name: "boardB"}, a)
	if !strings.Contains(err.Error(), "pinned for (stdio)") {
		t.Errorf("a changed key does not say where the offered one is pinned: %v", err)
	}
}
