package classic

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"ferry/frame"
)

// Files of a deployed client's working directory.
const (
	TransferInfo = "transfer.info" // host:port, name, file path: one a line
	MeInfo       = "me.info"       // name, client ID in hex, then the private key in base64
	PrivKey      = "priv.key"      // the private key in base64, as in me.info
)

// base64Line is the line length of the base64 in me.info and priv.key:
// the default of Crypto++'s Base64Encoder, which ends every line, the last
// one too, with "\n".
const base64Line = 72

// ErrInfoFile means a transfer.info, me.info or priv.key does not have the
// deployed clients' format.
var ErrInfoFile = errors.New("classic: malformed client info file")

// Identity is a registered classic client: what me.info holds.
type Identity struct {
	Name string
	ID   frame.ClientID
	Key  *rsa.PrivateKey // RSA-1024, e = 17
}

// MeInfo encodes id as the deployed clients write me.info: the name, the
// ID as 32 uppercase hex digits (Boost's algorithm::hex, as the course's
// client template uses), each on a line ending in "\n", then the private
// key as PrivKey returns it.
func (id *Identity) MeInfo() ([]byte, error) {
	key, err := id.PrivKey()
	if err != nil {
		return nil, err
	}
	b := []byte(id.Name + "\n" + strings.ToUpper(hex.EncodeToString(id.ID[:])) + "\n")
	return append(b, key...), nil
}

// PrivKey encodes the private key as the deployed clients write priv.key:
// the base64 of its PKCS#8 DER (as Crypto++'s Save writes it), in lines of
// 72 characters, each ending in "\n".
func (id *Identity) PrivKey() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		return nil, fmt.Errorf("classic: encode private key: %w", err)
	}
	s := base64.StdEncoding.EncodeToString(der)
	var b bytes.Buffer
	for len(s) > 0 {
		n := min(len(s), base64Line)
		b.WriteString(s[:n])
		b.WriteByte('\n')
		s = s[n:]
	}
	return b.Bytes(), nil
}

// Save writes me.info and priv.key into dir ("" is the working directory),
// each replaced atomically.
func (id *Identity) Save(dir string) error {
	me, err := id.MeInfo()
	if err != nil {
		return err
	}
	key, err := id.PrivKey()
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, MeInfo), me); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, PrivKey), key)
}

// writeFile replaces name with data: a private key, so mode 0600.
func writeFile(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("classic: write %s: %w", name, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("classic: write %s: %w", name, err)
	}
	return nil
}

// ParseMeInfo decodes me.info. The key comes from the lines after the ID;
// when there are none, from privKey (the contents of priv.key), which may
// be nil. Lines may end in "\r\n"; hex digits may be of either case.
func ParseMeInfo(me, privKey []byte) (*Identity, error) {
	lines := strings.SplitN(string(me), "\n", 3)
	if len(lines) < 2 {
		return nil, fmt.Errorf("%w: %s wants a name and an ID", ErrInfoFile, MeInfo)
	}
	id := &Identity{Name: strings.TrimRight(lines[0], "\r")}
	if _, err := MakeName(id.Name); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInfoFile, MeInfo, err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || len(raw) != len(id.ID) {
		return nil, fmt.Errorf("%w: %s: line 2 must be 32 hex digits", ErrInfoFile, MeInfo)
	}
	copy(id.ID[:], raw)
	keyText := ""
	if len(lines) == 3 {
		keyText = lines[2]
	}
	if strings.TrimSpace(keyText) == "" {
		keyText = string(privKey)
	}
	if id.Key, err = ParsePrivKey([]byte(keyText)); err != nil {
		return nil, err
	}
	return id, nil
}

// ParsePrivKey decodes the base64 PKCS#8 of a priv.key (any line breaks)
// into an RSA-1024 key.
func ParsePrivKey(b []byte) (*rsa.PrivateKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil || len(der) == 0 {
		return nil, fmt.Errorf("%w: the private key is not base64", ErrInfoFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: the private key is not PKCS#8: %v", ErrInfoFile, err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok || key.N.BitLen() != keyBits {
		return nil, fmt.Errorf("%w: the private key is not RSA-1024", ErrInfoFile)
	}
	return key, nil
}

// loadIdentity reads me.info (and priv.key) from dir; nil, nil when there
// is no me.info.
func loadIdentity(dir string) (*Identity, error) {
	me, err := os.ReadFile(filepath.Join(dir, MeInfo))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("classic: %w", err)
	}
	priv, err := os.ReadFile(filepath.Join(dir, PrivKey))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("classic: %w", err)
	}
	return ParseMeInfo(me, priv)
}

// Transfer is what transfer.info says.
type Transfer struct {
	Addr string // host:port
	Name string // the name to register under
	Path string // the file to send
}

// ParseTransferInfo decodes transfer.info: three lines, "host:port", the
// client name and the file path. Files written by hand or on Windows are
// read too: lines may end in "\r\n", a UTF-8 byte order mark and spaces
// around a line are dropped, and a host without a port gets DefaultPort.
func ParseTransferInfo(b []byte) (Transfer, error) {
	text := strings.TrimPrefix(string(b), "\uFEFF")
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	if len(lines) < 3 || lines[0] == "" || lines[1] == "" || lines[2] == "" {
		return Transfer{}, fmt.Errorf("%w: %s wants three lines: host:port, name, file path", ErrInfoFile, TransferInfo)
	}
	for _, l := range lines[3:] {
		if strings.TrimSpace(l) != "" {
			return Transfer{}, fmt.Errorf("%w: %s has more than three lines", ErrInfoFile, TransferInfo)
		}
	}
	t := Transfer{Addr: lines[0], Name: lines[1], Path: lines[2]}
	if _, _, err := net.SplitHostPort(t.Addr); err != nil {
		host := strings.Trim(t.Addr, "[]")
		if strings.Contains(host, ":") && net.ParseIP(host) == nil || strings.ContainsAny(host, " \t[]") {
			return t, fmt.Errorf("%w: %s: line 1 %q is not host:port", ErrInfoFile, TransferInfo, t.Addr)
		}
		t.Addr = net.JoinHostPort(host, strconv.Itoa(DefaultPort)) // a host alone, or an IPv6 address
	}
	return t, nil
}

// RunInfoFiles does what a deployed client does when started in dir: read
// transfer.info, reconnect with me.info and priv.key or register (writing
// them), and send the file. A relative file path is taken from dir.
func RunInfoFiles(ctx context.Context, dir string) (Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, TransferInfo))
	if err != nil {
		return Result{}, fmt.Errorf("classic: %w", err)
	}
	t, err := ParseTransferInfo(b)
	if err != nil {
		return Result{}, err
	}
	p := t.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return Send(ctx, ClientConfig{Addr: t.Addr, Name: t.Name, Dir: dir}, p)
}
