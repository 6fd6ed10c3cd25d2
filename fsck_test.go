package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry/fsstore"
)

// TestFsckReportsProblems: "ferry fsck" prints what it finds and exits
// non-zero; -repair fixes it and exits 0; a second check is clean.
func TestFsckReportsProblems(t *testing.T) {
	data := t.TempDir()
	st, err := fsstore.Open(data, fsstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := st.Register("c", fsstore.KeyEd25519, make([]byte, 32), time.Now())
	u, _ := st.NewUpload(c.ID, "gone")
	u.Write([]byte("x"))
	f, err := u.Commit(false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	os.Remove(filepath.Join(data, filepath.FromSlash(f.Path)))
	out, _, code := ferry(t, "fsck", "-data", data)
	if code == 0 || !strings.Contains(out, "missing file") {
		t.Fatalf("fsck on a damaged store: exit %d\n%s", code, out)
	}
	if out, errs, code := ferry(t, "fsck", "-data", data, "-repair"); code != 0 {
		t.Fatalf("fsck -repair: exit %d\n%s%s", code, out, errs)
	}
	if out, _, code := ferry(t, "fsck", "-data", data); code != 0 || !strings.Contains(out, "0 problems") {
		t.Fatalf("after repair: exit %d\n%s", code, out)
	}
}
