package shell

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"ferry/client"
	"ferry/frame"
	"ferry/progress"
	"ferry/safe"
)

// get and put map their arguments to client.GetItem and client.PutItem as
// scp does (a file goes under its own name into a folder named as the
// target, else to the target's name) and call client Get and Put, which
// check every file end to end. A download is written to a temporary file,
// or for a large one to a partial file kept to resume it, and renamed into
// place only once complete; on Ctrl-C the partial file goes too
// (dropPartials), so that an abandoned get leaves nothing behind. The bar
// shows the bytes; one line says what moved.

func (s *Shell) get(c *call) error {
	remote, err := s.remotePath(c.args[0])
	if err != nil {
		return err
	}
	it := client.GetItem{Remote: remote, Recursive: c.has('r'), NoClobber: c.has('n'), Dir: s.lwd, Name: path.Base(remote)}
	if remote == "" {
		it.Name = "" // the top folder's content goes straight into the local folder
	}
	if len(c.args) == 2 {
		local := s.localPath(c.args[1])
		if st, err := os.Stat(local); err == nil && st.IsDir() {
			it.Dir = local
		} else {
			it.Dir, it.Name = filepath.Dir(local), filepath.Base(local)
		}
	}
	if it.Name == "" && !it.Recursive {
		return usageErr("get: the top folder needs -r")
	}
	t := s.begin("get", "got")
	defer s.dropPartials(&it, t.start)
	err = s.cl.Get([]client.GetItem{it}, func(r client.GetResult) {
		s.cfg.Meter.Done(r.Err)
		switch {
		case r.Err != nil:
			t.fail(display(r.Remote), r.Err)
		case r.Dir:
			t.note("made %s", s.showLocal(r.Local))
		default:
			t.file(r.Size, r.Resumed, fmt.Sprintf("got %s as %s: %d bytes, cksum %d, %s", display(r.Remote), s.showLocal(r.Local), r.Size, r.Cksum, rate(r.Size-r.Resumed, r.Duration)))
		}
	})
	return s.end(t, err)
}

// partPrefix starts the names of the partial downloads that the client
// keeps beside their targets to resume them, each with an info file
// (docs/PROTOCOL.md §4.11): .ferry-part-NAME, .ferry-part-NAME.info.
const partPrefix = ".ferry-part-"

// dropPartials removes what an abandoned get (Ctrl-C) kept to resume:
// the partial file of a file, or those this get began in a folder's tree;
// a cancelled get leaves nothing. A get cut off by the link keeps them,
// for the next get to go on from there.
func (s *Shell) dropPartials(it *client.GetItem, since time.Time) {
	if !s.guard.interrupted() {
		return
	}
	if !it.Recursive {
		part := filepath.Join(it.Dir, filepath.Dir(it.Name), partPrefix+filepath.Base(it.Name))
		os.Remove(part)
		os.Remove(part + ".info")
		return
	}
	since = since.Add(-time.Second) // the file system's clock may be coarse
	filepath.WalkDir(filepath.Join(it.Dir, it.Name), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(d.Name(), partPrefix) || !strings.HasSuffix(d.Name(), ".info") {
			return nil
		}
		if fi, err := d.Info(); err == nil && !fi.ModTime().Before(since) {
			os.Remove(strings.TrimSuffix(p, ".info"))
			os.Remove(p)
		}
		return nil
	})
}

func (s *Shell) put(c *call) error {
	local := s.localPath(c.args[0])
	st, err := os.Stat(local)
	switch {
	case err != nil:
		return fmt.Errorf("put: %s: %v", c.args[0], errText(err))
	case st.IsDir() && !c.has('r'):
		return usageErr("put: %s is a folder; put -r sends it", c.args[0])
	case !st.IsDir() && !st.Mode().IsRegular():
		return fmt.Errorf("put: %s is not a regular file", c.args[0])
	}
	guess := !st.IsDir() && st.Size() <= guessBelow
	target, into, err := s.putTarget(c, filepath.Base(local), guess)
	if err != nil {
		return err
	}
	t := s.begin("put", "stored")
	defer s.changed()
	if !st.IsDir() {
		items := []client.PutItem{{Local: local, Remote: target, NoClobber: c.has('n')}}
		again, err := s.putItems(t, items, into != "")
		if err == nil && again {
			items[0].Remote = into
			_, err = s.putItems(t, items, false)
		}
		return s.end(t, err)
	}
	items, dirs := t.walk(local, target, c.has('n'))
	for _, d := range dirs {
		if err := s.cl.Mkdir(d, true); err != nil {
			if err = lost(err); needsSession(err) {
				return s.end(t, err)
			}
			t.fail(display(d), err)
		}
	}
	_, err = s.putItems(t, items, false)
	return s.end(t, err)
}

// guessBelow is the size up to which put sends a file to a REMOTE that
// may be a folder without asking first: the server refuses a file over a
// folder, and the file goes again, into it. Asking costs a round trip,
// which on a serial line is most of a small put; a refused file costs its
// bytes once more, which for a large one is more than a round trip.
const guessBelow = 16 << 10

// putItems stores items; with folderOK, a refusal because the target is
// a folder is not a failure: it reports that the file should go into it.
func (s *Shell) putItems(t *tally, items []client.PutItem, folderOK bool) (into bool, err error) {
	err = s.cl.Put(items, func(r client.PutResult) {
		if oe, ok := errors.AsType[*client.OpError](r.Err); folderOK && ok && oe.Reason == frame.FailIsDir {
			into = true
			return
		}
		s.cfg.Meter.Done(r.Err)
		if r.Err != nil {
			t.fail(s.showLocal(r.Item.Local), r.Err)
			return
		}
		how := ""
		if r.Replaced {
			how = ", replaced"
		}
		t.file(r.Size, r.Resumed, fmt.Sprintf("stored %s as %s: %d bytes, cksum %d, %s%s", s.showLocal(r.Item.Local), display(r.Item.Remote), r.Size, r.Cksum, rate(r.Size-r.Resumed, r.Duration), how))
	})
	return into, err
}

// putTarget is the remote path of what put sends, of local name base:
// base in the remote folder; or REMOTE, or base inside it when it is a
// folder (or ends in /). Whether REMOTE is a folder comes from the
// listings kept, or else from the server: with guess, by sending the file
// to REMOTE and, if it is refused as a folder, into (see guessBelow);
// without, by listing REMOTE first.
func (s *Shell) putTarget(c *call, base string, guess bool) (target, into string, err error) {
	if len(c.args) < 2 {
		target, err = s.remotePath(base)
		return target, "", err
	}
	r, err := s.remotePath(c.args[1])
	if err != nil {
		return "", "", err
	}
	inside, err := s.remotePath("/" + path.Join(r, base))
	if err != nil {
		return "", "", err
	}
	dir, known := strings.HasSuffix(c.args[1], "/") || r == "", true
	if !dir {
		dir, known = s.knownFolder(r)
	}
	switch {
	case known && dir:
		return inside, "", nil
	case known:
		return r, "", nil
	case guess:
		return r, inside, nil
	}
	if dir, err = s.isFolder(r); err != nil {
		return "", "", prefix("put", err)
	}
	if dir {
		return inside, "", nil
	}
	return r, "", nil
}

// tally counts what a transfer moved, for its last line, and the files
// that failed.
type tally struct {
	cmd, verb string
	verbose   bool
	w         io.Writer // notices, above the bar
	start     time.Time
	files     int
	bytes     int64
	last      string // the line of the last file
	failed    []error
}

func (s *Shell) begin(cmd, verb string) *tally {
	s.cfg.Meter.Start(s.tty, s.width())
	return &tally{cmd: cmd, verb: verb, verbose: s.cfg.Verbose, w: s.cfg.Meter, start: time.Now()}
}

// file counts a file moved, of which resumed bytes were there already.
func (t *tally) file(n, resumed int64, line string) {
	t.files++
	t.bytes += n - resumed
	if resumed > 0 {
		line += fmt.Sprintf(", resumed at %d bytes", resumed)
	}
	t.last = line
	if t.verbose {
		fmt.Fprintln(t.w, safe.Text(line))
	}
}

func (t *tally) note(format string, a ...any) {
	if t.verbose {
		fmt.Fprintln(t.w, safe.Text(fmt.Sprintf(format, a...)))
	}
}

// fail records a file that failed; name is the file, for an error that
// does not say (the server's refusals do).
func (t *tally) fail(name string, err error) {
	if !isOpError(err) {
		err = fmt.Errorf("%s %s: %v", t.cmd, name, errText(err))
	}
	t.failed = append(t.failed, err)
}

// walk lists the files of the local folder dir as items stored under
// remote, and its empty folders, to be made.
func (t *tally) walk(dir, remote string, noClobber bool) ([]client.PutItem, []string) {
	var items []client.PutItem
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.fail(p, err)
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		r := path.Join(remote, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			if empty(p) {
				dirs = append(dirs, r)
			}
		case d.Type().IsRegular():
			items = append(items, client.PutItem{Local: p, Remote: r, NoClobber: noClobber})
		default:
			fmt.Fprintf(t.w, "ferry: %s: not a regular file; skipped\n", safe.Text(p))
		}
		return nil
	})
	return items, dirs
}

func empty(dir string) bool {
	d, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer d.Close()
	_, err = d.Readdirnames(1)
	return err == io.EOF
}

// end finishes a transfer: the bar goes, the last line is printed, and
// the error is the session's, else the one file that failed, else a
// count of those that did (each printed).
func (s *Shell) end(t *tally, err error) error {
	s.cfg.Meter.Finish()
	switch {
	case t.files == 1 && len(t.failed) == 0 && !t.verbose:
		fmt.Fprintln(s.out, safe.Text(t.last))
	case t.files > 1 || (t.files > 0 && len(t.failed) > 0):
		d := time.Since(t.start)
		fmt.Fprintf(s.out, "%s %d files, %s in %v (%s)\n", t.verb, t.files, progress.FormatBytes(t.bytes), d.Round(time.Millisecond), rate(t.bytes, d))
	}
	if err != nil {
		return lost(err)
	}
	if len(t.failed) == 1 {
		return t.failed[0]
	}
	if len(t.failed) > 1 {
		for _, e := range t.failed {
			fmt.Fprintf(s.err, "ferry: %s\n", s.tell(e))
		}
		return fmt.Errorf("%s: %d files failed", t.cmd, len(t.failed))
	}
	return nil
}

// rate is n bytes in d, for result lines.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "instant"
	}
	return progress.FormatRate(float64(n) / d.Seconds())
}

// errText is a local error without Go's "op path:" prefix when it is a
// path error, which the message names already.
func errText(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
