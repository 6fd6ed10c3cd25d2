package client

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"ferry/crypt"
	"ferry/frame"
)

// Identity is what a client keeps per server: its name, the ID the server
// assigned (zero until registration succeeded) and its Ed25519 key.
type Identity struct {
	Name       string
	ID         frame.ClientID
	Registered bool
	Key        ed25519.PrivateKey
}

// State is a directory of identities, one file per server, readable by the
// owner only. The zero value is not usable: set Dir.
//
// A server is named by its identity, not by the link it was reached over,
// so that one server reached over TCP under two addresses, or over a
// serial line and stdio, is one registration, and two servers behind the
// same link are two: KeyID names a server by the fingerprint of its key
// (pinned trust), CAID by the CA that vouches for it and the name in its
// certificate. The first release named servers by link ("127.0.0.1:7417",
// "serial:/dev/ttyUSB0", "stdio"); Adopt moves such a file to the server's
// identity once the server has been authenticated.
type State struct {
	Dir string
}

// KeyID names a server trusted by its pinned key: the key's fingerprint.
func KeyID(leaf *x509.Certificate) string { return crypt.Fingerprint(leaf) }

// CAID names a server trusted through a CA: the CA certificate's
// fingerprint and the server's name in its certificate (the subject's
// common name, else its first DNS or IP name), so that the identity stays
// when the server's certificate is renewed with a new key. Characters
// other than letters, digits, '.', '-' and '_' in the name become '_'.
func CAID(root, leaf *x509.Certificate) string {
	name := leaf.Subject.CommonName
	switch {
	case name != "":
	case len(leaf.DNSNames) > 0:
		name = leaf.DNSNames[0]
	case len(leaf.IPAddresses) > 0:
		name = leaf.IPAddresses[0].String()
	default:
		name = KeyID(leaf)
	}
	return "ca:" + crypt.Fingerprint(root) + ":" + cleanName(name)
}

// cleanName keeps a certificate name (from the network) short and plain
// enough for a file name.
func cleanName(name string) string {
	b := []byte(name)
	if len(b) > maxIDName {
		b = b[:maxIDName]
	}
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// maxIDName bounds the certificate name in a CAID.
const maxIDName = 64

// A state file is three "key value" lines, value to the end of the line
// (names have no control characters, so no newline):
//
//	name NAME
//	id 32 HEX DIGITS        (once registered)
//	ed25519_seed 64 HEX DIGITS
//
// It is plain text rather than JSON so that the router builds do without
// encoding/json (docs/BOARDS.md, size budget).
type stateFile struct {
	Name, ID, Key string
}

func (f *stateFile) marshal() []byte {
	out := "name " + f.Name + "\n"
	if f.ID != "" {
		out += "id " + f.ID + "\n"
	}
	return []byte(out + "ed25519_seed " + f.Key + "\n")
}

func parseStateFile(data []byte) (stateFile, error) {
	var f stateFile
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, " ")
		switch {
		case !ok:
			return f, fmt.Errorf("line %q has no value", line)
		case k == "name":
			f.Name = v
		case k == "id":
			f.ID = v
		case k == "ed25519_seed":
			f.Key = v
		default:
			return f, fmt.Errorf("unknown key %q", k)
		}
	}
	if f.Name == "" || f.Key == "" {
		return f, errors.New("name or key missing")
	}
	return f, nil
}

// path maps a server's name (a KeyID or CAID, or the first release's
// "host:port", "serial:/dev/ttyUSB0", "stdio") to a file name that cannot
// escape Dir.
func (s State) path(server string) string {
	r := strings.NewReplacer("/", "_", "\\", "_", ":", "_", "..", "_")
	return filepath.Join(s.Dir, "servers", r.Replace(server))
}

// Path is the file the identity for server is kept in.
func (s State) Path(server string) string { return s.path(server) }

// Load returns the identity kept for server, or a new unregistered one with
// a fresh key and name, which is not saved: the caller saves it (Save) once
// the server is authenticated and before the key is used, so that a failed
// connection leaves nothing behind and a registration whose answer was lost
// can be retried with the same key. An identity kept but not registered
// yet takes name (its registration was refused, or never answered).
func (s State) Load(server, name string) (*Identity, error) {
	data, err := os.ReadFile(s.path(server))
	if errors.Is(err, os.ErrNotExist) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return &Identity{Name: name, Key: key}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("client: read state: %w", err)
	}
	f, err := parseStateFile(data)
	if err != nil {
		return nil, fmt.Errorf("client: state file %s is damaged: %w", s.path(server), err)
	}
	seed, err := hex.DecodeString(f.Key)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("client: state file %s has a bad key", s.path(server))
	}
	id := &Identity{Name: f.Name, Key: ed25519.NewKeyFromSeed(seed)}
	if f.ID != "" {
		b, err := hex.DecodeString(f.ID)
		if err != nil || len(b) != frame.IDSize {
			return nil, fmt.Errorf("client: state file %s has a bad client ID", s.path(server))
		}
		copy(id.ID[:], b)
		id.Registered = true
	}
	if !id.Registered && name != "" {
		id.Name = name
	}
	return id, nil
}

// Adopt moves the identity kept under the name old (as the first release
// named servers: by link) to the name server, unless one is kept under
// server already, and reports whether it did. The caller adopts only once
// the server is authenticated as the one old named.
func (s State) Adopt(old, server string) (bool, error) {
	from, to := s.path(old), s.path(server)
	if from == to {
		return false, nil
	}
	if _, err := os.Lstat(to); err == nil || !errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if _, err := os.Lstat(from); err != nil {
		return false, nil
	}
	if err := os.Rename(from, to); err != nil {
		return false, fmt.Errorf("client: move state %s to %s: %w", from, to, err)
	}
	return true, syncDir(filepath.Dir(to))
}

// Share keeps the identity kept under the name old under the name server
// too, unless one is kept under server already, and reports whether it
// did: a server pinned by its key (KeyID) and later trusted through its
// CA (CAID) stays one registration, and the pinned name still works.
func (s State) Share(old, server string) (bool, error) {
	if _, err := os.Lstat(s.path(server)); err == nil || !errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if _, err := os.Lstat(s.path(old)); err != nil {
		return false, nil
	}
	id, err := s.Load(old, "")
	if err != nil {
		return false, err
	}
	return true, s.Save(server, id)
}

// Remove forgets the identity kept for server (a registration refused:
// the next try starts afresh with the name then given).
func (s State) Remove(server string) error {
	err := os.Remove(s.path(server))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Save writes id for server atomically: temporary file, fsync, rename.
func (s State) Save(server string, id *Identity) error {
	f := stateFile{Name: id.Name, Key: hex.EncodeToString(id.Key.Seed())}
	if id.Registered {
		f.ID = hex.EncodeToString(id.ID[:])
	}
	data := f.marshal()
	path := s.path(server)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("client: state directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return fmt.Errorf("client: save state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("client: save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("client: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("client: save state: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	d.Sync() // not supported everywhere (Windows); the rename stands anyway
	return nil
}
