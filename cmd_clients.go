//go:build !ferry_noadmin

package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"ferry/fsstore"
	"ferry/safe"
)

// "ferry clients" is the operator's view of a server's clients: a table of
// them, read beside a running server, and -disable, -enable and -remove,
// which need the data directory to themselves (the server stopped): a
// disabled client is refused at its next reconnection (2106), a removed
// one loses its files too.

type clientsFlags struct {
	data                    string
	disable, enable, remove string
}

func runClients(args []string, stderr io.Writer) error {
	var f clientsFlags
	fs := newFlags("clients", "[-data DIR] [-disable|-enable|-remove NAME|ID]", stderr)
	fs.StringVar(&f.data, "data", defaultDataDir(), "the server's data `directory`")
	fs.StringVar(&f.disable, "disable", "", "refuse the client with this `name` (or ID) from now on; its files stay (stop the server first)")
	fs.StringVar(&f.enable, "enable", "", "accept the disabled client with this `name` (or ID) again (stop the server first)")
	fs.StringVar(&f.remove, "remove", "", "remove the client with this `name` (or ID) and all its files (stop the server first)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ferry clients: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	n := 0
	for _, v := range []string{f.disable, f.enable, f.remove} {
		if v != "" {
			n++
		}
	}
	switch n {
	case 0:
		return listClients(f.data, os.Stdout)
	case 1:
		return changeClient(&f, stderr)
	}
	fmt.Fprintln(stderr, "ferry clients: give one of -disable, -enable and -remove")
	return errUsage
}

// listClients prints a table of the clients, one line each.
func listClients(data string, w io.Writer) error {
	list, err := fsstore.ReadClients(data)
	if err != nil {
		return err
	}
	rows := [][]string{{"NAME", "ID", "KEY", "REGISTERED", "LAST SEEN", "FILES", "BYTES", "STATUS"}}
	for _, c := range list {
		status := "enabled"
		if c.Disabled {
			status = "disabled since " + when(c.DisabledAt)
		}
		rows = append(rows, []string{safe.Text(c.Name), hex.EncodeToString(c.ID[:]), keyFingerprint(c.KeyKind, c.PublicKey),
			when(c.Registered), when(c.LastSeen), strconv.Itoa(c.Files), strconv.FormatInt(c.Bytes, 10), status})
	}
	printColumns(w, rows)
	return nil
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

// keyFingerprint is the SHA-256 of the client key's SubjectPublicKeyInfo,
// as ferry prints server keys ("SHA256:" + unpadded base64).
func keyFingerprint(kind fsstore.KeyKind, key []byte) string {
	spki := key // RSA keys of classic clients are kept as SubjectPublicKeyInfo
	switch kind {
	case fsstore.KeyNone:
		return "-"
	case fsstore.KeyEd25519:
		der, err := x509.MarshalPKIXPublicKey(ed25519.PublicKey(key))
		if err != nil {
			return "-"
		}
		spki = der
	}
	sum := sha256.Sum256(spki)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// changeClient disables, enables or removes one client.
func changeClient(f *clientsFlags, stderr io.Writer) error {
	st, err := fsstore.Open(f.data, fsstore.Options{Logf: func(format string, args ...any) {
		fmt.Fprintf(stderr, "ferry: %s\n", safe.Text(fmt.Sprintf(format, args...)))
	}})
	if err != nil {
		return err
	}
	defer st.Close()
	who := f.disable + f.enable + f.remove
	c, ok := findClient(st, who)
	if !ok {
		return fmt.Errorf("no client named %q in %s (ferry clients -data %s lists them)", who, f.data, f.data)
	}
	name := fmt.Sprintf("%q (%s)", c.Name, hex.EncodeToString(c.ID[:]))
	now := time.Now()
	switch {
	case f.disable != "":
		err = st.DisableClient(c.ID, now)
		if err == nil {
			fmt.Printf("disabled client %s: the server refuses its next connection\n", safe.Text(name))
		}
	case f.enable != "":
		err = st.EnableClient(c.ID, now)
		if err == nil {
			fmt.Printf("enabled client %s\n", safe.Text(name))
		}
	default:
		var n int
		n, err = st.RemoveClient(c.ID, now)
		if err == nil {
			fmt.Printf("removed client %s and its files (%d)\n", safe.Text(name), n)
		}
	}
	if err != nil {
		return err
	}
	return st.Close()
}

// findClient finds a client by name, else by its ID in hex.
func findClient(st *fsstore.Store, who string) (fsstore.Client, bool) {
	if c, ok := st.ClientByName(who); ok {
		return c, true
	}
	b, err := hex.DecodeString(who)
	if err != nil || len(b) != 16 {
		return fsstore.Client{}, false
	}
	return st.Client([16]byte(b))
}
