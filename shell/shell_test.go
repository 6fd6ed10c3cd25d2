package shell

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"ferry/client"
)

// testShell is a shell on a fake server, in a local folder of its own.
func testShell(t *testing.T) (*Shell, *fakeServer, *bytes.Buffer) {
	t.Helper()
	f := newFake(t)
	var out bytes.Buffer
	s := New(Config{Server: "fake", Out: &out, Err: &out}, f)
	s.lwd = t.TempDir()
	return s, f, &out
}

func run(t *testing.T, s *Shell, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if err := s.Exec(l); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
}

func TestRemoteFolder(t *testing.T) {
	s, f, out := testShell(t)
	f.add("logs/2026/x.log", "x")
	f.add("top.txt", "t")
	run(t, s, "cd logs", "pwd", "cd 2026", "pwd", "cd ..", "cd /logs/2026/..", "pwd", "cd", "pwd")
	if got := out.String(); got != "/logs\n/logs/2026\n/logs\n/\n" {
		t.Fatalf("pwd after cds:\n%s", got)
	}
	for _, tt := range []struct{ line, err string }{
		{"cd nothere", "ls nothere: no such file or folder"},
		{"cd top.txt", "cd: /top.txt: not a folder"},
		{"cd ../..", ""}, // .. at the top stays at the top, as in sh
	} {
		err := s.Exec(tt.line)
		if (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("%s: %v, want %q", tt.line, err, tt.err)
		}
		if s.cwd != "" {
			t.Errorf("%s: the folder is /%s", tt.line, s.cwd)
		}
	}
	out.Reset()
	run(t, s, "cd logs", "ls", "ls -r /", "ls 2026/x.log")
	if got := out.String(); got != "2026/\nlogs/\nlogs/2026/\nlogs/2026/x.log\ntop.txt\nx.log\n" {
		t.Fatalf("ls:\n%s", got)
	}
}

func TestTransfers(t *testing.T) {
	s, f, out := testShell(t)
	f.add("logs/a.txt", "aaa")
	f.add("logs/sub/b.txt", "bb")
	os.Mkdir(filepath.Join(s.lwd, "into"), 0o755)
	run(t, s,
		"cd logs",
		"get a.txt",             // into the local folder
		"get a.txt into",        // into a local folder
		"get a.txt renamed.txt", // to a name
		"get -r sub",            // a folder
		"get -r /logs 'sp ace'", // a folder to a new name
		`get /logs/sub/b.txt sp\ ace/again.txt`,
	)
	for p, want := range map[string]string{
		"a.txt": "aaa", "into/a.txt": "aaa", "renamed.txt": "aaa", "sub/b.txt": "bb",
		"sp ace/a.txt": "aaa", "sp ace/sub/b.txt": "bb", "sp ace/again.txt": "bb",
	} {
		if b, err := os.ReadFile(filepath.Join(s.lwd, p)); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", p, b, err)
		}
	}
	if err := s.Exec("get /"); err == nil || !strings.Contains(err.Error(), "needs -r") {
		t.Errorf("get /: %v", err)
	}
	err := s.Exec("get nothere")
	var oe *client.OpError
	if !errors.As(err, &oe) || err.Error() != "get logs/nothere: no such file or folder" {
		t.Errorf("get nothere: %v", err)
	}

	out.Reset()
	os.WriteFile(filepath.Join(s.lwd, "up.txt"), []byte("up"), 0o644)
	os.MkdirAll(filepath.Join(s.lwd, "tree", "empty"), 0o755)
	os.WriteFile(filepath.Join(s.lwd, "tree", "t.txt"), []byte("t"), 0o644)
	f.addDir("dest")
	mark := len(f.callList())
	run(t, s,
		"put up.txt",         // into the remote folder
		"put up.txt /dest",   // into a remote folder
		"put up.txt new.txt", // to a name
		"put up.txt newdir/", // into a folder named with a slash
		"put -r tree",        // a folder, with its empty folder
		"put -r tree /dest/t2",
	)
	for _, p := range []string{"logs/up.txt", "dest/up.txt", "logs/new.txt", "logs/newdir/up.txt", "logs/tree/t.txt", "dest/t2/t.txt"} {
		if n := f.nodes[p]; n == nil || n.dir {
			t.Errorf("not stored: %s", p)
		}
	}
	// a small file to a remote folder is sent there first, refused, and
	// sent into it; a folder (-r) lists the target first
	var puts []string
	for _, c := range f.callList()[mark:] {
		if strings.HasPrefix(c, "put ") || strings.HasPrefix(c, "list ") {
			puts = append(puts, c)
		}
	}
	want := []string{"put logs/up.txt", "put dest", "put dest/up.txt", "put logs/new.txt", "put logs/newdir/up.txt", "put logs/tree/t.txt", "list dest/t2", "put dest/t2/t.txt"}
	if !reflect.DeepEqual(puts, want) {
		t.Errorf("calls %q\nwant %q", puts, want)
	}
	if n := f.nodes["logs/tree/empty"]; n == nil || !n.dir {
		t.Error("the empty folder was not made")
	}
	if err := s.Exec("put -n up.txt"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("put -n over a file: %v", err)
	}
	if err := s.Exec("put tree"); err == nil || !strings.Contains(err.Error(), "put -r") {
		t.Errorf("put of a folder without -r: %v", err)
	}
	if err := s.Exec("put nothere"); err == nil || err.Error() != "put: nothere: no such file or directory" {
		t.Errorf("put of a missing file: %v", err)
	}
	if !strings.Contains(out.String(), "stored up.txt as /logs/up.txt: 2 bytes") {
		t.Errorf("put's line: %s", out.String())
	}
}

func TestChanges(t *testing.T) {
	s, f, out := testShell(t)
	f.add("a.txt", "a")
	run(t, s, "mkdir -p x/y", "mv a.txt x/", "mv x/a.txt x/y/b.txt", "rm -r x/y", "mkdir z", "rm z", "df")
	if len(f.nodes) != 1 || f.nodes["x"] == nil {
		t.Fatalf("remote tree: %v", f.nodes)
	}
	want := []string{"mkdir x/y", "mv a.txt x/a.txt", "mv x/a.txt x/y/b.txt", "rm x/y", "mkdir z", "rm z", "df"}
	if got := f.callList(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if !strings.Contains(out.String(), "files         3\nbytes         2.0 KiB (2048)\nfree          unknown\nlargest file  1.0 GiB\n") {
		t.Fatalf("df:\n%s", out.String())
	}
	if err := s.Exec("rm /"); err == nil {
		t.Error("rm / was taken")
	}
}

func TestLocal(t *testing.T) {
	s, _, out := testShell(t)
	os.MkdirAll(filepath.Join(s.lwd, "d", "e"), 0o755)
	os.WriteFile(filepath.Join(s.lwd, "d", "f.txt"), []byte("f"), 0o644)
	top := s.lwd
	run(t, s, "lcd d", "lpwd", "lls", "lls -l f.txt")
	lines := strings.Split(out.String(), "\n")
	if lines[0] != filepath.Join(top, "d") || lines[1] != "e/" || lines[2] != "f.txt" ||
		!strings.HasPrefix(lines[3], "-rw-r--r--            1 ") || !strings.HasSuffix(lines[3], " f.txt") {
		t.Fatalf("lpwd, lls:\n%s", out.String())
	}
	if err := s.Exec("lcd f.txt"); err == nil || s.lwd != filepath.Join(top, "d") {
		t.Errorf("lcd to a file: %v, now in %s", err, s.lwd)
	}
	if err := s.Exec("lcd nothere"); err == nil {
		t.Error("lcd to nowhere")
	}
	run(t, s, "lcd ..")
	if s.lwd != top {
		t.Errorf("lcd ..: %s", s.lwd)
	}
}

func TestComplete(t *testing.T) {
	s, f, out := testShell(t)
	f.add("sp ace/ünï.txt", "u")
	f.add("sp ace/other", "o")
	f.add("logs/a.log", "a")
	f.add("logs/b.log", "b")
	f.add("it's", "q")
	os.WriteFile(filepath.Join(s.lwd, "local.bin"), nil, 0o644)
	os.Mkdir(filepath.Join(s.lwd, "localdir"), 0o755)
	tests := []struct{ line, want string }{
		{"he", "help "},
		{"mk", "mkdir "},
		{"help g", "help get "},
		{"cd sp", `cd sp\ ace/`},
		{"cd 'sp", "cd 'sp ace/"},
		{`get "sp ace/ü`, `get "sp ace/ünï.txt" `},
		{`get sp\ ace/ü`, `get sp\ ace/ünï.txt `},
		{"get -r lo", "get -r logs/"},
		{"get logs/a", "get logs/a.log "},
		{"get logs/a.log lo", "get logs/a.log local"}, // local: the common prefix
		{"put lo", "put local"},
		{"put local.b", "put local.bin "},
		{"put local.bin lo", "put local.bin logs/"}, // the second argument of put is remote
		{"lcd locald", "lcd localdir/"},
		{"get it", `get it\'s `},
		{"get 'it", `get 'it'\''s' `},
		{"ls /lo", "ls /logs/"},
		{"rm -", "rm -"},         // a flag: nothing
		{"pwd x", "pwd x"},       // no arguments: nothing
		{"nosuch x", "nosuch x"}, // no command: nothing
		{"ls nothere/x", "ls nothere/x"},
		{"ls # lo", "ls # lo"},
	}
	for _, tt := range tests {
		got, pos, ok := s.complete(tt.line, len(tt.line), '\t')
		if !ok {
			got, pos = tt.line, len(tt.line)
		}
		if got != tt.want || pos != len(tt.want) {
			t.Errorf("%q + Tab = %q at %d, want %q", tt.line, got, pos, tt.want)
		}
	}
	if _, _, ok := s.complete("ls", 2, 'x'); ok {
		t.Error("a key other than Tab was taken")
	}
	// the cursor inside the line: the end stays
	if got, pos, _ := s.complete("get lo x", 6, '\t'); got != "get logs/ x" || pos != 9 {
		t.Errorf("inside the line: %q at %d", got, pos)
	}
	// several that share nothing more are listed
	out.Reset()
	if got, _, _ := s.complete("get logs/", 9, '\t'); got != "get logs/" || out.String() != "a.log  b.log\n" {
		t.Errorf("listed %q, line %q", out.String(), got)
	}
}

// Listings are kept per folder for completion, and forgotten when the
// remote side changes.
func TestCompletionCache(t *testing.T) {
	s, f, _ := testShell(t)
	f.add("logs/a.log", "a")
	lists := func() int {
		n := 0
		for _, c := range f.callList() {
			if strings.HasPrefix(c, "list") {
				n++
			}
		}
		return n
	}
	s.complete("get logs/", 9, '\t')
	s.complete("get logs/a", 10, '\t')
	if n := lists(); n != 1 {
		t.Fatalf("%d listings for two completions in one folder", n)
	}
	run(t, s, "cd logs") // lists logs: kept
	s.complete("get a", 5, '\t')
	if n := lists(); n != 2 {
		t.Fatalf("%d listings after cd", n)
	}
	run(t, s, "mkdir new")
	if got, _, _ := s.complete("cd ne", 5, '\t'); got != "cd new/" {
		t.Fatalf("after mkdir: %q", got)
	}
	if n := lists(); n != 3 {
		t.Fatalf("%d listings after a change", n)
	}
}

func TestBatch(t *testing.T) {
	s, f, out := testShell(t)
	f.add("a.txt", "a")
	script := `# a comment, then a blank line

mkdir d
-rm nothere
  -get nothere   # indented, with a comment
mv a.txt d/
cd d
get nothere
mkdir never
`
	err := s.Batch(strings.NewReader(script))
	var oe *client.OpError
	if err == nil || err.Error() != "line 8: get d/nothere: no such file or folder" || !errors.As(err, &oe) {
		t.Fatalf("batch: %v", err)
	}
	for _, want := range []string{"ferry: line 4: rm nothere: no such file or folder (ignored)\n", "ferry: line 5: get nothere: no such file or folder (ignored)\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	if f.nodes["never"] != nil || f.nodes["d/a.txt"] == nil {
		t.Errorf("remote tree: %v", f.nodes)
	}
	if calls := f.callList(); calls[len(calls)-1] != "close" {
		t.Errorf("no goodbye: %q", calls)
	}

	s, _, _ = testShell(t)
	if err := s.Batch(strings.NewReader("pwd\nexit\nmkdir never\n")); err != nil {
		t.Fatalf("exit: %v", err)
	}
	s, _, _ = testShell(t)
	if err := s.Batch(strings.NewReader("pwd\nls -z\n")); err == nil || err.Error() != "line 2: ls: no flag -z; usage: ls [-l] [-r] [PATH]" {
		t.Fatalf("a usage error: %v", err)
	}
	s, _, _ = testShell(t)
	if err := s.Batch(strings.NewReader("get 'x\n")); err == nil || !errors.Is(err, ErrOpenQuote) {
		t.Fatalf("an open quote: %v", err)
	}
}

// The keepalive goes while the shell waits for a line, never while a
// command runs (the fake fails on calls at once).
func TestKeepalive(t *testing.T) {
	s, f, _ := testShell(t)
	s.cfg.KeepaliveEvery = 5 * time.Millisecond
	f.add("a", "a")
	r, w := io.Pipe()
	done := make(chan error)
	go func() { done <- s.Batch(r) }()
	for range 20 {
		io.WriteString(w, "ls\nget a\ndf\n")
		time.Sleep(10 * time.Millisecond)
	}
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.keepalives.Load(); n < 5 {
		t.Fatalf("%d keepalives in 200 ms at 5 ms", n)
	}
}

// Ctrl-C during a command closes its session; the command says it was
// interrupted, and a new session goes back to the same folder.
func TestInterrupt(t *testing.T) {
	s, f, out := testShell(t)
	f.add("logs/big", "b")
	run(t, s, "cd logs")
	f.block, f.started = make(chan struct{}), make(chan struct{})
	aborted := 0
	s.cfg.Abort = func(c Client) {
		if c == Client(f) && aborted == 0 {
			close(f.block)
		}
		aborted++
	}
	s.guard.abort = s.cfg.Abort
	second := newFake(t)
	second.addDir("logs")
	s.cfg.Dial = func(io.Writer) (Client, error) { return second, nil }
	s.Interrupt() // between commands: nothing
	done := make(chan error)
	go func() { done <- s.Exec("get big") }()
	<-f.started
	s.Interrupt()
	s.Interrupt() // twice: one abort
	err := <-done
	if !errors.Is(err, ErrInterrupted) || err.Error() != "get: interrupted; the transfer was abandoned" || !needsSession(err) {
		t.Fatalf("get: %v", err)
	}
	if err := s.Exec("ls"); !needsSession(err) {
		t.Fatalf("a command on the abandoned session: %v", err)
	}
	if err := s.Reconnect(); err != nil {
		t.Fatal(err)
	}
	if aborted != 2 || s.cwd != "logs" || !strings.Contains(out.String(), "reconnected; in /logs") {
		t.Fatalf("after reconnecting: %d aborts, in /%s\n%s", aborted, s.cwd, out.String())
	}
	run(t, s, "ls")
}

// An interrupted get leaves nothing: the partial files the client keeps
// to resume are removed, of a file, and of those the get began in a
// tree; a get cut off by the link keeps them.
func TestInterruptDropsPartials(t *testing.T) {
	s, f, _ := testShell(t)
	f.add("big", "b")
	f.add("tree/big", "b")
	s.cfg.Abort = func(Client) {
		select {
		case <-f.block:
		default:
			close(f.block)
		}
	}
	s.guard.abort = s.cfg.Abort
	s.cfg.Dial = func(io.Writer) (Client, error) { return f, nil }
	old := filepath.Join(s.lwd, "tree", "sub", partPrefix+"older")
	os.MkdirAll(filepath.Dir(old), 0o755)
	for _, p := range []string{old, old + ".info"} {
		os.WriteFile(p, nil, 0o644)
		os.Chtimes(p, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	}
	var made []string
	f.onGet = func(items []client.GetItem) {
		dir := filepath.Join(items[0].Dir, items[0].Name)
		if !items[0].Recursive {
			dir = items[0].Dir
		}
		os.MkdirAll(dir, 0o755)
		part := filepath.Join(dir, partPrefix+"big")
		made = append(made, part, part+".info")
		os.WriteFile(part, []byte("half"), 0o644)
		os.WriteFile(part+".info", []byte("info"), 0o644)
	}
	for _, line := range []string{"get big", "get -r tree"} {
		made = nil
		f.block, f.started = make(chan struct{}), make(chan struct{})
		done := make(chan error)
		go func() { done <- s.Exec(line) }()
		<-f.started
		s.Interrupt()
		if err := <-done; !errors.Is(err, ErrInterrupted) {
			t.Fatalf("%s: %v", line, err)
		}
		for _, p := range made {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s: %s is left", line, p)
			}
		}
		if err := s.Reconnect(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(old); err != nil {
		t.Errorf("the partial of an earlier get was removed: %v", err)
	}
	// cut off, not interrupted: kept
	f.block = make(chan struct{})
	close(f.block)
	f.started = nil
	if err := s.Exec("get big"); !needsSession(err) {
		t.Fatalf("get cut off: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.lwd, partPrefix+"big.info")); err != nil {
		t.Errorf("a get cut off lost its partial file: %v", err)
	}
}

func TestKeyboard(t *testing.T) {
	r, w := io.Pipe()
	k := newKeyboard(r)
	go w.Write([]byte("ab\x03c"))
	b := make([]byte, 16)
	n, _ := k.Read(b)
	if got := string(b[:n]); got != "ab\x05\x15c" {
		t.Fatalf("at the prompt: %q", got)
	}
	hits := 0
	stop := k.watch(func() { hits++ })
	w.Write([]byte("typed ahead\x03"))
	w.Write([]byte("ls\r"))
	time.Sleep(10 * time.Millisecond)
	stop()
	n, _ = k.Read(b)
	if hits != 1 || string(b[:n]) != "ls\r" {
		t.Fatalf("during a command: %d interrupts, then %q", hits, b[:n])
	}
	w.Close()
	if _, err := k.Read(b); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

// What came from the server is printed escaped, and completion does not
// type a name that would act on the terminal.
func TestHostileNames(t *testing.T) {
	s, f, out := testShell(t)
	f.add("evil\x1b[2J.txt", "x")
	f.add("fine.txt", "x")
	run(t, s, "ls")
	if got := out.String(); got != "evil\\x1b[2J.txt\nfine.txt\n" {
		t.Fatalf("ls: %q", got)
	}
	if got, _, _ := s.complete("get ", 4, '\t'); got != "get fine.txt " {
		t.Fatalf("completed %q", got)
	}
	if got, _, ok := s.complete("get e", 5, '\t'); ok {
		t.Fatalf("completed %q", got)
	}
	s.cfg.Explain = func(err error) string { return "explained: " + err.Error() }
	err := s.Batch(strings.NewReader("get \"x\x1b[31m\"\n"))
	var le *LineError
	if !errors.As(err, &le) || le.Line != 1 || err.Error() != "line 1: explained: get x\x1b[31m: no such file or folder" {
		t.Fatalf("batch: %q", err)
	}
	s, _, out = testShell(t)
	s.Batch(strings.NewReader("-get \"x\x1b[31m\"\n"))
	if got := out.String(); got != "ferry: line 1: get x\\x1b[31m: no such file or folder (ignored)\n" {
		t.Fatalf("an ignored line: %q", got)
	}
}
