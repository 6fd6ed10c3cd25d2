package main

import (
	"crypto"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"ferry/crypt"
)

func runCA(args []string, stderr io.Writer) error {
	fs := newFlags("ca", "-out DIR [-name NAME]", stderr)
	out := fs.String("out", ".", "`directory` for ca.pem and ca.key")
	name := fs.String("name", "ferry CA", "common `name` of the CA")
	if err := parse(fs, args); err != nil {
		return err
	}
	prefix := filepath.Join(*out, "ca")
	if _, err := os.Stat(prefix + ".pem"); err == nil {
		return fmt.Errorf("%s.pem exists; not overwriting a CA", prefix)
	}
	ca, err := crypt.NewCA(*name, time.Now())
	if err != nil {
		return err
	}
	if err := writeKeyPair(prefix, [][]byte{ca.Cert.Raw}, ca.Key); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "ferry: wrote %s.pem (give it to clients and servers) and %s.key (keep it secret and offline: only \"ferry cert\" needs it, never a server)\n", prefix, prefix)
	return nil
}

func runCert(args []string, stderr io.Writer) error {
	fs := newFlags("cert", "-ca-cert FILE -ca-key FILE -hostname NAME... -out PREFIX", stderr)
	caCert := fs.String("ca-cert", "ca.pem", "CA certificate `file` (PEM; one made by openssl works too)")
	caKey := fs.String("ca-key", "ca.key", "CA private key `file` (PEM: PKCS#8, PKCS#1 or SEC 1)")
	out := fs.String("out", "server", "output `prefix`: PREFIX.pem and PREFIX.key")
	var hosts multiFlag
	fs.Var(&hosts, "hostname", "DNS `name` or IP address the certificate is for (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(hosts) == 0 {
		hosts = defaultHostnames()
	}
	ca, err := crypt.LoadCA(*caCert, *caKey)
	if err != nil {
		return err
	}
	id, err := ca.Issue(hosts, time.Now())
	if err != nil {
		return err
	}
	if err := writeKeyPair(*out, id.Chain, id.Key); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "ferry: wrote %s.pem and %s.key for %v; serve with -cert %s.pem -key %s.key\n", *out, *out, hosts, *out, *out)
	return nil
}

// writeKeyPair writes PREFIX.key (0600), then PREFIX.pem (certificates).
func writeKeyPair(prefix string, chain [][]byte, key crypto.Signer) error {
	if err := writeKey(prefix+".key", key); err != nil {
		return err
	}
	return writeFileSync(prefix+".pem", crypt.CertPEM(chain...), 0o644)
}

// writeKey writes a private key in PEM to a new file (0600), creating its
// directory (0700) if missing.
func writeKey(path string, key crypto.Signer) error {
	keyPEM, err := crypt.KeyPEM(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileSync(path, keyPEM, 0o600)
}

// writeFileSync writes a new file and syncs it; it refuses to overwrite.
func writeFileSync(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
