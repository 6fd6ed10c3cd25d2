package fsstore

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden tables in testdata/")

var (
	goldenA = [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	goldenB = [16]byte{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00}
	goldenT = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
)

func goldenKeys() (ed, rsa []byte) {
	ed, rsa = make([]byte, 32), make([]byte, 160)
	for i := range ed {
		ed[i] = byte(i + 1)
	}
	for i := range rsa {
		rsa[i] = byte(i * 7)
	}
	return ed, rsa
}

// goldenTables encodes the golden tables. They are written by this code
// only with -update; the test checks that the checked-in bytes open on any
// machine (the files are little-endian whatever the host) and that the
// encoder still produces them.
func goldenTables() (clients, files []byte) {
	ed, rsa := goldenKeys()
	n := toNanos(goldenT)
	clients = appendHeaderVersion(nil, kindClients, 1)
	clients = appendClient(clients, &clientRec{id: goldenA, name: "pi-kitchen", kind: KeyEd25519, key: ed, reg: n, seen: n})
	clients = appendClient(clients, &clientRec{id: goldenB, name: "router-mips", kind: KeyRSA, key: rsa, reg: n, seen: n})
	clients = appendTouch(clients, &goldenA, n+int64(time.Hour))
	files = appendHeaderVersion(nil, kindFiles, 1)
	files = appendFile1(files, &fileRec{client: goldenA, name: "temp.csv", fileVer: fileVer{size: 9, time: n, cksum: 930766865, flags: flagVerified}}, nil)
	files = appendFile1(files, &fileRec{client: goldenB, name: "syslog.gz", fileVer: fileVer{size: 1000, time: n, cksum: 0xdeadbeef, flags: flagVerified | flagClassic}}, nil)
	files = appendFile1(files, &fileRec{client: goldenB, name: "old.txt", fileVer: fileVer{size: 1, time: n, cksum: 1}}, nil)
	files = appendDelete1(files, &goldenB, "old.txt")
	files = appendFile1(files, &fileRec{client: goldenA, name: "temp.csv", fileVer: fileVer{size: 11, time: n + 1, cksum: 0x01020304, flags: flagVerified}}, nil)
	return clients, files
}

func TestGoldenTables(t *testing.T) {
	clients, files := goldenTables()
	for name, want := range map[string][]byte{ClientsTable: clients, FilesTable: files} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encoder output differs from the checked-in table\ngot  %s\nwant %s", name, hex.EncodeToString(want), hex.EncodeToString(got))
		}
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata")); err != nil {
		t.Fatal(err)
	}
	var logs []string
	s := openT(t, dir, &logs)
	defer s.Close()
	if len(logs) != 1 || !strings.Contains(logs[0], "files.log: upgraded from format version 1 to 2") {
		t.Errorf("findings on a clean table of the previous release: %q", logs)
	}
	checkGoldenContent(t, s)
}

func checkGoldenContent(t *testing.T, s *Store) {
	ed, rsa := goldenKeys()
	a, ok := s.Client(goldenA)
	if !ok || a.Name != "pi-kitchen" || a.KeyKind != KeyEd25519 || !bytes.Equal(a.PublicKey, ed) ||
		!a.Registered.Equal(goldenT) || !a.LastSeen.Equal(goldenT.Add(time.Hour)) {
		t.Errorf("client A = %+v", a)
	}
	b, ok := s.ClientByName("router-mips")
	if !ok || b.ID != goldenB || b.KeyKind != KeyRSA || !bytes.Equal(b.PublicKey, rsa) || !b.LastSeen.Equal(goldenT) {
		t.Errorf("client B = %+v", b)
	}
	fa := s.Files(goldenA)
	wantA := File{ClientID: goldenA, Name: "temp.csv", Path: "files/00112233445566778899aabbccddeeff/temp.csv",
		Verified: true, Size: 11, Cksum: 0x01020304, Time: goldenT.Add(1)}
	if len(fa) != 1 || fa[0] != wantA {
		t.Errorf("files of A = %+v", fa)
	}
	fb := s.Files(goldenB)
	wantB := File{ClientID: goldenB, Name: "syslog.gz", Path: "files/ffeeddccbbaa99887766554433221100/syslog.gz",
		Verified: true, Size: 1000, Cksum: 0xdeadbeef, Time: goldenT, Classic: true}
	if len(fb) != 1 || fb[0] != wantB {
		t.Errorf("files of B = %+v", fb)
	}
}
