package server

import (
	"crypto/sha256"
	"io"
	"os"
	"time"

	"ferry/crypt"
	"ferry/frame"
	"ferry/fsstore"
)

// Resume (feature resume). Uploads: a client about to put a large file
// asks first what the server holds of it (1046); the server opens the
// partial upload of that source (fsstore.NewResumable: same path, size
// and mtime) and offers its length and the SHA-256 of those bytes (2118).
// The client hashes its own start; if it matches it puts from there (a put
// with an offset), otherwise from zero (the server then empties the
// partial upload). Whatever the client sends, the file end covers the
// whole file. A large upload that is cut off stays in DIR/partial.
// Downloads: the client keeps the start of an interrupted download beside
// its target and asks for the rest with get-from (1047), giving the hash
// of what it holds; the server sends from there only if its file still has
// the size and mtime the client saw and starts with the same bytes.

// maxPending bounds the partial uploads a session holds open between their
// query and their put; over it, the oldest is closed (its put reopens it).
const maxPending = 64

// resumeQuery handles 1046.
func (h *session) resumeQuery(p []byte) error {
	q, err := frame.ParseResumeQuery(p)
	if err != nil {
		return protocolError(err)
	}
	var offer frame.ResumeOffer
	if up := h.openResumable(q.Path, q.Size, q.MTime); up != nil {
		have, sum := up.Resumed()
		offer = frame.ResumeOffer{Have: uint64(have), Prefix: sum}
		h.keepPending(q.Path, up)
	}
	return h.WriteResponse(frame.CodeResumeOffer, offer.Marshal())
}

// resumable reports whether a put of size bytes is kept when cut off.
func (h *session) resumable(size uint64) bool {
	return h.Features.Has(crypt.FeatureResume) && size != frame.SizeUnknown &&
		size >= uint64(h.srv.cfg.ResumeMin) && size <= uint64(h.srv.cfg.MaxFileSize)
}

// openResumable opens the resumable upload of a source, or nil when it
// cannot be resumable (the put will say why, if anything is wrong).
func (h *session) openResumable(path string, size uint64, mtime int64) *fsstore.Upload {
	if !h.resumable(size) || writable(path) != nil {
		return nil
	}
	up, err := h.srv.cfg.Store.NewResumable(h.client.ID, path, int64(size), timeOf(mtime))
	if err != nil {
		return nil
	}
	return up
}

// keepPending holds up for the put that follows its query.
func (h *session) keepPending(path string, up *fsstore.Upload) {
	if old, ok := h.pending[path]; ok {
		old.Keep()
	}
	if h.pending == nil {
		h.pending = map[string]*fsstore.Upload{}
	}
	if len(h.pending) >= maxPending {
		for p, u := range h.pending {
			u.Keep()
			delete(h.pending, p)
			break
		}
	}
	h.pending[path] = up
}

// takePending returns the upload opened for path by a query, if any.
func (h *session) takePending(path string) *fsstore.Upload {
	up := h.pending[path]
	delete(h.pending, path)
	return up
}

// keepAll keeps the partial uploads of queries whose put never came.
func (h *session) keepAll() {
	for p, u := range h.pending {
		u.Keep()
		delete(h.pending, p)
	}
}

// getFrom handles 1047: a get of one file, from where the client's copy
// stops if it is the start of this file.
func (h *session) getFrom(p []byte) error {
	g, err := frame.ParseGetFrom(p)
	if err != nil {
		return protocolError(err)
	}
	e, err := h.stat(g.Path)
	switch {
	case err != nil:
		return h.failOp("get", g.Path, err)
	case e.Dir:
		return h.failOp("get", g.Path, &opError{reason: frame.FailIsDir, text: "is a folder"})
	}
	start := time.Now()
	n, err := h.sendFile(&e, &g)
	if err != nil {
		return err
	}
	h.logMoved("ok, resumed", g.Path, 1, n, start)
	return h.done(frame.Done{Count: 1, Size: uint64(n)})
}

// resumePoint reads the start of f that the client says it holds and
// returns where to send from and the cksum of what comes before: the
// client's offset when the file still has the size and mtime it saw and
// starts with the same bytes, else 0. f is left at that offset.
func resumePoint(f *os.File, e *fsstore.Entry, size int64, g *frame.GetFrom) (int64, frame.Cksum) {
	var ck frame.Cksum
	mtime := int64(0)
	if !e.MTime.IsZero() {
		mtime = e.MTime.UnixNano()
	}
	if g.Offset == 0 || uint64(size) != g.Size || mtime != g.MTime {
		return 0, ck
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(h, &ck), f, int64(g.Offset)); err != nil || [32]byte(h.Sum(nil)) != g.Prefix {
		f.Seek(0, io.SeekStart)
		return 0, frame.Cksum{}
	}
	return int64(g.Offset), ck
}
