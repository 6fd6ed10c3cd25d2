package server

import (
	"errors"
	"io"
	"os"
	"time"

	"ferry/crypt"
	"ferry/frame"
	"ferry/fsstore"
	"ferry/xfer"
)

// get handles 1037: a file, or (FlagRecursive) a folder and its tree. Each
// file goes as a file message (2110) with its chunks and a file end; each
// folder as a file message alone; then a done with the files and bytes
// sent. The client checks every file end and asks again for a file that
// did not match; nothing here waits for it, so a tree streams without a
// round trip per file.
func (h *session) get(p []byte) error {
	r, err := parsePathReq(p)
	if err != nil {
		return err
	}
	recursive := r.Flags&frame.FlagRecursive != 0
	top, err := h.stat(r.Path)
	if err != nil {
		return h.failOp("get", r.Path, err)
	}
	ents := []fsstore.Entry{top}
	if top.Dir {
		if !recursive {
			return h.failOp("get", r.Path, &opError{reason: frame.FailIsDir, text: "is a folder (get it with -r)"})
		}
		if ents, err = h.entries(r.Path, true); err != nil {
			return h.failOp("get", r.Path, err)
		}
		if r.Path != "" {
			ents = append([]fsstore.Entry{top}, ents...)
		}
	}
	start := time.Now()
	var d frame.Done
	for i := range ents {
		e := &ents[i]
		if r.Path == "" && e.Path == pubDir {
			continue // a get of everything is of the client's own files
		}
		if e.Dir {
			fm := frame.FileMsg{Entry: wireEntry(e)}
			if err := h.WriteResponse(frame.CodeFile, fm.Marshal()); err != nil {
				return err
			}
			continue
		}
		n, err := h.sendFile(e, nil)
		if err != nil {
			return err
		}
		d.Count++
		d.Size += uint64(n)
	}
	h.logMoved("ok", r.Path, int(d.Count), int64(d.Size), start)
	return h.done(d)
}

// stat describes a path of the client's view.
func (h *session) stat(p string) (fsstore.Entry, error) {
	if rel, ok := inPub(p); ok {
		if h.srv.pub == nil {
			return fsstore.Entry{}, fsstore.ErrNotFound
		}
		return h.srv.pub.stat(rel)
	}
	if p != "" {
		if err := fsstore.ValidatePath(p); err != nil {
			return fsstore.Entry{}, err
		}
	}
	return h.srv.cfg.Store.Stat(h.client.ID, p)
}

// open opens a file of the client's view for reading.
func (h *session) open(p string) (*os.File, fsstore.Entry, error) {
	if rel, ok := inPub(p); ok && h.srv.pub != nil {
		return h.srv.pub.open(rel)
	}
	return h.srv.cfg.Store.OpenFile(h.client.ID, p)
}

// sendFile sends one file of a get, from the start or, for a get-from
// whose client holds the same start (from is not nil), from there. A file
// that cannot be opened any more (removed meanwhile) or changes while it is
// read goes as a file whose end says so; the error is the session's.
func (h *session) sendFile(e *fsstore.Entry, from *frame.GetFrom) (int64, error) {
	f, fe, err := h.open(e.Path)
	var r io.Reader = errReader{err}
	size := e.Size
	var offset int64
	var prefix frame.Cksum
	if err == nil {
		defer f.Close()
		st, serr := f.Stat()
		if serr != nil {
			r = errReader{serr}
		} else {
			size = st.Size()
			if from != nil {
				offset, prefix = resumePoint(f, &fe, size, from)
			}
			r = &steadyReader{f: f, st: st, n: offset}
		}
		e = &fe
	}
	fm := frame.FileMsg{Offset: uint64(offset), Entry: wireEntry(e)}
	fm.Size = uint64(size)
	h.send.Timeout = h.srv.cfg.IdleTimeout
	if h.Features.Has(crypt.FeatureCompress) {
		h.send.Compress = h.srv.cfg.CompressLevel
	}
	xf := xfer.File{Codes: xfer.Download, HeadCode: frame.CodeFile, Head: fm.Marshal(), Size: size - offset,
		Offset: offset, Prefix: prefix, End: true, Tamper: h.srv.cfg.corrupt}
	n, _, err := h.send.Send(h.Session, &xf, r)
	if errors.Is(err, xfer.ErrSource) {
		h.srv.cfg.Logf("client %s get %q: %v; sent as changed", h.who(), e.Path, err)
		return n, nil
	}
	return n, err
}

// errReader fails at once: a file that could not be opened.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// errChanged means a file changed while it was read.
var errChanged = errors.New("the file changed while it was read")

// steadyReader reads a file and, at its end, checks that its size and
// mtime are what they were when it was opened.
type steadyReader struct {
	f  *os.File
	st os.FileInfo
	n  int64
}

func (r *steadyReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.n += int64(n)
	if r.n >= r.st.Size() {
		st, serr := r.f.Stat()
		if serr != nil || st.Size() != r.st.Size() || !st.ModTime().Equal(r.st.ModTime()) {
			return n, errChanged
		}
	}
	return n, err
}

// logMoved logs what a get moved.
func (h *session) logMoved(result, p string, files int, n int64, start time.Time) {
	h.files += files
	h.bytes += n
	h.op("get", p, files, n, start, result)
}
