package server

import (
	"fmt"
	"time"

	"ferry/frame"
)

// rename handles 1040: a file or folder to a new path (FlagNoClobber:
// never over an existing file).
func (h *session) rename(p []byte) error {
	r, err := frame.ParseRename(p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	for _, q := range []string{r.Old, r.New} {
		if err := writable(q); err != nil {
			return h.failOp("mv", q, err)
		}
	}
	st := h.srv.cfg.Store
	_, statErr := st.Stat(h.client.ID, r.New)
	replaced := statErr == nil
	if err := st.Rename(h.client.ID, r.Old, r.New, r.Flags&frame.FlagNoClobber != 0); err != nil {
		return h.failOp("mv", r.Old, err)
	}
	d := frame.Done{}
	result := "ok, to " + r.New
	if replaced {
		d.Flags |= frame.DoneReplaced
		result += ", replacing it"
	}
	h.op("mv", r.Old, 0, 0, time.Now(), result)
	return h.done(d)
}
