package client

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	s := State{Dir: t.TempDir()}
	id, err := s.Load("host:7417", "my pi")
	if err != nil || id.Registered || id.Name != "my pi" {
		t.Fatalf("new identity: %+v %v", id, err)
	}
	if _, err := os.Stat(s.path("host:7417")); !os.IsNotExist(err) {
		t.Fatalf("a new identity was saved before use: %v", err)
	}
	id.ID[0], id.Registered = 0xab, true
	if err := s.Save("host:7417", id); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("host:7417", "ignored")
	if err != nil || got.Name != "my pi" || got.ID != id.ID || !got.Registered || !got.Key.Equal(id.Key) {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	other, _ := s.Load("other:7417", "x")
	if other.Key.Equal(id.Key) {
		t.Fatal("two servers share a key")
	}
}

// An identity saved but never registered (its registration was refused or
// not answered) keeps its key and takes the name given now.
func TestStateUnregisteredTakesName(t *testing.T) {
	s := State{Dir: t.TempDir()}
	id, _ := s.Load("k", "first")
	s.Save("k", id)
	got, err := s.Load("k", "second")
	if err != nil || got.Name != "second" || !got.Key.Equal(id.Key) {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	if err := s.Remove("k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("k"); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	if again, _ := s.Load("k", "x"); again.Key.Equal(id.Key) {
		t.Fatal("a removed identity came back")
	}
}

func TestStateDamaged(t *testing.T) {
	s := State{Dir: t.TempDir()}
	id, _ := s.Load("h", "n")
	if err := s.Save("h", id); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "name x\n", "name x\ned25519_seed zz\n", "name x\nbogus 1\ned25519_seed 00\n", "name x\nid 12\ned25519_seed " + strings.Repeat("00", 32) + "\n"} {
		os.WriteFile(s.path("h"), []byte(bad), 0o600)
		if _, err := s.Load("h", "n"); err == nil {
			t.Errorf("damaged state %q loaded", bad)
		}
	}
}

func TestStatePathStaysInDir(t *testing.T) {
	s := State{Dir: "/st"}
	for _, server := range []string{"../../etc/passwd", "serial:/dev/ttyUSB0", `a\..\b`, "SHA256:ab/c+d", "ca:SHA256:x/y:../../z"} {
		if p := s.path(server); !strings.HasPrefix(p, "/st/servers/") || strings.Count(p, "/") != 3 {
			t.Errorf("%q maps to %q", server, p)
		}
	}
}

// TestStateAdopt: the first release's file, named by link, moves to the
// server's identity once, and never over an identity already kept.
func TestStateAdopt(t *testing.T) {
	s := State{Dir: t.TempDir()}
	old, _ := s.Load("127.0.0.1:17999", "old-pi")
	old.Registered = true
	s.Save("127.0.0.1:17999", old)
	if moved, err := s.Adopt("127.0.0.1:17999", "SHA256:abc"); !moved || err != nil {
		t.Fatalf("adopt: %v %v", moved, err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "servers", "127.0.0.1_17999")); !os.IsNotExist(err) {
		t.Fatal("the old file is still there")
	}
	got, err := s.Load("SHA256:abc", "x")
	if err != nil || !got.Key.Equal(old.Key) || !got.Registered || got.Name != "old-pi" {
		t.Fatalf("adopted identity: %+v %v", got, err)
	}
	if moved, _ := s.Adopt("127.0.0.1:17999", "SHA256:other"); moved {
		t.Fatal("adopted a file that is not there")
	}
	other, _ := s.Load("stdio", "o")
	s.Save("stdio", other)
	if moved, _ := s.Adopt("stdio", "SHA256:abc"); moved {
		t.Fatal("adopted over an identity already kept")
	}
	if got, _ := s.Load("SHA256:abc", "x"); !got.Key.Equal(old.Key) {
		t.Fatal("the kept identity was replaced")
	}
}

// TestStateShare: an identity kept under a server's key is kept under its
// CA identity too, and stays under the key.
func TestStateShare(t *testing.T) {
	s := State{Dir: t.TempDir()}
	if shared, _ := s.Share("SHA256:k", "ca:x"); shared {
		t.Fatal("shared an identity that is not there")
	}
	id, _ := s.Load("SHA256:k", "pi")
	id.Registered = true
	s.Save("SHA256:k", id)
	if shared, err := s.Share("SHA256:k", "ca:x"); !shared || err != nil {
		t.Fatalf("share: %v %v", shared, err)
	}
	for _, name := range []string{"SHA256:k", "ca:x"} {
		if got, err := s.Load(name, "other"); err != nil || !got.Key.Equal(id.Key) || got.ID != id.ID || got.Name != "pi" {
			t.Fatalf("%s: %+v %v", name, got, err)
		}
	}
	other, _ := s.Load("SHA256:o", "o")
	s.Save("SHA256:o", other)
	if shared, _ := s.Share("SHA256:o", "ca:x"); shared {
		t.Fatal("shared over an identity already kept")
	}
}

// cert returns a certificate for pub signed by itself (a stand-in: only
// names and keys matter to the IDs).
func cert(t *testing.T, cn string, dns []string) *x509.Certificate {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// TestServerIDs: a KeyID follows the key; a CAID follows the CA and the
// name, and survives a renewal with a new key; names from the network are
// made plain.
func TestServerIDs(t *testing.T) {
	ca, ca2 := cert(t, "ca", nil), cert(t, "ca", nil)
	a1, a2, b := cert(t, "pi.local", nil), cert(t, "pi.local", nil), cert(t, "router", nil)
	if KeyID(a1) == KeyID(a2) || !strings.HasPrefix(KeyID(a1), "SHA256:") {
		t.Fatalf("key IDs: %s %s", KeyID(a1), KeyID(a2))
	}
	if CAID(ca, a1) != CAID(ca, a2) {
		t.Error("a renewed certificate changed the CA identity")
	}
	if CAID(ca, a1) == CAID(ca, b) || CAID(ca, a1) == CAID(ca2, a1) {
		t.Error("two servers share a CA identity")
	}
	if id := CAID(ca, cert(t, "", []string{"files.example.org"})); !strings.HasSuffix(id, ":files.example.org") {
		t.Errorf("no common name: %s", id)
	}
	// the name part, after the fingerprint (whose base64 may hold a '/')
	if id := CAID(ca, cert(t, "a/../b\x1b[2J"+strings.Repeat("x", 100), nil)); strings.ContainsAny(id[strings.LastIndex(id, ":")+1:], "/\x1b[") || len(id) > 120 {
		t.Errorf("name not made plain: %q", id)
	}
}
