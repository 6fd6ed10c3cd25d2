package client

import (
	"fmt"
	"os"
	"time"

	"ferry/frame"
)

// Entry is a remote file or folder.
type Entry struct {
	Path     string // from the client's root
	Dir      bool
	Size     int64
	MTime    time.Time
	Mode     os.FileMode // permission bits
	Cksum    uint32
	Verified bool // the checksum was confirmed when it was stored
}

func entryOf(e *frame.Entry) Entry {
	return Entry{
		Path: e.Path, Dir: e.Kind == frame.KindDir, Size: int64(e.Size), MTime: fromNanos(e.MTime),
		Mode: os.FileMode(modeOf(e.Mode)), Cksum: e.Cksum, Verified: e.Flags&frame.EntryVerified != 0,
	}
}

// List lists the remote path p: a folder's entries (recursive: its whole
// tree, each folder before its content), or the one entry of a file.
func (c *Client) List(p string, recursive bool) ([]Entry, error) {
	if err := c.needOps(); err != nil {
		return nil, err
	}
	r := frame.PathReq{Path: p}
	if recursive {
		r.Flags |= frame.FlagRecursive
	}
	if err := c.sess.WriteMsg(frame.CodeList, r.Marshal()); err != nil {
		return nil, err
	}
	var out []Entry
	for {
		h, b, err := c.read()
		if err != nil {
			return out, err
		}
		if h.Code != frame.CodeListEntries {
			_, err := c.final("ls", p, h.Code, b)
			return out, err
		}
		es, err := frame.ParseEntries(b)
		if err != nil {
			return out, fmt.Errorf("client: %w", err)
		}
		for i := range es {
			out = append(out, entryOf(&es[i]))
		}
	}
}
