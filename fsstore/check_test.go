package fsstore

import "testing"

// TestCheckSizeMismatch: a record whose cksum matches the bytes on disk but
// whose size does not is a mismatch (the cksum alone does not decide).
func TestCheckSizeMismatch(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	f := upload(t, s, c.ID, "f", []byte("content"))
	rec := fileRec{client: c.ID, name: "f", fileVer: fileVer{size: f.Size + 1, time: toNanos(t0), cksum: f.Cksum, flags: flagVerified}}
	if _, err := s.putFile(&rec, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rep, err := Check(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemMismatch {
		t.Fatalf("want one size mismatch:\n%s", rep.String())
	}
}
