package classic

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"testing"

	"ferry/frame"
)

// uploadVector is testdata/upload.txt: one file through the classic
// cryptography, reusable by another implementation.
type uploadVector struct {
	aesKey       [AESKeySize]byte
	plaintext    []byte
	ciphertext   []byte
	encryptedKey [EncryptedKeySize]byte
	cksum        uint32
}

const uploadHead = `# One upload through the classic cryptography. Lines: name, hex.
# aes-key: the AES-128 key. encrypted-key: that key, RSA-OAEP (SHA-1, MGF1-SHA-1,
# no label) encrypted to the key of testdata/priv.key (e = 17); OAEP is
# randomized, so only decryption can be checked. plaintext: the file.
# ciphertext: AES-128-CBC, all-zero IV, PKCS#7 padding. cksum: POSIX cksum of
# the plaintext, 4 bytes little-endian as in 2103.
`

func loadUploadVector(tb testing.TB) uploadVector {
	tb.Helper()
	g := goldenLines(tb, "testdata/upload.txt")
	var v uploadVector
	copy(v.aesKey[:], g["aes-key"])
	copy(v.encryptedKey[:], g["encrypted-key"])
	v.plaintext, v.ciphertext = g["plaintext"], g["ciphertext"]
	if len(g["cksum"]) != 4 {
		tb.Fatal("testdata/upload.txt: no cksum")
	}
	v.cksum = binary.LittleEndian.Uint32(g["cksum"])
	return v
}

func TestUploadVector(t *testing.T) {
	id := testIdentity(t)
	if *update {
		var v uploadVector
		for i := range v.aesKey {
			v.aesKey[i] = byte(i)
		}
		v.plaintext = []byte("ferry classic vector, 40 bytes of text\n\x00")
		v.ciphertext = pad(bytes.Clone(v.plaintext))
		newEncrypter(&v.aesKey).CryptBlocks(v.ciphertext, v.ciphertext)
		ek, err := encryptKey(&id.Key.PublicKey, &v.aesKey)
		if err != nil {
			t.Fatal(err)
		}
		ck := frame.NewCksum()
		ck.Write(v.plaintext)
		var sum [4]byte
		binary.LittleEndian.PutUint32(sum[:], ck.Sum32())
		writeGolden(t, "testdata/upload.txt", uploadHead, [][3]string{
			{"aes-key", "16 bytes", hex.EncodeToString(v.aesKey[:])},
			{"encrypted-key", "128 bytes", hex.EncodeToString(ek[:])},
			{"plaintext", "40 bytes", hex.EncodeToString(v.plaintext)},
			{"ciphertext", "48 bytes: 40 and 8 of padding", hex.EncodeToString(v.ciphertext)},
			{"cksum", "little-endian", hex.EncodeToString(sum[:])},
		})
	}
	v := loadUploadVector(t)
	k, err := decryptKey(id.Key, &v.encryptedKey)
	if err != nil || k != v.aesKey {
		t.Fatalf("encrypted key decrypts to %x, %v; want %x", k, err, v.aesKey)
	}
	ct := pad(bytes.Clone(v.plaintext))
	newEncrypter(&v.aesKey).CryptBlocks(ct, ct)
	if !bytes.Equal(ct, v.ciphertext) {
		t.Fatalf("ciphertext %x, want %x", ct, v.ciphertext)
	}
	pt := bytes.Clone(v.ciphertext)
	newDecrypter(&v.aesKey).CryptBlocks(pt, pt)
	if pt, err = unpad(pt); err != nil || !bytes.Equal(pt, v.plaintext) {
		t.Fatalf("decrypts to %q, %v", pt, err)
	}
	ck := frame.NewCksum()
	ck.Write(v.plaintext)
	if ck.Sum32() != v.cksum {
		t.Fatalf("cksum %d, want %d", ck.Sum32(), v.cksum)
	}
}

func TestUnpad(t *testing.T) {
	block := func(last ...byte) []byte {
		b := make([]byte, 16)
		copy(b[16-len(last):], last)
		return b
	}
	bad := map[string][]byte{
		"zero":        block(0),
		"over 16":     block(17),
		"uneven":      block(3, 2, 3),
		"empty":       nil,
		"not a block": make([]byte, 15),
	}
	for name, p := range bad {
		if _, err := unpad(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	full := bytes.Repeat([]byte{16}, 16)
	if p, err := unpad(full); err != nil || len(p) != 0 {
		t.Errorf("full block of padding: %x, %v", p, err)
	}
	if p, err := unpad(block(2, 2)); err != nil || len(p) != 14 {
		t.Errorf("two bytes of padding: %x, %v", p, err)
	}
}

func TestGenerateKey(t *testing.T) {
	for range 3 {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if k.E != PublicExponent || k.N.BitLen() != keyBits {
			t.Fatalf("e = %d, %d bits", k.E, k.N.BitLen())
		}
		pub, err := MarshalPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePublicKey(pub[:]); err != nil {
			t.Fatal(err)
		}
		aes := newAESKey()
		ct, err := encryptKey(&k.PublicKey, &aes)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decryptKey(k, &ct); err != nil || got != aes {
			t.Fatalf("OAEP round trip: %x, %v", got, err)
		}
	}
}

// TestInfoFiles checks that me.info and priv.key are written byte for byte
// as the deployed clients write them, and read back.
func TestInfoFiles(t *testing.T) {
	me, err := os.ReadFile("testdata/me.info")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := os.ReadFile("testdata/priv.key")
	if err != nil {
		t.Fatal(err)
	}
	id := testIdentity(t)
	if id.Name != "alice" || id.ID != vecID || id.Key.E != PublicExponent {
		t.Fatalf("identity %q %s e=%d", id.Name, id.ID, id.Key.E)
	}
	dir := t.TempDir()
	if err := id.Save(dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{MeInfo: me, PrivKey: priv} {
		got, err := os.ReadFile(dir + "/" + name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s written as\n%s\nwant\n%s", name, got, want)
		}
	}
	lines := bytes.Split(bytes.TrimSuffix(priv, []byte("\n")), []byte("\n"))
	for i, l := range lines {
		if len(l) != base64Line && i != len(lines)-1 || len(l) > base64Line {
			t.Errorf("priv.key line %d is %d characters", i+1, len(l))
		}
	}
	// CRLF line ends, lowercase hex, and the key only in priv.key are read too.
	crlf := bytes.ReplaceAll(me, []byte("\n"), []byte("\r\n"))
	crlf = bytes.Replace(crlf, []byte("AABBCCDDEEFF"), []byte("aabbccddeeff"), 1)
	for name, in := range map[string][2][]byte{
		"crlf":          {crlf, nil},
		"key elsewhere": {[]byte("alice\n00112233445566778899aabbccddeeff\n"), priv},
	} {
		got, err := ParseMeInfo(in[0], in[1])
		if err != nil || got.Name != id.Name || got.ID != id.ID || !got.Key.Equal(id.Key) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, in := range map[string]string{
		"no id":      "alice\n",
		"short id":   "alice\n0011\n" + string(priv),
		"bad base64": "alice\n00112233445566778899aabbccddeeff\n!!!!\n",
		"empty name": "\n00112233445566778899aabbccddeeff\n" + string(priv),
	} {
		if _, err := ParseMeInfo([]byte(in), nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseTransferInfo(t *testing.T) {
	good := map[string]Transfer{
		"127.0.0.1:1357\nalice\nreport.txt\n":        {"127.0.0.1:1357", "alice", "report.txt"},
		"host:1\r\nbob\r\n/tmp/x y.bin":              {"host:1", "bob", "/tmp/x y.bin"},
		"localhost:1357\nMichael Jackson\nnew.txt\n": {"localhost:1357", "Michael Jackson", "new.txt"},
		"\uFEFFhost:2 \r\n bob \r\npayload.bin \r\n": {"host:2", "bob", "payload.bin"},
		"router.lan\nalice\nf\n":                     {"router.lan:1357", "alice", "f"},
		"::1\nalice\nf\n":                            {"[::1]:1357", "alice", "f"},
		"[::1]:99\nalice\nf\n":                       {"[::1]:99", "alice", "f"},
	}
	for in, want := range good {
		if got, err := ParseTransferInfo([]byte(in)); err != nil || got != want {
			t.Errorf("%q: %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "host:1\nalice\n", "h:1\na\nf\nextra\n", "h:1:2\na\nf\n", "my host\na\nf\n", "h:1\n \nf\n"} {
		if _, err := ParseTransferInfo([]byte(in)); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}
