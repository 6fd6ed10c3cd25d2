package server

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ferry/client"
	"ferry/frame"
)

// tree is a local tree of files: path -> content, mode, mtime.
type treeFile struct {
	data  []byte
	mode  os.FileMode
	mtime time.Time
}

func writeTree(t *testing.T, dir string, files map[string]treeFile, empty ...string) {
	t.Helper()
	for p, f := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(full, f.mode)
		if err := os.Chtimes(full, f.mtime, f.mtime); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range empty {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
}

var old = time.Date(2001, 2, 3, 4, 5, 6, 700000000, time.UTC)

func sampleTree() map[string]treeFile {
	return map[string]treeFile{
		"a.txt":              {[]byte("hello\n"), 0o644, old},
		"bin/run.sh":         {[]byte("#!/bin/sh\necho hi\n"), 0o755, old.Add(time.Hour)},
		"logs/2026/x.log":    {bytes.Repeat([]byte("log line\n"), 3000), 0o600, old.Add(2 * time.Hour)},
		"logs/2026/empty":    {nil, 0o644, old.Add(3 * time.Hour)},
		"deep/a/b/c/d/e.bin": {bytes.Repeat([]byte{1, 2, 3}, 10000), 0o640, old},
	}
}

func putItems(local string, files map[string]treeFile, prefix string) []client.PutItem {
	var items []client.PutItem
	for p := range files {
		items = append(items, client.PutItem{Local: filepath.Join(local, filepath.FromSlash(p)), Remote: strings.TrimPrefix(prefix+"/"+p, "/")})
	}
	return items
}

func putAll(t *testing.T, c *client.Client, items []client.PutItem) []client.PutResult {
	t.Helper()
	var res []client.PutResult
	if err := c.Put(items, func(r client.PutResult) { res = append(res, r) }); err != nil {
		t.Fatal(err)
	}
	if len(res) != len(items) {
		t.Fatalf("%d results for %d items", len(res), len(items))
	}
	return res
}

// TestOpsRoundTrip puts a tree (nested folders, an empty file, a 0755
// file, old mtimes), lists it, gets it back whole and compares content,
// mode and mtime; then renames and removes.
func TestOpsRoundTrip(t *testing.T) {
	f := newFixture(t, nil)
	c, err := f.connect(t.TempDir(), "pi")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.Ops() {
		t.Fatal("the operations were not negotiated")
	}
	src := t.TempDir()
	files := sampleTree()
	writeTree(t, src, files)
	for _, r := range putAll(t, c, putItems(src, files, "up")) {
		if r.Err != nil || r.Replaced {
			t.Fatalf("%s: %v (replaced %v)", r.Item.Remote, r.Err, r.Replaced)
		}
	}
	if err := c.Mkdir("up/nothing", false); err != nil {
		t.Fatal(err)
	}
	ents, err := c.List("up", true)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]client.Entry{}
	for _, e := range ents {
		seen[e.Path] = e
	}
	for p, tf := range files {
		e, ok := seen["up/"+p]
		if !ok || e.Size != int64(len(tf.data)) || e.Mode != tf.mode || !e.MTime.Equal(tf.mtime) || !e.Verified {
			t.Fatalf("ls of up/%s: %+v (found %v), want %d bytes %v %v", p, e, ok, len(tf.data), tf.mode, tf.mtime)
		}
	}
	if e, ok := seen["up/nothing"]; !ok || !e.Dir {
		t.Fatalf("empty folder not listed: %+v", ents)
	}
	dst := t.TempDir()
	var got []client.GetResult
	if err := c.Get([]client.GetItem{{Remote: "up", Recursive: true, Dir: dst, Name: "up"}}, func(r client.GetResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.Err != nil {
			t.Fatalf("get %s: %v", r.Remote, r.Err)
		}
	}
	for p, tf := range files {
		full := filepath.Join(dst, "up", filepath.FromSlash(p))
		b, err := os.ReadFile(full)
		st, _ := os.Stat(full)
		if err != nil || !bytes.Equal(b, tf.data) || st.Mode().Perm() != tf.mode || !st.ModTime().Equal(tf.mtime) {
			t.Fatalf("got back %s: %v, mode %v mtime %v", p, err, st.Mode(), st.ModTime())
		}
	}
	if st, err := os.Stat(filepath.Join(dst, "up", "nothing")); err != nil || !st.IsDir() {
		t.Fatalf("empty folder not made: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dst, "up", "*", ".ferry-tmp-*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if _, err := c.Rename("up/a.txt", "up/bin/a.txt", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List("up/a.txt", false); !isReason(err, frame.FailNotFound) {
		t.Fatalf("old name after mv: %v", err)
	}
	if n, err := c.Remove("up/logs", false); !isReason(err, frame.FailNotEmpty) {
		t.Fatalf("rm of a full folder without -r: %d %v", n, err)
	}
	if n, err := c.Remove("up/logs", true); err != nil || n != 2 {
		t.Fatalf("rm -r: %d %v, want 2 files", n, err)
	}
	if _, err := c.List("up/logs/2026/x.log", false); !isReason(err, frame.FailNotFound) {
		t.Fatalf("a removed file is still listed: %v", err)
	}
}

func isReason(err error, reason uint16) bool {
	var oe *client.OpError
	return errors.As(err, &oe) && oe.Reason == reason
}

// TestOpsNoClobber: -n refuses to replace on the server, and replacing
// without it says so.
func TestOpsNoClobber(t *testing.T) {
	f := newFixture(t, nil)
	c, err := f.connect(t.TempDir(), "pi")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p1, _ := randomFile(t, 100)
	p2, want := randomFile(t, 200)
	putAll(t, c, []client.PutItem{{Local: p1, Remote: "f"}})
	r := putAll(t, c, []client.PutItem{{Local: p2, Remote: "f", NoClobber: true}})[0]
	if !isReason(r.Err, frame.FailExists) {
		t.Fatalf("no-clobber put over a file: %v", r.Err)
	}
	r = putAll(t, c, []client.PutItem{{Local: p2, Remote: "f"}})[0]
	if r.Err != nil || !r.Replaced {
		t.Fatalf("replacing put: %v replaced %v", r.Err, r.Replaced)
	}
	var out bytes.Buffer
	if err := c.Get([]client.GetItem{{Remote: "f", Out: &out}}, func(r client.GetResult) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatal("the replaced file is not the new one")
	}
	putAll(t, c, []client.PutItem{{Local: p1, Remote: "g"}})
	if _, err := c.Rename("g", "f", true); !isReason(err, frame.FailExists) {
		t.Fatalf("no-clobber mv: %v", err)
	}
}

// TestOpsIsolation: another client sees none of the first client's files.
func TestOpsIsolation(t *testing.T) {
	f := newFixture(t, nil)
	a, err := f.connect(t.TempDir(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := f.connect(t.TempDir(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p, _ := randomFile(t, 100)
	putAll(t, a, []client.PutItem{{Local: p, Remote: "secret/plan.txt"}})
	if ents, err := b.List("", true); err != nil || len(ents) != 0 {
		t.Fatalf("bob lists %v, %v", ents, err)
	}
	var got []client.GetResult
	if err := b.Get([]client.GetItem{{Remote: "secret/plan.txt", Dir: t.TempDir(), Name: "x"}}, func(r client.GetResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !isReason(got[0].Err, frame.FailNotFound) {
		t.Fatalf("bob gets alice's file: %+v", got)
	}
	if _, err := b.Remove("secret", true); !isReason(err, frame.FailNotFound) {
		t.Fatalf("bob removes alice's folder: %v", err)
	}
	if _, err := b.Rename("secret/plan.txt", "mine.txt", false); !isReason(err, frame.FailNotFound) {
		t.Fatalf("bob renames alice's file: %v", err)
	}
	r := putAll(t, b, []client.PutItem{{Local: p, Remote: "secret/plan.txt"}})[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if ents, _ := a.List("secret", false); len(ents) != 1 || ents[0].Size != 100 {
		t.Fatalf("alice's file changed: %+v", ents)
	}
}

// TestOpsHostilePaths: paths that try to leave the client's folder, reach
// reserved names or hide what they are get a clear failure and change
// nothing; a symlink planted in the client's folder is not followed.
func TestOpsHostilePaths(t *testing.T) {
	f := newFixture(t, nil)
	c, err := f.connect(t.TempDir(), "pi")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, _ := randomFile(t, 10)
	hostile := []string{"../x", "a/../../x", "/etc/x", "a//b", "./a", ".ferry-tmp-1", "a/.ferry", "inv\u202efdp.exe", "a\u2215b", "a\\b", "", strings.Repeat("n", 256)}
	for _, h := range hostile {
		r := putAll(t, c, []client.PutItem{{Local: p, Remote: h}})[0]
		if !isReason(r.Err, frame.FailBadPath) {
			t.Errorf("put %q: %v, want a bad path", h, r.Err)
		}
		if err := c.Mkdir(h, true); !isReason(err, frame.FailBadPath) {
			t.Errorf("mkdir %q: %v", h, err)
		}
	}
	if ents, err := c.List("", true); err != nil || len(ents) != 0 {
		t.Fatalf("hostile puts stored %+v (%v)", ents, err)
	}
	// a symlink planted on the server, in the client's folder, to a file outside
	putAll(t, c, []client.PutItem{{Local: p, Remote: "ok"}})
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("server secret"), 0o600)
	dir := filepath.Join(f.data, "files", c.ID().String())
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(dir, "dirlink")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"link", "dirlink/outside"} {
		var out bytes.Buffer
		var got []client.GetResult
		if err := c.Get([]client.GetItem{{Remote: q, Out: &out}}, func(r client.GetResult) { got = append(got, r) }); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 || len(got) != 1 || got[0].Err == nil {
			t.Fatalf("get %q through a planted symlink: %q %+v", q, out.String(), got)
		}
	}
	if _, err := c.Remove("dirlink/outside", false); err == nil {
		t.Fatal("rm through a planted symlink succeeded")
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("the file outside is gone: %v", err)
	}
}

// TestPublishReadOnly: pub/ lists and gets for every client, and refuses
// every change.
func TestPublishReadOnly(t *testing.T) {
	pub := t.TempDir()
	os.WriteFile(filepath.Join(pub, "firmware.bin"), bytes.Repeat([]byte{7}, 100000), 0o644)
	os.MkdirAll(filepath.Join(pub, "docs"), 0o755)
	os.WriteFile(filepath.Join(pub, "docs", "readme"), []byte("read me"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(pub, "passwd"))
	f := newFixtureWith(t, nil, func(s *Server) {
		if err := s.Publish(pub); err != nil {
			t.Fatal(err)
		}
	})
	c, err := f.connect(t.TempDir(), "router-1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ents, err := c.List("pub", true)
	if err != nil || len(ents) != 3 {
		t.Fatalf("ls pub: %+v %v (want docs, docs/readme, firmware.bin; no symlink)", ents, err)
	}
	var out bytes.Buffer
	if err := c.Get([]client.GetItem{{Remote: "pub/firmware.bin", Out: &out}}, func(r client.GetResult) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 100000 {
		t.Fatalf("got %d bytes of the published file", out.Len())
	}
	p, _ := randomFile(t, 10)
	if r := putAll(t, c, []client.PutItem{{Local: p, Remote: "pub/evil"}})[0]; !isReason(r.Err, frame.FailReadOnly) {
		t.Fatalf("put into pub: %v", r.Err)
	}
	if _, err := c.Remove("pub/firmware.bin", false); !isReason(err, frame.FailReadOnly) {
		t.Fatalf("rm in pub: %v", err)
	}
	if _, err := c.Rename("pub/firmware.bin", "mine", false); !isReason(err, frame.FailReadOnly) {
		t.Fatalf("mv out of pub: %v", err)
	}
	if err := c.Mkdir("pub/x", false); !isReason(err, frame.FailReadOnly) {
		t.Fatalf("mkdir in pub: %v", err)
	}
	if _, err := os.Stat(filepath.Join(pub, "firmware.bin")); err != nil {
		t.Fatal(err)
	}
}

// corruptingFixture is a fixture whose server miscomputes the cksum of
// the next *bad files it receives or sends (bad counts down).
func corruptingFixture(t *testing.T) (*fixture, *atomic.Int32) {
	bad := new(atomic.Int32)
	f := newFixture(t, func(c *Config) {
		c.corrupt = func(s uint32) uint32 {
			if bad.Add(-1) >= 0 {
				return s + 1
			}
			return s
		}
	})
	return f, bad
}

// TestOpsResends: a checksum that does not match is sent again, both ways,
// and a file that never matches is reported, not stored or written.
func TestOpsResends(t *testing.T) {
	f, bad := corruptingFixture(t)
	c, err := f.connect(t.TempDir(), "pi")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, want := randomFile(t, 50000)
	bad.Store(2)
	r := putAll(t, c, []client.PutItem{{Local: p, Remote: "f"}})[0]
	if r.Err != nil || r.Resends != 2 {
		t.Fatalf("put after two mismatches: %v, %d resends", r.Err, r.Resends)
	}
	bad.Store(4)
	r = putAll(t, c, []client.PutItem{{Local: p, Remote: "g"}})[0]
	if !errors.Is(r.Err, client.ErrChecksum) {
		t.Fatalf("put never matching: %v", r.Err)
	}
	if _, err := c.List("g", false); !isReason(err, frame.FailNotFound) {
		t.Fatalf("a file that never matched is stored: %v", err)
	}
	dst := t.TempDir()
	bad.Store(3)
	var got []client.GetResult
	if err := c.Get([]client.GetItem{{Remote: "f", Dir: dst, Name: "f"}}, func(r client.GetResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Err != nil || got[0].Resends != 3 {
		t.Fatalf("get after three mismatches: %+v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); !bytes.Equal(b, want) {
		t.Fatal("downloaded copy differs")
	}
	bad.Store(4)
	got = nil
	if err := c.Get([]client.GetItem{{Remote: "f", Dir: dst, Name: "h"}}, func(r client.GetResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !errors.Is(got[0].Err, client.ErrChecksum) {
		t.Fatalf("get never matching: %+v", got)
	}
	if left, _ := os.ReadDir(dst); len(left) != 1 {
		t.Fatalf("files in the destination: %v (want only f)", left)
	}
}

// TestFirstReleasePeers: a client of the first release still uploads to
// this server, and this client still uploads to a first-release server
// (and says what it cannot do there).
func TestFirstReleasePeers(t *testing.T) {
	f := newFixture(t, nil)
	c, err := f.connectWith(t.TempDir(), "old", func(cfg *client.Config) { cfg.FirstRelease = true })
	if err != nil {
		t.Fatal(err)
	}
	p, want := randomFile(t, 30000)
	if _, err := c.Upload(p, "old.bin"); err != nil {
		t.Fatal(err)
	}
	if got, ok := f.stored(c.ID(), "old.bin"); !ok || !bytes.Equal(got, want) {
		t.Fatal("first-release upload not stored")
	}
	c.Close()
	g := newFixture(t, func(cfg *Config) { cfg.FirstRelease = true })
	c, err = g.connect(t.TempDir(), "new")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Ops() {
		t.Fatal("a first-release server negotiated the operations")
	}
	if _, err := c.Upload(p, "new.bin"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List("", false); !errors.Is(err, client.ErrNoOps) {
		t.Fatalf("ls on a first-release server: %v", err)
	}
}

// TestCompressionBothWays: a client that asks for compression gets it
// from this server, and files go both ways intact; one that does not ask
// gets none; each combination interoperates.
func TestCompressionBothWays(t *testing.T) {
	f := newFixture(t, nil)
	var text bytes.Buffer
	for i := 0; text.Len() < 200000; i++ {
		text.WriteString("2026-12-02 03:30:00 daemon.info dnsmasq[1234]: query[A] example.org from 192.168.1.2\n")
	}
	src := filepath.Join(t.TempDir(), "syslog")
	os.WriteFile(src, text.Bytes(), 0o644)
	for _, level := range []int{0, 1, 6} {
		c, err := f.connectWith(t.TempDir(), fmt.Sprint("c", level), func(cfg *client.Config) { cfg.Compress = level })
		if err != nil {
			t.Fatal(err)
		}
		if c.Compressed() != (level != 0) {
			t.Fatalf("level %d: compressed %v", level, c.Compressed())
		}
		if r := putAll(t, c, []client.PutItem{{Local: src, Remote: "log"}})[0]; r.Err != nil {
			t.Fatal(r.Err)
		}
		var out bytes.Buffer
		if err := c.Get([]client.GetItem{{Remote: "log", Out: &out}}, func(r client.GetResult) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), text.Bytes()) {
			t.Fatalf("level %d: content differs", level)
		}
		c.Close()
	}
}

// TestKeepalive: keepalives keep an idle session past the idle timeout;
// without them the server drops it.
func TestKeepalive(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.IdleTimeout = 500 * time.Millisecond })
	c, err := f.connect(t.TempDir(), "shell")
	if err != nil {
		t.Fatal(err)
	}
	for range 8 {
		time.Sleep(200 * time.Millisecond)
		if err := c.Keepalive(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.List("", false); err != nil {
		t.Fatalf("after 1.6 s of keepalives with a 0.5 s idle timeout: %v", err)
	}
	time.Sleep(1200 * time.Millisecond)
	if _, err := c.List("", false); err == nil {
		t.Fatal("a silent client was not dropped")
	}
}

// TestUsage: df reports the client's files and bytes and the server's room.
func TestUsage(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxFileSize = 1 << 30 })
	c, err := f.connect(t.TempDir(), "df")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, _ := randomFile(t, 1234)
	putAll(t, c, []client.PutItem{{Local: p, Remote: "a"}, {Local: p, Remote: "b/c"}})
	u, err := c.Usage()
	if err != nil || u.Files != 2 || u.Bytes != 2468 || u.MaxFile != 1<<30 || u.Free <= 0 {
		t.Fatalf("usage %+v, %v", u, err)
	}
}
