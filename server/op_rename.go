package server

import (
	"fmt"

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
	if replaced {
		d.Flags |= frame.DoneReplaced
		h.srv.cfg.Logf("client %s renamed %q to %q, replacing it", h.who(), r.Old, r.New)
	} else {
		h.srv.cfg.Logf("client %s renamed %q to %q", h.who(), r.Old, r.New)
	}
	return h.done(d)
}
