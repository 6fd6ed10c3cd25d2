package fsstore

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// writeBigTables writes n clients, each with one Ed25519 key and one file,
// straight through the encoders.
func writeBigTables(tb testing.TB, dir string, n int) {
	clients := appendHeader(make([]byte, 0, n*110), kindClients)
	files := appendHeader(make([]byte, 0, n*80), kindFiles)
	key := key32(7)
	for i := range n {
		var id [16]byte
		binary.LittleEndian.PutUint64(id[:], uint64(i)*0x9E3779B97F4A7C15)
		binary.LittleEndian.PutUint64(id[8:], uint64(i))
		c := clientRec{id: id, name: fmt.Sprintf("client-%07d", i), kind: KeyEd25519, key: key, reg: int64(i + 1), seen: int64(i + 1)}
		clients = appendClient(clients, &c)
		f := fileRec{client: id, name: fmt.Sprintf("file-%07d.dat", i), fileVer: fileVer{size: int64(i), time: int64(i + 1), cksum: uint32(i), flags: flagVerified}}
		files = appendFile(files, &f, nil)
	}
	if err := os.WriteFile(filepath.Join(dir, ClientsTable), clients, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FilesTable), files, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkOpen1M opens a data directory of 1 M clients and 1 M files and
// reports the heap the index holds per record.
func BenchmarkOpen1M(b *testing.B) {
	const n = 1 << 20
	dir := b.TempDir()
	writeBigTables(b, dir, n)
	var perRecord float64
	var cpu time.Duration
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		cpu0 := cpuTime()
		s, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - cpu0
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perRecord = float64(after.HeapAlloc-before.HeapAlloc) / (2 * n)
		if len(s.clients.ents) != n || len(s.files.ents) != n {
			b.Fatalf("loaded %d clients, %d files", len(s.clients.ents), len(s.files.ents))
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(perRecord, "heap-B/record")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// TestOpenScale is a quick check of the index on 50 k clients and files,
// so that a slowdown in Open shows up in ordinary test runs.
func TestOpenScale(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	writeBigTables(t, dir, 50_000)
	s := openT(t, dir, nil)
	defer s.Close()
	if len(s.clients.ents) != 50_000 || len(s.Files(s.clients.rec(49_999).id)) != 1 {
		t.Fatal("not everything loaded")
	}
	if _, ok := s.ClientByName("client-0012345"); !ok {
		t.Fatal("name index incomplete")
	}
}
