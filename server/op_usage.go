package server

import (
	"math"

	"ferry/frame"
)

// usage handles 1045: the client's files and bytes stored, the room left
// on the server's disk and the largest file it accepts (the shell's df).
func (h *session) usage(p []byte) error {
	if len(p) != 0 {
		return h.failOp("df", "", &opError{reason: frame.FailBadPath, text: "usage takes no payload"})
	}
	files, bytes := h.srv.cfg.Store.Usage(h.client.ID)
	u := frame.Usage{Files: uint64(files), Bytes: uint64(bytes), Free: math.MaxUint64, MaxFile: uint64(h.srv.cfg.MaxFileSize)}
	if free, ok := freeSpace(h.srv.cfg.Store.Dir()); ok {
		u.Free = free
	}
	return h.WriteResponse(frame.CodeUsageResp, u.Marshal())
}
