package crypt

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"ferry/safe"
)

// Trust errors.
var (
	// ErrUntrusted means the server's chain does not lead to the trusted CA,
	// or does not name the server.
	ErrUntrusted = errors.New("crypt: server certificate not trusted")
	// ErrUnknownHost means no key is pinned for the server and the user has
	// not said to trust a new one.
	ErrUnknownHost = errors.New("crypt: server key not known")
	// ErrHostKeyChanged means the server shows a key other than the pinned
	// one: a different server, or someone in the middle.
	ErrHostKeyChanged = errors.New("crypt: SERVER KEY CHANGED")
)

// LoadCertPool reads the PEM certificates in file into a pool of roots.
func LoadCertPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("crypt: read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("crypt: %s holds no PEM certificate", file)
	}
	return pool, nil
}

// CAVerifier trusts a chain that leads to one of roots, is valid now, allows
// server authentication and, unless serverName is empty, names serverName
// (a DNS name or an IP address). An empty serverName is for serial and
// stdio links, where there is no host name: the CA and the server-auth
// usage decide. A CA certificate is never accepted as the leaf. Names from
// the certificates reach the error escaped (safe.Text).
func CAVerifier(roots *x509.CertPool, serverName string) func([]*x509.Certificate) error {
	return func(chain []*x509.Certificate) error {
		if err := notCA(chain[0]); err != nil {
			return err
		}
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		opts := x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			DNSName:       serverName,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		if _, err := chain[0].Verify(opts); err != nil {
			return fmt.Errorf("%w: %w", ErrUntrusted, safe.Error(err))
		}
		return nil
	}
}

// notCA refuses a CA certificate offered as the server's own. Its key signs
// certificates, not handshakes: a server showing it either holds the CA's
// key online or is not the server the CA certified. On a link with no host
// name to check, accepting it would let any certificate in the chain pose
// as a server.
func notCA(leaf *x509.Certificate) error {
	if !leaf.IsCA {
		return nil
	}
	return fmt.Errorf("%w: the server presented a CA certificate (\"%s\") as its own; "+
		"a server must present a certificate the CA issued for it (ferry cert)",
		ErrUntrusted, safe.Text(leaf.Subject.CommonName))
}

// KnownHosts is a file of pinned server keys, one "NAME SHA256:..." line
// per pin, like OpenSSH's known_hosts; lines starting with # are comments.
// NAME is what the key is pinned under: a TCP address ("host:port") or a
// name the user gave the server (an alias, a device's name), which binds
// the key to it; or, for a key pinned on a link with no name (stdio, a
// serial line without an alias), the link in parentheses ("(stdio)",
// "(serial:/dev/ttyUSB0)"), which binds nothing. The first release wrote
// the same lines, with link names as names ("stdio"). The zero value is
// not usable: set Path.
type KnownHosts struct {
	Path string
}

// pin is one line of the file.
type pin struct{ name, fp string }

// read returns the pins in file order; a missing file has none.
func (k KnownHosts) read() ([]pin, error) {
	data, err := os.ReadFile(k.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("crypt: read known hosts: %w", err)
	}
	var pins []pin
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			pins = append(pins, pin{f[0], f[1]})
		}
	}
	return pins, nil
}

// Lookup returns the fingerprint pinned under name (the first, if the file
// has several), or "".
func (k KnownHosts) Lookup(name string) (string, error) {
	pins, err := k.read()
	for _, p := range pins {
		if p.name == name {
			return p.fp, nil
		}
	}
	return "", err
}

// Known returns the first name fingerprint fp is pinned under, or "".
func (k KnownHosts) Known(fp string) (string, error) {
	pins, err := k.read()
	for _, p := range pins {
		if p.fp == fp {
			return p.name, nil
		}
	}
	return "", err
}

// Has reports whether fp is pinned under name (on any line).
func (k KnownHosts) Has(name, fp string) (bool, error) {
	pins, err := k.read()
	for _, p := range pins {
		if p.name == name && p.fp == fp {
			return true, nil
		}
	}
	return false, err
}

// Add pins fingerprint fp under name, appending a line and syncing the file.
func (k KnownHosts) Add(name, fp string) error {
	if err := os.MkdirAll(filepath.Dir(k.Path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(k.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("crypt: pin server key: %w", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s %s\n", name, fp); err != nil {
		return fmt.Errorf("crypt: pin server key: %w", err)
	}
	return f.Sync()
}

// Pin says how PinVerifier checks and pins a server's key.
type Pin struct {
	// Name is what the server was reached or called by: a TCP address or
	// an alias. A key pinned under Name is the only one accepted there.
	// Empty on a link with no name (stdio, a serial line without an
	// alias), where any pinned key is trusted.
	Name string
	// Link labels a key pinned without a Name ("stdio",
	// "serial:/dev/ttyUSB0"), written in parentheses; it binds nothing.
	Link string
	// AcceptNew pins a key seen for the first time: trust on first use,
	// which the user confirms with a flag (-trust-new).
	AcceptNew bool
	// Notify, if not nil, is told what was pinned.
	Notify func(string)
}

// PinVerifier trusts a server whose leaf key is pinned in k. The key is
// the server's identity, not the way it was reached: a key pinned under
// one name or link is trusted under any other (the server proved it holds
// it), and, when p.Name is new, pinned under it too, so that the same
// server reached as "localhost:7417" and "127.0.0.1:7417", or over serial
// and stdio, is one server. What a pin refuses is another key under a
// pinned name: ErrHostKeyChanged, also with AcceptNew. A key pinned
// nowhere is pinned if p.AcceptNew is set and otherwise refused with
// ErrUnknownHost, naming the fingerprint so the user can compare it with
// the one the server printed. A CA certificate is refused as the leaf, and
// never pinned.
func PinVerifier(k KnownHosts, p Pin) func([]*x509.Certificate) error {
	return func(chain []*x509.Certificate) error {
		if err := notCA(chain[0]); err != nil {
			return err
		}
		fp := Fingerprint(chain[0])
		known, err := k.Known(fp)
		if err != nil {
			return err
		}
		if p.Name == "" {
			if known != "" {
				return nil
			}
			return p.pinNew(k, "("+p.Link+")", fp)
		}
		pinned, err := k.Lookup(p.Name)
		switch {
		case err != nil:
			return err
		case pinned == fp:
			return nil
		case pinned != "":
			also := ""
			if known != "" {
				also = fmt.Sprintf(" (the key offered is the one pinned for %s)", known)
			}
			return fmt.Errorf("%w for %s: pinned %s, offered %s%s; if the server was re-keyed on purpose, remove its line from %s",
				ErrHostKeyChanged, p.Name, pinned, fp, also, k.Path)
		case known != "":
			if err := k.Add(p.Name, fp); err != nil {
				return err
			}
			p.notify(fmt.Sprintf("%s shows the key pinned for %s (%s); pinned it for %s too", p.Name, known, fp, p.Name))
			return nil
		}
		return p.pinNew(k, p.Name, fp)
	}
}

// pinNew pins a key seen for the first time under name, if the user said
// so.
func (p *Pin) pinNew(k KnownHosts, name, fp string) error {
	where := name
	if p.Name == "" {
		where = "the server on " + p.Link
	}
	if !p.AcceptNew {
		return fmt.Errorf("%w: %s offers key %s; compare it with the fingerprint the server printed, then run again with -trust-new to pin it (or give -ca FILE)",
			ErrUnknownHost, where, fp)
	}
	if err := k.Add(name, fp); err != nil {
		return err
	}
	p.notify(fmt.Sprintf("pinned %s for %s in %s", fp, name, k.Path))
	return nil
}

func (p *Pin) notify(msg string) {
	if p.Notify != nil {
		p.Notify(msg)
	}
}

func fingerprintSPKI(spki []byte) string {
	sum := sha256.Sum256(spki)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}
