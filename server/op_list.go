package server

import (
	"ferry/frame"
	"ferry/fsstore"
)

// list handles 1038: the entries of a folder (FlagRecursive: its tree) or
// of one file, in 2114 batches, then a done with their count. The root
// folder of a client shows pub/ when the server publishes one.
func (h *session) list(p []byte) error {
	r, err := parsePathReq(p)
	if err != nil {
		return err
	}
	ents, err := h.entries(r.Path, r.Flags&frame.FlagRecursive != 0)
	if err != nil {
		return h.failOp("ls", r.Path, err)
	}
	batch := make([]byte, 0, frame.ListBatch(h.Chunk()))
	for i := range ents {
		we := wireEntry(&ents[i])
		if len(batch) > 0 && len(batch)+we.EncodedSize() > cap(batch) {
			if err := h.WriteResponse(frame.CodeListEntries, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		batch = we.Append(batch)
	}
	if len(batch) > 0 {
		if err := h.WriteResponse(frame.CodeListEntries, batch); err != nil {
			return err
		}
	}
	return h.done(frame.Done{Count: uint32(len(ents))})
}

// entries lists a path of the client's view: its own tree, or pub/.
func (h *session) entries(p string, recursive bool) ([]fsstore.Entry, error) {
	if rel, ok := inPub(p); ok {
		if h.srv.pub == nil {
			return nil, fsstore.ErrNotFound
		}
		return h.srv.pub.list(rel, recursive)
	}
	if p != "" {
		if err := fsstore.ValidatePath(p); err != nil {
			return nil, err
		}
	}
	ents, err := h.srv.cfg.Store.List(h.client.ID, p, recursive)
	if err != nil {
		return nil, err
	}
	if p == "" && h.srv.pub != nil {
		ents = append([]fsstore.Entry{{Path: pubDir, Dir: true, Mode: 0o755}}, ents...)
	}
	return ents, nil
}

// wireEntry is an entry as the protocol carries it.
func wireEntry(e *fsstore.Entry) frame.Entry {
	w := frame.Entry{Kind: frame.KindFile, Size: uint64(e.Size), Mode: uint32(e.Mode.Perm()), Cksum: e.Cksum, Path: e.Path}
	if !e.MTime.IsZero() {
		w.MTime = e.MTime.UnixNano()
	}
	if e.Dir {
		w.Kind, w.Size = frame.KindDir, 0
	}
	if e.Verified {
		w.Flags |= frame.EntryVerified
	}
	return w
}
