package server

import (
	"time"

	"ferry/frame"
)

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
	h.op("rm", r.Path, n, 0, time.Now(), "ok")
	return h.done(frame.Done{Count: uint32(n)})
}
