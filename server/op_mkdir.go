package server

import (
	"time"

	"ferry/frame"
)

// mkdir handles 1041: make a folder (with FlagRecursive, its parents too).
func (h *session) mkdir(p []byte) error {
	r, err := parsePathReq(p)
	if err != nil {
		return err
	}
	if err := writable(r.Path); err != nil {
		return h.failOp("mkdir", r.Path, err)
	}
	if err := h.srv.cfg.Store.Mkdir(h.client.ID, r.Path, r.Flags&frame.FlagRecursive != 0); err != nil {
		return h.failOp("mkdir", r.Path, err)
	}
	h.op("mkdir", r.Path, 0, 0, time.Now(), "ok")
	return h.done(frame.Done{})
}
