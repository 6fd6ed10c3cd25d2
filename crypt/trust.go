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

// KnownHosts is a file of pinned server keys, one "HOST SHA256:..." line per
// server, like OpenSSH's known_hosts.
type KnownHosts struct {
	Path string
}

// Lookup returns the pinned fingerprint of host, or "".
func (k KnownHosts) Lookup(host string) (string, error) {
	data, err := os.ReadFile(k.Path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("crypt: read known hosts: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == host {
			return f[1], nil
		}
	}
	return "", nil
}

// Add pins fingerprint fp for host, appending a line and syncing the file.
func (k KnownHosts) Add(host, fp string) error {
	if err := os.MkdirAll(filepath.Dir(k.Path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(k.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("crypt: pin server key: %w", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s %s\n", host, fp); err != nil {
		return fmt.Errorf("crypt: pin server key: %w", err)
	}
	return f.Sync()
}

// PinVerifier trusts a server whose leaf key has the fingerprint pinned for
// host in k. When none is pinned, it pins the key if acceptNew is set (trust
// on first use, which the user confirms with a flag) and otherwise fails
// with ErrUnknownHost, naming the fingerprint so the user can compare it with
// the one the server printed. notify, if not nil, is told what was pinned.
// A CA certificate is refused as the leaf, and never pinned.
func PinVerifier(k KnownHosts, host string, acceptNew bool, notify func(string)) func([]*x509.Certificate) error {
	return func(chain []*x509.Certificate) error {
		if err := notCA(chain[0]); err != nil {
			return err
		}
		fp := Fingerprint(chain[0])
		pinned, err := k.Lookup(host)
		if err != nil {
			return err
		}
		switch {
		case pinned == fp:
			return nil
		case pinned != "":
			return fmt.Errorf("%w for %s: pinned %s, offered %s; if the server was re-keyed on purpose, remove its line from %s",
				ErrHostKeyChanged, host, pinned, fp, k.Path)
		case !acceptNew:
			return fmt.Errorf("%w: %s offers key %s; compare it with the fingerprint the server printed, then run again with -trust-new to pin it (or give -ca FILE)",
				ErrUnknownHost, host, fp)
		}
		if err := k.Add(host, fp); err != nil {
			return err
		}
		if notify != nil {
			notify(fmt.Sprintf("pinned %s for %s in %s", fp, host, k.Path))
		}
		return nil
	}
}

func fingerprintSPKI(spki []byte) string {
	sum := sha256.Sum256(spki)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}
