package fsstore

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// goldenTreeTable encodes testdata/v2/files.log: one of each record of
// the current format (types 5 to 8), for goldenA's tree.
func goldenTreeTable() []byte {
	n := toNanos(goldenT)
	mt := toNanos(goldenT.Add(-24 * 3600e9))
	ver := fileVer{size: 9, time: n, cksum: 930766865, flags: flagVerified, mode: 0o755, mtime: mt}
	files := appendHeader(nil, kindFiles)
	files = appendFile(files, &fileRec{client: goldenA, name: "logs/2026/x.log", fileVer: ver}, nil)
	next := fileVer{size: 11, time: n + 1, cksum: 0x01020304, flags: flagPending, mode: 0o640, mtime: mt + 1}
	files = appendFile(files, &fileRec{client: goldenA, name: "logs/2026/x.log", fileVer: next}, &ver)
	files = appendFile(files, &fileRec{client: goldenA, name: "new.bin", fileVer: fileVer{size: 0, time: n, cksum: 0xffffffff, flags: flagPending | flagNew | flagClassic}}, nil)
	files = appendDelete(files, &goldenA, "new.bin")
	files = appendIntent(files, &intentRec{client: goldenA, op: opRename, old: "logs", new: "old/logs"})
	files = appendIntentDone(files, &goldenA)
	files = appendIntent(files, &intentRec{client: goldenA, op: opRemove, old: "old"})
	return appendIntentDone(files, &goldenA)
}

// TestGoldenTree checks the encoder against testdata/v2/files.log and
// decodes every record of it back.
func TestGoldenTree(t *testing.T) {
	want := goldenTreeTable()
	path := filepath.Join("testdata", "v2", FilesTable)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoder output differs from the checked-in table\ngot  %x\nwant %x", want, got)
	}
	x := newFileIndex(0)
	x.v.mapped = got
	var types []byte
	for off := HeaderSize; off < len(got); {
		typ, p, n, ok := DecodeRecord(got[off:])
		if !ok {
			t.Fatalf("record at %d not intact", off)
		}
		if err := x.apply(typ, p, int64(off)); err != nil {
			t.Fatalf("record at %d: %v", off, err)
		}
		types = append(types, typ)
		off += n
	}
	if hex.EncodeToString(types) != "0505050607080708" || len(x.intents) != 0 {
		t.Fatalf("record types %x, open intents %d", types, len(x.intents))
	}
	i := x.get(goldenA, "logs/2026/x.log")
	r, prev := x.rec(i), x.pending[i]
	if r.size != 11 || r.mode != 0o640 || r.mtime != toNanos(goldenT.Add(-24*3600e9))+1 || prev.size != 9 || prev.mode != 0o755 {
		t.Fatalf("decoded %+v, previous %+v", r, prev)
	}
	if x.get(goldenA, "new.bin") >= 0 {
		t.Fatal("removed file listed")
	}
}

// TestFileRecordBytes spells out one type 5 record byte by byte.
func TestFileRecordBytes(t *testing.T) {
	r := fileRec{client: goldenA, name: "a/b", fileVer: fileVer{size: 9, time: 1, cksum: 930766865, flags: flagVerified, mode: 0o755, mtime: 2}}
	got := hex.EncodeToString(appendFile(nil, &r, nil))
	want := "fe52" + "05" + "00" + "37000000" + "121ecc5c" + // header: type 5, length 55, crc
		"00112233445566778899aabbccddeeff" + // client ID
		"0900000000000000" + "0100000000000000" + "11607a37" + "01" + "00" + // size, time, cksum, flags, reserved
		"ed010000" + "0200000000000000" + // mode 0755, mtime
		"0300" + "612f62" // path length, "a/b"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
