package server

import "ferry/frame"

// remove handles 1039: a file, an empty folder, or (FlagRecursive) a tree.
func (h *session) remove(p []byte) error {
	r, err := parsePathReq(p)
	if err != nil {
		return err
	}
	if err := writable(r.Path); err != nil {
		return h.failOp("rm", r.Path, err)
	}
	n, err := h.srv.cfg.Store.Remove(h.client.ID, r.Path, r.Flags&frame.FlagRecursive != 0)
	if err != nil {
		return h.failOp("rm", r.Path, err)
	}
	h.srv.cfg.Logf("client %s removed %q (%d files)", h.who(), r.Path, n)
	return h.done(frame.Done{Count: uint32(n)})
}
