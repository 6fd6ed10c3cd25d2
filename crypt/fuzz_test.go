package crypt

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var fuzzCA, _ = NewCA("fuzz", time.Now())

// FuzzClientHello: no input panics the server's hello parser, and what it
// accepts has sane fields and encodes back to the same bytes.
func FuzzClientHello(f *testing.F) {
	f.Add((&clientHello{chunk: 65536, suites: []Suite{SuiteAES256GCM, SuiteChaCha20Poly1305}, features: AllFeatures}).marshal())
	f.Add((&clientHello{chunk: 1, suites: []Suite{2}}).marshal())
	f.Fuzz(func(t *testing.T, p []byte) {
		h, err := parseClientHello(p)
		if err != nil {
			return
		}
		if h.chunk == 0 || h.chunk > 1<<20 || len(h.suites)+len(featureIDs(h.features)) > maxSuites {
			t.Fatalf("accepted %+v", h)
		}
		// unknown suite IDs are kept, feature IDs come back in order: a
		// hello without feature IDs encodes back to the same bytes
		if !h.offered && !bytes.Equal(h.marshal(), p) {
			t.Fatalf("round trip: %x -> %x", p, h.marshal())
		}
	})
}

// FuzzServerHello: the client's parser of the server hello and of the
// signature (verify) take any bytes without panicking.
func FuzzServerHello(f *testing.F) {
	sh := &serverHello{suite: SuiteAES256GCM, chunk: 65536, certs: [][]byte{{0x30, 0x03, 1, 2, 3}}}
	f.Add(sh.marshal(), false)
	sh.extended, sh.features = true, AllFeatures
	f.Add(sh.marshal(), true)
	f.Fuzz(func(t *testing.T, p []byte, extended bool) {
		h, err := parseServerHello(p, extended)
		if err != nil {
			return
		}
		if len(h.certs) == 0 || len(h.certs) > maxCerts || (h.extended && !extended) {
			t.Fatalf("accepted %+v", h)
		}
		if !bytes.Equal(h.marshal(), p) {
			t.Fatalf("round trip: %x -> %x", p, h.marshal())
		}
		verifySignature(fuzzCA.Cert.PublicKey, p, p) // garbage signatures fail, never panic
	})
}

// FuzzKnownHosts: any known_hosts file is read without panicking, and what
// a lookup finds is a value written on a line of that host. (A value that
// is not a fingerprint never equals a server's, so it is refused as a
// changed key.)
func FuzzKnownHosts(f *testing.F) {
	f.Add([]byte("127.0.0.1:7417 SHA256:oGwfrFwz8qwmhGMixtF7VubLX6WnCUR2MH5LwVf3SyM\n"), "127.0.0.1:7417")
	f.Add([]byte("stdio SHA256:x\n# comment\n\nbad line\n"), "stdio")
	f.Fuzz(func(t *testing.T, data []byte, host string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "known_hosts")
		os.WriteFile(p, data, 0o600)
		fp, err := KnownHosts{Path: p}.Lookup(host)
		if err != nil || fp == "" {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == host && f[1] == fp {
				return
			}
		}
		t.Fatalf("fingerprint %q for %q is on no line of the file", fp, host)
	})
}
