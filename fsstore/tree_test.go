package fsstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidatePath(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"one name", "x.log", true},
		{"nested", "logs/2026/x.log", true},
		{"hidden folder", ".config/app/rc", true},
		{"max length", strings.Repeat(strings.Repeat("a", 255)+"/", 16)[:MaxPathSize], true},
		{"too long", strings.Repeat("a/", 2048), false},
		{"empty", "", false},
		{"leading slash", "/etc/passwd", false},
		{"trailing slash", "logs/", false},
		{"double slash", "logs//x", false},
		{"dot", "logs/./x", false},
		{"dotdot", "logs/../../x", false},
		{"only dotdot", "..", false},
		{"backslash", `logs\x`, false},
		{"long component", "a/" + strings.Repeat("b", 256), false},
		{"temp prefix inside", "a/.ferry-tmp-1", false},
		{"NUL", "a/b\x00", false},
		{"C1 CSI", "a/\u009b31m", false},
		{"C1 first", "\u0080", false},
		{"C1 last", "x\u009f", false},
		{"after C1", "\u00a0nbsp", true},
		{"RLO", "invoice\u202efdp.exe", false},
		{"LRM", "a\u200eb", false},
		{"RLM", "a\u200fb", false},
		{"ALM", "a\u061cb", false},
		{"LRE", "\u202a", false},
		{"isolates", "\u2066x\u2069", false},
		{"PDI", "\u2069", false},
		{"division slash", "a\u2215b", false},
		{"fraction slash", "a\u2044b", false},
		{"big solidus", "a\u29f8b", false},
		{"fullwidth solidus", "a\uff0fb", false},
		{"fullwidth reverse solidus", "a\uff3cb", false},
		{"set minus", "a\u2216b", false},
		{"big reverse solidus", "a\u29f9b", false},
		{"small reverse solidus", "a\ufe68b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidatePath(tc.in)
			if tc.ok && err != nil {
				t.Fatalf("ValidatePath(%q) = %v, want nil", tc.in, err)
			}
			if !tc.ok && !errors.Is(err, ErrBadName) {
				t.Fatalf("ValidatePath(%q) = %v, want ErrBadName", tc.in, err)
			}
			if !strings.Contains(tc.in, "/") {
				if nerr := ValidateName(tc.in); (nerr == nil) != tc.ok {
					t.Fatalf("ValidateName(%q) = %v, ValidatePath %v", tc.in, nerr, err)
				}
			}
		})
	}
}

// uploadMeta uploads data at path with a mode and mtime.
func uploadMeta(t testing.TB, s *Store, id [16]byte, path string, data []byte, mode os.FileMode, mtime time.Time) File {
	t.Helper()
	u, err := s.NewUpload(id, path)
	if err != nil {
		t.Fatal(err)
	}
	u.Write(data)
	u.SetMeta(mode, mtime)
	f, _, err := u.CommitWith(CommitOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func entryLine(e Entry) string {
	if e.Dir {
		return fmt.Sprintf("%s/ %v", e.Path, e.Mode)
	}
	return fmt.Sprintf("%s %d %v %s %v", e.Path, e.Size, e.Mode, e.MTime.UTC().Format(time.RFC3339Nano), e.Verified)
}

func listLines(t *testing.T, s *Store, id [16]byte, path string, recursive bool) string {
	t.Helper()
	es, err := s.List(id, path, recursive)
	if err != nil {
		t.Fatalf("List(%q): %v", path, err)
	}
	var lines []string
	for _, e := range es {
		lines = append(lines, entryLine(e))
	}
	return strings.Join(lines, "\n")
}

// TestTree uploads into folders with modes and mtimes, lists, reads, and
// checks that everything survives a reopen and that fsck is clean.
func TestTree(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	if es, err := s.List(c.ID, "", true); err != nil || len(es) != 0 {
		t.Fatalf("List before the first upload: %v %v", es, err)
	}
	if e, err := s.Stat(c.ID, ""); err != nil || !e.Dir {
		t.Fatalf("Stat of the root before the first upload: %+v %v", e, err)
	}
	old := time.Date(2001, 2, 3, 4, 5, 6, 7000, time.UTC)
	f := uploadMeta(t, s, c.ID, "logs/2026/x.log", []byte("hello"), 0o4777|os.ModeSetgid, old)
	if f.Mode != 0o775 || !f.MTime.Equal(old) || f.Name != "logs/2026/x.log" {
		t.Fatalf("committed %+v", f)
	}
	uploadMeta(t, s, c.ID, "run.sh", []byte("#!/bin/sh\n"), 0o755, old)
	upload(t, s, c.ID, "logs/plain", []byte("no meta"))
	if err := s.Mkdir(c.ID, "empty", false); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, f.Path))
	if err != nil || fi.Mode().Perm() != 0o600 || !fi.ModTime().Equal(old) {
		t.Fatalf("stored file %v %v", fi.Mode(), err)
	}
	want := strings.Join([]string{
		"empty/ -rwxr-xr-x",
		"logs/ -rwxr-xr-x",
		"logs/2026/ -rwxr-xr-x",
		"logs/2026/x.log 5 -rwxrwxr-x 2001-02-03T04:05:06.000007Z true",
		"logs/plain 7 -rw-r--r-- MTIME true",
		"run.sh 10 -rwxr-xr-x 2001-02-03T04:05:06.000007Z true",
	}, "\n")
	pfi, _ := os.Stat(filepath.Join(dir, FilesDir, fmt.Sprintf("%x", c.ID), "logs", "plain"))
	want = strings.Replace(want, "MTIME", pfi.ModTime().UTC().Format(time.RFC3339Nano), 1)
	for reopen := range 2 {
		if got := listLines(t, s, c.ID, "", true); got != want {
			t.Fatalf("reopen %d: List -r\n%s\nwant\n%s", reopen, got, want)
		}
		if got := listLines(t, s, c.ID, "logs", false); got != "logs/2026/ -rwxr-xr-x\n"+strings.Split(want, "\n")[4] {
			t.Fatalf("List logs\n%s", got)
		}
		if got := listLines(t, s, c.ID, "run.sh", false); got != strings.Split(want, "\n")[5] {
			t.Fatalf("List of a file: %s", got)
		}
		rf, e, err := s.OpenFile(c.ID, "logs/2026/x.log")
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rf)
		rf.Close()
		if string(data) != "hello" || e.Size != 5 || e.Cksum != f.Cksum {
			t.Fatalf("OpenFile: %q %+v", data, e)
		}
		if n, b := s.Usage(c.ID); n != 3 || b != 22 {
			t.Fatalf("Usage = %d %d", n, b)
		}
		s.Close()
		if rep, err := Check(dir, false); err != nil || !rep.OK() {
			t.Fatalf("Check: %v\n%s", err, rep.String())
		}
		s = openT(t, dir, nil)
	}
	s.Close()
}

// TestTreeErrors: each misuse gives its error and changes nothing.
func TestTreeErrors(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	defer s.Close()
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	upload(t, s, c.ID, "a/file", []byte("x"))
	if _, err := s.NewUpload(c.ID, "a/file/under"); !errors.Is(err, ErrNotDir) {
		t.Errorf("upload under a file: %v", err)
	}
	if _, err := s.NewUpload(c.ID, "a"); !errors.Is(err, ErrIsDir) {
		t.Errorf("upload onto a folder: %v", err)
	}
	u, _ := s.NewUpload(c.ID, "b")
	if err := s.Mkdir(c.ID, "b", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.CommitWith(CommitOptions{}); !errors.Is(err, ErrIsDir) {
		t.Errorf("commit onto a folder made meanwhile: %v", err)
	}
	u.Abort()
	u, _ = s.NewUpload(c.ID, "a/file")
	u.Write([]byte("new"))
	if _, _, err := u.CommitWith(CommitOptions{NoClobber: true}); !errors.Is(err, ErrExists) {
		t.Errorf("NoClobber onto a file: %v", err)
	}
	if _, err := os.Stat(u.tmp); err != nil {
		t.Errorf("temporary file not kept for Abort: %v", err)
	}
	if err := u.Abort(); err != nil {
		t.Errorf("Abort: %v", err)
	}
	u, _ = s.NewUpload(c.ID, "a/file")
	if _, replaced, err := u.CommitWith(CommitOptions{}); err != nil || !replaced {
		t.Errorf("replacing commit: replaced %v, %v", replaced, err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"mkdir existing folder", s.Mkdir(c.ID, "a", false), ErrExists},
		{"mkdir existing file", s.Mkdir(c.ID, "a/file", true), ErrExists},
		{"mkdir without parent", s.Mkdir(c.ID, "x/y", false), ErrNotFound},
		{"mkdir under a file", s.Mkdir(c.ID, "a/file/y", true), ErrNotDir},
		{"mkdir bad path", s.Mkdir(c.ID, "x/../y", true), ErrBadName},
		{"stat missing", statErr(s, c.ID, "nope"), ErrNotFound},
		{"stat under a file", statErr(s, c.ID, "a/file/x"), ErrNotDir},
		{"list missing", listErr(s, c.ID, "nope"), ErrNotFound},
		{"open folder", openErr(s, c.ID, "a"), ErrIsDir},
		{"open missing", openErr(s, c.ID, "a/nope"), ErrNotFound},
		{"open root", openErr(s, c.ID, ""), ErrIsDir},
		{"stat other client", statErr(s, [16]byte{1}, "a"), ErrNoClient},
		{"remove root", removeErr(s, c.ID, "", true), ErrBadName},
		{"remove missing", removeErr(s, c.ID, "nope", true), ErrNotFound},
		{"remove non-empty", removeErr(s, c.ID, "a", false), ErrNotEmpty},
		{"rename missing", s.Rename(c.ID, "nope", "x", false), ErrNotFound},
		{"rename into itself", s.Rename(c.ID, "a", "a/b", false), ErrBadName},
		{"rename folder onto folder", s.Rename(c.ID, "a", "b", false), ErrExists},
		{"rename file onto folder", s.Rename(c.ID, "a/file", "b", false), ErrIsDir},
		{"rename under a file", s.Rename(c.ID, "b", "a/file/b", false), ErrNotDir},
		{"rename bad target", s.Rename(c.ID, "a", "../x", false), ErrBadName},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	upload(t, s, c.ID, "gone", []byte("listed, then lost from the disk"))
	os.Remove(filepath.Join(s.clientDir(c.ID), "gone"))
	if _, err := s.NewUpload(c.ID, "gone/x"); !errors.Is(err, ErrNotDir) {
		t.Errorf("upload under a listed file gone from the disk: %v", err)
	}
	if err := s.Mkdir(c.ID, "gone/x", true); !errors.Is(err, ErrNotDir) {
		t.Errorf("mkdir under a listed file gone from the disk: %v", err)
	}
	if n, err := s.Remove(c.ID, "gone", false); n != 1 || err != nil {
		t.Errorf("remove of a listed file gone from the disk: %d %v", n, err)
	}
	upload(t, s, c.ID, "f2", []byte("2"))
	if err := s.Rename(c.ID, "f2", "a/file", true); !errors.Is(err, ErrExists) {
		t.Errorf("rename noClobber onto a file: %v", err)
	}
	if err := s.Rename(c.ID, "a", "f2", false); !errors.Is(err, ErrNotDir) {
		t.Errorf("rename folder onto a file: %v", err)
	}
	if got := listLines(t, s, c.ID, "", true); got != strings.Join([]string{"a/ -rwxr-xr-x", entryLine(mustStat(t, s, c.ID, "a/file")), "b/ -rwxr-xr-x", entryLine(mustStat(t, s, c.ID, "f2"))}, "\n") {
		t.Errorf("after the errors:\n%s", got)
	}
}

// TestCommitLooksOnce: in a stream of uploads the commit does not look at
// the disk again for what the upload's start found (one fstatat per file,
// not two), but does whenever the client's tree has changed since: another
// upload of the same path committed in between makes the commit a
// replacement, or refuses it with NoClobber.
func TestCommitLooksOnce(t *testing.T) {
	s := openT(t, t.TempDir(), nil)
	defer s.Close()
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	upload(t, s, c.ID, "d/e/first", []byte("x"))
	cf, _ := s.clientState(c.ID)
	before := cf.lstats.Load()
	for i := range 10 {
		upload(t, s, c.ID, fmt.Sprintf("d/e/f%d", i), []byte("y"))
	}
	if n := cf.lstats.Load() - before; n != 10 {
		t.Errorf("10 uploads looked at their target %d times, want 10", n)
	}
	a, _ := s.NewUpload(c.ID, "p")
	b, _ := s.NewUpload(c.ID, "p")
	d, _ := s.NewUpload(c.ID, "p")
	if _, replaced, err := a.CommitWith(CommitOptions{}); err != nil || replaced {
		t.Fatalf("first commit of p: replaced %v, %v", replaced, err)
	}
	if _, _, err := b.CommitWith(CommitOptions{NoClobber: true}); !errors.Is(err, ErrExists) {
		t.Errorf("NoClobber after another upload of the path committed: %v", err)
	}
	b.Abort()
	if _, replaced, err := d.CommitWith(CommitOptions{}); err != nil || !replaced {
		t.Errorf("commit after another upload of the path committed: replaced %v, %v", replaced, err)
	}
}

func statErr(s *Store, id [16]byte, p string) error { _, err := s.Stat(id, p); return err }
func listErr(s *Store, id [16]byte, p string) error { _, err := s.List(id, p, false); return err }
func openErr(s *Store, id [16]byte, p string) error {
	f, _, err := s.OpenFile(id, p)
	if f != nil {
		f.Close()
	}
	return err
}
func removeErr(s *Store, id [16]byte, p string, r bool) error {
	_, err := s.Remove(id, p, r)
	return err
}

func mustStat(t *testing.T, s *Store, id [16]byte, p string) Entry {
	t.Helper()
	e, err := s.Stat(id, p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestRemoveRename moves and removes files and folders and checks the
// records and the disk after a reopen.
func TestRemoveRename(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, nil)
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	uploadMeta(t, s, c.ID, "d/one", []byte("1"), 0o700, old)
	uploadMeta(t, s, c.ID, "d/sub/two", []byte("22"), 0o640, old)
	upload(t, s, c.ID, "top", []byte("333"))
	s.Mkdir(c.ID, "d/sub/empty", false)
	if err := s.Rename(c.ID, "d", "e/f", false); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(c.ID, "top", "e/f/sub/top2", false); err != nil {
		t.Fatal(err)
	}
	upload(t, s, c.ID, "repl", []byte("4444"))
	if err := s.Rename(c.ID, "repl", "e/f/one", false); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"e/ -rwxr-xr-x",
		"e/f/ -rwxr-xr-x",
		"e/f/one 4",
		"e/f/sub/ -rwxr-xr-x",
		"e/f/sub/empty/ -rwxr-xr-x",
		"e/f/sub/top2 3",
		"e/f/sub/two 2 -rw-r----- 2001-02-03T04:05:06Z true",
	}, "\n")
	check := func(when string) {
		t.Helper()
		got := listLines(t, s, c.ID, "", true)
		var short []string
		for _, l := range strings.Split(got, "\n") {
			if f := strings.Fields(l); len(f) > 2 && !strings.HasSuffix(f[0], "two") {
				l = f[0] + " " + f[1]
			}
			short = append(short, l)
		}
		if got := strings.Join(short, "\n"); got != want {
			t.Fatalf("%s:\n%s\nwant\n%s", when, got, want)
		}
		if _, ok := s.File(c.ID, "d/one"); ok {
			t.Fatalf("%s: old path still listed", when)
		}
	}
	check("after renames")
	s.Close()
	s = openT(t, dir, nil)
	check("after reopen")
	if n, err := s.Remove(c.ID, "e/f/sub/empty", false); err != nil || n != 0 {
		t.Fatalf("remove empty folder: %d %v", n, err)
	}
	if n, err := s.Remove(c.ID, "e/f/one", false); err != nil || n != 1 {
		t.Fatalf("remove file: %d %v", n, err)
	}
	if n, err := s.Remove(c.ID, "e", true); err != nil || n != 2 {
		t.Fatalf("remove -r: %d %v", n, err)
	}
	if got := listLines(t, s, c.ID, "", true); got != "" {
		t.Fatalf("after removals: %s", got)
	}
	s.Close()
	if rep, err := Check(dir, false); err != nil || !rep.OK() {
		t.Fatalf("Check: %v\n%s", err, rep.String())
	}
	s = openT(t, dir, nil)
	defer s.Close()
	if n, _ := s.Usage(c.ID); n != 0 {
		t.Fatalf("%d files after removing everything", n)
	}
}

// TestSymlinksNotFollowed plants symlinks in a client's folder (to a file
// and a folder outside it, and to a listed file inside): none is listed,
// read, written through or removed through.
func TestSymlinksNotFollowed(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600)
	s := openT(t, dir, nil)
	defer s.Close()
	c, _ := s.Register("c", KeyEd25519, key32(1), t0)
	upload(t, s, c.ID, "real/file", []byte("x"))
	cdir := s.clientDir(c.ID)
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(cdir, "secret"))
	os.Symlink(outside, filepath.Join(cdir, "out"))
	os.Symlink("real", filepath.Join(cdir, "alias"))
	if got := listLines(t, s, c.ID, "", true); got != "real/ -rwxr-xr-x\n"+entryLine(mustStat(t, s, c.ID, "real/file")) {
		t.Fatalf("List shows symlinks:\n%s", got)
	}
	for _, p := range []string{"secret", "out/secret", "alias/file"} {
		if err := openErr(s, c.ID, p); !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrNotDir) {
			t.Errorf("OpenFile(%s): %v", p, err)
		}
		if _, err := s.List(c.ID, p, true); err == nil {
			t.Errorf("List(%s) succeeded", p)
		}
	}
	if _, err := s.NewUpload(c.ID, "out/new"); !errors.Is(err, ErrNotDir) {
		t.Errorf("upload through a symlinked folder: %v", err)
	}
	if err := s.Mkdir(c.ID, "out/new", true); !errors.Is(err, ErrNotDir) {
		t.Errorf("mkdir through a symlinked folder: %v", err)
	}
	if _, err := s.Remove(c.ID, "out/secret", true); err == nil {
		t.Errorf("remove through a symlinked folder succeeded")
	}
	if err := s.Rename(c.ID, "real", "out/real", false); !errors.Is(err, ErrNotDir) {
		t.Errorf("rename into a symlinked folder: %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(outside, "secret")); err != nil || string(data) != "secret" {
		t.Fatalf("outside file changed: %q %v", data, err)
	}
	if des, _ := os.ReadDir(outside); len(des) != 1 {
		t.Fatalf("outside folder changed: %v", des)
	}
}
