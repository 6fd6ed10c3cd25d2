package client

import (
	"io"
	"os"
	"path/filepath"
)

// The chain cache (feature chain, PROTOCOL.md §4.2.2): per link, the
// certificate chain of the server last authenticated over it, as its hello
// carried it, in STATE/chains/LINK. The next hello names it by hash, and a
// server that has that chain leaves it out, about 350 bytes of an Ed25519
// certificate (30 ms at 115200 baud) before the first request. Nothing in
// it is trusted: the chain is verified as if it had been sent. A cache
// that is missing, damaged or another server's costs only the chain sent
// whole.

// maxChainFile bounds what is read of a cached chain: four certificates.
const maxChainFile = 4 * (2 + 4096)

func (s State) chainPath(link string) string {
	return filepath.Join(s.Dir, "chains", filepath.Base(s.path(link)))
}

// KnownChain returns the chain cached for link, or nil.
func (s State) KnownChain(link string) []byte {
	f, err := os.Open(s.chainPath(link))
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, maxChainFile+1)
	n, _ := io.ReadFull(f, b)
	if n == 0 || n > maxChainFile {
		return nil
	}
	return b[:n]
}

// SaveChain caches the chain of the server authenticated over link:
// written whole or not at all (temporary file, rename), not synced: a
// cache lost in a crash costs one chain on the line.
func (s State) SaveChain(link string, field []byte) error {
	path := s.chainPath(link)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	defer os.Remove(tmp)
	if err := os.WriteFile(tmp, field, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ForgetChain drops the chain cached for link (a handshake that named it
// failed: the next one sends the first release's hello).
func (s State) ForgetChain(link string) { os.Remove(s.chainPath(link)) }
