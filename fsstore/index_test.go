package fsstore

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// TestHashTable inserts keys through growth, then finds, replaces and
// misses them.
func TestHashTable(t *testing.T) {
	const n = 5000
	keys := make([]uint64, 0, n)
	hashOf := func(i int32) uint64 { return keys[i] * 0x9E3779B97F4A7C15 }
	var ht hashTable = newHashTable(0)
	find := func(k uint64) (probe, int32) {
		p := ht.probe(k * 0x9E3779B97F4A7C15)
		for i := p.next(); i >= 0; i = p.next() {
			if keys[i] == k {
				return p, i
			}
		}
		return p, -1
	}
	for k := range uint64(n) {
		if ht.full() {
			ht.grow(hashOf)
		}
		p, i := find(k)
		if i >= 0 {
			t.Fatalf("key %d found before insert", k)
		}
		keys = append(keys, k)
		p.insert(int32(len(keys) - 1))
	}
	if ht.count != n || ht.count*8 > len(ht.slots)*maxLoad {
		t.Fatalf("count %d, %d slots", ht.count, len(ht.slots))
	}
	for k := range uint64(n) {
		if _, i := find(k); i != int32(k) {
			t.Fatalf("key %d: entry %d", k, i)
		}
	}
	// Replace: key 7 now lives in a new entry.
	keys = append(keys, 7)
	p, i := find(7)
	p.replace(int32(len(keys) - 1))
	if _, j := find(7); i != 7 || j != int32(len(keys)-1) {
		t.Fatalf("replace: %d then %d", i, j)
	}
	if _, i := find(n + 1); i != -1 {
		t.Fatal("found a key never inserted")
	}
}

// TestRemovedFileAcrossCompaction: an unlisted file stays unlisted, and
// can be uploaded again, after compaction moved its record out of the table.
func TestRemovedFileAcrossCompaction(t *testing.T) {
	for _, read := range []bool{false, true} {
		t.Run(fmt.Sprintf("forceRead=%v", read), func(t *testing.T) {
			forceRead = read
			defer func() { forceRead = false }()
			dir := t.TempDir()
			s := openT(t, dir, nil)
			c, _ := s.Register("c", KeyEd25519, key32(1), t0)
			upload(t, s, c.ID, "gone", []byte("x"))
			upload(t, s, c.ID, "kept", []byte("y"))
			if err := s.deleteFile(c.ID, "gone"); err != nil {
				t.Fatal(err)
			}
			if err := s.Compact(); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.File(c.ID, "gone"); ok || len(s.Files(c.ID)) != 1 {
				t.Fatalf("after compaction: %+v", s.Files(c.ID))
			}
			upload(t, s, c.ID, "gone", []byte("back"))
			s.Compact()
			s.Touch(c.ID, t0.Add(5))
			s.Close()
			s = openT(t, dir, nil)
			defer s.Close()
			if f, ok := s.File(c.ID, "gone"); !ok || f.Size != 4 || len(s.Files(c.ID)) != 2 {
				t.Fatalf("after reopen: %+v", s.Files(c.ID))
			}
			if got, _ := s.Client(c.ID); !got.LastSeen.Equal(t0.Add(5)) {
				t.Fatalf("LastSeen %v", got.LastSeen)
			}
		})
	}
}

// TestManyClientsGrow registers enough clients to grow the hash tables
// from a fresh directory, and finds every one by ID and name after reopen.
func TestManyClientsGrow(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	var ids [][16]byte
	for i := range 300 {
		c, err := s.Register(fmt.Sprintf("n%d", i), KeyNone, nil, t0)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	s.Close()
	s = openT(t, dir, nil)
	defer s.Close()
	for i, id := range ids {
		c, ok := s.ClientByName(fmt.Sprintf("n%d", i))
		if !ok || c.ID != id {
			t.Fatalf("client %d by name: %v %+v", i, ok, c)
		}
		if _, ok := s.Client(id); !ok {
			t.Fatalf("client %d by ID", i)
		}
	}
	var unknown [16]byte
	binary.LittleEndian.PutUint64(unknown[:], 42)
	if _, ok := s.Client(unknown); ok {
		t.Fatal("found an unknown ID")
	}
}
