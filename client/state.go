package client

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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

// State is a directory of identities, one JSON file per server, readable by
// the owner only. The zero value is not usable: set Dir.
type State struct {
	Dir string
}

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

// path maps a server address ("host:port", "serial:/dev/ttyUSB0") to a file
// name that cannot escape Dir.
func (s State) path(server string) string {
	r := strings.NewReplacer("/", "_", "\\", "_", ":", "_", "..", "_")
	return filepath.Join(s.Dir, "servers", r.Replace(server))
}

// Load returns the identity kept for server, or a new unregistered one with
// a fresh key and name, saved before it is used so that a registration
// whose answer was lost can be retried with the same key.
func (s State) Load(server, name string) (*Identity, error) {
	data, err := os.ReadFile(s.path(server))
	if errors.Is(err, os.ErrNotExist) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		id := &Identity{Name: name, Key: key}
		return id, s.Save(server, id)
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
	return id, nil
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
	return os.Rename(tmp.Name(), path)
}
