package client

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"ferry/frame"
	"ferry/xfer"
)

// A get asks for every item at once (each request is small), then reads
// the answers in order: for each item the server sends its files and
// folders (a file message, then for a file its chunks and a file end) and
// a done or failed. A file is written to a temporary file beside its
// target, checked against the server's file end, made durable and renamed
// into place only once it matches; one that does not match is dropped and
// asked for again, up to three times, after the rest. Every local path is
// opened through an os.Root on the destination folder, so a hostile
// server's paths cannot leave it.

// GetItem is one remote file or folder to fetch.
type GetItem struct {
	Remote    string // CleanPath form
	Recursive bool   // a folder and everything in it
	// Dir is the local folder to write into, and Name the path under it
	// of the file (or, with Recursive, of the folder); "" with Recursive
	// writes the folder's content straight into Dir.
	Dir, Name string
	Out       io.Writer // when set, the content goes here (stdout), for one file
	NoClobber bool      // refuse to replace a local file
}

// GetResult is one file (or folder) fetched, or an item that failed.
type GetResult struct {
	Item     *GetItem
	Remote   string // the file's remote path
	Local    string // where it was written (Dir joined with the path under it)
	Dir      bool   // a folder made
	Size     int64
	Cksum    uint32
	Resends  int
	Resumed  int64 // bytes that were already here from an interrupted get
	Duration time.Duration
	Err      error
}

// getReq is a request on its way: an item, or the resend of one file.
type getReq struct {
	item      *GetItem
	root      *os.Root
	dirs      *localDirs // root's folders kept open (get_linux.go), or nil
	remote    string
	recursive bool
	local     string // path under root; "" is root itself (recursive only)
	resends   int
	from      *heldStart // the start of the file held from an earlier get (resume.go)
}

// Get fetches items and calls done for every file and folder written, and
// for every item or file that failed. The error is the session's.
func (c *Client) Get(items []GetItem, done func(GetResult)) error {
	if err := c.needOps(); err != nil {
		return err
	}
	var queue []*getReq
	for i := range items {
		it := &items[i]
		if it.Dir != "" && it.Out == nil {
			os.MkdirAll(it.Dir, 0o755) // like mkdir -p DIR; OpenRoot says what is wrong if it failed
		}
		root, err := os.OpenRoot(cmpOr(it.Dir, "."))
		if err != nil {
			done(GetResult{Item: it, Remote: it.Remote, Err: err})
			continue
		}
		defer root.Close()
		dirs := openLocalDirs(cmpOr(it.Dir, "."))
		defer dirs.close()
		r := &getReq{item: it, root: root, dirs: dirs, remote: it.Remote, recursive: it.Recursive, local: it.Name}
		if c.resumeOn() && !it.Recursive && it.Out == nil {
			r.from = findHeld(root, it.Name, it.Remote)
		}
		queue = append(queue, r)
	}
	for len(queue) > 0 {
		batch := queue
		queue = nil
		for _, r := range batch {
			if err := c.sendGet(r); err != nil {
				return err
			}
		}
		for _, r := range batch {
			again, err := c.receiveGet(r, done)
			if err != nil {
				return err
			}
			queue = append(queue, again...)
		}
	}
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *Client) sendGet(r *getReq) error {
	if r.from != nil {
		g := frame.GetFrom{Offset: uint64(r.from.have), Size: uint64(r.from.size), MTime: r.from.mtime, Prefix: r.from.prefix, Path: r.remote}
		return c.sess.WriteMsg(frame.CodeGetFrom, g.Marshal())
	}
	p := frame.PathReq{Path: r.remote}
	if r.recursive {
		p.Flags |= frame.FlagRecursive
	}
	return c.sess.WriteMsg(frame.CodeGet, p.Marshal())
}

// receiveGet reads the answer to one get request: its files and folders,
// then its done or failed. It returns the files to ask for again.
func (c *Client) receiveGet(r *getReq, done func(GetResult)) ([]*getReq, error) {
	var again []*getReq
	for {
		h, b, err := c.read()
		if err != nil {
			return nil, err
		}
		if h.Code != frame.CodeFile {
			_, err := c.final("get", r.remote, h.Code, b)
			if _, ok := errors.AsType[*OpError](err); ok {
				done(GetResult{Item: r.item, Remote: r.remote, Err: err})
				return again, nil
			}
			return again, err
		}
		fm, err := frame.ParseFileMsg(b)
		if err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		local, err := r.localPath(fm.Path)
		if err != nil {
			return nil, err
		}
		if fm.Offset != 0 && (r.from == nil || fm.Offset != uint64(r.from.have) || fm.Path != r.remote) {
			return nil, fmt.Errorf("client: the server resumed %q at %d, which was not asked for: %w", fm.Path, fm.Offset, ErrServer)
		}
		e := entryOf(&fm.Entry)
		res := GetResult{Item: r.item, Remote: e.Path, Local: path.Join(cmpOr(r.item.Dir, "."), local), Dir: e.Dir, Resends: r.resends}
		if e.Dir {
			res.Err = r.mkdirAll(local)
			done(res)
			continue
		}
		ok, err := c.receiveFile(r, &e, local, int64(fm.Offset), &res)
		if err != nil {
			return nil, err
		}
		if !ok && r.item.Out == nil && r.resends < maxResends {
			again = append(again, &getReq{item: r.item, root: r.root, dirs: r.dirs, remote: e.Path, local: local, resends: r.resends + 1})
			continue
		}
		if !ok && res.Err == nil {
			res.Err = fmt.Errorf("%w: %s", ErrChecksum, e.Path)
		}
		done(res)
	}
}

// localPath maps a remote path the server sent to the path under the
// request's root, refusing one outside what was asked for.
func (r *getReq) localPath(remote string) (string, error) {
	rel := ""
	switch {
	case remote == r.remote:
	case r.recursive && (r.remote == "" || strings.HasPrefix(remote, r.remote+"/")):
		rel = strings.TrimPrefix(strings.TrimPrefix(remote, r.remote), "/")
	default:
		return "", fmt.Errorf("client: the server sent %q, which is not under %q: %w", remote, r.remote, ErrServer)
	}
	for _, part := range strings.Split(rel, "/") {
		if rel != "" && (part == "" || part == "." || part == ".." || strings.HasPrefix(part, ".ferry")) {
			return "", fmt.Errorf("client: the server sent the path %q: %w", remote, ErrServer)
		}
	}
	local := path.Join(r.local, rel)
	if local == "." {
		local = ""
	}
	if local == "" && !r.recursive && r.item.Out == nil {
		return "", fmt.Errorf("client: no local name for %q", remote)
	}
	return local, nil
}

// tempPrefix starts the names of downloads in progress.
const tempPrefix = ".ferry-tmp-"

// mkdirAll makes folder local under the request's root, and its parents.
func (r *getReq) mkdirAll(local string) error {
	if local == "" || local == "." {
		return nil
	}
	return r.dirs.mkdirAll(r.root, local)
}

func rootMkdirAll(root *os.Root, local string) error { return root.MkdirAll(local, 0o755) }

// rootSyncDir fsyncs folder dir of root; best effort.
func rootSyncDir(root *os.Root, dir string) {
	if d, err := root.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// receiveFile receives one file's content into a temporary file beside
// local (or into Out) and, when it matches the server's file end, puts it
// in place. It reports whether the file matched; the error is the
// session's.
func (c *Client) receiveFile(r *getReq, e *Entry, local string, offset int64, res *GetResult) (bool, error) {
	start := time.Now()
	size := e.Size
	if uint64(size) == frame.SizeUnknown {
		size = -1
	}
	rc := c.receiver()
	content := &xfer.Content{Codes: xfer.Download, Size: size - offset, Offset: offset}
	if size < 0 {
		content.Size = -1
	}
	if offset > 0 {
		content.Sum = &r.from.sum
		res.Resumed = offset
		if c.cfg.Resumed != nil {
			c.cfg.Resumed(e.Path, offset, size)
		}
	}
	if c.cfg.Progress != nil {
		content.Progress = func(got int64) { c.cfg.Progress(e.Path, got, size) }
	}
	if r.item.Out != nil {
		x, err := rc.ReceiveFile(c.sess, content, r.item.Out)
		res.Size, res.Cksum, res.Duration = x.N, x.Sum, time.Since(start)
		if errors.Is(err, xfer.ErrSink) {
			res.Err = err
			return true, nil
		}
		return x.OK(), err
	}
	t, err := c.target(r, e, local, offset)
	if err != nil {
		res.Err = err
		_, err = rc.ReceiveFile(c.sess, content, io.Discard)
		return true, err
	}
	defer t.discard()
	x, err := rc.ReceiveFile(c.sess, content, t.f)
	res.Size, res.Cksum = x.Offset+x.N, x.Sum
	switch {
	case errors.Is(err, xfer.ErrSink):
		res.Err = fmt.Errorf("client: writing %s: %w", local, err)
		return true, nil
	case err != nil:
		t.keep() // a partial download stays for the next get
		return false, err
	case x.Changed():
		res.Err = fmt.Errorf("client: %s changed on the server while it was read; not written", e.Path)
		return true, nil
	case !x.OK():
		return false, nil
	}
	res.Err = t.commit(local, e.MTime, r.item.NoClobber)
	res.Duration = time.Since(start)
	return true, nil
}

// temp is a download in progress: a temporary file beside its target,
// or a partial download that a later get can resume (info is then the
// file that says what it is).
type temp struct {
	root *os.Root
	dirs *localDirs
	name string
	info string
	f    *os.File
	done bool
}

// newTemp creates the temporary file for local, with the file's mode (the
// umask applies, as for any file created).
func newTemp(r *getReq, local string, mode os.FileMode) (*temp, error) {
	dir := path.Dir(local)
	if err := r.mkdirAll(dir); err != nil {
		return nil, err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	name := path.Join(dir, tempPrefix+hex.EncodeToString(rnd[:]))
	f, err := r.dirs.create(r.root, name, mode.Perm()|0o200)
	if err != nil {
		return nil, err
	}
	return &temp{root: r.root, dirs: r.dirs, name: name, f: f}, nil
}

// commit makes the file durable and puts it at local: renamed over what
// is there, or with noClobber linked (which fails if local exists).
func (t *temp) commit(local string, mtime time.Time, noClobber bool) error {
	err := t.f.Sync()
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !mtime.IsZero() {
		err = t.dirs.chtimes(t.root, t.name, mtime)
	}
	if err != nil {
		return err
	}
	if noClobber {
		if err := t.root.Link(t.name, local); err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s exists; not replaced (-n)", local)
			}
			return err
		}
	} else if err := t.dirs.rename(t.root, t.name, local); err != nil {
		return err
	}
	t.done = !noClobber
	if t.info != "" {
		t.root.Remove(t.info)
	}
	t.dirs.syncDir(t.root, path.Dir(local))
	return nil
}

// discard removes the temporary file unless it was renamed into place or
// kept.
func (t *temp) discard() {
	if !t.done {
		t.f.Close()
		t.root.Remove(t.name)
		if t.info != "" {
			t.root.Remove(t.info)
		}
	}
}

// keep leaves a partial download for a later get; a plain temporary file
// is discarded.
func (t *temp) keep() {
	if t.info == "" {
		return
	}
	t.f.Sync()
	t.f.Close()
	t.done = true
}

// receiver is the session's Receiver, set up for this session. It reads,
// opens and writes a frame at a time on this goroutine: with a reader
// goroutine handing batches on (a Pool), 512 MiB over loopback took 9-17%
// more CPU time on the 2 cores shared with other work, and more wall time
// in the median.
func (c *Client) receiver() *xfer.Receiver {
	c.recv.Idle, c.recv.Compressed = c.cfg.Timeout, c.Compressed()
	return &c.recv
}
